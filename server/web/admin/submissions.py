"""Submissions: one form's submissions with the API's filters, one submission, review, files.

Who sees what is the policy's: administrators and trainers every submission of the forms they
read, a planner those of their forms within their units; deleted ones, deleting and restoring
only administrators; reviewing administrators and trainers. The listing is the API's
(``submission_queries.list_submissions`` with its signed keyset cursor), the downloads the
API's exports (CSV, XLSX, ZIP through the formats registry), the answers labelled from the
version's schema in the reader's language (``domain/form_reading``).
"""

from __future__ import annotations

import datetime as dt

from flask import current_app, g, redirect, render_template, request, url_for

from exports import formats
from server import worker
from server.domain.cursors import decode_cursor, encode_cursor
from server.domain.form_reading import labelled_answers
from server.domain.policy import Action
from server.errors import InvalidRequest, ServiceError
from server.extensions import db
from server.models.submissions import REVIEW_STATES
from server.services import accounts, jobs, review
from server.services.attachment_store import safe_content_type
from server.services.forms import get_form
from server.services.permissions import allowed, require
from server.services.review import REVIEW_CHOICES
from server.services.submission_queries import filters_to_params, history, list_submissions
from server.web.admin import bp
from server.web.api import parse
from server.web.api.exports import export_download
from server.web.api.presenters import submission_detail
from server.web.api.schemas import ExportQuery, ReviewInput, SubmissionQuery
from server.web.api.submissions import attachment_response, filters_from

#: Rows on one page of the listing.
PAGE_SIZE = 50
#: The listing's filter fields, as the API names them.
FILTERS = ("received_from", "received_to", "unit", "submitter", "review_state", "q")
#: The downloads the page offers, from the formats registry.
DOWNLOADS = (formats.CSV, formats.XLSX, formats.ZIP)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _readable_form(form_id: str):
    form = get_form(db.session, form_id)
    require(g.user, Action.FORM_READ, form=form)
    require(g.user, Action.SUBMISSION_READ, form=form)
    return form


def _asked() -> dict[str, str]:
    """The filters as typed (blank fields left out, as a browser sends an empty form)."""
    asked = {
        name: request.args[name].strip() for name in FILTERS if request.args.get(name, "").strip()
    }
    if request.args.get("include_deleted") and allowed(g.user, Action.SUBMISSION_READ_DELETED):
        asked["include_deleted"] = "true"
    return asked


@bp.get("/admin/forms/<form_id>/submissions")
def submissions(form_id: str):
    """A form's submissions, newest first, filtered as the API filters, a page at a time."""
    form = _readable_form(form_id)
    asked = _asked()
    error, rows, next_cursor = None, [], None
    try:
        args = parse(SubmissionQuery(), {**asked, "limit": PAGE_SIZE})
        filters = filters_from(args)
        key = {"form": form.form_id, **{k: v for k, v in args.items() if k != "limit"}}
        secret = current_app.config["SECRET_KEY"]
        cursor = request.args.get("cursor")
        after = decode_cursor(cursor, query=key, secret=secret) if cursor else None
        page = list_submissions(db.session, form, filters, limit=PAGE_SIZE, after=after)
        rows = page.rows
        if page.after:
            next_cursor = encode_cursor(page.after, query=key, secret=secret)
    except ServiceError as exc:
        db.session.rollback()
        error = exc
    devices = {}
    if any(row.submitter_device_id for row in rows):
        devices = {d.id: d.label for d in accounts.list_devices(db.session)}
    return render_template(
        "admin/submissions.html",
        form=form,
        rows=rows,
        devices=devices,
        asked=asked,
        error=error,
        next_cursor=next_cursor,
        first_page=not request.args.get("cursor"),
        review_states=REVIEW_STATES,
        may_read_deleted=allowed(g.user, Action.SUBMISSION_READ_DELETED),
        downloads=DOWNLOADS,
    ), (error.http_status if error else 200)


@bp.get("/admin/forms/<form_id>/submissions.<suffix>")
def download_submissions(form_id: str, suffix: str):
    """The listed submissions as CSV, XLSX or ZIP (with attachments), labelled as chosen."""
    form = _readable_form(form_id)
    fmt = next((f for f in DOWNLOADS if f.suffix == "." + suffix), None)
    if fmt is None:
        return redirect(url_for("admin.submissions", form_id=form.form_id))
    asked = _asked()
    if request.args.get("lang") in ("codes", "vi", "en"):
        asked["lang"] = request.args["lang"]
    args = parse(ExportQuery(), asked)
    return export_download(form, args, fmt)


@bp.post("/admin/forms/<form_id>/submissions/export")
def export_in_background(form_id: str):
    """Make a large download in the background: a job with a progress bar, its file kept.

    The filters come from the form as the listing's do, narrowed to what the reader may see
    now (a planner's units); the job writes the file with the same export as the downloads.
    """
    form = _readable_form(form_id)
    fmt = formats.named(request.form.get("format"), DOWNLOADS)
    asked = {
        name: request.form[name].strip() for name in FILTERS if request.form.get(name, "").strip()
    }
    if request.form.get("include_deleted") and allowed(g.user, Action.SUBMISSION_READ_DELETED):
        asked["include_deleted"] = "true"
    if fmt is None:
        choices = [f.name for f in DOWNLOADS]
        raise InvalidRequest(
            reason="not_a_choice", field="format", choices=choices, fields={"format": choices}
        )
    lang = request.form.get("lang") if request.form.get("lang") in ("codes", "vi", "en") else "vi"
    filters = filters_from(parse(ExportQuery(), {**asked, "lang": lang}))
    job = jobs.enqueue(
        db.session,
        "forms.export",
        owner_id=g.user.id,
        params={
            "form_id": form.form_id,
            "format": fmt.name,
            "lang": lang,
            "filters": filters_to_params(filters),
        },
        now=_now(),
        message="Đang chờ xuất dữ liệu / Waiting to export",
    )
    db.session.commit()
    worker.wake(current_app)
    return redirect(url_for("admin.job_page", job_id=job.id), 303)


def _detail(submission_id: int, *, error: ServiceError | None = None, status: int = 200):
    row = review.get_submission(db.session, g.user, submission_id)
    lang = g.get("lang", "vi")
    detail = submission_detail(row, history(db.session, row))
    device = None
    if row.submitter_device_id is not None:
        device = accounts.get_device(db.session, row.submitter_device_id)
    return render_template(
        "admin/submission.html",
        row=row,
        answers=labelled_answers(row.form_version.schema, row.data, lang),
        attachments=row.attachments,
        present={a.name: a for a in row.attachments if a.sha256},
        photos={
            a.name
            for a in row.attachments
            if a.sha256 and safe_content_type(a.name, a.content_type).startswith("image/")
        },
        detail=detail,
        events=review.audit_events(db.session, target=row),
        device=device,
        review_choices=REVIEW_CHOICES,
        may_review=allowed(g.user, Action.SUBMISSION_REVIEW),
        may_delete=allowed(g.user, Action.SUBMISSION_DELETE),
        error=error,
    ), status


@bp.get("/admin/submissions/<int:submission_id>")
def submission(submission_id: int):
    """One submission: answers under their questions, photos, review, history."""
    return _detail(submission_id)


@bp.get("/admin/submissions/<int:submission_id>/attachments/<name>")
def submission_attachment(submission_id: int, name: str):
    """An attachment's bytes (a photo is shown on the submission's page from here)."""
    row = review.get_submission(db.session, g.user, submission_id)
    return attachment_response(row, name)


@bp.post("/admin/submissions/<int:submission_id>/review")
def review_submission(submission_id: int):
    """Set the review state and comment (administrators and trainers)."""
    require(g.user, Action.SUBMISSION_REVIEW)
    row = review.get_submission(db.session, g.user, submission_id)
    try:
        # The API's input schema: the same states, the same 2,000-character comment.
        values = parse(
            ReviewInput(),
            {
                "review_state": request.form.get("review_state", ""),
                "comment": request.form.get("comment", "").strip() or None,
            },
        )
        review.review_submission(
            db.session, g.user, row, state=values["review_state"],
            comment=values["comment"], now=_now(),
        )  # fmt: skip
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        return _detail(submission_id, error=exc, status=exc.http_status)
    return redirect(url_for("admin.submission", submission_id=row.id))


@bp.post("/admin/submissions/<int:submission_id>/delete")
def delete_submission(submission_id: int):
    """Soft-delete a submission (administrators): hidden everywhere, restorable."""
    require(g.user, Action.SUBMISSION_DELETE)
    row = review.get_submission(db.session, g.user, submission_id)
    review.delete_submission(db.session, g.user, row, now=_now())
    db.session.commit()
    return redirect(url_for("admin.submission", submission_id=row.id))


@bp.post("/admin/submissions/<int:submission_id>/restore")
def restore_submission(submission_id: int):
    """Undo a soft delete (administrators)."""
    require(g.user, Action.SUBMISSION_DELETE)
    row = review.get_submission(db.session, g.user, submission_id)
    review.restore_submission(db.session, g.user, row, now=_now())
    db.session.commit()
    return redirect(url_for("admin.submission", submission_id=row.id))
