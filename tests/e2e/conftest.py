"""Fixtures of the browser tests: a real server process and Debian's Chromium (see browser.py)."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from harness.cli import app_env
from harness.gunicorn import Gunicorn
from server import create_app
from server.extensions import db
from server.services import accounts
from tests.e2e.browser import ADMIN, PASSWORD, BrowserPage, browser_required, chromium_path
from tests.factories import make_config


@dataclass(frozen=True)
class LiveServer:
    """A gunicorn process serving the app on 127.0.0.1."""

    url: str
    log: Path
    #: The server's database, for tests that load data through the CLI beside it.
    database_url: str
    #: The server's attachment store.
    storage_dir: Path

    def app_config(self) -> dict:
        """Settings of an app on the server's database and store (to load data beside it)."""
        return make_config(self.database_url, self.storage_dir)


@contextlib.contextmanager
def _serving(databases, folder: Path) -> Iterator[LiveServer]:
    """Gunicorn over a migrated SQLite copy with one administrator, for as long as needed."""
    url = databases.new("sqlite")
    live = LiveServer(
        url="", log=folder / "gunicorn.log", database_url=url, storage_dir=folder / "storage"
    )
    app = create_app(live.app_config())
    with app.app_context():
        accounts.create_user(
            ADMIN,
            role="admin",
            password=PASSWORD,
            realm=app.config["AUTH_REALM"],
            session=db.session,
            now=dt.datetime.now(dt.UTC),
        )
        db.session.commit()
        db.engine.dispose()
    env = app_env(url, live.storage_dir, secret_key="browser-tests")
    with Gunicorn(env, live.log, workers=1, worker_class="gthread", threads=4) as server:
        yield replace(live, url=server.url)


@pytest.fixture(scope="session")
def live_server(databases, tmp_path_factory):
    """The server the browser tests share (their data side by side); stopped after the session."""
    with _serving(databases, tmp_path_factory.mktemp("live-server")) as live:
        yield live


@pytest.fixture(scope="module")
def own_server(databases, tmp_path_factory):
    """A server of the module's own, for tests whose permissions another module's data changes.

    A trainer may upload a test's key only while no other trainer's course uses that form:
    with the shared server, whether that held depended on which module ran first.
    """
    with _serving(databases, tmp_path_factory.mktemp("own-server")) as live:
        yield live


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, launched by Playwright (never a downloaded browser)."""
    executable = chromium_path()
    if executable is None:
        message = (
            "Debian's chromium is not installed (scripts/system-deps test installs it; "
            "or set TAPHUAN_TEST_CHROMIUM)"
        )
        if browser_required():
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            # Playwright's own sandbox switch (off) covers root in containers; no GPU here.
            args=["--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page_server(live_server):
    """The server ``open_page`` opens pages of (a module overrides it with ``own_server``)."""
    return live_server


@pytest.fixture
def open_page(browser, page_server):
    """``open_page(viewport=(w, h), **context_options)`` -> :class:`BrowserPage`."""
    contexts = []

    def open_(viewport: tuple[int, int] = (1280, 900), **options) -> BrowserPage:
        context = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]},
            locale="vi-VN",
            **options,
        )
        contexts.append(context)
        return BrowserPage(page=context.new_page(), base_url=page_server.url)

    yield open_
    for context in contexts:
        context.close()
