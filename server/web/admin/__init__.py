"""The administrator's pages (HTML): what is published and what the server holds."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from server.web.admin import courses, first_run, login, tablets, views  # noqa: E402,F401  (routes attach)
