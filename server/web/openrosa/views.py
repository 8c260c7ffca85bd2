"""OpenRosa endpoints: form list, form download, manifest, media, and submission.

Each view parses the request, calls one service, and renders; the protocol's quirks are noted
where they are handled. Routes take an optional ``token`` because the blueprint is mounted
twice: at ``/`` (users, Digest) and at ``/key/<token>/`` (device tokens).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

from flask import Response, current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from server.database import standalone_reads
from server.domain.instances import XmlLimits
from server.errors import BodyTooLarge, MalformedSubmission, MissingSubmissionFile
from server.extensions import db
from server.services import openrosa as service
from server.services.attachment_store import AttachmentStore
from server.services.intake import Intake
from server.services.setup_cache import setup_cache
from server.services.submissions import IncomingFile, Origin, bad_attachment_name
from server.web.openrosa import bp
from server.web.openrosa.multipart import Part, read_plain_parts
from server.web.openrosa.responses import (
    FormEntry,
    MediaEntry,
    form_list,
    manifest,
    openrosa_response,
)

XML = "text/xml; charset=utf-8"
logger = logging.getLogger(__name__)


def _base(token: str | None) -> str:
    """Absolute URL prefix for links handed to devices (BASE_URL, or what the proxy says)."""
    root = (current_app.config["BASE_URL"] or request.host_url).rstrip("/")
    return f"{root}/key/{quote(token, safe='')}" if token else root


@bp.get("/formList", endpoint="form_list")
@standalone_reads
def form_list_view(token: str | None = None):
    """List the forms this user or device may fill (OpenRosa Form List API).

    The document depends only on the set-up (forms, versions) and on who asks (their forms),
    so it is rendered once per set-up generation and kept (``setup_cache``): a tablet asking
    again costs one tiny query.
    """
    base = _base(token)
    wanted = request.args.get("formID")
    verbose = request.args.get("verbose", "").lower() in {"true", "1", "yes"}
    actor = g.actor
    key = ("formList", actor.form_pks(), base, wanted, verbose)
    body = setup_cache(db.session).derived(
        db.session, key, lambda: _render_form_list(actor, base, wanted, verbose)
    )
    return Response(body, content_type=XML)


def _render_form_list(actor, base: str, wanted: str | None, verbose: bool) -> bytes:
    entries = []
    for item in service.listed_forms(db.session, actor, form_id=wanted):
        path = f"{base}/forms/{quote(item.form_id, safe='')}"
        entries.append(
            FormEntry(
                form_id=item.form_id,
                name=item.title,
                version=item.version,
                md5=item.md5,
                download_url=f"{path}.xml",
                manifest_url=f"{path}/manifest" if item.has_media else None,
                description=item.title if verbose else None,
            )
        )
    return form_list(entries)


@bp.get("/forms/<form_id>.xml", endpoint="form_xml")
def form_xml(form_id: str, token: str | None = None):
    """Serve the exact XForm bytes whose md5 the form list advertises."""
    md5, xml = service.current_xml(db.session, g.actor, form_id)
    response = Response(xml, content_type=XML)
    response.set_etag(md5)
    return response.make_conditional(request)


@bp.get("/forms/<form_id>/manifest", endpoint="manifest")
def manifest_view(form_id: str, token: str | None = None):
    """List the media files the server holds for the form (only those it holds, as Central)."""
    version = service.current_version(db.session, g.actor, form_id)
    path = f"{_base(token)}/forms/{quote(form_id, safe='')}/attachments"
    entries = [
        MediaEntry(m.filename, m.md5, f"{path}/{quote(m.filename, safe='')}")
        for m in service.present_media(db.session, version)
    ]
    return Response(manifest(entries), content_type=XML)


@bp.get("/forms/<form_id>/attachments/<name>", endpoint="media")
def media(form_id: str, name: str, token: str | None = None):
    """Serve one media file, with a strong ETag so Collect's cache can revalidate (304)."""
    version = service.current_version(db.session, g.actor, form_id)
    item = service.media_file(db.session, version, name)
    content_type = item.content_type
    if content_type.startswith("text/"):
        content_type += "; charset=utf-8"
    response = Response(item.content, content_type=content_type)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{quote(name)}\"; filename*=UTF-8''{quote(name)}"
    )
    response.set_etag(item.md5)
    return response.make_conditional(request)


@bp.route("/submission", methods=["GET", "HEAD"], endpoint="submission_head")
@standalone_reads
def submission_head(token: str | None = None):
    """Preflight: Collect requires exactly 204 here, and reads the advertised size limit."""
    response = Response(status=204)
    del response.headers["Content-Type"]  # no body, so no content type
    return response


@bp.post("/submission", endpoint="submission")
def submission(token: str | None = None):
    """Receive a submission; 201 only once the row is committed and its files are on disk."""
    xml, files = _read_parts()
    origin = Origin(
        actor=g.actor,
        device_id=request.args.get("deviceID") or None,
        user_agent=_user_agent(),
    )
    intake = Intake(
        db.session,
        AttachmentStore(current_app.config["STORAGE_DIR"]),
        limits=XmlLimits(
            max_depth=current_app.config["SUBMISSION_MAX_DEPTH"],
            max_elements=current_app.config["SUBMISSION_MAX_ELEMENTS"],
        ),
    )
    result = intake.receive(xml, files, origin)
    message = "Đã nhận bài nộp. / Submission received."
    if result.missing:
        message += (
            f" Còn thiếu {len(result.missing)} tệp đính kèm, hãy gửi lại. / "
            f"{len(result.missing)} attachment(s) still missing; send again."
        )
    return Response(openrosa_response(message), status=201, content_type=XML)


def _user_agent() -> str | None:
    agent = request.headers.get("User-Agent")
    client = request.headers.get("ODK-Client")
    return f"{client} {agent}" if client and agent else agent or client


def _read_parts() -> tuple[bytes, list[IncomingFile]]:
    """Split a Collect multipart POST into the submission XML and the other files.

    A body in Collect's plain shape is read by ``multipart.read_plain_parts`` (no regular
    expression compiled per request); any other body by werkzeug, whose reading decides what
    an unusual body means (see that module).
    """
    if request.mimetype != "multipart/form-data":
        raise _missing_xml()
    try:
        body = request.get_data(cache=True)  # werkzeug re-reads the cached bytes if needed
    except RequestEntityTooLarge as exc:
        raise _too_large() from exc
    parts = read_plain_parts(body, request.content_type or "")
    if parts is None:
        return _read_parts_with_werkzeug()
    xml = next((p.content for p in parts if p.name == "xml_submission_file"), None)
    if xml is None:
        raise _missing_xml()
    files = []
    for part in _grouped_by_name(parts):
        if part.name == "xml_submission_file":
            continue
        if "\\" in part.disposition:
            raise bad_attachment_name(_raw_name(part.disposition))
        files.append(IncomingFile(part.filename or part.name, part.content, part.content_type))
    return xml, files


def _grouped_by_name(parts: list[Part]) -> list[Part]:
    """Parts in werkzeug's order (by name, first seen first), so the last of a name wins alike."""
    order: dict[str, list[Part]] = {}
    for part in parts:
        order.setdefault(part.name, []).append(part)
    return [part for same in order.values() for part in same]


def _read_parts_with_werkzeug() -> tuple[bytes, list[IncomingFile]]:
    """Werkzeug's reading of an unusual body: every refusal as it has always been."""
    try:
        uploads = request.files
        fields = request.form
    except RequestEntityTooLarge as exc:
        raise _too_large() from exc
    except ValueError as exc:  # werkzeug: truncated or malformed multipart body
        raise MalformedSubmission(reason="bad_multipart", cause=str(exc)) from exc
    if "xml_submission_file" in uploads:
        xml = uploads["xml_submission_file"].read()
    elif "xml_submission_file" in fields:
        xml = fields["xml_submission_file"].encode("utf-8")
    else:
        raise _missing_xml()
    for key in fields:
        if key not in _PLAIN_FIELDS:
            # Collect sends every attachment as a file part. A plain field in its place is a
            # part whose header broke: a CR or LF inside the quoted name ends the header line
            # early, so the file name is lost. Refuse it rather than list the file as missing.
            raise bad_attachment_name(key or "")
    files = []
    for key, part in uploads.items(multi=True):
        if key == "xml_submission_file":
            continue
        if "\\" in part.headers.get("Content-Disposition", ""):
            # werkzeug reads a backslash in a quoted header value as an escape, so
            # ``..\..\evil.jpg`` would arrive as ``....evil.jpg``; refuse the name as sent.
            raise bad_attachment_name(_raw_name(part.headers["Content-Disposition"]))
        files.append(IncomingFile(part.filename or key, part.read(), part.mimetype or None))
    return xml, files


#: Plain (non-file) parts a submission may carry: the XML itself, as some clients send it,
#: and the marker older Collect versions add to a split upload.
_PLAIN_FIELDS = frozenset({"xml_submission_file", "*isIncomplete*"})
_QUOTED_NAME = re.compile(r'filename="((?:[^"\\]|\\.)*)"|name="((?:[^"\\]|\\.)*)"')


def _raw_name(disposition: str) -> str:
    """The file name (else the name) of a part exactly as written in its header."""
    found = {"filename": None, "name": None}
    for match in _QUOTED_NAME.finditer(disposition):
        if match.group(1) is not None:
            found["filename"] = match.group(1)
        elif found["name"] is None:
            found["name"] = match.group(2)
    return found["filename"] or found["name"] or disposition


def _missing_xml() -> MissingSubmissionFile:
    return MissingSubmissionFile()


def _too_large() -> BodyTooLarge:
    return BodyTooLarge(limit=current_app.config["OPENROSA_MAX_BYTES"])
