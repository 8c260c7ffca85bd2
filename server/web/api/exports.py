"""Downloads of a form's submissions: CSV, XLSX or ZIP.

CSV is the main table, streamed row by row; XLSX has a sheet per table and ZIP a CSV per table
plus the media files. Those two are written to a temporary file in constant memory and
streamed from there.
"""

from __future__ import annotations

import tempfile
from urllib.parse import quote

from flask import Response, current_app, g, request, stream_with_context

from exports import iter_csv, write_xlsx, write_zip
from server.extensions import db
from server.services.attachment_store import AttachmentStore
from server.services.decryption import SubmissionDecryptor
from server.services.exports import build_export
from server.web.api import bp, operation, parse
from server.web.api.forms import readable_form
from server.web.api.schemas import ExportQuery
from server.web.api.submissions import filters_from

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
}


def _download(body, form_id: str, extension: str, warnings: list[str]) -> Response:
    response = Response(body, content_type=FORMATS[extension])
    name = f"{form_id}.{extension}"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{quote(name)}\"; filename*=UTF-8''{quote(name)}"
    )
    for warning in warnings:
        response.headers.add("X-Export-Warning", warning.encode("ascii", "replace").decode())
    return response


def _export(form_id: str, extension: str, *, media: bool = False):
    form = readable_form(form_id)
    args = parse(ExportQuery(), request.args)
    storage = current_app.config["STORAGE_DIR"]
    key = _private_key()
    decryptor = None
    if key is not None:
        decryptor = SubmissionDecryptor(db.session, AttachmentStore(storage), key)
    plan = build_export(
        db.session,
        form,
        filters_from(args),
        lang=args["lang"],
        storage_dir=storage if media else None,
        decryptor=decryptor,
    )
    if extension == "csv":
        return _download(
            stream_with_context(iter_csv(plan.tables[0])), form.form_id, "csv", plan.warnings
        )
    # Closed, and so deleted, when the response closes (call_on_close below).
    spool = tempfile.TemporaryFile()  # noqa: SIM115
    if extension == "xlsx":
        write_xlsx(plan.tables, spool)
    else:
        write_zip(plan.tables, plan.media, spool)
    spool.seek(0)
    response = _download(_chunks(spool), form.form_id, extension, plan.warnings)
    response.call_on_close(spool.close)
    return response


def _private_key() -> bytes | None:
    """The PEM private key of an encrypted form, POSTed as field or file ``private_key``."""
    if request.method != "POST":
        return None
    upload = request.files.get("private_key")
    if upload is not None:
        return upload.read()
    text = request.form.get("private_key")
    return text.encode() if text else None


def _chunks(handle, size: int = 256 * 1024):
    try:
        while chunk := handle.read(size):
            yield chunk
    finally:
        handle.close()  # also when the client goes away mid-download


@bp.route("/forms/<form_id>/submissions.csv", methods=["GET", "POST"])
@operation(
    "Export the main table as CSV (UTF-8 with BOM, CRLF, formula-safe)",
    tags=("exports",),
    query=ExportQuery,
    content_type=FORMATS["csv"],
    errors=(403, 404, 422),
)
def export_csv(form_id: str):
    """Stream the submissions of a form as CSV."""
    return _export(form_id, "csv")


@bp.route("/forms/<form_id>/submissions.xlsx", methods=["GET", "POST"])
@operation(
    "Export as XLSX: the main table and one sheet per repeat group",
    tags=("exports",),
    query=ExportQuery,
    content_type=FORMATS["xlsx"],
    errors=(403, 404, 422),
)
def export_xlsx(form_id: str):
    """Download the submissions of a form as an Excel workbook."""
    return _export(form_id, "xlsx")


@bp.route("/forms/<form_id>/submissions.zip", methods=["GET", "POST"])
@operation(
    "Export as ZIP: a CSV per table and the attachments in media/",
    tags=("exports",),
    query=ExportQuery,
    content_type=FORMATS["zip"],
    errors=(403, 404, 422),
)
def export_zip(form_id: str):
    """Download the submissions of a form with their attachments."""
    return _export(form_id, "zip", media=True)


_ = g  # the current user (g.user) is checked by readable_form
