"""py-spy recording server processes while a benchmark measures them.

py-spy samples another process's Python stacks from outside, so the server runs unmodified.
It is optional (``--py-spy PATH`` in the benchmarks) and costs CPU itself: throughput is read
from runs without it. Profiles are written in py-spy's raw (collapsed) format, one line per
distinct stack, ``frame;frame;… count``, which :func:`read_collapsed` reads back.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path


class PySpy:
    """``py-spy record`` attached to a process until :meth:`stop`.

    :param executable: the py-spy binary.
    :param pid: the process to sample.
    :param output: the raw profile's file (its folder is created).
    :param rate: samples per second.
    :param subprocesses: also sample the process's children (a gunicorn master's workers).
    :param attach: seconds to wait after starting so that py-spy is attached before the work.
    """

    def __init__(
        self,
        executable: str,
        pid: int,
        output: Path,
        *,
        rate: int = 97,
        subprocesses: bool = False,
        attach: float = 1.0,
    ):
        self.output = output
        output.parent.mkdir(parents=True, exist_ok=True)
        command = [executable, "record", "--pid", str(pid), "--rate", str(rate)]
        if subprocesses:
            command.append("--subprocesses")
        command += ["--format", "raw", "--nonblocking", "--output", str(output)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if attach:
            time.sleep(attach)

    def stop(self) -> None:
        """SIGINT (py-spy writes its profile then), SIGKILL if it does not end in a minute."""
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def read_collapsed(path: Path) -> list[tuple[list[str], int]]:
    """The stacks of a raw profile: (frames from the outermost, samples); [] if none."""
    if not path.exists():
        return []
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks
