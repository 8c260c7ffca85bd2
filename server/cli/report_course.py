"""``flask --app wsgi report course CODE --out …``: a course's evaluation report as a file.

The CLI acts for no user: it writes the whole report, individual rows included, as the course's
trainer would see it (whoever has a shell on the server is an administrator). ``--scorecards``
writes the trainees' scorecards (PDF) instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from exports import write_xlsx
from server.cli.common import fail, now
from server.cli.report_out import TYPES, report_cli
from server.errors import ServiceError
from server.extensions import db
from server.rendering.evaluation import course_pdf, scorecards_pdf
from server.services.courses import get_course
from server.services.evaluation_report import build_course_report
from server.services.report_files import report_tables


@report_cli.command("course")
@click.argument("code")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--scorecards", is_flag=True, help="The trainees' scorecards instead (PDF).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def course_command(code: str, lang: str, scorecards: bool, out: Path) -> None:
    """A course's evaluation report as course.json, course.xlsx or course.pdf."""
    suffix = out.suffix.lower()
    if suffix not in TYPES or (scorecards and suffix != ".pdf"):
        raise click.BadParameter(f"use a name ending in {', '.join(TYPES)}", param_hint="--out")
    try:
        report = build_course_report(
            db.session, get_course(db.session, code), now=now(), rows=True, lang=lang
        )
        if scorecards:
            out.write_bytes(scorecards_pdf(report, lang=lang))
        elif suffix == ".json":
            out.write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1), "utf-8")
        elif suffix == ".xlsx":
            write_xlsx(report_tables(report, lang=lang), str(out))
        else:
            out.write_bytes(course_pdf(report, lang=lang))
    except ServiceError as error:
        fail(error)
        raise SystemExit(1) from error
    click.echo(f"{out} ({out.stat().st_size:,} bytes)")
