"""``flask --app wsgi export FORM_ID --format csv|xlsx|zip --out PATH``.

The same files as the API's downloads (the formats registry writes both), written to disk with
a progress bar.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app

from exports import formats
from server.cli.common import fail
from server.errors import ServiceError
from server.extensions import db
from server.services.attachment_store import AttachmentStore
from server.services.decryption import SubmissionDecryptor
from server.services.exports import build_export
from server.services.forms import get_form
from server.services.submission_queries import SubmissionFilters, submission_query

#: The formats of tables (those an export offers), from the registry.
TABLE_FORMATS = formats.writing("tables")


@click.command("export")
@click.argument("form_id")
@click.option("--format", "name", type=click.Choice([f.name for f in TABLE_FORMATS]), default="csv")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True)
@click.option(
    "--lang",
    type=click.Choice(["codes", "vi", "en"]),
    default="codes",
    help="Choice codes, or labels in Vietnamese or English.",
)
@click.option("--review-state", default=None, help="Only submissions in this review state.")
@click.option("--unit", default=None, help="Only submissions from this unit (and below).")
@click.option(
    "--private-key",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="PEM private key of an encrypted form; used in memory only.",
)
def export_command(
    form_id: str,
    name: str,
    out: str,
    lang: str,
    review_state: str | None,
    unit: str | None,
    private_key: str | None,
) -> None:
    """Export a form's submissions to a file."""
    filters = SubmissionFilters(review_state=review_state, unit=unit)
    fmt = formats.named(name, TABLE_FORMATS)
    try:
        form = get_form(db.session, form_id)
        storage = current_app.config["STORAGE_DIR"]
        decryptor = None
        if private_key:
            key = Path(private_key).read_bytes()
            decryptor = SubmissionDecryptor(db.session, AttachmentStore(storage), key)
        plan = build_export(
            db.session,
            form,
            filters,
            lang=lang,
            storage_dir=storage if fmt.with_media else None,
            decryptor=decryptor,
        )
    except ServiceError as error:
        fail(error)
        sys.exit(1)
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(
            submission_query(db.session, form, filters).subquery()
        )
    )
    for warning in plan.warnings:
        click.secho(f"cảnh báo / warning: {warning}", fg="yellow", err=True)
    main = plan.tables[0]
    with click.progressbar(length=total, label=f"{form_id} → {out}", file=sys.stderr) as bar:
        main.rows = _counting(main.rows, bar)
        with Path(out).open("wb") as handle:
            fmt.write(plan.output(), handle)
    media = f", {len(plan.media)} media file(s)" if fmt.with_media else ""
    click.echo(f"{total} submissions, {len(plan.tables)} table(s){media} → {out}")


def _counting(rows, bar):
    for row in rows:
        bar.update(1)
        yield row
