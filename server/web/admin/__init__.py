"""The administrator's pages (HTML): what is published and what the server holds."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from server.web.admin import (  # noqa: E402,F401  (routes attach)
    first_run,
    jobs,
    login,
    register,
    tablets,
    views,
)
