"""The benchmarks' measuring instruments (harness/) read what they claim to read."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from harness import proc
from harness.databases import create_database, drop_database
from harness.gunicorn import serve_defaults


def test_cpu_of_this_process_grows_with_work():
    before = proc.cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:
        pass
    assert proc.cpu_seconds(os.getpid()) >= before + 0.1


def test_a_gone_process_reads_as_nothing():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert proc.cpu_seconds(child.pid) == 0.0
    assert proc.rss_bytes(child.pid) == 0
    assert proc.children(child.pid) == []


def test_the_tree_holds_a_child_and_its_memory_is_sampled():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        assert child.pid in proc.tree(os.getpid())
        with proc.MemorySampler.of_tree(os.getpid(), interval=0.01) as memory:
            time.sleep(0.05)
        assert {os.getpid(), child.pid} <= memory.seen
        assert memory.peak_tree_bytes >= proc.rss_bytes(os.getpid())
        assert memory.peak_mb * 1024 >= proc.peak_kb(os.getpid()) > 0
    finally:
        child.kill()
        child.wait()


def test_machine_cpu_counts_up():
    first = proc.machine_cpu()
    time.sleep(0.05)
    delta = proc.machine_cpu() - first
    assert delta.total > 0
    assert 0 <= delta.process <= delta.total + 1e-6  # equal on a busy machine, but for rounding


def test_gunicorn_is_started_as_scripts_serve_starts_it(monkeypatch):
    monkeypatch.delenv("WORKERS", raising=False)
    monkeypatch.delenv("THREADS", raising=False)
    assert serve_defaults() == {"workers": 2, "worker_class": "gthread", "threads": 4}
    monkeypatch.setenv("WORKERS", "3")
    assert serve_defaults()["workers"] == 3


def test_an_sqlite_database_is_a_file_in_the_run_folder(tmp_path):
    url, name = create_database("sqlite", None, tmp_path, "bench")
    assert (url, name) == (f"sqlite:///{tmp_path / 'bench.sqlite3'}", None)
    drop_database(None, name)  # nothing to drop
