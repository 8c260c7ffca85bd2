"""``flask --app wsgi units load-official|import|export``: administrative units."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from server.cli.common import commit_or_fail, now
from server.domain.units import legacy_data_version, official_data_version
from server.extensions import db
from server.services import unit_tree
from server.services import units as units_service

units_cli = AppGroup("units", help="Load and import administrative units.")


@units_cli.command("load-official")
@click.option(
    "--history/--no-history",
    default=True,
    help="Also load the pre-reform units (until 30/06/2025) and their 2025 successors.",
)
def load_official_command(history: bool) -> None:
    """Load or refresh the official units: 2025 (vietnam-provinces) and pre-reform."""
    result = commit_or_fail(
        lambda: units_service.load_official_units(session=db.session, now=now(), history=history)
    )
    versions = f"vietnam-provinces {official_data_version()}"
    if history:
        versions += f", vietnamadminunits {legacy_data_version()}"
    click.echo(
        f"official units ({versions}): {result.added} added, "
        f"{result.updated} updated, {result.unchanged} unchanged"
    )
    if history:
        click.echo(
            f"successors: {result.successors_added} added, {result.successors_updated} updated, "
            f"{result.successors_removed} removed"
        )


@units_cli.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
def import_command(csv_file: str) -> None:
    """Import local or historical units from a CSV, all or nothing."""
    path = Path(csv_file)
    result = commit_or_fail(
        lambda: unit_tree.import_units_file(
            path.read_bytes(), filename=path.name, actor=None, session=db.session, now=now()
        )
    )
    click.echo(
        f"{path.name}: {result.added} added, {result.updated} updated, {result.unchanged} unchanged"
    )


@units_cli.command("export")
def export_command() -> None:
    """Print every unit as CSV in the import format (round-trips through ``units import``)."""
    import csv

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(
        ["level", "code", "name", "kind", "parent_code", "parent_level", "valid_from", "valid_to"]
    )
    for unit in units_service.iter_units(db.session):
        parent = unit.parent
        writer.writerow(
            [
                unit.level,
                unit.code,
                unit.name,
                unit.kind or "",
                parent.code if parent else "",
                parent.level if parent else "",
                unit.valid_from.isoformat(),
                unit.valid_to.isoformat() if unit.valid_to else "",
            ]
        )
