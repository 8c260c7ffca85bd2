"""The process harness of the browser tests (``tests/e2e``) and the benchmarks (``bench/``).

Both drive the service as an operator does: a fresh database, ``flask --app wsgi …`` commands
in their own processes, gunicorn on a free loopback port, and (for the benchmarks) CPU seconds
and resident memory read from ``/proc``. Doing that in one place means a benchmark figure and a
browser test see the same server the same way, and a fix (a start-up race, a process left
running) is made once.

The package sits beside ``server`` and ``exports`` but is not in the wheel (``pyproject.toml``
packages only ``server*`` and ``exports*``): it starts the service, it is not part of it. It
imports nothing from ``server`` either, so a benchmark measures the server's processes, not
its own copy of the application.

Modules, one concept each:

* :mod:`harness.databases`: PostgreSQL databases created and dropped per run, the server's
  settings and the CPU of its processes;
* :mod:`harness.cli`: the environment of a server process and ``flask --app wsgi`` commands,
  plain or measured;
* :mod:`harness.gunicorn`: gunicorn started as ``scripts/serve`` starts it, on a free port;
* :mod:`harness.proc`: CPU seconds and memory of processes and of the machine, from ``/proc``;
* :mod:`harness.profiler`: py-spy recording a server while a benchmark runs.
"""

from __future__ import annotations

from pathlib import Path

#: The repository root: the working directory of every process the harness starts.
ROOT = Path(__file__).resolve().parent.parent
