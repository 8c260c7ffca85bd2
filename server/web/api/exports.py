"""Downloads of a form's submissions: CSV, XLSX or ZIP, written by the formats registry.

CSV is the main table, streamed row by row; XLSX has a sheet per table and ZIP a CSV per table
plus the media files (see ``server/web/downloads``).
"""

from __future__ import annotations

from flask import current_app, g, request

from exports import formats
from exports.formats import Format
from server.extensions import db
from server.models import Form
from server.services.attachment_store import AttachmentStore
from server.services.decryption import SubmissionDecryptor
from server.services.exports import build_export
from server.web.api import bp, operation, parse
from server.web.api.forms import readable_form
from server.web.api.schemas import ExportQuery
from server.web.api.submissions import filters_from
from server.web.downloads import download


def _export(form_id: str, fmt: Format):
    form = readable_form(form_id)
    args = parse(ExportQuery(), request.args)
    return export_download(form, args, fmt, private_key=_private_key())


def export_download(form: Form, args: dict, fmt: Format, *, private_key: bytes | None = None):
    """A form's submissions as a file of the format, filtered as the reader may see them.

    :param form: the form (the caller checked it may be read).
    :param args: parsed :class:`ExportQuery` values.
    :param fmt: the format (CSV, XLSX or ZIP).
    :param private_key: the PEM key of an encrypted form, if given.
    :return: the download response.
    """
    storage = current_app.config["STORAGE_DIR"]
    decryptor = None
    if private_key is not None:
        decryptor = SubmissionDecryptor(db.session, AttachmentStore(storage), private_key)
    plan = build_export(
        db.session,
        form,
        filters_from(args),
        lang=args["lang"],
        storage_dir=storage if fmt.with_media else None,
        decryptor=decryptor,
    )
    return download(plan.output(), fmt, form.form_id + fmt.suffix, warnings=plan.warnings)


def _private_key() -> bytes | None:
    """The PEM private key of an encrypted form, POSTed as field or file ``private_key``."""
    if request.method != "POST":
        return None
    upload = request.files.get("private_key")
    if upload is not None:
        return upload.read()
    text = request.form.get("private_key")
    return text.encode() if text else None


@bp.route("/forms/<form_id>/submissions.csv", methods=["GET", "POST"])
@operation(
    "Export the main table as CSV (UTF-8 with BOM, CRLF, formula-safe)",
    tags=("exports",),
    query=ExportQuery,
    content_type=formats.CSV.media_type,
    errors=(403, 404, 422),
)
def export_csv(form_id: str):
    """Stream the submissions of a form as CSV."""
    return _export(form_id, formats.CSV)


@bp.route("/forms/<form_id>/submissions.xlsx", methods=["GET", "POST"])
@operation(
    "Export as XLSX: the main table and one sheet per repeat group",
    tags=("exports",),
    query=ExportQuery,
    content_type=formats.XLSX.media_type,
    errors=(403, 404, 422),
)
def export_xlsx(form_id: str):
    """Download the submissions of a form as an Excel workbook."""
    return _export(form_id, formats.XLSX)


@bp.route("/forms/<form_id>/submissions.zip", methods=["GET", "POST"])
@operation(
    "Export as ZIP: a CSV per table and the attachments in media/",
    tags=("exports",),
    query=ExportQuery,
    content_type=formats.ZIP.media_type,
    errors=(403, 404, 422),
)
def export_zip(form_id: str):
    """Download the submissions of a form with their attachments."""
    return _export(form_id, formats.ZIP)


_ = g  # the current user (g.user) is checked by readable_form
