"""The production path end to end, on both databases.

Configuration from the environment, migrations and publishing through the CLI, then gunicorn
serving on 127.0.0.1: the same steps ``make run`` takes.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import pytest
import requests

from tests.conftest import DATA, ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def python_module(args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def run(args, env):
    result = python_module(args, env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.slow
def test_gunicorn_serves_what_the_cli_published(databases, backend, tmp_path):
    url = databases.empty(backend)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAPHUAN_")}
    env.update(TAPHUAN_SECRET_KEY="e2e", TAPHUAN_DATABASE_URL=url)
    try:
        run(["flask", "--app", "wsgi", "db", "upgrade"], env)
        out = run(
            ["flask", "--app", "wsgi", "forms", "publish", str(DATA / "forms" / "mini.md")], env
        )
        assert out.startswith("published     mini")
        run(
            ["flask", "--app", "wsgi", "users", "create", "admin", "--role", "admin"],
            {**env, "TAPHUAN_PASSWORD": "mat-khau-dai"},
        )
        port = free_port()
        log = (tmp_path / "gunicorn.log").open("wb")
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "wsgi:app",
        ]
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    page = requests.get(f"http://127.0.0.1:{port}/", timeout=5)
                    break
                except requests.RequestException:  # refused, or too slow while booting
                    assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
                    assert time.monotonic() < deadline, "gunicorn did not start in 30 s"
                    time.sleep(0.2)
            assert page.url.endswith("/login?next=/")  # the pages need a signed-in user
            browser = requests.Session()
            form = browser.get(f"http://127.0.0.1:{port}/login", timeout=5).text
            token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
            page = browser.post(
                f"http://127.0.0.1:{port}/login?next=/",
                timeout=5,
                data={"username": "admin", "password": "mat-khau-dai", "csrf_token": token},
            )
            assert page.status_code == 200
            assert "Mẫu nhỏ" in page.text
            assert f"http://127.0.0.1:{port}/" in page.text
            missing = browser.get(f"http://127.0.0.1:{port}/admin/forms/none", timeout=5)
            assert missing.status_code == 404
            assert "404.1" in missing.text
        finally:
            server.terminate()
            server.wait(timeout=10)
            log.close()
    finally:
        databases.drop(url)


@pytest.mark.slow
def test_unknown_setting_stops_the_cli_with_its_name(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAPHUAN_")}
    env.update(
        TAPHUAN_SECRET_KEY="x",
        TAPHUAN_DATABASE_URL=f"sqlite:///{tmp_path}/x.db",
        TAPHUAN_FORMS_MAX_BYTE="10",
    )
    result = python_module(["flask", "--app", "wsgi", "forms", "list"], env)
    assert result.returncode != 0
    assert "TAPHUAN_FORMS_MAX_BYTE: unknown setting" in result.stderr
