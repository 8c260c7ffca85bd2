"""Command-line interface: ``flask --app wsgi <group> <command>``.

Each command is one unit of work: it calls services, then commits (or rolls back on error).
Errors print the catalogue code and message on stderr and exit with status 1.
"""

from __future__ import annotations

from flask import Flask

from server.cli import (
    report_course,  # noqa: F401  (adds ``report course``)
    report_programme,  # noqa: F401  (adds ``report programme``)
)
from server.cli.accounts import devices_cli, users_cli
from server.cli.export import export_command
from server.cli.forms import forms_cli
from server.cli.jobs import jobs_cli
from server.cli.report_out import report_cli
from server.cli.reports import needs_cli, settings_cli, targets_cli
from server.cli.roster import roster_cli
from server.cli.training import courses_cli, keys_cli, pickers_cli, scores_cli
from server.cli.units import units_cli

GROUPS = (
    forms_cli,
    units_cli,
    users_cli,
    devices_cli,
    roster_cli,
    courses_cli,
    keys_cli,
    scores_cli,
    pickers_cli,
    needs_cli,
    targets_cli,
    settings_cli,
    report_cli,
    jobs_cli,
)
COMMANDS = (export_command,)


def register(app: Flask) -> None:
    """Attach the command groups to the app.

    :param app: the app.
    """
    for command in (*GROUPS, *COMMANDS):
        app.cli.add_command(command)
