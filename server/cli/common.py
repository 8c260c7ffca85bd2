"""Helpers shared by the command groups: the clock and how errors are printed."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from typing import TypeVar

import click

from server.errors import ServiceError
from server.extensions import db

T = TypeVar("T")


def now() -> dt.datetime:
    """The current time, aware UTC (what services take as ``now``)."""
    return dt.datetime.now(dt.UTC)


def fail(error: ServiceError) -> None:
    """Print a catalogue error on stderr, Vietnamese first.

    The code and both titles, the Vietnamese message, the English one, then a file's bad rows
    (bilingual already where the row checks are).
    """
    click.secho(f"lỗi / error {error.code} {error.title_vi} / {error.title_en}", fg="red", err=True)
    click.echo(f"  {error.message_vi}", err=True)
    if error.message != error.message_vi:
        click.echo(f"  {error.message}", err=True)
    for row in error.details.get("rows", []):
        click.echo(f"  dòng / row {row['row']}: {row['error']}", err=True)


def commit_or_fail(action: Callable[[], T]) -> T:
    """Run one unit of work: commit its result, or roll back, print the error and exit 1."""
    try:
        result = action()
        db.session.commit()
    except ServiceError as error:
        db.session.rollback()
        fail(error)
        sys.exit(1)
    return result
