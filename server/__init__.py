"""taphuan: the training survey server. ``create_app`` is the only way to build the app."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import config
from server import cli, database, web, worker
from server.extensions import db, migrate

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the application.

    :param test_config: a complete settings mapping that *replaces* the environment and the
        instance folder (tests stay hermetic); None in production.
    :return: the configured app. No I/O happens here beyond reading settings.
    :raises config.ConfigError: for unknown, malformed or missing settings.
    """
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="web/templates",
        static_folder="web/static",
    )
    app.config.from_mapping(config.DEFAULTS)
    if test_config is None:
        app.config.update(config.load_config(os.environ, app.instance_path))
    else:
        app.config.update(test_config)
    config.validate(app.config)
    logging.getLogger("server").setLevel(app.config["LOG_LEVEL"])

    app.config["SQLALCHEMY_DATABASE_URI"] = database.prepare_url(
        app.config["DATABASE_URL"], app.instance_path
    )
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = database.engine_options(app.config)
    db.init_app(app)
    database.configure_engine(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))

    if app.config["PROXY_HOPS"]:
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    web.install_security(app)
    web.register_blueprints(app)
    web.register_error_handlers(app)
    cli.register(app)
    worker.install(app)
    return app
