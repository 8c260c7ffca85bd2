"""Database engine set-up for the two supported databases.

SQLite is the embedded default, so it gets what a multi-process server needs from it: WAL (readers
never block the writer), a busy timeout (a second writer waits instead of failing at once) and
foreign keys (off by default in SQLite). PostgreSQL needs only a liveness check on pooled
connections.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import make_url

from server.extensions import db


def prepare_url(url: str, instance_path: str) -> str:
    """Return the database URL, creating the folder of the default SQLite file if needed.

    :param url: the configured URL.
    :param instance_path: Flask's instance folder.
    :return: the URL unchanged.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).parent
        if folder == Path(instance_path):
            os.makedirs(folder, exist_ok=True)  # flaskr does the same for its instance folder
    return url


def engine_options(settings: Mapping[str, Any]) -> dict[str, Any]:
    """SQLAlchemy engine options for the configured database.

    :param settings: the app settings.
    :return: keyword arguments for ``create_engine``.
    """
    if make_url(settings["DATABASE_URL"]).get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": settings["SQLITE_BUSY_TIMEOUT_MS"] / 1000}}
    return {"pool_pre_ping": True}


def configure_engine(app: Flask) -> None:
    """Attach per-connection settings (SQLite pragmas) to the app's engine.

    :param app: the app, after ``db.init_app``.
    """
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    busy_ms = app.config["SQLITE_BUSY_TIMEOUT_MS"]

    @sa.event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit survives power loss too ("201 means durable" for submissions).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()
