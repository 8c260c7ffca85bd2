"""Submissions over the API: filtered listing, detail, review, delete/restore, audit, files."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import orjson
from flask import Response, current_app, g, jsonify, request

from server.database import standalone_reads
from server.domain.cursors import decode_cursor, encode_cursor
from server.domain.policy import Action
from server.errors import SubmissionNotFound
from server.extensions import db
from server.services import review
from server.services.attachment_store import AttachmentStore, safe_content_type
from server.services.permissions import require, units_of
from server.services.submission_queries import SubmissionFilters, history, list_submissions
from server.web.api import bp, caller_from_cache, json_body, operation, parse
from server.web.api.forms import readable_form_facts
from server.web.api.presenters import audit_data, listed_items, submission_detail
from server.web.api.schemas import (
    AuditEventSchema,
    ReviewInput,
    SubmissionDetailSchema,
    SubmissionPage,
    SubmissionQuery,
)

FILTER_NAMES = tuple(SubmissionFilters.__dataclass_fields__)
#: One instance for every page: building a schema costs more than loading a query with it.
_LISTING_QUERY = SubmissionQuery()


def filters_from(args: dict) -> SubmissionFilters:
    """The listing filters out of parsed query parameters, narrowed to what the user may read.

    Deleted rows only for those allowed; a planner's rows only from their units.
    """
    values = {name: args[name] for name in FILTER_NAMES if name in args}
    values.pop("within_units", None)
    if values.get("include_deleted"):
        require(g.user, Action.SUBMISSION_READ_DELETED)
    return SubmissionFilters(**values, within_units=units_of(g.user, Action.SUBMISSION_READ))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _detail(row):
    """The detail response of a submission, with its edit history."""
    return jsonify(SubmissionDetailSchema().dump(submission_detail(row, history(db.session, row))))


@bp.get("/forms/<form_id>/submissions")
@operation(
    "Submissions of a form, newest first, filtered; keyset pages via next_cursor; "
    "data=true adds each one's typed answers",
    tags=("submissions",),
    query=SubmissionQuery,
    response=SubmissionPage,
    errors=(403, 404, 422),
)
@standalone_reads
@caller_from_cache
def list_form_submissions(form_id: str):
    """List a form's current submissions."""
    form = readable_form_facts(form_id)
    args = parse(_LISTING_QUERY, request.args)
    filters = filters_from(args)
    # The cursor is bound to the filters; page size and the data flag may change between pages.
    shown = {"cursor", "limit", "data"}
    key = {"form": form.form_id, **{k: v for k, v in args.items() if k not in shown}}
    secret = current_app.config["SECRET_KEY"]
    after = decode_cursor(args["cursor"], query=key, secret=secret) if "cursor" in args else None
    with_data = args.get("data", False)
    page = list_submissions(
        db.session,
        form,
        filters,
        limit=args["limit"],
        after=after,
        with_data=with_data,
        named=False,
        as_items=True,
    )
    body = {
        "items": listed_items(page.rows, with_data=with_data),
        "next_cursor": encode_cursor(page.after, query=key, secret=secret) if page.after else None,
    }
    # The items are SubmissionPage's (a test holds them to its dump); orjson writes them
    # several times faster than marshmallow's dump and jsonify.
    return Response(orjson.dumps(body), mimetype="application/json")


@bp.get("/submissions/<int:submission_id>")
@operation(
    "A submission: typed data, raw XML, attachments, review and edit history",
    tags=("submissions",),
    response=SubmissionDetailSchema,
    errors=(403, 404),
)
def get_submission(submission_id: int):
    """Show one submission."""
    row = review.get_submission(db.session, g.user, submission_id)
    return _detail(row)


@bp.patch("/submissions/<int:submission_id>/review")
@operation(
    "Set the review state (has_issues, approved, rejected, received) and a comment",
    tags=("submissions",),
    body=ReviewInput,
    response=SubmissionDetailSchema,
    errors=(403, 404, 422),
)
def review_submission(submission_id: int):
    """Review a submission (administrators and trainers)."""
    require(g.user, Action.SUBMISSION_REVIEW)
    row = review.get_submission(db.session, g.user, submission_id)
    values = parse(ReviewInput(), json_body())
    review.review_submission(
        db.session, g.user, row, state=values["review_state"], comment=values["comment"], now=_now()
    )
    db.session.commit()
    return _detail(row)


@bp.delete("/submissions/<int:submission_id>")
@operation(
    "Delete a submission (soft: hidden everywhere, restorable, its instanceID stays refused)",
    tags=("submissions",),
    errors=(403, 404),
)
def delete_submission(submission_id: int):
    """Soft-delete a submission (administrators)."""
    require(g.user, Action.SUBMISSION_DELETE)
    row = review.get_submission(db.session, g.user, submission_id)
    review.delete_submission(db.session, g.user, row, now=_now())
    db.session.commit()
    return Response(status=204)


@bp.post("/submissions/<int:submission_id>/restore")
@operation(
    "Restore a deleted submission",
    tags=("submissions",),
    response=SubmissionDetailSchema,
    errors=(403, 404),
)
def restore_submission(submission_id: int):
    """Undo a soft delete (administrators)."""
    require(g.user, Action.SUBMISSION_DELETE)
    row = review.get_submission(db.session, g.user, submission_id)
    review.restore_submission(db.session, g.user, row, now=_now())
    db.session.commit()
    return _detail(row)


@bp.get("/submissions/<int:submission_id>/audit")
@operation(
    "Every change to this submission's record, newest first",
    tags=("audit",),
    response=AuditEventSchema(many=True),
    errors=(403, 404),
)
def submission_audit(submission_id: int):
    """The audit trail of one submission."""
    row = review.get_submission(db.session, g.user, submission_id)
    events = review.audit_events(db.session, target=row)
    return jsonify(AuditEventSchema(many=True).dump([audit_data(e) for e in events]))


@bp.get("/audit")
@operation(
    "The latest 200 changes of any kind (administrators)",
    tags=("audit",),
    response=AuditEventSchema(many=True),
    errors=(403,),
)
def audit_log():
    """The audit log."""
    require(g.user, Action.AUDIT_READ_ALL)
    events = review.audit_events(db.session)
    return jsonify(AuditEventSchema(many=True).dump([audit_data(e) for e in events]))


@bp.get("/submissions/<int:submission_id>/attachments/<name>", endpoint="attachment")
@operation(
    "Download an attachment by the name the submission uses",
    tags=("submissions",),
    content_type="application/octet-stream",
    errors=(403, 404),
)
def attachment(submission_id: int, name: str):
    """Serve an attachment's bytes."""
    row = review.get_submission(db.session, g.user, submission_id)
    return attachment_response(row, name)


def attachment_response(row, name: str) -> Response:
    """An attachment's bytes (the caller checked the reader may read the submission).

    :param row: the submission.
    :param name: the file name the submission uses.
    :return: the response (conditional on its ETag).
    :raises SubmissionNotFound: no such attachment, or its file never arrived.
    """
    found = next((a for a in row.attachments if a.name == name and a.sha256), None)
    if found is None:
        raise SubmissionNotFound(reason="no_attachment", submission_id=row.id, name=name)
    store = AttachmentStore(current_app.config["STORAGE_DIR"])
    # The stored type is what the client declared; serve only an allow-listed media type (or
    # a download), always as an attachment, so no upload runs as a page of this origin.
    response = Response(
        store.read(found.sha256), content_type=safe_content_type(name, found.content_type)
    )
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.set_etag(found.sha256)
    return response.make_conditional(request)
