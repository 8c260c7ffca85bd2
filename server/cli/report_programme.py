"""``flask --app wsgi report programme --out …``: the programme roll-up as a file.

Like ``report course``, the CLI acts for no user and adds up every course (whoever has a shell
on the server is an administrator); the file type follows the name given to ``--out``.
"""

from __future__ import annotations

from pathlib import Path

import click

from server.cli.common import file_format, now, write_file
from server.cli.report_out import REPORT_FORMATS, report_cli
from server.extensions import db
from server.rendering.evaluation import programme_output
from server.services.programme_report import PERIODS, ProgrammeFilter, build_programme_report


@report_cli.command("programme")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), help="First course start (ISO).")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), help="Last course start (ISO).")
@click.option("--period", type=click.Choice(PERIODS), default="year", show_default=True)
@click.option("--course-type", default=None, help="dao_tao, boi_duong or tap_huan.")
@click.option("--topic", default=None, help="A topic code (TP01…).")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def programme_command(start, end, period, course_type, topic, lang, out: Path) -> None:
    """The programme roll-up as programme.json, .xlsx, .pdf or .html."""
    fmt = file_format(out, REPORT_FORMATS)
    if start and end and start > end:
        raise click.BadParameter("--start is after --end", param_hint="--end")
    selection = ProgrammeFilter(
        start=start.date() if start else None,
        end=end.date() if end else None,
        period=period,
        course_type=course_type,
        topic=topic,
    )
    report = build_programme_report(db.session, None, selection, now=now(), everything=True)
    write_file(programme_output(report, lang=lang), fmt, out)
    click.echo(f"{out} ({out.stat().st_size:,} bytes)")
