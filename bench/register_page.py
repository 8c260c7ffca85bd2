"""Benchmark: a 120,000-row register checked and applied through the register page.

The same national-scale workbook as ``bench/roster.py`` is uploaded to ``/admin/register``
on a gunicorn server (``scripts/serve``'s options, gunicorn's 30 s worker timeout) as a
browser would: the upload request only stores the file and queues the check; the page's
progress fragment is polled every half second (as ``static/taphuan.js`` does, once a second)
while the app process's job thread runs the dry run; then **Apply** queues the import and the
fragment is polled until it is done. It prints how long each request took (none may come near
the timeout), how long each job ran, how many distinct progress states the page saw, and the
slowest poll while the job ran.

Run: ``scripts/with-postgres .venv/bin/python bench/register_page.py [--people 120000]``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
import uuid
from pathlib import Path

# The harness, this checkout's server, and bench/roster.py's register generator.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from roster import make_register

from harness.cli import app_env, flask
from harness.databases import create_database, drop_database
from harness.gunicorn import Gunicorn

ADMIN, PASSWORD = "quantri", "mat-khau-bench-du-dai"
#: A request slower than this fails the run: the point is that none holds the work.
REQUEST_LIMIT_S = 5.0
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_BAR = re.compile(r'<progress id="job-bar-\d+"(?: max="(\d+)" value="(\d+)")?')


def _multipart(fields: dict[str, str], name: str, content: bytes) -> tuple[str, bytes]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


def _timed(server: Gunicorn, method: str, path: str, headers: dict, body: bytes | None = None):
    start = time.perf_counter()
    status, data = server.request(method, path, headers, body, timeout=120)
    return status, data, time.perf_counter() - start


def _page(server: Gunicorn, path: str, cookie: str) -> tuple[str, str]:
    """GET a page; return its HTML and the cookie header with what it set (the CSRF secret)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    try:
        conn.request("GET", path, headers={"Cookie": cookie})
        response = conn.getresponse()
        html = response.read().decode()
        jar = dict(c.split("=", 1) for c in cookie.split("; "))
        for header in response.headers.get_all("Set-Cookie") or []:
            key, value = header.split(";")[0].split("=", 1)
            jar[key] = value
        return html, "; ".join(f"{k}={v}" for k, v in jar.items())
    finally:
        conn.close()


def _location(server: Gunicorn, method: str, path: str, headers: dict, body: bytes):
    """POST and return (the redirect's path, seconds); the harness's request keeps headers."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    start = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        seconds = time.perf_counter() - start
        if response.status != 303:
            raise SystemExit(f"{path} answered {response.status}")
        return response.headers["Location"], seconds
    finally:
        conn.close()


def _follow(server: Gunicorn, cookie: str, page: str, limit: float = 1800) -> dict:
    """Poll a job's progress fragment until it ends: seconds, states seen, slowest poll."""
    job_id = int(re.search(r"/(\d+)$", page).group(1))
    fragment = f"/admin/jobs/{job_id}/progress?page={page}"
    start, states, slowest = time.perf_counter(), set(), 0.0
    while time.perf_counter() - start < limit:
        _, body, seconds = _timed(server, "GET", fragment, {"Cookie": cookie})
        slowest = max(slowest, seconds)
        state = re.search(rb'data-state="(\w+)"', body).group(1).decode()
        bar = _BAR.search(body.decode())
        states.add((state, bar.group(1) if bar else None, bar.group(2) if bar else None))
        if state in ("done", "failed"):
            return {"state": state, "seconds": time.perf_counter() - start,
                    "states": len(states), "slowest_poll": slowest, "job": job_id}  # fmt: skip
        time.sleep(0.5)
    raise SystemExit(f"job {job_id} did not end within {limit} s")


def bench(backend: str, register: Path, workdir: Path) -> dict:
    """Upload, check, apply on one backend; the numbers of one run."""
    postgres_url = os.environ.get("TAPHUAN_TEST_POSTGRES_URL")
    url, name = create_database(backend, postgres_url, workdir, "register_page")
    env = app_env(url, workdir / "storage", secret_key="bench", LOG_LEVEL="WARNING")
    try:
        flask(["db", "upgrade"], env)
        flask(["units", "load-official"], env, timeout=900)
        flask(["users", "create", ADMIN, "--role", "admin"], {**env, "TAPHUAN_PASSWORD": PASSWORD})
        with Gunicorn(env, workdir / "gunicorn.log") as server:
            cookie = server.sign_in(ADMIN, PASSWORD)
            page, cookie = _page(server, "/admin/register", cookie)
            token = _TOKEN.search(page).group(1)
            kind, body = _multipart({"csrf_token": token}, register.name, register.read_bytes())
            headers = {"Cookie": cookie, "Content-Type": kind, "Origin": server.url}
            diff_page, upload_s = _location(server, "POST", "/admin/register/check", headers, body)
            check = _follow(server, cookie, diff_page)
            if check["state"] != "done":
                raise SystemExit(f"the check failed:\n{server.log_tail()}")
            page, cookie = _page(server, diff_page, cookie)
            token = _TOKEN.findall(page)[-1]
            form = f"csrf_token={token}".encode()
            headers = {
                "Cookie": cookie,
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": server.url,
            }
            job_page, apply_s = _location(server, "POST", f"{diff_page}/apply", headers, form)
            applied = _follow(server, cookie, job_page)
            _, page, _ = _timed(server, "GET", job_page, {"Cookie": cookie})
            added = re.search(r"Thêm mới</th><td class=\"num\">([\d.]+)", page.decode())
        return {
            "backend": backend,
            "upload_s": upload_s,
            "check": check,
            "apply_s": apply_s,
            "import": applied,
            "added": added.group(1) if added else "?",
        }
    finally:
        drop_database(postgres_url, name)


def main() -> None:
    """Build the register once, run every backend, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=120_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="register-page-bench-") as tmp:
        workdir = Path(tmp)
        register = workdir / "register.xlsx"
        make_register(register, options.people)
        print(f"register: {options.people:,} rows, {register.stat().st_size / 1e6:.1f} MB")
        rows = []
        for backend in options.backends.split(","):
            if backend == "postgresql" and "TAPHUAN_TEST_POSTGRES_URL" not in os.environ:
                print("postgresql: skipped (run under scripts/with-postgres)")
                continue
            (workdir / backend).mkdir()
            rows.append(bench(backend, register, workdir / backend))
        print(
            f"\n{'backend':<11} {'upload s':>9} {'check s':>8} {'apply s':>8} {'import s':>9}"
            f" {'states':>7} {'slowest poll s':>15} {'added':>8}  verdict"
        )
        for r in rows:
            requests = max(r["upload_s"], r["apply_s"], r["check"]["slowest_poll"],
                           r["import"]["slowest_poll"])  # fmt: skip
            verdict = (
                "PASS" if requests < REQUEST_LIMIT_S and r["import"]["state"] == "done" else "MISS"
            )
            print(
                f"{r['backend']:<11} {r['upload_s']:>9.2f} {r['check']['seconds']:>8.1f} "
                f"{r['apply_s']:>8.2f} {r['import']['seconds']:>9.1f} "
                f"{r['check']['states'] + r['import']['states']:>7} {requests:>15.2f} "
                f"{r['added']:>8}  {verdict}"
            )


if __name__ == "__main__":
    main()
