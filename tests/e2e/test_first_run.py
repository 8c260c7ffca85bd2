"""First run in Chromium: a fresh server prints a link, the link makes the first administrator."""

from __future__ import annotations

import re

import pytest

from harness.cli import app_env, flask
from harness.gunicorn import Gunicorn
from tests.e2e.browser import BrowserPage

PASSWORD = "mật-khẩu-quản-trị-1"


@pytest.fixture
def fresh_server(databases, tmp_path):
    """Gunicorn over a migrated database with no account at all, as after a first make run."""
    env = app_env(databases.new("sqlite"), tmp_path / "storage", SECRET_KEY="first-run-tests")
    with Gunicorn(env, tmp_path / "gunicorn.log", workers=1, threads=2) as server:
        yield server, env


def test_the_console_link_creates_the_first_administrator_once(browser, fresh_server):
    server, env = fresh_server
    printed = flask(["users", "first-run-link", "--server-url", server.url], env)
    link = re.search(r"(http://\S+/first-run/\S+)", printed).group(1)
    context = browser.new_context(viewport={"width": 800, "height": 1280}, locale="vi-VN")
    tab = BrowserPage(page=context.new_page(), base_url=server.url)
    try:
        tab.goto("/login")
        assert "Chưa có tài khoản quản trị" in tab.page.locator("main").inner_text()
        tab.page.goto(link)
        page = tab.page
        assert page.locator("h1").inner_text().startswith("Thiết lập lần đầu")
        page.locator("input[name=username]").fill("quantri")
        page.locator("input[name=full_name]").fill("Nguyễn Thị Quản")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("input[name=password_again]").fill(PASSWORD)
        tab.screenshot("first-run-tablet")
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        assert page.url == server.url + "/"
        assert page.locator("h1").inner_text().startswith("Tổng quan")
        assert page.locator(".account .user").inner_text() == "quantri"
        page.goto(link)
        assert "không còn hiệu lực" in page.locator("main").inner_text()
        tab.screenshot("first-run-spent")
        assert flask(["users", "first-run-link"], env) == ""
        # the spent link answers 403 on purpose; nothing else may complain
        assert [p for p in tab.problems() if "status of 403" not in p] == []
    finally:
        context.close()
