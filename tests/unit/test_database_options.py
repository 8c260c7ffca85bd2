"""PostgreSQL sessions speak UTC, and options a database URL gives are kept."""

from __future__ import annotations

from server.database import engine_options


def test_sessions_speak_utc_and_keep_the_urls_options():
    plain = engine_options({"DATABASE_URL": "postgresql+psycopg://u@db/taphuan"})
    assert plain["connect_args"] == {"options": "-c timezone=UTC"}
    url = "postgresql+psycopg://u@db/taphuan?options=-c%20lock_timeout%3D200"
    given = engine_options({"DATABASE_URL": url})
    assert given["connect_args"] == {"options": "-c lock_timeout=200 -c timezone=UTC"}


def test_sqlite_gets_its_busy_timeout_only():
    options = engine_options({"DATABASE_URL": "sqlite:///x.db", "SQLITE_BUSY_TIMEOUT_MS": 5000})
    assert options == {"connect_args": {"timeout": 5.0}}
