"""``flask --app wsgi roster import|export|template``: the staff register."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask.cli import AppGroup

from exports import Output, formats
from server.cli.common import commit_or_fail, now, write_file
from server.cli.training import refresh_and_report
from server.extensions import db
from server.services import roster as roster_service

roster_cli = AppGroup("roster", help="Import, export and template of the staff register.")


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


@roster_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Only show what would change.")
@click.option("--as-of", default=None, help="Start date (YYYY-MM-DD) for rows without one.")
def import_command(path: str, dry_run: bool, as_of: str | None) -> None:
    """Import the register from XLSX or CSV (all or nothing; history kept)."""
    file = Path(path)

    def run():
        changes = roster_service.import_roster(
            file.name,
            file.read_bytes(),
            session=db.session,
            now=now(),
            as_of=_date(as_of),
            dry_run=dry_run,
        )
        if dry_run:
            db.session.rollback()
        elif changes.changed:
            refresh_and_report()  # trainee labels show the unit people are in
        return changes

    changes = commit_or_fail(run)
    prefix = "dry run, nothing stored: " if dry_run else ""
    click.echo(
        f"{prefix}{changes.added} added, {changes.updated} updated, {changes.moved} "
        f"moved, {changes.closed} closed, {changes.unchanged} unchanged, "
        f"{changes.certificates_added} certificate(s) added"
    )
    if not changes.changed:
        click.echo("không có thay đổi / nothing changed")
    for sample in changes.samples[:20] if dry_run else []:
        click.echo(f"  dòng / row {sample['row']}: {sample['person_code']} {sample['change']}")


@roster_cli.command("export")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True)
@click.option("--on", "on", default=None, help="People in post on this day (YYYY-MM-DD).")
def export_command(out: str, on: str | None) -> None:
    """Export the register (XLSX or CSV, by the file name) in the import format."""
    fmt = formats.for_path(out, (formats.XLSX, formats.CSV), default=formats.CSV)
    output = Output(tables=lambda: [roster_service.roster_table(db.session, on=_date(on))])
    write_file(output, fmt, out)
    click.echo(f"→ {out}")


@roster_cli.command("template")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True)
def template_command(out: str) -> None:
    """Write an empty register workbook with the headers and every code list."""
    write_file(Output(tables=roster_service.template_tables), formats.XLSX, out)
    click.echo(f"→ {out}")
