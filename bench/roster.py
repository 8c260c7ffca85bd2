"""Benchmark: import a national-scale staff register and regenerate the tablets' picker lists.

Workload (issue "The programme's registry"): a 120,000-person register XLSX (collaborators spread
over the official communes), imported with ``flask --app wsgi roster import`` on SQLite and on
PostgreSQL; then a course with 200 enrolled trainees and ``pickers refresh`` (courses, trainees,
trainers and the provinces list). Each command runs in its own process, so its wall time and peak
RSS are measured on their own. Targets on a 2-core machine: import < 60 s and < 500 MB; picker
regeneration < 1 s.

Run: ``scripts/with-postgres .venv/bin/python bench/roster.py [--people 120000]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

# The harness, and this checkout's server rather than an installed one.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness.cli import app_env, run_measured, run_python
from harness.databases import create_database, drop_database

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Rơ Châm"]
GIVEN = ["Thị Hoa", "Văn Nam", "Thị Lan", "Minh Tuấn", "Thu Hà", "Văn Hùng", "Blơi", "Thị Mai"]


def make_register(path: Path, people: int) -> None:
    """Write a register workbook of ``people`` collaborators in the official communes."""
    import openpyxl
    from vietnam_provinces import Ward

    communes = [f"{w.code.value:05d}" for w in Ward.iter_all()]
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("danh_sach_can_bo")
    sheet.append(
        [
            "Mã cán bộ",
            "Họ và tên",
            "Giới tính",
            "Năm sinh",
            "Mã đơn vị hành chính",
            "Tuyến",
            "Loại hình",
            "Nhóm đối tượng",
            "Vai trò CTV",
            "Chứng chỉ",
            "Ngày bắt đầu",
        ]
    )
    for i in range(people):
        sheet.append(
            [
                f"CTV{i:06d}",
                f"{SURNAMES[i % len(SURNAMES)]} {GIVEN[i % len(GIVEN)]}",
                "Nữ" if i % 3 else "Nam",
                1960 + i % 45,
                communes[i % len(communes)],
                "Tuyến xã",
                "Cộng tác viên",
                "Cộng tác viên dân số",
                "Dân số; Gia đình",
                "basic_2m:2023" if i % 10 == 0 else None,
                "01/08/2025",
            ]
        )
    book.save(path)


def run(args: list[str], env: dict, workdir: Path) -> tuple[float, float, str]:
    """Run a flask command; return (seconds, peak RSS MB of that process, output)."""
    measured = run_measured(args, env, log=workdir / "command.log", timeout=1800)
    if measured.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{measured.output}")
    return measured.seconds, measured.peak_mb or 0.0, measured.output


def bench(backend: str, register: Path, people: int, workdir: Path) -> dict:
    """Import the register and refresh the pickers on one backend."""
    postgres_url = os.environ.get("TAPHUAN_TEST_POSTGRES_URL")
    url, name = create_database(backend, postgres_url, workdir, "roster")
    env = app_env(url, workdir / "storage", secret_key="bench")
    try:
        run(["db", "upgrade"], env, workdir)
        run(["units", "load-official"], env, workdir)
        run(
            ["forms", "publish", "forms/kt_dscoban_post.xlsx", "forms/danhgia_khoahoc.xlsx"],
            env,
            workdir,
        )
        seconds, rss, out = run(["roster", "import", str(register)], env, workdir)
        again, _, out2 = run(["roster", "import", str(register)], env, workdir)
        run(
            [
                "courses",
                "create",
                "BENCH-01",
                "--title",
                "Bench",
                "--start",
                "2025-09-01",
                "--end",
                "2025-09-05",
                "--post-form",
                "kt_dscoban_post",
                "--trainer",
                "CTV000001",
            ],
            env,
            workdir,
        )
        run(["courses", "enrol", "BENCH-01", *[f"CTV{i:06d}" for i in range(200)]], env, workdir)
        code = (
            "import time, datetime as dt\n"
            "from server import create_app\nfrom server.extensions import db\n"
            "from server.services.pickers import refresh_pickers, GENERATORS\n"
            "app = create_app()\n"
            "with app.app_context():\n"
            "    t = time.perf_counter(); refresh_pickers(db.session, now=dt.datetime.now(dt.UTC));"
            " db.session.commit(); print(f'{time.perf_counter() - t:.3f}')\n"
        )
        picker = run_python(code, env, timeout=300)
        if picker.returncode != 0:
            raise SystemExit(f"pickers refresh failed:\n{picker.stdout}\n{picker.stderr}")
        return {
            "backend": backend,
            "people": people,
            "import_s": seconds,
            "import_rss_mb": rss,
            "reimport_s": again,
            "result": next(line for line in out.splitlines() if "added" in line),
            "reimport": next(line for line in out2.splitlines() if "added" in line),
            "pickers_s": float(picker.stdout.strip().splitlines()[-1]),
        }
    finally:
        drop_database(postgres_url, name)


def main() -> None:
    """Parse options, build the register once, run every backend, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=120_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="roster-bench-") as tmp:
        workdir = Path(tmp)
        register = workdir / "register.xlsx"
        start = time.perf_counter()
        make_register(register, options.people)
        print(
            f"register: {options.people:,} rows, {register.stat().st_size / 1e6:.1f} MB, "
            f"written in {time.perf_counter() - start:.1f} s"
        )
        rows = []
        for backend in options.backends.split(","):
            if backend == "postgresql" and "TAPHUAN_TEST_POSTGRES_URL" not in os.environ:
                print("postgresql: skipped (run under scripts/with-postgres)")
                continue
            (workdir / backend).mkdir()
            rows.append(bench(backend, register, options.people, workdir / backend))
        print(
            f"\n{'backend':<11} {'people':>8} {'import s':>9} {'peak MB':>8} {'re-import s':>12}"
            f" {'pickers s':>10}  verdict"
        )
        for r in rows:
            verdict = (
                "PASS"
                if r["import_s"] < 60 and r["import_rss_mb"] < 500 and (r["pickers_s"] < 1)
                else "MISS"
            )
            print(
                f"{r['backend']:<11} {r['people']:>8,} {r['import_s']:>9.1f} "
                f"{r['import_rss_mb']:>8.0f} {r['reimport_s']:>12.1f} {r['pickers_s']:>10.3f}"
                f"  {verdict}"
            )
            print(f"{'':<11} import: {r['result']}\n{'':<11} again:  {r['reimport']}")


if __name__ == "__main__":
    main()
