"""Fixtures of the browser tests: a real server process and Debian's Chromium (see browser.py)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from server import create_app
from server.extensions import db
from server.services import accounts
from tests.conftest import ROOT, make_config
from tests.e2e.browser import (
    ADMIN,
    PASSWORD,
    BrowserPage,
    browser_required,
    chromium_path,
    free_port,
)


@dataclass(frozen=True)
class LiveServer:
    """A gunicorn process serving the app on 127.0.0.1."""

    url: str
    log: Path
    #: The server's database, for tests that load data through the CLI beside it.
    database_url: str = ""


@pytest.fixture(scope="session")
def live_server(databases, tmp_path_factory):
    """A gunicorn process over a migrated SQLite copy with one administrator; stopped after the session."""
    url = databases.new("sqlite")
    app = create_app(make_config(url))
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
    folder = tmp_path_factory.mktemp("live-server")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAPHUAN_")}
    env.update(
        TAPHUAN_SECRET_KEY="browser-tests",
        TAPHUAN_DATABASE_URL=url,
        TAPHUAN_STORAGE_DIR=str(folder / "storage"),
    )
    port = free_port()
    log_path = folder / "gunicorn.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--worker-class",
        "gthread",
        "--threads",
        "4",
        "wsgi:app",
    ]
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    requests.get(base + "/login", timeout=5).close()
                    break
                except requests.RequestException:  # refused, or too slow while booting
                    assert server.poll() is None, log_path.read_text()
                    assert time.monotonic() < deadline, "gunicorn did not start in 30 s"
                    time.sleep(0.2)
            yield LiveServer(url=base, log=log_path, database_url=url)
        finally:
            server.terminate()
            server.wait(timeout=10)


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
def open_page(browser, live_server):
    """``open_page(viewport=(w, h), **context_options)`` -> :class:`BrowserPage`."""
    contexts = []

    def open_(viewport: tuple[int, int] = (1280, 900), **options) -> BrowserPage:
        context = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]},
            locale="vi-VN",
            **options,
        )
        contexts.append(context)
        return BrowserPage(page=context.new_page(), base_url=live_server.url)

    yield open_
    for context in contexts:
        context.close()
