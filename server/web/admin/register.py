"""The staff register in the browser: browse and search, check a file, apply it, export, edit.

* **Browse** (administrators, trainers; planners within their units): people in post on a
  day, searched by name or code, a page at a time, with their unit and certificates.
* **Upload** (administrators): the file is kept and checked in the background (a dry run of
  ``services/roster.import_roster``, the CLI's and the API's import); the page then shows the
  diff — who is added, moved, updated, leaves — or every bad row and why, nothing applied.
  **Apply** imports the same file as a background job with a progress bar.
* **Export** (administrators, trainers): the register as of a day, CSV or XLSX, made in the
  background and kept for download. **Template**: the empty workbook with the code lists.
* **One person**: their positions over time and certificates; administrators edit the
  personal details (positions change through a register file, which keeps the history).
"""

from __future__ import annotations

import datetime as dt

from flask import current_app, g, redirect, render_template, request, url_for

from exports import Output, formats
from server import worker
from server.domain import catalogue
from server.domain.policy import Action
from server.domain.roster import PERSON_FIELDS
from server.errors import InvalidRequest, JobNotFound, ServiceError
from server.extensions import db
from server.services import jobs, roster
from server.services.attachment_store import AttachmentStore
from server.services.permissions import allowed, require, today, units_of
from server.web.admin import bp
from server.web.admin.jobs import progress_context, readable_job
from server.web.downloads import download

PER_PAGE = 50
#: The formats the register is exported in (the import reads both back).
EXPORT_FORMATS = (formats.XLSX, formats.CSV)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _day(name: str, default: dt.date | None) -> dt.date | None:
    """A date from the query or form (ISO, as ``<input type=date>`` sends it)."""
    raw = (request.values.get(name) or "").strip()
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidRequest(reason="register_date", field=name, fields={name: ["date"]}) from None


def _scope(on: dt.date) -> set[int] | None:
    return roster.units_within(db.session, units_of(g.user, Action.ROSTER_READ), on)


def _may() -> dict:
    return {
        "may_import": allowed(g.user, Action.ROSTER_IMPORT),
        "may_export": allowed(g.user, Action.ROSTER_EXPORT),
        "may_template": allowed(g.user, Action.ROSTER_TEMPLATE),
    }


def _labels() -> dict:
    return {
        "levels": catalogue.LEVELS,
        "categories": catalogue.STAFF_CATEGORIES,
        "employment": catalogue.EMPLOYMENT,
        "certificates": catalogue.CERTIFICATES,
        "sexes": catalogue.SEXES,
        "education": catalogue.EDUCATION,
        "fields": catalogue.EDUCATION_FIELDS,
    }


@bp.get("/admin/register")
def register():
    """People in post on a day (planners: in their units), searched and paged."""
    require(g.user, Action.ROSTER_READ)
    error = None
    try:
        on = _day("on", today())
    except InvalidRequest as exc:
        error, on = exc, today()
    q = request.args.get("q", "").strip()[:100]
    page = request.args.get("page", "1")
    found = roster.search_people(
        db.session,
        on=on,
        unit_ids=_scope(on),
        q=q or None,
        page=int(page) if page.isdigit() else 1,
        per_page=PER_PAGE,
    )
    return render_template(
        "admin/register.html",
        found=found,
        on=on,
        q=q,
        error=error,
        upload_error=None,
        formats=EXPORT_FORMATS,
        **_may(),
        **_labels(),
    ), (422 if error else 200)


@bp.get("/admin/register/template.xlsx")
def register_template():
    """The empty register workbook with the headers and every code list."""
    require(g.user, Action.ROSTER_TEMPLATE)
    output = Output(tables=roster.template_tables)
    return download(output, formats.XLSX, "mau_danh_sach_can_bo.xlsx")


@bp.post("/admin/register/check")
def register_check():
    """Keep an uploaded register file and check it in the background (a dry run)."""
    require(g.user, Action.ROSTER_IMPORT)
    request.max_content_length = current_app.config["ROSTER_MAX_BYTES"]
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise InvalidRequest(
                reason="multipart_field", field="file", fields={"file": ["required"]}
            )
        as_of = _day("as_of", None)
        with upload.stream:
            content = upload.read()
        sha = jobs.store_input(AttachmentStore(current_app.config["STORAGE_DIR"]), content)
        params = {"filename": upload.filename[:255], "input_sha256": sha}
        if as_of:
            params["as_of"] = as_of.isoformat()
        job = jobs.enqueue(
            db.session, "roster.check", owner_id=g.user.id, params=params, now=_now()
        )
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        on = today()
        found = roster.search_people(db.session, on=on, unit_ids=None, q=None, per_page=PER_PAGE)
        page = render_template(
            "admin/register.html",
            found=found,
            on=on,
            q="",
            error=None,
            upload_error=exc,
            formats=EXPORT_FORMATS,
            **_may(),
            **_labels(),
        )
        return page, exc.http_status
    worker.wake(current_app)
    return redirect(url_for("admin.register_diff", job_id=job.id), 303)


def _check_job(job_id: int):
    job = readable_job(job_id)
    if job.kind != "roster.check":
        raise JobNotFound(job_id=job_id)
    return job


@bp.get("/admin/register/check/<int:job_id>")
def register_diff(job_id: int):
    """The dry run's diff (or every bad row), and the button that applies the file."""
    require(g.user, Action.ROSTER_IMPORT)
    job = _check_job(job_id)
    here = url_for("admin.register_diff", job_id=job.id)
    return render_template(
        "admin/register_diff.html", changes=job.result or {}, **progress_context(job, here)
    )


@bp.post("/admin/register/check/<int:job_id>/apply")
def register_apply(job_id: int):
    """Import the checked file, as a background job with a progress bar."""
    require(g.user, Action.ROSTER_IMPORT)
    check = _check_job(job_id)
    if check.state != "done":
        raise InvalidRequest(reason="check_not_done", job_id=job_id, fields={"job": [check.state]})
    job = jobs.enqueue(
        db.session, "roster.import", owner_id=g.user.id, params=dict(check.params), now=_now()
    )
    db.session.commit()
    worker.wake(current_app)
    return redirect(url_for("admin.job_page", job_id=job.id), 303)


@bp.post("/admin/register/export")
def register_export():
    """Make the register as of a day (CSV or XLSX) in the background, kept for download."""
    require(g.user, Action.ROSTER_EXPORT)
    on = _day("on", today())
    fmt = formats.named(request.form.get("format"), EXPORT_FORMATS)
    if fmt is None:
        choices = [f.name for f in EXPORT_FORMATS]
        raise InvalidRequest(
            reason="not_a_choice", field="format", choices=choices, fields={"format": choices}
        )
    job = jobs.enqueue(
        db.session,
        "roster.export",
        owner_id=g.user.id,
        params={"on": on.isoformat(), "format": fmt.name},
        now=_now(),
    )
    db.session.commit()
    worker.wake(current_app)
    return redirect(url_for("admin.job_page", job_id=job.id), 303)


def _person_page(person, *, error=None, values=None, status=200):
    on = today()
    return render_template(
        "admin/register_person.html",
        person=person,
        on=on,
        error=error,
        values=values or {f: getattr(person, f) for f in PERSON_FIELDS},
        **_may(),
        **_labels(),
    ), status


def _readable_person(code: str):
    person = roster.get_person(db.session, code)
    on = today()
    require(g.user, Action.ROSTER_READ, in_units=roster.posted_within(person, _scope(on), on))
    return person


@bp.get("/admin/register/people/<code>")
def register_person(code: str):
    """One person: details, positions over time, certificates; the edit form for admins."""
    require(g.user, Action.ROSTER_READ)
    return _person_page(_readable_person(code))


@bp.post("/admin/register/people/<code>")
def edit_person(code: str):
    """Change one person's details (checked as an import checks them)."""
    require(g.user, Action.ROSTER_IMPORT)
    values = {f: request.form.get(f, "").strip() for f in PERSON_FIELDS}
    try:
        roster.update_person(db.session, code, values, now=_now())
        db.session.commit()
    except InvalidRequest as exc:
        db.session.rollback()
        return _person_page(_readable_person(code), error=exc, values=values, status=422)
    return redirect(url_for("admin.register_person", code=code, saved=1), 303)
