"""``flask --app wsgi forms publish|check|list|export-lines``: publishing XLSForms and XForms."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from server.cli.common import commit_or_fail, fail, now
from server.errors import ServiceError
from server.extensions import db
from server.services import forms as forms_service
from server.services.export_lines import render_missing
from server.services.pickers import registry_media

forms_cli = AppGroup("forms", help="Publish and check XLSForm/XForm forms.")

FORM_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv", ".md", ".xml")
#: Files in a forms directory that are documentation, not forms.
NOT_FORMS = {"readme.md", "changelog.md"}


def _settings() -> forms_service.ValidationSettings:
    cfg = current_app.config
    return forms_service.ValidationSettings(
        max_bytes=cfg["FORMS_MAX_BYTES"],
        java=cfg["FORMS_JAVA"],
        timeout=cfg["FORMS_VALIDATE_TIMEOUT"],
    )


def form_files(paths: tuple[str, ...]) -> Iterator[Path]:
    """Expand the given paths: a directory stands for the form files directly inside it.

    :param paths: files or directories.
    :return: form files, directories expanded in name order.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(
                p
                for p in path.iterdir()
                if p.is_file()
                and p.suffix.lower() in FORM_SUFFIXES
                and p.name.lower() not in NOT_FORMS
                and not p.name.startswith((".", "~$"))
            )
        else:
            yield path


def media_for(path: Path, form_id: str | None = None) -> list[forms_service.MediaFile]:
    """Read the media files that sit beside a form in ``<stem>-media/`` (or ``<form_id>-media/``).

    :param path: the form file.
    :param form_id: the form's id, when it differs from the file stem.
    :return: the files found (none if there is no media folder).
    """
    for name in dict.fromkeys([path.stem, form_id or path.stem]):
        folder = path.parent / f"{name}-media"
        if folder.is_dir():
            return [
                forms_service.MediaFile(p.name, p.read_bytes())
                for p in sorted(folder.iterdir())
                if p.is_file() and not p.name.startswith(".")
            ]
    return []


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"{path}: {exc.strerror}") from exc


def _version_label(version: str) -> str:
    """``v2026112301``, or a word for the empty version of an XForm published without one."""
    return f"v{version}" if version else "(no version)"


@forms_cli.command("publish")
@click.argument("paths", nargs=-1, required=True)
def publish_command(paths: tuple[str, ...]) -> None:
    """Publish forms (files, or directories of forms) with their ``<form_id>-media/`` files."""
    failures = 0
    for path in form_files(paths):
        try:
            result = forms_service.publish_form(
                path.name,
                _read(path),
                session=db.session,
                settings=_settings(),
                media=media_for(path),
                generated_media=registry_media(db.session),
                now=now(),
            )
            db.session.commit()
        except ServiceError as error:
            db.session.rollback()
            fail(error)
            failures += 1
            continue
        version = result.form_version
        click.echo(
            f"{result.status:<13} {version.form.form_id} {_version_label(version.version)} "
            f"md5:{version.md5} ({len(version.media)} media) ← {path}"
        )
        for warning in result.warnings:
            click.secho(f"  cảnh báo / warning: {warning}", fg="yellow")
    if failures:
        sys.exit(1)


@forms_cli.command("check")
@click.argument("paths", nargs=-1, required=True)
def check_command(paths: tuple[str, ...]) -> None:
    """Convert and validate forms without publishing; exit status 1 if any has errors."""
    failures = 0
    for path in form_files(paths):
        try:
            checked = forms_service.check_form(path.name, _read(path), settings=_settings())
        except ServiceError as error:
            fail(error)
            failures += 1
            continue
        schema = checked.schema
        click.echo(
            f"ok {schema.form_id} {_version_label(schema.version)} md5:{checked.md5} "
            f"({len(schema.fields)} fields, media: "
            f"{', '.join(m['filename'] for m in schema.media) or '-'}) ← {path}"
        )
        for warning in checked.warnings:
            click.secho(f"  cảnh báo / warning: {warning}", fg="yellow")
    if failures:
        sys.exit(1)


@forms_cli.command("list")
def list_command() -> None:
    """List published forms with their latest version."""
    forms = forms_service.list_forms(db.session)
    if not forms:
        click.echo("Chưa có biểu mẫu / no forms published")
        return
    click.echo(f"{'form_id':<24} {'state':<8} {'versions':>8}  {'latest':<12} {'md5':<32}  title")
    for form in forms:
        latest = form.versions[-1]
        click.echo(
            f"{form.form_id:<24} {form.state:<8} {len(form.versions):>8}  "
            f"{latest.version:<12} {latest.md5:<32}  {form.title}"
        )


@forms_cli.command("export-lines")
@click.argument("form_ids", nargs=-1)
def export_lines_command(form_ids: tuple[str, ...]) -> None:
    """Render the export lines submissions lack (all forms, or those named).

    A CSV download reads each submission's answer cells from its line; a new form version that
    changes the columns, or submissions loaded around the intake, leave lines to render.
    """
    forms = (
        [forms_service.get_form(db.session, form_id) for form_id in form_ids]
        if form_ids
        else forms_service.list_forms(db.session)
    )
    for form in forms:
        count = commit_or_fail(lambda form=form: render_missing(db.session, form))
        click.echo(f"{form.form_id}: {count} line(s) rendered")
