"""Fixtures: an app per test on a fresh database, on SQLite and on PostgreSQL.

Every test that asks for ``app`` (or ``client``, ``runner``, ``session``) runs twice, once per
backend. Each backend's schema is built once per session through the real migrations into a
template; each test then gets its own copy (a copied SQLite file, or ``CREATE DATABASE …
TEMPLATE`` on PostgreSQL), so tests may commit freely and never see each other's data.

PostgreSQL comes from ``TAPHUAN_TEST_POSTGRES_URL`` (``make test`` starts a throwaway cluster
and sets it). Without it the PostgreSQL runs are skipped, unless
``TAPHUAN_TEST_REQUIRE_POSTGRES=1`` (set by ``make test``) makes that an error.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

import config
from server import MIGRATIONS_DIR, create_app, errors
from server.extensions import db

# A message template naming a detail its raise site did not give falls back to the title in
# production; under test it must fail at the raise site.
errors.strict()

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
BACKENDS = ("sqlite", "postgresql")
NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)


def make_config(database_url: str, **overrides) -> dict:
    """A complete, hermetic test configuration."""
    values = dict(config.DEFAULTS)
    values.update(
        SECRET_KEY="test-secret",
        DATABASE_URL=database_url,
        STORAGE_DIR=tempfile.mkdtemp(prefix="taphuan-storage-"),
        TESTING=True,
    )
    values.update(overrides)
    return values


def _postgres_url() -> str | None:
    url = os.environ.get("TAPHUAN_TEST_POSTGRES_URL")
    if not url and os.environ.get("TAPHUAN_TEST_REQUIRE_POSTGRES") == "1":
        raise RuntimeError("TAPHUAN_TEST_REQUIRE_POSTGRES=1 but TAPHUAN_TEST_POSTGRES_URL unset")
    return url


def _libpq(url: str, database: str | None = None) -> str:
    parsed = make_url(url)
    if database:
        parsed = parsed.set(database=database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def migrate_database(url: str) -> None:
    """Run every migration on the database at ``url``."""
    app = create_app(make_config(url))
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        db.engine.dispose()


class Databases:
    """Hands out fresh, migrated databases, one per test."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.counter = itertools.count()
        self.sqlite_template: Path | None = None
        self.pg_url = _postgres_url()
        self.pg_template: str | None = None
        self.created: list[str] = []

    def admin(self):
        return psycopg.connect(_libpq(self.pg_url), autocommit=True)

    def new(self, backend: str) -> str:
        n = next(self.counter)
        if backend == "sqlite":
            if self.sqlite_template is None:
                self.sqlite_template = self.workdir / "template.sqlite3"
                migrate_database(f"sqlite:///{self.sqlite_template}")
            path = self.workdir / f"test{n}.sqlite3"
            shutil.copyfile(self.sqlite_template, path)
            return f"sqlite:///{path}"
        if self.pg_url is None:
            pytest.skip("PostgreSQL not available (set TAPHUAN_TEST_POSTGRES_URL; make test does)")
        if self.pg_template is None:
            self.pg_template = f"tpl_{uuid.uuid4().hex[:8]}"
            with self.admin() as conn:
                conn.execute(f'CREATE DATABASE "{self.pg_template}"')
            migrate_database(
                make_url(self.pg_url)
                .set(database=self.pg_template)
                .render_as_string(hide_password=False)
            )
        return self._create_pg(f"t_{self.pg_template[4:]}_{n}", template=self.pg_template)

    def empty(self, backend: str) -> str:
        """A database with no schema at all (for migration tests)."""
        n = next(self.counter)
        if backend == "sqlite":
            return f"sqlite:///{self.workdir / f'empty{n}.sqlite3'}"
        if self.pg_url is None:
            pytest.skip("PostgreSQL not available")
        return self._create_pg(f"e_{uuid.uuid4().hex[:8]}")

    def _create_pg(self, name: str, template: str | None = None) -> str:
        clause = f' TEMPLATE "{template}"' if template else ""
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"{clause}')
        self.created.append(name)
        return make_url(self.pg_url).set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        if make_url(url).get_backend_name() != "postgresql" or name not in self.created:
            return
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.remove(name)

    def close(self) -> None:
        if self.pg_url is None:
            return
        with self.admin() as conn:
            for name in [*self.created, self.pg_template]:
                if name:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    dbs = Databases(tmp_path_factory.mktemp("db"))
    yield dbs
    dbs.close()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_url(databases, backend):
    url = databases.new(backend)
    yield url
    databases.drop(url)


@pytest.fixture
def app_config(database_url) -> dict:
    """The test app's settings; a test may change them before asking for ``app``."""
    return make_config(database_url)


@pytest.fixture
def app(app_config):
    application = create_app(app_config)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    return db.session
