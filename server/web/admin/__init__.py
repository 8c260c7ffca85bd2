"""The administrator's pages (HTML): what is published and what the server holds."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from server.web.admin import (  # noqa: E402,F401  (routes attach)
    audit,
    courses,
    dashboard,
    first_run,
    jobs,
    login,
    people,
    register,
    submissions,
    tablets,
    units,
    views,
)
