r"""Listing benchmark: every page of a form's submissions over HTTP, metadata and with data.

Loads N submissions of the export benchmark's form (``bench/export.py``: 30 questions, a
repeat, Vietnamese text, 1 % with a photo) into a fresh SQLite file or PostgreSQL database,
starts gunicorn as ``make run`` does, and then pages through
``GET /api/v1/forms/<id>/submissions?limit=L`` from the first page to the last, following
``next_cursor``, the way ODK Central's side-by-side benchmark does (a fresh connection per
request). The whole walk (the client's waits for every page, its own JSON parse left out) is
timed ``--repeat`` times; the median is reported, with the time per
row, and checked against the issue's targets (PostgreSQL):

* metadata of 12,000 submissions, every page together: ≤ 150 ms (12.5 µs per row; ODK Central
  took 26 µs per row in the same walk, and ours must be at least twice as fast);
* the listing with data (``data=true``): ≥ 30,000 rows/s.

Each walk also checks that it saw every submission exactly once.

Run it::

    scripts/with-postgres .venv/bin/python bench/listing.py
    scripts/with-postgres .venv/bin/python bench/listing.py --sizes 100000 --backends postgresql
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import export as bench_export

from harness.databases import create_database, drop_database
from harness.gunicorn import Gunicorn

TARGET_METADATA_US = 150_000 / 12_000
TARGET_DATA_RATE = 30_000.0


def walk(server: Gunicorn, token: str, limit: int, data: bool) -> tuple[float, int, int]:
    """Page through the whole listing once: (seconds, rows, bytes).

    The seconds are the client's waits, from each request sent to its last byte received:
    what the server and the network cost. The client's own parse of each page (stdlib
    ``json``, about 8 ms per MB) is left out of it; it is the same whoever serves the pages.
    """
    headers = {"Authorization": f"Bearer {token}"}
    seen: set[int] = set()
    rows = size = 0
    cursor = None
    waited = 0.0
    while True:
        query = f"limit={limit}" + ("&data=true" if data else "")
        if cursor:
            query += f"&cursor={cursor}"
        started = time.perf_counter()
        status, body = server.get(
            f"/api/v1/forms/{bench_export.FORM_ID}/submissions?{query}", headers, timeout=120
        )
        waited += time.perf_counter() - started
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {body[:300]!r}")
        size += len(body)
        page = json.loads(body)
        rows += len(page["items"])
        seen.update(item["id"] for item in page["items"])
        if data and page["items"] and "data" not in page["items"][0]:
            raise RuntimeError("data=true: the items carry no data")
        cursor = page["next_cursor"]
        if not cursor:
            break
    if len(seen) != rows:
        raise RuntimeError(f"{rows} rows listed but {len(seen)} distinct ids")
    return waited, rows, size


def run_size(args, backend: str, size: int) -> list[str]:
    """Load one database and time the listings on it; returns result lines."""
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-listing-{backend}-{size}-", dir=args.tmp))
    url, name = create_database(backend, args.postgres_url, workdir, "bench_listing")
    lines = []
    try:
        env, token = bench_export.prepare(url, workdir)
        loaded = bench_export.Loader(args, backend, url, workdir / "storage").run(size)
        print(f"  loaded {size:,} submissions in {loaded.seconds:.1f} s", flush=True)
        server = Gunicorn(
            env,
            workdir / "gunicorn.log",
            workers=args.workers,
            worker_class=args.worker_class,
            threads=args.threads,
        )
        try:
            for data in args.modes:
                walk(server, token, args.limit, data)  # warm the worker and the caches
                times = []
                for _ in range(args.repeat):
                    seconds, rows, body = walk(server, token, args.limit, data)
                    if rows != size:
                        raise RuntimeError(f"listed {rows} rows of {size}")
                    times.append(seconds)
                median = statistics.median(times)
                per_row = median / size * 1e6
                what = "with data" if data else "metadata"
                verdict = ""
                if backend == "postgresql" and data:
                    rate = size / median
                    verdict = f"{'PASS' if rate >= TARGET_DATA_RATE else 'MISS'} (≥ 30,000 rows/s)"
                elif backend == "postgresql":
                    ok = per_row <= TARGET_METADATA_US
                    verdict = f"{'PASS' if ok else 'MISS'} (≤ {TARGET_METADATA_US:.1f} µs/row)"
                lines.append(
                    f"| {backend} | {size:,} | {what} | {args.limit} | {median * 1000:,.1f} | "
                    f"{min(times) * 1000:,.1f} | {per_row:.1f} | {size / median:,.0f} | "
                    f"{body / 2**20:,.1f} | {verdict} |"
                )
                print("  " + lines[-1], flush=True)
        finally:
            server.stop()
    finally:
        if not args.keep:
            drop_database(args.postgres_url, name)
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"  kept {workdir} ({url})")
    return lines


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (the loader's options keep the export benchmark's defaults)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="12000", help="submissions per database")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--modes", default="metadata,data", help="metadata, data or both")
    parser.add_argument("--limit", type=int, default=1000, help="page size (the API's maximum)")
    parser.add_argument("--repeat", type=int, default=5, help="timed walks; the median counts")
    parser.add_argument("--postgres-url", default=os.environ.get("TAPHUAN_TEST_POSTGRES_URL"))
    parser.add_argument("--workers", type=int, default=None, help="default: as scripts/serve")
    parser.add_argument("--worker-class", default=None, help="default: as scripts/serve")
    parser.add_argument("--threads", type=int, default=None, help="default: as scripts/serve")
    parser.add_argument("--photo-fraction", type=float, default=0.01)
    parser.add_argument("--photo-bytes", type=int, default=4096)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=20260105)
    parser.add_argument("--tmp", default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.backends = [b for b in args.backends.split(",") if b]
    modes = {"metadata": False, "data": True}
    args.modes = [modes[m] for m in args.modes.split(",") if m]
    if "postgresql" in args.backends and not args.postgres_url:
        parser.error("--postgres-url (or TAPHUAN_TEST_POSTGRES_URL) is needed for postgresql")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark."""
    args = parse_args(argv)
    print(bench_export.environment(args), flush=True)
    lines = []
    for backend in args.backends:
        for size in args.sizes:
            print(f"\n== {backend}, {size:,} submissions", flush=True)
            lines += run_size(args, backend, size)
    print(
        "\n| backend | rows | listing | page | median ms (all pages) | min ms | µs/row | rows/s "
        "| MB | target |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
