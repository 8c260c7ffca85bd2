"""Helpers shared by the command groups: the clock, how errors are printed, files written."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

import click

from exports import Format, Output, formats
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


def file_format(out: str | Path, among: Iterable[Format], param: str = "--out") -> Format:
    """The format a file name asks for, among those the command writes (else a usage error).

    :param out: the file name given.
    :param among: the formats the command offers (from the registry).
    :param param: the option that named the file, for the message.
    :return: the format.
    :raises click.BadParameter: for any other suffix.
    """
    among = tuple(among)
    fmt = formats.for_path(out, among)
    if fmt is None:
        suffixes = ", ".join(f.suffix for f in among)
        raise click.BadParameter(f"use a name ending in {suffixes}", param_hint=param)
    return fmt


def write_file(output: Output, fmt: Format, out: str | Path) -> None:
    """Write an output to a file in the format (the same bytes the API sends).

    :param output: what the file is made from.
    :param fmt: the format.
    :param out: the file's path.
    """
    with Path(out).open("wb") as handle:
        fmt.write(output, handle)
