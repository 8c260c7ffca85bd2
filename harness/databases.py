"""Databases made for one run and dropped after it, and what their PostgreSQL server costs.

Every benchmark row and every test server gets an empty database of its own: an SQLite file in
the run's folder, or ``CREATE DATABASE`` on a PostgreSQL server this process may administer
(``scripts/with-postgres`` starts a throwaway one and exports its URL as
``TAPHUAN_TEST_POSTGRES_URL``). Dropping forces off connections a killed server left behind.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from harness import proc

BACKENDS = ("sqlite", "postgresql")


def libpq(url: str, database: str | None = None) -> str:
    """A libpq connection string for psycopg, from an SQLAlchemy URL.

    :param database: connect to this database instead of the URL's.
    """
    parsed = make_url(url)
    if database:
        parsed = parsed.set(database=database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresServer:
    """A PostgreSQL server on which this process may create and drop databases.

    :param url: an SQLAlchemy URL of the server (its database is only used to connect).
    """

    def __init__(self, url: str):
        self.url = url

    def connect(self) -> psycopg.Connection:
        """An autocommit connection to the URL's database (``CREATE DATABASE`` needs one)."""
        return psycopg.connect(libpq(self.url), autocommit=True)

    def url_of(self, name: str) -> str:
        """The SQLAlchemy URL of database ``name`` on this server."""
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def create(self, name: str, *, template: str | None = None) -> str:
        """Create database ``name`` (a copy of ``template`` if given); its SQLAlchemy URL."""
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with self.connect() as conn:
            conn.execute(statement)
        return self.url_of(name)

    def drop(self, *names: str) -> None:
        """Drop databases if they exist, ending any connection still open to them."""
        with self.connect() as conn:
            for name in names:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )

    def settings(self, *names: str) -> dict[str, str]:
        """``SHOW`` each named setting (``fsync``, ``server_version`` …): name → value."""
        with self.connect() as conn:
            return {
                name: conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()[0]
                for name in names
            }

    def postmaster_pid(self) -> int | None:
        """The postmaster's PID when the server runs on this machine, else None.

        Read as the parent of this connection's backend, while the backend still exists.
        """
        with self.connect() as conn:
            backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            pid = proc.parent(backend)
            if pid is None:
                return None
            try:
                command = Path(f"/proc/{pid}/comm").read_text().strip()
            except OSError:
                return None
        return pid if command.startswith(("postgres", "postmaster")) else None


class PostgresCpu:
    """CPU seconds the PostgreSQL cluster has used: postmaster, backends live and finished.

    :param url: a URL of the server; when it does not run on this machine, :meth:`total` is
        None (its CPU cannot be read here).
    """

    def __init__(self, url: str):
        self.pid = PostgresServer(url).postmaster_pid()

    def total(self) -> float | None:
        """CPU seconds so far, or None when the server is not on this machine."""
        return None if self.pid is None else proc.tree_cpu(self.pid)


def create_database(
    backend: str, postgres_url: str | None, workdir: Path, prefix: str
) -> tuple[str, str | None]:
    """A fresh, empty database for one run.

    :param backend: ``sqlite`` (a file in ``workdir``) or ``postgresql``.
    :param postgres_url: the PostgreSQL server, for ``postgresql``.
    :param prefix: the start of the PostgreSQL database's name (a random suffix follows).
    :return: (SQLAlchemy URL, PostgreSQL database name or None).
    """
    if backend == "sqlite":
        return f"sqlite:///{workdir / f'{prefix}.sqlite3'}", None
    if backend != "postgresql" or not postgres_url:
        raise ValueError(f"no database for backend {backend!r} (PostgreSQL URL: {postgres_url!r})")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    return PostgresServer(postgres_url).create(name), name


def drop_database(postgres_url: str | None, name: str | None) -> None:
    """Drop a database made by :func:`create_database` (nothing to do for SQLite)."""
    if name is not None and postgres_url is not None:
        PostgresServer(postgres_url).drop(name)
