"""CPU seconds and resident memory of processes and of the machine, read from ``/proc``.

A benchmark's CPU figures add up ``utime``/``stime`` of the processes that served it (the
gunicorn tree, the PostgreSQL cluster), and its memory figures are resident set sizes. Reading
the few fields directly keeps it plain which fields a figure adds up, with no dependency.
Every reader answers 0 (or None) for a process that has gone: workers come and go during a run.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _stat(pid: int) -> list[str] | None:
    """Fields 3… of ``/proc/<pid>/stat``, or None when the process is gone.

    The command name (field 2) may hold spaces and parentheses, so the text is split after
    its last ``)``; index 0 is then the state, 1 the parent, 11–14 utime, stime, cutime,
    cstime and 21 the resident pages.
    """
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pid: int, *, reaped: bool = False) -> float:
    """CPU seconds (user + system) a process has used so far; 0 if it is gone.

    :param reaped: also count the children it has waited for (``cutime`` + ``cstime``): a
        gunicorn master's restarted workers, a postmaster's finished backends.
    """
    fields = _stat(pid)
    if fields is None:
        return 0.0
    return sum(int(f) for f in fields[11 : 15 if reaped else 13]) / CLK_TCK


def parent(pid: int) -> int | None:
    """The parent's PID, or None when the process is gone."""
    fields = _stat(pid)
    return None if fields is None else int(fields[1])


def rss_bytes(pid: int) -> int:
    """Resident set size of a process now, in bytes; 0 if it is gone."""
    fields = _stat(pid)
    return 0 if fields is None else int(fields[21]) * PAGE_SIZE


def children(pid: int) -> list[int]:
    """Direct children of a process (the ``children`` file of each of its threads)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found: list[int] = []
    for task in tasks:
        try:
            found += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
        except OSError:
            continue
    return found


def tree(root: int, limit: int = 2000) -> list[int]:
    """A process and its descendants (at most ``limit``, should something fork without end)."""
    pids, queue = [], [root]
    while queue and len(pids) < limit:
        pid = queue.pop()
        pids.append(pid)
        queue.extend(children(pid))
    return pids


def tree_cpu(root: int) -> float:
    """CPU seconds of a process tree, children that exited and were reaped included.

    This is what a server cost: gunicorn's master and workers (restarted ones too), or a
    PostgreSQL postmaster with its live and finished backends and parallel workers.
    """
    return sum(cpu_seconds(pid, reaped=True) for pid in tree(root))


def status_kb(pid: int, key: str) -> int | None:
    """A ``/proc/<pid>/status`` field in kB (``VmHWM``, ``VmRSS``), or None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def peak_kb(pid: int) -> int:
    """The largest resident set a process has had (``VmHWM``), in kB; 0 if unknown."""
    return status_kb(pid, "VmHWM") or 0


def reset_peak(pid: int) -> bool:
    """Set a process's ``VmHWM`` back to its current RSS (Linux ≥ 4.0); False if refused.

    Lets a long-lived worker's peak be read per request instead of over its whole life.
    """
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class MemorySampler:
    """Peak memory of a set of processes, sampled in a thread while a measurement runs.

    Two peaks, since the benchmarks ask two questions: the largest summed RSS of the whole set
    (what the server as a whole held; pages shared after fork count once per process) and the
    largest RSS of any one process (``VmHWM`` where readable, so a peak between two samples is
    not missed). Use as a context manager: one sample on entry, one on exit.

    :param pids: the processes, called at each sample (a tree's members change), or a list.
    :param interval: seconds between samples.
    """

    def __init__(self, pids: Callable[[], Iterable[int]] | Iterable[int], interval: float = 0.05):
        self._pids = pids if callable(pids) else (lambda fixed=tuple(pids): fixed)
        self.interval = interval
        self.peak_tree_bytes = 0
        self.peak_process_kb = 0
        self.seen: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @classmethod
    def of_tree(cls, root: int, interval: float = 0.05) -> MemorySampler:
        """Sample a process and whatever descendants it has at each sample."""
        return cls(lambda: tree(root), interval)

    def __enter__(self) -> MemorySampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def sample(self) -> None:
        """Take one sample now."""
        total = 0
        for pid in self._pids():
            total += rss_bytes(pid)
            one = status_kb(pid, "VmHWM") or status_kb(pid, "VmRSS") or 0
            self.peak_process_kb = max(self.peak_process_kb, one)
            self.seen.add(pid)
        self.peak_tree_bytes = max(self.peak_tree_bytes, total)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    @property
    def peak_mb(self) -> float:
        """The largest RSS of one process of the set, in MB."""
        return self.peak_process_kb / 1024


@dataclass
class MachineCpu:
    """CPU seconds of the whole machine since boot, by kind, from ``/proc/stat``."""

    process: float  # user + nice + system: what processes' utime/stime add up to
    irq: float  # irq + softirq (loopback networking lands here), charged to no process
    steal: float  # taken by the hypervisor
    total: float

    def __sub__(self, other: MachineCpu) -> MachineCpu:
        return MachineCpu(
            self.process - other.process,
            self.irq - other.irq,
            self.steal - other.steal,
            self.total - other.total,
        )


def machine_cpu() -> MachineCpu:
    """Read the machine's CPU counters (guest time is already inside user and nice)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    values += [0] * (8 - len(values))
    user, nice, system, _idle, _iowait, irq, softirq, steal = values
    return MachineCpu(
        (user + nice + system) / CLK_TCK,
        (irq + softirq) / CLK_TCK,
        steal / CLK_TCK,
        sum(values) / CLK_TCK,
    )


def background_load(seconds: float = 1.0) -> float:
    """Share of the machine's CPU busy (steal included) while this process sleeps."""
    before = machine_cpu()
    time.sleep(seconds)
    delta = machine_cpu() - before
    used = delta.process + delta.irq + delta.steal
    return used / delta.total if delta.total > 0 else 0.0


def settle(limit: float, threshold: float = 0.15) -> float:
    """Wait (at most ``limit`` seconds) until others leave the machine quiet; the last load.

    The machines these benchmarks run on are shared: a row measured while another job
    compiles says little about the server.
    """
    deadline = time.monotonic() + limit
    load_now = background_load()
    while load_now > threshold and time.monotonic() < deadline:
        load_now = background_load(2.0)
    return load_now
