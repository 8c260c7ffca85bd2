"""HTTP layer: one blueprint per surface, listed explicitly (no discovery)."""

from __future__ import annotations

from flask import Flask

from server.web import admin, errors, formatting


def register_blueprints(app: Flask) -> None:
    """Register every blueprint and the template filters.

    :param app: the app.
    """
    app.register_blueprint(admin.bp)
    formatting.register(app)


def register_error_handlers(app: Flask) -> None:
    """Render catalogue errors and HTTP errors in each surface's format.

    :param app: the app.
    """
    errors.register(app)
