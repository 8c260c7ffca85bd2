"""Database engine set-up for the two supported databases.

SQLite is the embedded default, so it gets what a multi-process server needs from it: WAL (readers
never block the writer), a busy timeout (a second writer waits instead of failing at once) and
foreign keys (off by default in SQLite). PostgreSQL needs only a liveness check on pooled
connections. :func:`is_unavailable` tells a busy or unreachable database (answered ``503.2``)
from a bug.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from flask import Flask
from psycopg.types.string import ByteaBinaryLoader
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, scoped_session

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
    url = make_url(settings["DATABASE_URL"])
    if url.get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": settings["SQLITE_BUSY_TIMEOUT_MS"] / 1000}}
    # No ``pool_pre_ping``: it costs a round trip on every checkout, several per submission.
    # :func:`configure_engine` pings only connections that sat idle (see IDLE_PING_SECONDS).
    # Sessions speak UTC, the zone every stored time is in: the driver then hands back times
    # already tagged UTC, and reading them costs no conversion per value (a listing reads
    # two per row). No query of ours depends on the session's zone.
    # The URL's own ``options`` (e.g. ``-c lock_timeout=…``) are kept: connect_args would
    # otherwise replace them.
    given = url.query.get("options", "")
    given = " ".join(given) if isinstance(given, tuple) else given
    return {"connect_args": {"options": f"{given} -c timezone=UTC".strip()}}


def configure_engine(app: Flask) -> None:
    """Attach per-connection settings (SQLite pragmas) to the app's engine.

    :param app: the app, after ``db.init_app``.
    """
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        _ping_when_idle(engine)
        _binary_results_when_asked(engine)
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


#: Execution option: the statement's results come in PostgreSQL's binary format, with text
#: as the UTF-8 bytes the server sent (read them from the driver's cursor).
BINARY_RESULTS = "taphuan_binary_results"


def _binary_results_when_asked(engine: sa.Engine) -> None:
    """Let a statement ask for binary results with text as bytes (:data:`BINARY_RESULTS`).

    For text that goes out as it came in (a listing's stored JSON items): decoding it to
    ``str`` and encoding it again cost a 1,000-row page ~1 ms. The statement still runs
    through SQLAlchemy (its events, its logging); only its cursor's format changes. Text in
    binary results is loaded as bytes on every connection, and only such statements ask for
    binary results.
    """

    @sa.event.listens_for(engine, "connect")
    def _text_as_bytes(dbapi_connection, _record) -> None:
        dbapi_connection.adapters.register_loader("text", ByteaBinaryLoader)

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _binary(_conn, cursor, _statement, _parameters, context, _many) -> None:
        if context is not None and context.execution_options.get(BINARY_RESULTS):
            cursor.format = psycopg.pq.Format.BINARY


def read_without_transaction(session: Session | scoped_session) -> None:
    """Run this request's reads on PostgreSQL without BEGIN and ROLLBACK round trips.

    For requests whose statements each stand alone (a listing page: the caller's token, the
    form, the page). Under PostgreSQL's READ COMMITTED every statement takes its own snapshot
    anyway, so a transaction around such reads adds no consistency, only two round trips,
    which on a 1,000-row page cost as much as the page's own query. Not for reads that stream
    through a server-side cursor (it needs a transaction) or for anything that writes. On
    SQLite nothing changes: its transaction gives the reads one snapshot and costs no round
    trip. Must be called before the session's first statement; later it does nothing.

    :param session: the request's session.
    """
    session = session() if isinstance(session, scoped_session) else session
    if session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def standalone_reads(view):
    """Mark a GET view whose statements each stand alone (see :func:`read_without_transaction`).

    Its request, authentication included, then runs without BEGIN/ROLLBACK on PostgreSQL
    (the surface's ``before_request`` calls :func:`read_standalone_if_marked` first).
    """
    view.standalone_reads = True
    return view


def read_standalone_if_marked(view, method: str, session) -> None:
    """Call :func:`read_without_transaction` for a GET or HEAD of a marked view."""
    if method in ("GET", "HEAD") and getattr(view, "standalone_reads", False):
        read_without_transaction(session)


#: A pooled PostgreSQL connection idle for longer than this is pinged before use.
IDLE_PING_SECONDS = 10.0


def _ping_when_idle(engine: sa.Engine) -> None:
    """Ping a pooled connection on checkout only when it sat idle, not on every checkout.

    A connection used a moment ago is alive (or its failure is reported like any other and the
    pool drops it). One that sat in the pool may have been closed by a restarted server or a
    firewall; for those a ping (and a transparent reconnect) is worth its round trip.
    """

    @sa.event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            dbapi_connection.rollback()
        except psycopg.Error as exc:
            # The pool discards this connection and checks out another (its documented way).
            raise sa.exc.DisconnectionError() from exc


#: How long a client should wait before trying again after a busy or unreachable database.
RETRY_AFTER_SECONDS = 5
#: SQLite errors that pass: another writer holds the lock past the busy timeout, or the file
#: cannot be opened right now.
_SQLITE_TRANSIENT = ("database is locked", "database table is locked", "unable to open database")
#: PostgreSQL SQLSTATEs that pass: connection failures (08), serialisation failures and
#: deadlocks (40), too many connections or no space (53), a lock timeout (55P03), a statement
#: timeout or a shutting-down server (57014, 57P0x).
_POSTGRES_TRANSIENT = ("08", "40", "53", "55P03", "57014", "57P0")


def is_unavailable(error: sa.exc.SQLAlchemyError) -> bool:
    """Whether a database error means "busy or down, try again" rather than a bug.

    Only these become ``503.2`` with ``Retry-After``; anything else (a missing table, a bad
    query) stays a 500 with its traceback, because retrying would not help.

    :param error: what SQLAlchemy raised.
    :return: True for lock and busy timeouts, lost or refused connections, a full pool.
    """
    if isinstance(error, sa.exc.TimeoutError):  # no pooled connection came free in time
        return True
    if not isinstance(error, sa.exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    original = error.orig
    if isinstance(original, sqlite3.OperationalError):
        return any(text in str(original) for text in _SQLITE_TRANSIENT)
    if isinstance(original, psycopg.OperationalError):
        state = original.sqlstate
        return state is None or state.startswith(_POSTGRES_TRANSIENT)
    return False
