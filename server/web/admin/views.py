"""Forms: the list, publishing by upload, one form's versions and preview, state and files.

Everyone with ``forms.read`` sees the forms they may read; publishing and the open / closing /
closed state are the administrator's (``forms.publish``, ``forms.state``). Publishing goes
through the same ``publish_upload`` as ``POST /api/v1/forms`` (lint, pyxform, ODK Validate):
a form with errors publishes nothing and its messages are shown on the page, line by line with
the spreadsheet row they name.
"""

from __future__ import annotations

import datetime as dt
import mimetypes

from flask import current_app, g, redirect, render_template, request, url_for

from server.domain.form_reading import problem_lines, question_rows
from server.domain.policy import Action
from server.errors import SEVERAL, FormNotFound, InvalidRequest, ServiceError
from server.extensions import db
from server.services.forms import get_form, list_forms, submission_counts
from server.services.permissions import allowed, readable_forms, require, units_of
from server.services.review import FORM_STATES, set_form_state
from server.services.submission_queries import scope_clause
from server.web.admin import bp
from server.web.api.forms import publish_upload
from server.web.downloads import file_download
from server.web.shell import t
from server.web.uploads import upload_limit

#: What publishing did, as the form page says it after the redirect.
PUBLISHED = {
    "published": ("Đã xuất bản phiên bản mới.", "A new version was published."),
    "unchanged": ("Biểu mẫu không đổi: phiên bản này đã có.", "Unchanged: this version exists."),
    "media_updated": ("Đã cập nhật tệp đính kèm của phiên bản.", "The version's media updated."),
}


def _forms_list(error: ServiceError | None = None, status: int = 200):
    """The forms page: the list the user may read, and for publishers the upload with its errors."""
    allowed_forms = readable_forms(g.user, Action.FORM_READ)
    units = units_of(g.user, Action.SUBMISSION_READ)
    return render_template(
        "admin/forms.html",
        forms=[f for f in list_forms(db.session) if allowed_forms is None or f.id in allowed_forms],
        counts=submission_counts(db.session, within=scope_clause(db.session, units)),
        may_publish=allowed(g.user, Action.FORM_PUBLISH),
        error=error,
        problems=_problems(error) if error is not None else [],
        max_bytes=current_app.config["FORMS_MAX_BYTES"],
    ), status


@bp.get("/admin/forms")
def forms_page():
    """The forms the user may read, with their state and submissions; the upload to publish."""
    require(g.user, Action.FORM_READ)
    return _forms_list()


@bp.post("/admin/forms")
@upload_limit("FORMS_MAX_UPLOAD_BYTES")
def publish_form():
    """Publish an uploaded XLSForm or XForm with its media files (administrators)."""
    require(g.user, Action.FORM_PUBLISH)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise InvalidRequest(
                reason="multipart_field", field="file", fields={"file": ["required"]}
            )
        media = [f for f in request.files.getlist("media") if f.filename]
        result = publish_upload(upload, media)
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()  # nothing of a form with errors is kept
        return _forms_list(exc, exc.http_status)
    form_id = result.form_version.form.form_id
    return redirect(url_for("admin.form_detail", form_id=form_id, done=result.status))


def _problems(error: ServiceError) -> list:
    """The error's problems line by line in the reader's language, each with its row."""
    vi = g.get("lang") != "en"
    if error.details.get("reason") == SEVERAL:
        messages = [p["message_vi" if vi else "message"] for p in error.details["problems"]]
    else:
        message = error.message_vi if vi else error.message
        where = error.details.get("file")
        messages = [message.removeprefix(f"{where}: ") if where else message]
    return problem_lines(messages)


def _readable(form_id: str):
    form = get_form(db.session, form_id)
    require(g.user, Action.FORM_READ, form=form)
    return form


@bp.get("/admin/forms/<form_id>")
def form_detail(form_id: str):
    """Show one form: a preview of its questions, its versions with warnings, media and files."""
    form = _readable(form_id)
    chosen = request.args.get("version")
    version = next((v for v in form.versions if v.version == chosen), form.versions[-1])
    done = PUBLISHED.get(request.args.get("done", ""))
    return render_template(
        "admin/form.html",
        form=form,
        version=version,
        questions=question_rows(version.schema, g.get("lang", "vi")),
        done=t(*done) if done else None,
        states=FORM_STATES,
        may_change_state=allowed(g.user, Action.FORM_STATE),
        may_read_submissions=allowed(g.user, Action.SUBMISSION_READ, form=form),
    )


@bp.post("/admin/forms/<form_id>/state")
def change_form_state(form_id: str):
    """Open a form, set it closing (hidden from tablets, still accepting) or close it."""
    require(g.user, Action.FORM_STATE)
    form = get_form(db.session, form_id)
    set_form_state(
        db.session, g.user, form, state=request.form.get("state", ""), now=dt.datetime.now(dt.UTC)
    )
    db.session.commit()
    return redirect(url_for("admin.form_detail", form_id=form.form_id))


def _version(form_id: str, version: str):
    form = _readable(form_id)
    found = next((v for v in form.versions if v.version == version), None)
    if found is None:
        raise FormNotFound(reason="no_version", form_id=form_id, version=version)
    return found


@bp.get("/admin/forms/<form_id>/versions/<version>/source")
def form_source(form_id: str, version: str):
    """The XLSForm (or XForm) file a version was published from, byte for byte."""
    found = _version(form_id, version)
    name = found.source_filename or f"{form_id}-{version}"
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return file_download(found.source, name, kind)


@bp.get("/admin/forms/<form_id>/versions/<version>/xform")
def form_xform(form_id: str, version: str):
    """The XForm a version serves to the tablets."""
    found = _version(form_id, version)
    return file_download(found.xml, f"{form_id}-{version or 'v'}.xml", "application/xml")


@bp.get("/admin/forms/<form_id>/versions/<version>/media/<filename>")
def form_media(form_id: str, version: str, filename: str):
    """One media file of a version (a picker list, an image…)."""
    found = _version(form_id, version)
    media = next((m for m in found.media if m.filename == filename), None)
    if media is None:
        raise FormNotFound(reason="no_media", form_id=form_id, filename=filename)
    return file_download(media.content, media.filename, media.content_type)
