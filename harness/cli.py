"""``flask --app wsgi …`` in its own process, with the environment of one run.

The harness sets a server up as an operator does, through the CLI (``db upgrade``,
``forms publish``, ``users create`` …), so a benchmark or a browser test exercises the same
commands as ``make run``. Each command is a new process with the environment
:func:`app_env` builds: the caller's ``TAPHUAN_*`` variables are dropped, so a developer's
shell settings cannot leak into a test or a measurement.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from harness import ROOT, proc


def app_env(
    database_url: str,
    storage_dir: Path,
    *,
    secret_key: str = "harness-secret",  # noqa: S107 (a server that lives for one run)
    **settings: str,
) -> dict[str, str]:
    """The environment of CLI commands and gunicorn for one database.

    :param storage_dir: the attachment store (``TAPHUAN_STORAGE_DIR``); give every run its own,
        under a folder that is removed afterwards.
    :param settings: further settings by key, e.g. ``LOG_LEVEL="WARNING"`` for
        ``TAPHUAN_LOG_LEVEL``.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAPHUAN_")}
    env.update(
        TAPHUAN_SECRET_KEY=secret_key,
        TAPHUAN_DATABASE_URL=database_url,
        TAPHUAN_STORAGE_DIR=str(storage_dir),
    )
    env.update({f"TAPHUAN_{key}": value for key, value in settings.items()})
    return env


def command(args: list[str]) -> list[str]:
    """The command line of ``flask --app wsgi`` with ``args``, on this Python."""
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


def run_flask(
    args: list[str], env: dict[str, str], *, timeout: float = 600
) -> subprocess.CompletedProcess:
    """Run a command from the repository root; its result, whatever its exit status."""
    return subprocess.run(
        command(args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
        check=False,
    )  # fmt: skip


def flask(args: list[str], env: dict[str, str], *, timeout: float = 600) -> str:
    """Run a command that must succeed; its standard output.

    :raises RuntimeError: with the command's output, when it exits with another status than 0.
    """
    result = run_flask(args, env, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def run_python(
    code: str, env: dict[str, str], *, timeout: float = 600
) -> subprocess.CompletedProcess:
    """Run Python ``code`` in its own process, from the repository root, with ``env``.

    For what no CLI command does (timing one service call against a loaded database), still
    in a process of its own so that it sees the server's code and settings, not the caller's.
    """
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip


@dataclass
class Measured:
    """What one measured command cost."""

    returncode: int | None  # None: killed after the timeout
    seconds: float
    cpu_seconds: float
    #: The command's own largest RSS (VmHWM, polled while it ran), or None if never read.
    peak_mb: float | None
    log: Path

    @property
    def output(self) -> str:
        """What the command printed (stdout and stderr, interleaved)."""
        return self.log.read_text("utf-8", "replace")


def run_measured(
    args: list[str], env: dict[str, str], *, log: Path, timeout: float = 1800, poll: float = 0.02
) -> Measured:
    """Run a command, measuring its wall time, CPU seconds and peak memory.

    Peak memory is the child's ``VmHWM`` polled every ``poll`` seconds: ``ru_maxrss`` would also
    count this process's RSS, which Linux carries into the child across fork and exec (a
    benchmark that holds its generated data would inflate every command it runs). CPU comes
    from ``wait4``, so children the command reaped are included.

    :param log: file receiving the command's stdout and stderr.
    """
    started = time.perf_counter()
    with log.open("wb") as output:
        process = subprocess.Popen(command(args), cwd=ROOT, env=env, stdout=output, stderr=output)
    peak_kb = 0
    returncode: int | None = None
    while True:
        peak_kb = max(peak_kb, proc.peak_kb(process.pid))
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            returncode = os.waitstatus_to_exitcode(status)
            break
        if time.perf_counter() - started > timeout:
            process.kill()
            _, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(poll)
    process.returncode = returncode if returncode is not None else -9
    return Measured(
        returncode=returncode,
        seconds=time.perf_counter() - started,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_mb=peak_kb / 1024 if peak_kb else None,
        log=log,
    )
