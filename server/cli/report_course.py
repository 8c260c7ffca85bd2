"""``flask --app wsgi report course CODE --out …``: a course's evaluation report as a file.

The CLI acts for no user: it writes the whole report, individual rows included, as the course's
trainer would see it (whoever has a shell on the server is an administrator). ``--scorecards``
writes the trainees' scorecards (PDF) instead.
"""

from __future__ import annotations

from pathlib import Path

import click

from exports import formats
from server.cli.common import fail, file_format, now, write_file
from server.cli.report_out import REPORT_FORMATS, report_cli
from server.errors import ServiceError
from server.extensions import db
from server.rendering.evaluation import course_output, scorecards_output
from server.services.courses import get_course
from server.services.evaluation_report import build_course_report


@report_cli.command("course")
@click.argument("code")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--scorecards", is_flag=True, help="The trainees' scorecards instead (PDF).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def course_command(code: str, lang: str, scorecards: bool, out: Path) -> None:
    """A course's evaluation report as course.json, .xlsx, .pdf or .html."""
    fmt = file_format(out, (formats.PDF, formats.HTML) if scorecards else REPORT_FORMATS)
    try:
        report = build_course_report(
            db.session, get_course(db.session, code), now=now(), rows=True, lang=lang
        )
        output = (scorecards_output if scorecards else course_output)(report, lang=lang)
        write_file(output, fmt, out)
    except ServiceError as error:
        fail(error)
        raise SystemExit(1) from error
    click.echo(f"{out} ({out.stat().st_size:,} bytes)")
