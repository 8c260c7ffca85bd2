"""The production path end to end, on both databases.

Configuration from the environment, migrations and publishing through the CLI, then gunicorn
serving on 127.0.0.1: the same steps ``make run`` takes.
"""

from __future__ import annotations

import re

import pytest
import requests

from harness.cli import app_env, flask, run_flask
from harness.gunicorn import Gunicorn
from tests.factories import DATA


@pytest.mark.slow
def test_gunicorn_serves_what_the_cli_published(databases, backend, tmp_path):
    url = databases.empty(backend)
    env = app_env(url, tmp_path / "storage", secret_key="e2e")
    try:
        flask(["db", "upgrade"], env)
        out = flask(["forms", "publish", str(DATA / "forms" / "mini.md")], env)
        assert out.startswith("published     mini")
        flask(
            ["users", "create", "admin", "--role", "admin"],
            {**env, "TAPHUAN_PASSWORD": "mat-khau-dai"},
        )
        log = tmp_path / "gunicorn.log"
        with Gunicorn(
            env, log, workers=2, worker_class="gthread", threads=4, ready_path="/"
        ) as server:
            page = requests.get(f"{server.url}/", timeout=5)
            assert page.url.endswith("/login?next=/")  # the pages need a signed-in user
            browser = requests.Session()
            form = browser.get(f"{server.url}/login", timeout=5).text
            token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
            page = browser.post(
                f"{server.url}/login?next=/",
                timeout=5,
                data={"username": "admin", "password": "mat-khau-dai", "csrf_token": token},
            )
            assert page.status_code == 200
            assert "Mẫu nhỏ" in page.text
            assert f"{server.url}/" in page.text
            missing = browser.get(f"{server.url}/admin/forms/none", timeout=5)
            assert missing.status_code == 404
            assert "404.1" in missing.text
    finally:
        databases.drop(url)


@pytest.mark.slow
def test_unknown_setting_stops_the_cli_with_its_name(tmp_path):
    env = app_env(f"sqlite:///{tmp_path}/x.db", tmp_path / "storage", secret_key="x")
    env["TAPHUAN_FORMS_MAX_BYTE"] = "10"
    result = run_flask(["forms", "list"], env)
    assert result.returncode != 0
    assert "TAPHUAN_FORMS_MAX_BYTE: unknown setting" in result.stderr
