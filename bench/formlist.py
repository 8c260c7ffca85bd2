"""formList benchmark: a device token assigned to 200 published forms asks for its form list.

Collect asks for the form list every time someone opens "Download form" or the app checks for
updates, so it is the request a tablet makes most after submissions. The issue's target: at
most 4 ms with 200 published forms (gunicorn as ``scripts/serve`` runs it, PostgreSQL).

For each backend this script creates a fresh database, publishes ``--forms`` small XLSForms
through the CLI, creates a device token for all of them, starts gunicorn, then sends
``--n`` sequential ``GET /key/<token>/formList`` on one keep-alive connection after a warm-up,
and prints the median, p95 and mean latency and the server's CPU per request (a device token,
as tablets use).

Run it::

    scripts/with-postgres .venv/bin/python bench/formlist.py [--forms 200] [--n 2000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.cli import app_env, flask
from harness.databases import PostgresCpu, create_database, drop_database
from harness.gunicorn import Gunicorn
from harness.proc import tree_cpu

TARGET_MS = 4.0
OR = {"X-OpenRosa-Version": "1.0"}
FORM = """\
| survey |
| | type | name | label::Vietnamese (vi) | label::English (en) |
| | text | ho_ten | Họ và tên | Full name |
| | integer | tuoi | Tuổi | Age |
| | select_one yn | dong_y | Đồng ý? | Agree? |
| choices |
| | list_name | name | label::Vietnamese (vi) | label::English (en) |
| | yn | yes | Có | Yes |
| | yn | no | Không | No |
| settings |
| | form_id | version | form_title |
| | bench_list_{n:03d} | 2026120401 | Phiếu thử {n:03d} |
"""


def run(backend: str, args, workdir: Path) -> str:
    url, name = create_database(backend, args.postgres_url, workdir, "bench_formlist")
    try:
        env = app_env(url, workdir / "storage", LOG_LEVEL="WARNING")
        flask(["db", "upgrade"], env)
        forms = workdir / "forms"
        forms.mkdir()
        for n in range(args.forms):
            (forms / f"form_{n:03d}.md").write_text(FORM.format(n=n), encoding="utf-8")
        flask(["forms", "publish", str(forms)], env, timeout=3600)
        ids = [f"bench_list_{n:03d}" for n in range(args.forms)]
        command = ["devices", "create", "bench", "--json"]
        for form_id in ids:
            command += ["--form", form_id]
        token = json.loads(flask(command, env))["token"]
        with Gunicorn(env, workdir / f"gunicorn-{backend}.log") as server:
            return measure(backend, args, server, token)
    finally:
        drop_database(args.postgres_url, name)


def measure(backend: str, args, server: Gunicorn, token: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    path = f"/key/{token}/formList"
    size = 0
    for _ in range(20):  # warm-up: every worker thread renders or finds the list once
        conn.request("GET", path, headers=OR)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200 or body.count(b"<xform>") != args.forms:
            raise RuntimeError(f"formList answered {response.status}: {body[:300]!r}")
        size = len(body)
    pg = PostgresCpu(args.postgres_url) if backend == "postgresql" else None
    cpu0 = tree_cpu(server.pid)
    db0 = (pg.total() or 0.0) if pg else 0.0
    times = []
    for _ in range(args.n):
        start = time.perf_counter()
        conn.request("GET", path, headers=OR)
        response = conn.getresponse()
        response.read()
        times.append((time.perf_counter() - start) * 1000)
    cpu = (tree_cpu(server.pid) - cpu0) / args.n * 1000
    db = (((pg.total() or 0.0) - db0) / args.n * 1000) if pg else 0.0
    conn.close()
    times.sort()
    median = statistics.median(times)
    p95 = times[int(len(times) * 0.95) - 1]
    verdict = "PASS" if median <= TARGET_MS else "MISS"
    return (
        f"{backend:<10}  {args.forms:>5}  {size / 1024:>7.1f}  {median:>9.2f}  {p95:>6.2f}  "
        f"{statistics.fmean(times):>7.2f}  {cpu:>10.2f}  {db:>9.2f}  {verdict}"
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--forms", type=int, default=200, help="published forms (default 200)")
    parser.add_argument("--n", type=int, default=2000, help="timed requests (default 2000)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=os.environ.get("TAPHUAN_TEST_POSTGRES_URL"))
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if "postgresql" in args.backends and not args.postgres_url:
        parser.error("postgresql needs --postgres-url (scripts/with-postgres sets it)")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    lines = []
    for backend in args.backends:
        with tempfile.TemporaryDirectory(prefix="bench-formlist-") as tmp:
            lines.append(run(backend, args, Path(tmp)))
            print(lines[-1], flush=True)
    print("\nbackend     forms  body KB  median ms  p95 ms  mean ms  srv CPU ms  db CPU ms  target")
    print("\n".join(lines))
    print(
        "\nSequential GETs of one device token's form list on one keep-alive connection, after "
        "20 warm-up requests; CPU per request from /proc (gunicorn tree, PostgreSQL).\n"
        f"target: median <= {TARGET_MS} ms with {args.forms} published forms."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
