"""gunicorn serving the app on a free loopback port, started as ``scripts/serve`` starts it.

A benchmark must measure the server people run, so the worker count, worker class and threads
default to what ``scripts/serve`` passes (read from that file, honouring ``$WORKERS`` and
``$THREADS`` as it does); a caller may override each. Tests choose their own (one worker is
enough for a browser). The server is ready when it answers any HTTP request; it is stopped with
SIGTERM, as a supervisor would, and killed only if it does not finish in time.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

from harness import ROOT, proc


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_defaults() -> dict:
    """``workers``, ``worker_class`` and ``threads`` as ``scripts/serve`` starts gunicorn.

    ``$WORKERS`` and ``$THREADS`` are honoured as the script honours them; where it passes no
    option, gunicorn's own default applies (``threads`` 0 means ``--threads`` is not passed).
    """
    try:
        text = (ROOT / "scripts" / "serve").read_text()
    except OSError:
        text = ""

    def option(name: str, variable: str, default: str) -> str:
        match = re.search(rf'--{name}[ =]"?(?:\$\{{{variable}:-([^}}]+)\}}|([\w.:]+))', text)
        if match is None:
            return default
        if match.group(1) is not None:
            return os.environ.get(variable, match.group(1))
        return match.group(2)

    return {
        "workers": int(option("workers", "WORKERS", "1")),
        "worker_class": option("worker-class", "WORKER_CLASS", "sync"),
        "threads": int(option("threads", "THREADS", "0")),
    }


class _PortTaken(Exception):
    """gunicorn could not bind the port it was given."""


class Gunicorn:
    """A gunicorn process serving ``wsgi:app`` on 127.0.0.1; a context manager that stops it.

    :param env: the process environment (:func:`harness.cli.app_env`).
    :param log: file receiving gunicorn's output.
    :param workers: ``--workers``; None: as ``scripts/serve``.
    :param worker_class: ``--worker-class``; None: as ``scripts/serve``.
    :param threads: ``--threads``; None: as ``scripts/serve``; 0: not passed.
    :param timeout: ``--timeout`` (None: gunicorn's default, 30 s).
    :param access_log: log every request to ``log`` (``--access-logfile -``).
    :param port: listen on this port instead of a free one (when a URL must be known first).
    :param ready_path: the path asked until the server answers.
    :param start_timeout: seconds to wait for that answer.
    :raises RuntimeError: when gunicorn exits or does not answer in time (with its log's end).
    """

    def __init__(
        self,
        env: dict[str, str],
        log: Path,
        *,
        workers: int | None = None,
        worker_class: str | None = None,
        threads: int | None = None,
        timeout: int | None = None,
        access_log: bool = False,
        port: int | None = None,
        ready_path: str = "/login",
        start_timeout: float = 60,
    ):
        served = serve_defaults()
        self.workers_count = served["workers"] if workers is None else workers
        self.worker_class = served["worker_class"] if worker_class is None else worker_class
        self.threads = served["threads"] if threads is None else threads
        self.log = log
        options = ["--workers", str(self.workers_count), "--worker-class", self.worker_class]
        if self.threads:
            options += ["--threads", str(self.threads)]
        if timeout is not None:
            options += ["--timeout", str(timeout)]
        if access_log:
            options += ["--access-logfile", "-"]
        #: The command line as a reader of a benchmark's output wants to see it.
        self.describe = " ".join(["gunicorn", *options])
        # A free port can be taken by another process (a parallel test worker, an outgoing
        # connection) between the check and gunicorn's bind: then try another one.
        attempts = 1 if port else 3
        for attempt in range(attempts):
            self.port = port or free_port()
            self._start([*options, "wsgi:app"], env)
            try:
                self._wait_ready(ready_path, start_timeout)
                return
            except _PortTaken:
                if attempt == attempts - 1:
                    raise RuntimeError(f"gunicorn could not bind:\n{self.log_tail()}") from None
            except BaseException:
                self.stop()
                raise

    def _start(self, arguments: list[str], env: dict[str, str]) -> None:
        command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}"]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [*command, *arguments], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    @property
    def url(self) -> str:
        """The base URL, ``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The master's PID."""
        return self.process.pid

    def _wait_ready(self, path: str, limit: float) -> None:
        """Wait until this gunicorn has bound its port and answers ``path``.

        An answer alone is not enough: another server may hold the port while this one is
        still retrying its bind, so gunicorn's own "Listening at" line must be in its log.
        """
        deadline = time.monotonic() + limit
        while True:
            log = self.log_tail(chars=20_000)
            if "Connection in use" in log:
                self.stop(grace=5)
                raise _PortTaken
            if f"Listening at: {self.url}" in log:
                try:
                    self.request("GET", path, timeout=5)
                    return
                except (OSError, http.client.HTTPException):  # too slow while booting
                    pass
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer within {limit:.0f} s")
            time.sleep(0.2)

    def request(
        self,
        method: str,
        path: str,
        headers: dict | None = None,
        body: bytes | None = None,
        *,
        timeout: float = 60,
    ) -> tuple[int, bytes]:
        """One request on a fresh connection: (status, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def get(self, path: str, headers: dict, timeout: float) -> tuple[int, bytes]:
        """One GET on a fresh connection: (status, body)."""
        return self.request("GET", path, headers, timeout=timeout)

    def sign_in(self, username: str, password: str) -> str:
        """Sign in through ``/login`` as a browser does; the ``Cookie`` header to send after.

        :raises RuntimeError: when the login form does not redirect (wrong password …).
        """
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", "/login")
            response = conn.getresponse()
            page = response.read().decode()
            cookies = [c.split(";")[0] for c in response.headers.get_all("Set-Cookie") or []]
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            form = {"csrf_token": token, "username": username, "password": password}
            conn.request(
                "POST",
                "/login",
                body=urllib.parse.urlencode(form),
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

    def workers(self) -> list[int]:
        """PIDs of the live workers."""
        return proc.children(self.process.pid)

    def log_tail(self, chars: int = 3000) -> str:
        """The end of gunicorn's output."""
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, grace: float = 30) -> None:
        """SIGTERM (workers finish their requests), then SIGKILL after ``grace`` seconds."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
