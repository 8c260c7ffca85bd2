"""A real browser against a real server: Debian's Chromium driven by Playwright.

Playwright's own browser download (``playwright install``) is never used: the tests launch the
``chromium`` of the Debian package (``scripts/system-deps test`` installs it) through
``executable_path``. Outside ``make test`` and CI a machine without it skips these tests with a
message; under ``make test`` (``TAPHUAN_TEST_REQUIRE_BROWSER=1``) or CI its absence fails.

Fixtures (``tests/e2e/conftest.py``):

* ``live_server`` (session): gunicorn (``harness.gunicorn``) on a free 127.0.0.1 port over a
  migrated SQLite copy, with one administrator (:data:`ADMIN`, :data:`PASSWORD`).
  ``live_server.url``; ``live_server.app_config()`` for an app on the same database and store.
* ``browser`` (session): the launched Chromium (a Playwright ``Browser``).
* ``open_page`` (function): ``open_page(viewport=(1280, 900), **context_options)`` gives a
  :class:`BrowserPage` on a fresh browser context (its own cookies); every console message and
  page error is recorded, and CSP violations show up among them.

Screenshots go to ``$TAPHUAN_TEST_ARTIFACTS/screenshots`` (default ``tests/artifacts``, which
git ignores): ``browser_page.screenshot("overview-desktop")``.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from harness import ROOT

ADMIN = "quantri"
PASSWORD = "mat-khau-trinh-duyet"
DEBIAN_CHROMIUM = ("/usr/bin/chromium", "/usr/lib/chromium/chromium")


def chromium_path() -> str | None:
    """Debian's Chromium binary (or ``$TAPHUAN_TEST_CHROMIUM``), None when absent."""
    configured = os.environ.get("TAPHUAN_TEST_CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else None
    found = shutil.which("chromium")
    if found:
        return found
    return next((p for p in DEBIAN_CHROMIUM if Path(p).is_file()), None)


def browser_required() -> bool:
    """Whether a missing browser is an error (``make test`` and CI) rather than a skip."""
    return os.environ.get("TAPHUAN_TEST_REQUIRE_BROWSER") == "1" or bool(os.environ.get("CI"))


def artifacts_dir() -> Path:
    """Where screenshots and other test artefacts are written (created on demand)."""
    base = Path(os.environ.get("TAPHUAN_TEST_ARTIFACTS") or ROOT / "tests" / "artifacts")
    folder = base / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class BrowserPage:
    """One browser tab on the live server, with what its console said."""

    page: object  # playwright.sync_api.Page
    base_url: str
    console: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))

    def _on_console(self, message) -> None:
        if message.type in ("error", "warning"):
            self.console.append(f"{message.type}: {message.text}")

    def goto(self, path: str):
        """Open a path of the live server; returns Playwright's response."""
        return self.page.goto(self.base_url + path)

    def sign_in(self, username: str = ADMIN, password: str = PASSWORD, *, path: str = "/"):
        """Sign in through the login form as a person would, starting at ``path``."""
        self.goto(path)
        self.page.locator("input[name=username]").fill(username)
        self.page.locator("input[name=password]").fill(password)
        with self.page.expect_navigation():
            self.page.locator("main form button[type=submit]").click()

    def screenshot(self, name: str, *, full_page: bool = True) -> Path:
        """Save a PNG under the artefacts folder and return its path."""
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name)
        path = artifacts_dir() / f"{safe}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def problems(self) -> list[str]:
        """Console errors and warnings, page errors and CSP violations seen so far."""
        return list(self.console)
