"""Fixtures: an app per test on a fresh database, on SQLite and on PostgreSQL; a clean temp dir.

Every test that asks for ``app`` (or ``client``, ``runner``, ``session``) runs twice, once per
backend. Each backend's schema is built once per session (per xdist worker) through the real
migrations into a template; each test then gets its own copy (a copied SQLite file, or
``CREATE DATABASE … TEMPLATE`` on PostgreSQL), so tests may commit freely and never see each
other's data.

PostgreSQL comes from ``TAPHUAN_TEST_POSTGRES_URL`` (``make test`` starts a throwaway cluster
and sets it). Without it the PostgreSQL runs are skipped, unless
``TAPHUAN_TEST_REQUIRE_POSTGRES=1`` (set by ``make test``) makes that an error.

The fixtures several test packages share (users, device tokens, published test forms,
submissions through the service) are here too; plain builders are in ``tests/factories.py``.

**Nothing is left behind.** The run gets a private temporary folder (``TMPDIR``, inherited by
xdist workers, gunicorn, the CLI, Chromium and Node), removed when the run ends. Before that,
anything in it named ``taphuan-*`` fails the run: the service (or a test) made a temporary file
and did not remove it, which in production would fill a disk.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from harness.databases import BACKENDS, PostgresServer
from server import MIGRATIONS_DIR, create_app, errors
from server.extensions import db
from server.services import accounts
from server.services.attachment_store import AttachmentStore
from server.services.forms import MediaFile, ValidationSettings, publish_form
from server.services.submissions import IncomingFile, Origin, receive_submission
from tests.factories import DATA, NOW, PASSWORD, make_config

# A message template naming a detail its raise site did not give falls back to the title in
# production; under test it must fail at the raise site.
errors.strict()

#: Where the run's private temporary folder is named for xdist workers and subprocesses.
TMPDIR_VARIABLE = "TAPHUAN_TEST_TMPDIR"


# --------------------------------------------------------------------------- the temp folder


def pytest_configure(config):
    """Give the run (the xdist controller and its workers) one private temporary folder."""
    folder = os.environ.get(TMPDIR_VARIABLE)
    if folder is None:  # the controller, or a run without xdist
        folder = tempfile.mkdtemp(prefix="taphuan-tests-")
        os.environ[TMPDIR_VARIABLE] = folder
        config.stash[_OWN_TMPDIR] = Path(folder)
    os.environ["TMPDIR"] = folder
    tempfile.tempdir = folder  # this process already cached the old one
    # Hypothesis keeps a cache of constants per source file in .hypothesis/ under the working
    # directory, the repository, unless told otherwise.
    os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = str(Path(folder) / "hypothesis")


_OWN_TMPDIR = pytest.StashKey[Path]()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    """Fail the run when ``taphuan-*`` files were left in the temp folder; then remove it.

    The folder is kept (and named) when tests failed, for their ``tmp_path`` contents.
    """
    folder = session.config.stash.get(_OWN_TMPDIR, None)
    if folder is None:  # an xdist worker: the controller checks once all have finished
        return
    left = sorted(p.name for p in folder.iterdir() if p.name.startswith("taphuan-"))
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if left:
        message = (
            f"{len(left)} temporary file(s) named taphuan-* were left behind by the service or "
            f"the tests (in {folder}): {', '.join(left[:10])}"
        )
        if reporter is not None:
            reporter.write_line(f"\nERROR {message}", red=True, bold=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if session.exitstatus != pytest.ExitCode.TESTS_FAILED or not any(folder.iterdir()):
        shutil.rmtree(folder, ignore_errors=True)
    elif reporter is not None:
        reporter.write_line(f"temporary files of this run kept in {folder}")


# --------------------------------------------------------------------------- databases


def _postgres_url() -> str | None:
    url = os.environ.get("TAPHUAN_TEST_POSTGRES_URL")
    if not url and os.environ.get("TAPHUAN_TEST_REQUIRE_POSTGRES") == "1":
        raise RuntimeError("TAPHUAN_TEST_REQUIRE_POSTGRES=1 but TAPHUAN_TEST_POSTGRES_URL unset")
    return url


def migrate_database(url: str, workdir: Path) -> None:
    """Run every migration on the database at ``url``."""
    app = create_app(make_config(url, workdir / "storage"))
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        db.engine.dispose()


class Databases:
    """Hands out fresh, migrated databases, one per test."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.counter = itertools.count()
        self.sqlite_template: Path | None = None
        url = _postgres_url()
        self.postgres = PostgresServer(url) if url else None
        self.pg_template: str | None = None
        self.created: list[str] = []

    def new(self, backend: str) -> str:
        n = next(self.counter)
        if backend == "sqlite":
            if self.sqlite_template is None:
                self.sqlite_template = self.workdir / "template.sqlite3"
                migrate_database(f"sqlite:///{self.sqlite_template}", self.workdir)
            path = self.workdir / f"test{n}.sqlite3"
            shutil.copyfile(self.sqlite_template, path)
            return f"sqlite:///{path}"
        postgres = self._postgres()
        if self.pg_template is None:
            self.pg_template = f"tpl_{uuid.uuid4().hex[:8]}"
            migrate_database(postgres.create(self.pg_template), self.workdir)
        return self._create_pg(f"t_{self.pg_template[4:]}_{n}", template=self.pg_template)

    def empty(self, backend: str) -> str:
        """A database with no schema at all (for migration tests)."""
        n = next(self.counter)
        if backend == "sqlite":
            return f"sqlite:///{self.workdir / f'empty{n}.sqlite3'}"
        self._postgres()
        return self._create_pg(f"e_{uuid.uuid4().hex[:8]}")

    def _postgres(self) -> PostgresServer:
        if self.postgres is None:
            pytest.skip("PostgreSQL not available (set TAPHUAN_TEST_POSTGRES_URL; make test does)")
        return self.postgres

    def _create_pg(self, name: str, template: str | None = None) -> str:
        url = self.postgres.create(name, template=template)
        self.created.append(name)
        return url

    def drop(self, url: str) -> None:
        name = make_url(url).database
        if make_url(url).get_backend_name() != "postgresql" or name not in self.created:
            return
        self.postgres.drop(name)
        self.created.remove(name)

    def close(self) -> None:
        if self.postgres is not None:
            self.postgres.drop(*[n for n in [*self.created, self.pg_template] if n])


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


# --------------------------------------------------------------------------- the app


@pytest.fixture
def app_config(database_url, tmp_path) -> dict:
    """The test app's settings; a test may change them before asking for ``app``."""
    return make_config(database_url, tmp_path / "storage")


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


# --------------------------------------------------------------------------- shared data


@pytest.fixture
def publish(app):
    """Publish a test form from tests/data/forms by file name (with optional media)."""

    def _publish(
        filename: str, media: dict[str, bytes] | None = None, content: bytes | None = None
    ):
        result = publish_form(
            filename,
            content if content is not None else (DATA / "forms" / filename).read_bytes(),
            session=db.session,
            settings=ValidationSettings(max_bytes=10_000_000),
            media=[MediaFile(n, c) for n, c in (media or {}).items()],
            now=NOW,
        )
        db.session.commit()
        return result.form_version

    return _publish


@pytest.fixture
def make_user(app):
    """``make_user(username="alice", role="admin", forms=())``: a user with ``PASSWORD``."""

    def _make(username="alice", role="admin", forms=()):
        user = accounts.create_user(
            username,
            role=role,
            password=PASSWORD,
            realm=app.config["AUTH_REALM"],
            session=db.session,
            form_ids=forms,
            now=NOW,
        )
        db.session.commit()
        return user

    return _make


@pytest.fixture
def make_device(app):
    """``make_device(*form_ids, label=…)``: (device, token) of a tablet allowed those forms."""

    def _make(*forms, label="Máy tính bảng xã Ia Ka"):
        device, token = accounts.create_device(label, form_ids=forms, session=db.session, now=NOW)
        db.session.commit()
        return device, token

    return _make


@pytest.fixture
def token_for(app):
    """``token_for(username="admin", role="admin", forms=())``: bearer headers of a new user."""

    def _token(username="admin", role="admin", forms=()):
        user = accounts.create_user(
            username,
            role=role,
            password="long-enough-pass",
            realm=app.config["AUTH_REALM"],
            session=db.session,
            form_ids=forms,
            now=NOW,
        )
        token = accounts.create_api_token(user, label="test", session=db.session, now=NOW)
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    return _token


@pytest.fixture
def submit(app):
    """Store a submission through the real service, as an admin device would."""
    admin = None

    def _submit(xml: str, *, files: dict[str, bytes] | None = None, at: dt.datetime = NOW):
        nonlocal admin
        if admin is None:
            admin = accounts.create_user(
                "collector-bot",
                role="admin",
                password="long-enough-pass",
                realm=app.config["AUTH_REALM"],
                session=db.session,
                now=NOW,
            )
        receipt = receive_submission(
            xml.encode(),
            [IncomingFile(n, c) for n, c in (files or {}).items()],
            origin=Origin(actor=accounts.Actor(user=admin), device_id="collect:test"),
            session=db.session,
            store=AttachmentStore(app.config["STORAGE_DIR"]),
            now=at,
        )
        db.session.commit()
        return receipt.submission

    return _submit
