"""``flask --app wsgi report needs …``: a report written to a file (JSON, XLSX, PDF or HTML).

The same service builds it as for the page and the API; the file type follows the name given
to ``--out``, among the formats of the registry a report has (its model, its tables, its page
printed by the server, ``server/rendering``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask.cli import AppGroup

from exports import Output, formats
from server.cli.common import fail, file_format, now, write_file
from server.errors import ServiceError
from server.extensions import db
from server.rendering.reports import needs_output
from server.services.needs_report import NeedsParams, build_needs_report
from server.services.report_files import working_list

report_cli = AppGroup("report", help="Reports written to files (JSON, XLSX, PDF, HTML).")
#: What a report can be written as: its model, its tables, its printed page.
REPORT_FORMATS = (formats.JSON, formats.XLSX, formats.PDF, formats.HTML)


def _codes(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@report_cli.command("needs")
@click.option("--unit", required=True, help="Unit code of any level (former units too).")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), help="Report date (ISO).")
@click.option("--period-from", type=click.DateTime(["%Y-%m-%d"]), help="First day of answers.")
@click.option("--period-to", type=click.DateTime(["%Y-%m-%d"]), help="Last day of answers.")
@click.option("--level", default="", help="Levels, comma-separated.")
@click.option("--staff-cat", default="", help="Staff categories, comma-separated.")
@click.option("--job-position", default="", help="Job positions, comma-separated.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option(
    "--working-list", "working_list_only", is_flag=True, help="The working list instead (XLSX)."
)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def needs_command(unit, as_of, period_from, period_to, level, staff_cat, job_position, lang,
                  working_list_only, out) -> None:  # fmt: skip
    """The planners' needs-assessment report as needs.json, .xlsx, .pdf or .html."""
    fmt = file_format(out, (formats.XLSX,) if working_list_only else REPORT_FORMATS)
    day = as_of.date() if as_of else (now() + dt.timedelta(hours=7)).date()
    params = NeedsParams(
        as_of=day,
        period_from=period_from.date() if period_from else dt.date(day.year, 1, 1),
        period_to=period_to.date() if period_to else day,
        unit=unit,
        levels=_codes(level),
        staff_cats=_codes(staff_cat),
        job_positions=_codes(job_position),
    )
    steps = ["report", "file"]
    with click.progressbar(steps, label="Báo cáo nhu cầu / needs report", file=None) as bar:
        try:
            if working_list_only:
                tables = working_list(db.session, params)
                output = Output(tables=lambda: tables)
            else:
                report = build_needs_report(db.session, params, now=now())
                output = needs_output(report, lang=lang)
            bar.update(1)
            write_file(output, fmt, out)
            bar.update(1)
        except ServiceError as error:
            fail(error)
            raise SystemExit(1) from error
    click.echo(f"{out} ({out.stat().st_size:,} bytes)")
