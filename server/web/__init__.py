"""HTTP layer: one blueprint per surface, listed explicitly (no discovery)."""

from __future__ import annotations

from flask import Flask

from server.web import (
    admin,
    api,
    errors,
    formatting,
    openrosa,
    parameters,
    reports,
    security,
    shell,
)


def register_blueprints(app: Flask) -> None:
    """Register every blueprint and the template filters.

    :param app: the app.
    """
    app.register_blueprint(admin.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(reports.bp)
    # OpenRosa twice: at the root for users (Digest), under /key/<token> for device tokens.
    app.register_blueprint(openrosa.bp)
    app.register_blueprint(openrosa.bp, url_prefix="/key/<token>", name="openrosa_key")
    security.exempt_blueprints(app)
    formatting.register(app)
    shell.install(app)  # language, navigation, print/PDF helpers of the page shell


def install_security(app: Flask) -> None:
    """CSRF, same origin, hosts, cookies, headers, and values no database can hold.

    The last are NUL characters and integers past 32 bits (``server/web/parameters.py``).

    :param app: the app.
    """
    security.install(app)
    parameters.install(app)


def register_error_handlers(app: Flask) -> None:
    """Render catalogue errors and HTTP errors in each surface's format.

    :param app: the app.
    """
    errors.register(app)
