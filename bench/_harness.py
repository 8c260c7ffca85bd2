"""Shared pieces of the HTTP benchmarks: databases, the CLI, gunicorn, /proc sampling.

Factored out of ``bench/export.py`` for ``bench/reports.py`` (export.py keeps its own copy for
now). Nothing here knows a workload: a fresh database per run, ``flask --app wsgi …`` commands,
gunicorn started as ``scripts/serve`` starts it on a free loopback port, and CPU / peak RSS read
from ``/proc``.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def libpq(url: str, database: str | None = None) -> str:
    """A libpq connection string for psycopg, from an SQLAlchemy URL."""
    parsed = make_url(url)
    if database:
        parsed = parsed.set(database=database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(backend: str, postgres_url: str | None, workdir: Path, prefix: str):
    """A fresh, empty database: (SQLAlchemy URL, PostgreSQL database name or None)."""
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'bench.sqlite3'}", None
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(libpq(postgres_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(postgres_url).set(database=name).render_as_string(False), name


def drop_database(postgres_url: str | None, name: str | None) -> None:
    """Drop a benchmark database (forcing off any connection left)."""
    if name is None or postgres_url is None:
        return
    with psycopg.connect(libpq(postgres_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def app_env(url: str, workdir: Path) -> dict[str, str]:
    """The environment of the CLI and gunicorn for one benchmark database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAPHUAN_")}
    env.update(
        TAPHUAN_SECRET_KEY="bench-secret",
        TAPHUAN_DATABASE_URL=url,
        TAPHUAN_STORAGE_DIR=str(workdir / "storage"),
        TAPHUAN_LOG_LEVEL="WARNING",
    )
    return env


def cli(args: list[str], env: dict[str, str], timeout: float = 600) -> str:
    """Run ``python -m flask --app wsgi …``; raise with its output if it fails."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi", *args]
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def proc_cpu(pid: int) -> float:
    """CPU seconds (utime + stime) of a live process; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_cpu_with_children(pid: int) -> float:
    """CPU seconds of a process plus those of the children it has reaped."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11:15]) / CLK_TCK


def children(pid: int) -> list[int]:
    """Direct children of a process."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found = []
    for task in tasks:
        try:
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            found += [int(c) for c in text.split()]
        except OSError:
            continue
    return found


def status_kb(pid: int, key: str) -> int | None:
    """A ``/proc/<pid>/status`` field in kB (VmHWM, VmRSS), or None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak(pid: int) -> bool:
    """Reset a process's VmHWM to its current RSS (Linux ≥ 4.0); False if not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class PostgresCpu:
    """CPU time of a local PostgreSQL server: the postmaster, live and exited backends."""

    def __init__(self, url: str):
        self.pid = None
        with psycopg.connect(libpq(url), autocommit=True) as conn:
            backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            try:
                stat = Path(f"/proc/{backend}/stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                comm = Path(f"/proc/{ppid}/comm").read_text().strip()
            except (OSError, ValueError):
                return
        if comm.startswith(("postgres", "postmaster")):
            self.pid = ppid

    def total(self) -> float | None:
        """CPU seconds so far (None when the server is not on this machine)."""
        if self.pid is None:
            return None
        return proc_cpu_with_children(self.pid) + sum(proc_cpu(c) for c in children(self.pid))


def serve_defaults() -> tuple[int, str, int]:
    """(workers, worker class, threads) as ``scripts/serve`` runs gunicorn."""
    text = (ROOT / "scripts" / "serve").read_text()
    workers = re.search(r"--workers \"\$\{WORKERS:-(\d+)\}\"", text)
    klass = re.search(r"--worker-class (\w+)", text)
    threads = re.search(r"--threads \"\$\{THREADS:-(\d+)\}\"", text)
    return (
        int(os.environ.get("WORKERS") or (workers.group(1) if workers else 2)),
        klass.group(1) if klass else "sync",
        int(os.environ.get("THREADS") or (threads.group(1) if threads else 1)),
    )


class Gunicorn:
    """gunicorn as ``scripts/serve`` starts it, on a free loopback port."""

    def __init__(self, env: dict[str, str], log: Path):
        workers, klass, threads = serve_defaults()
        self.port = free_port()
        command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}"]
        command += ["--workers", str(workers), "--worker-class", klass, "--threads", str(threads)]
        command.append("wsgi:app")
        self.describe = f"gunicorn --workers {workers} --worker-class {klass} --threads {threads}"
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = self.get("/api/v1/openapi.json", {}, timeout=5)
                if status == 200:
                    break
            except OSError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("gunicorn did not answer within 60 s")
            time.sleep(0.2)

    def get(self, path: str, headers: dict, timeout: float) -> tuple[int, bytes]:
        """One GET on a fresh connection: (status, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def workers(self) -> list[int]:
        """PIDs of the live workers."""
        return children(self.process.pid)

    def stop(self) -> None:
        """SIGTERM (graceful), then SIGKILL after 30 s."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


class RssSampler:
    """Peak RSS of a process tree, sampled every ``interval`` seconds in a thread (MB)."""

    def __init__(self, pids: list[int], interval: float = 0.05):
        self.pids, self.interval = pids, interval
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _sample(self) -> None:
        for pid in self.pids:
            # VmHWM catches a peak between samples (reset before the request where allowed).
            value = status_kb(pid, "VmHWM") or status_kb(pid, "VmRSS") or 0
            self.peak_kb = max(self.peak_kb, value)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    @property
    def peak_mb(self) -> float:
        """The largest RSS of one process of the tree."""
        return self.peak_kb / 1024


def page_login(server: Gunicorn, username: str, password: str) -> str:
    """Sign in to the pages (CSRF token, then the form): the session cookie header value."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("GET", "/login")
        response = conn.getresponse()
        page = response.read().decode()
        cookies = [c.split(";")[0] for c in response.headers.get_all("Set-Cookie") or []]
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode(
            {"csrf_token": token, "username": username, "password": password}
        )
        conn.request(
            "POST",
            "/login",
            body=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": "; ".join(cookies),
            },
        )
        response = conn.getresponse()
        response.read()
        cookies += [c.split(";")[0] for c in response.headers.get_all("Set-Cookie") or []]
        if response.status != 302:
            raise RuntimeError(f"page login answered {response.status}")
    finally:
        conn.close()
    jar = dict(c.split("=", 1) for c in cookies)
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def print_summary(header: str, lines: list[str], notes: list[str]) -> None:
    """The closing table of a benchmark run (every row again) and its notes."""
    print("\n" + header)
    for row in lines:
        print(row)
    print()
    for note in notes:
        print(note)
