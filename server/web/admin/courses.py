"""Courses: a trainer runs their own courses (an administrator every course) from the browser.

The list, creating and editing a course, enrolling people (a register search or a CSV list),
attendance and completion, the answer keys of the course's tests, a full re-score (a
background job, ``courses.rescore``), closing,
and the link to the evaluation report. Every action asks the permission policy
(``courses.create``, ``courses.manage`` on the course's owner, ``keys.upload`` on the owners
of the courses using the test form) and calls the same services as the API and the CLI
(``services/courses``, ``services/enrolments``, ``services/scoring``, ``services/course_tests``).

A failed action shows the page again with the catalogue's message where it happened (a field,
the rows of a file) and changes nothing; a successful one redirects (Post/Redirect/Get).
"""

from __future__ import annotations

import datetime as dt

from flask import current_app, flash, g, redirect, render_template, request, url_for

from server import worker
from server.domain import catalogue
from server.domain.policy import Action
from server.errors import InvalidRequest, ServiceError
from server.extensions import db
from server.models import Course
from server.services import (
    answer_keys,
    course_tests,
    enrolments,
    jobs,
    key_review,
    reconciliation,
)
from server.services import courses as courses_service
from server.services.forms import get_form, list_forms
from server.services.permissions import (
    allowed,
    course_owners_of_form,
    readable_courses,
    require,
    units_of,
)
from server.services.pickers import refresh_pickers
from server.services.submission_queries import unit_ids_under
from server.web.admin import bp
from server.web.shell import t
from server.web.uploads import upload_limit

#: The fields of the course form, as the page posts them.
_LIST_FIELDS = ("topics", "trainers", "objectives")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _course(code: str) -> Course:
    """The course, if the user may manage it (403 otherwise; 404 for an unknown code)."""
    course = courses_service.get_course(db.session, code)
    require(g.user, Action.COURSE_MANAGE, owner_ids=[course.created_by_user_id])
    return course


def _message(error: ServiceError) -> str:
    return error.message_vi if g.lang == "vi" else error.message


@bp.get("/admin/courses")
def courses():
    """The courses the user manages (a trainer's own, an administrator's every one)."""
    require(g.user, Action.COURSE_MANAGE)
    return render_template(
        "admin/courses.html",
        courses=readable_courses(db.session, g.user, Action.COURSE_MANAGE),
        can_create=allowed(g.user, Action.COURSE_CREATE),
    )


# --------------------------------------------------------------------------- create and edit


def _posted_course() -> dict:
    form = request.form
    posted = {name: form.get(name, "") for name in form if name not in _LIST_FIELDS}
    posted["topics"] = form.getlist("topics")
    posted["trainers"] = [c.strip() for c in form.get("trainers", "").replace(";", ",").split(",")]
    posted["objectives"] = form.getlist("objectives")
    return posted


def _field_errors(error: ServiceError | None) -> dict[str, list[str]]:
    """Messages by form field: the course's own checks, or a taken code."""
    if error is None:
        return {}
    key = "fields_vi" if g.lang == "vi" else "fields"
    if key in error.details:
        return dict(error.details[key])
    if error.code == "409.8":  # CourseExists
        return {"code": [_message(error)]}
    return {}


def _course_form(values, *, course: Course | None = None, error: ServiceError | None = None):
    return render_template(
        "admin/course_form.html",
        course=course,
        values=values,
        error=error,
        message=_message(error) if error is not None else None,
        field_errors=_field_errors(error),
        course_types=catalogue.COURSE_TYPES,
        topics=catalogue.TOPICS,
        certificates=catalogue.CERTIFICATES,
        levels=catalogue.LEVELS,
        forms=[f for f in list_forms(db.session) if f.state != "closed"],
    )


@bp.get("/admin/courses/new")
def new_course():
    """The form of a new course."""
    require(g.user, Action.COURSE_CREATE)
    today = _now().date()
    return _course_form(
        {"course_type": "tap_huan", "start_date": today, "end_date": today, "pass_mark": 70}
    )


@bp.post("/admin/courses")
def create_course():
    """Create a course; a form sent twice (a double click) creates it once."""
    require(g.user, Action.COURSE_CREATE)
    posted = _posted_course()
    try:
        course = courses_service.create_course(
            db.session,
            courses_service.course_input(posted),
            created_by=g.user.id,
            repeat_ok=True,
        )
        refresh_pickers(db.session, now=_now())
        db.session.commit()
    except ServiceError as error:
        db.session.rollback()
        return _course_form(posted, error=error), error.http_status
    flash(t(f"Đã tạo khóa học {course.code}.", f"Course {course.code} created."), "ok")
    return redirect(url_for("admin.course", code=course.code))


@bp.get("/admin/courses/<code>/edit")
def edit_course(code: str):
    """The form of an existing course, filled in."""
    course = _course(code)
    return _course_form(courses_service.values_of(course).__dict__, course=course)


@bp.post("/admin/courses/<code>/edit")
def update_course(code: str):
    """Save a course's changed values (its code stays)."""
    course = _course(code)
    posted = _posted_course()
    posted["code"] = course.code
    try:
        values = courses_service.course_input(posted)
        courses_service.update_course(db.session, course, values.__dict__)
        refresh_pickers(db.session, now=_now())
        db.session.commit()
    except ServiceError as error:
        db.session.rollback()
        return _course_form(posted, course=course, error=error), error.http_status
    flash(t("Đã lưu thông tin khóa học.", "The course is saved."), "ok")
    return redirect(url_for("admin.course", code=code))


# --------------------------------------------------------------------------- the course page


def _reader_units(course: Course) -> set[int] | None:
    codes = units_of(g.user, Action.ROSTER_READ)
    if codes is None:
        return None
    ids: set[int] = set()
    for unit in codes:
        ids |= unit_ids_under(db.session, unit, course.start_date)
    return ids


def _course_page(course: Course, *, error: ServiceError | None = None, where: str = ""):
    q = request.args.get("q")
    whole = request.args.get("whole") == "1"
    found = None
    if q is not None and allowed(g.user, Action.ROSTER_READ):
        found = enrolments.register_search(
            db.session, course, q=q.strip(), whole_register=whole,
            reader_units=_reader_units(course),
        )  # fmt: skip
    keys = course_tests.key_states(db.session, course)
    forms = {f.form_id: f for f in course_tests.scored_forms(db.session, course)}
    key_forms = [
        k
        for k in keys
        if allowed(g.user, Action.KEY_UPLOAD,
                   owner_ids=course_owners_of_form(db.session, forms[k.form_id]))
    ]  # fmt: skip
    owners = [course.created_by_user_id]
    return render_template(
        "admin/course.html",
        course=course,
        enrolments=sorted(course.enrolments, key=lambda e: e.person.code),
        scores=course_tests.course_scores(db.session, course),
        waiting=reconciliation.waiting(db.session, course),
        keys=keys,
        key_forms=key_forms,
        q=q,
        whole=whole,
        found=found,
        error=error,
        message=_message(error) if error is not None else None,
        rows=(error.details.get("rows") or []) if error is not None else [],
        where=where,
        attendance=enrolments.ATTENDANCE,
        completion=enrolments.COMPLETION,
        course_types=catalogue.COURSE_TYPES,
        can_report=allowed(g.user, Action.REPORT_COURSE, owner_ids=owners),
        can_scores=allowed(g.user, Action.SCORES_READ),
    )


@bp.get("/admin/courses/<code>")
def course(code: str):
    """One course: its people, attendance, keys and scores; search the register to enrol."""
    return _course_page(_course(code))


def _failed(course: Course, error: ServiceError, where: str):
    db.session.rollback()
    db.session.refresh(course)
    return _course_page(course, error=error, where=where), error.http_status


@bp.post("/admin/courses/<code>/enrolments")
def enrol(code: str):
    """Enrol the people chosen from the register search (twice is the same as once)."""
    course = _course(code)
    chosen = request.form.getlist("person_code")
    try:
        if not chosen:
            raise InvalidRequest(reason="pick_people", fields={"person_code": ["required"]})
        result = enrolments.enrol(db.session, course, chosen)
        refresh_pickers(db.session, now=_now())
        db.session.commit()
    except ServiceError as error:
        return _failed(course, error, "enrol")
    _flash_enrolled(len(result.enrolled), len(result.already), result.warnings)
    return redirect(url_for("admin.course", code=code) + "#people")


def _flash_enrolled(enrolled: int, already: int, warnings: list[str]) -> None:
    flash(
        t(
            f"Đã ghi danh {enrolled} người; {already} người đã có trong khóa.",
            f"{enrolled} enrolled; {already} already on the course.",
        ),
        "ok",
    )
    for warning in warnings:
        flash(warning, "warn")


def _require_file(upload) -> None:
    if upload is None or not upload.filename:
        raise InvalidRequest(reason="multipart_field", field="file", fields={"file": ["required"]})


@bp.post("/admin/courses/<code>/enrolments/upload")
@upload_limit("PAGE_UPLOAD_MAX_BYTES")
def upload_enrolments(code: str):
    """Enrol a list (CSV: Mã cán bộ, optional Điểm danh, Hoàn thành); a bad row applies nothing."""
    course = _course(code)
    upload = request.files.get("file")
    try:
        _require_file(upload)
        result = enrolments.import_enrolments(
            db.session, upload.filename, upload.read(), course=course
        )
        refresh_pickers(db.session, now=_now())
        db.session.commit()
    except ServiceError as error:
        return _failed(course, error, "upload")
    _flash_enrolled(len(result.enrolled), len(result.already), [])
    return redirect(url_for("admin.course", code=code) + "#people")


@bp.post("/admin/courses/<code>/attendance")
def attendance(code: str):
    """Save the attendance and completion of the course's trainees (only what changed)."""
    course = _course(code)
    marks: dict[str, dict[str, str]] = {}
    for name, value in request.form.items():
        kind, _, person_code = name.partition(":")
        if kind in ("attendance", "completion") and person_code:
            marks.setdefault(person_code, {})[kind] = value
    try:
        changed = enrolments.record_attendance(db.session, course, marks)
        db.session.commit()
    except ServiceError as error:
        return _failed(course, error, "attendance")
    flash(t(f"Đã lưu {changed} thay đổi.", f"{changed} change(s) saved."), "ok")
    return redirect(url_for("admin.course", code=code) + "#people")


@bp.post("/admin/courses/<code>/key")
@upload_limit("PAGE_UPLOAD_MAX_BYTES")
def upload_key(code: str):
    """Replace the answer key of one of the course's tests and re-score its submissions."""
    course = _course(code)
    try:
        form = _course_test_form(course)
    except InvalidRequest as error:
        return _failed(course, error, "key")
    upload = request.files.get("file")
    try:
        _require_file(upload)
        result = answer_keys.import_answer_key(
            form, upload.filename, upload.read(), session=db.session, now=_now()
        )
        db.session.commit()
    except ServiceError as error:
        return _failed(course, error, "key")
    flash(
        t(
            f"Đáp án {form.form_id}: {result.items} câu; đã chấm lại {result.rescored} bài.",
            f"Key of {form.form_id}: {result.items} items; {result.rescored} test(s) re-scored.",
        ),
        "ok",
    )
    return redirect(url_for("admin.course", code=code) + "#keys")


def _course_test_form(course: Course):
    """The pre- or post-test form the request names, if the user may change its key."""
    form_id = request.form.get("form_id", "")
    if form_id not in {course.pre_form_id, course.post_form_id} - {None}:
        raise InvalidRequest(
            reason="not_a_choice",
            field="form_id",
            choices=[f for f in (course.pre_form_id, course.post_form_id) if f],
            fields={"form_id": ["not a test of this course"]},
        )
    form = get_form(db.session, form_id)
    require(g.user, Action.KEY_UPLOAD, owner_ids=course_owners_of_form(db.session, form))
    return form


@bp.post("/admin/courses/<code>/key-items")
def change_key_item(code: str):
    """Drop an item from a test's key after review, or restore it; every attempt is re-scored."""
    course = _course(code)
    try:
        form = _course_test_form(course)
    except InvalidRequest as error:
        return _failed(course, error, "key")
    try:
        result = key_review.change_item(
            db.session,
            form,
            request.form.get("item", ""),
            change=request.form.get("change", ""),
            reason=request.form.get("reason", ""),
            user=g.user,
            now=_now(),
        )
        db.session.commit()
    except ServiceError as error:
        return _failed(course, error, "key")
    flash(
        t(
            f"Câu {result.item} của {result.form_id}: "
            f"{'đã bỏ' if result.change == 'dropped' else 'đã khôi phục'}; "
            f"đã chấm lại {result.rescored} bài.",
            f"Item {result.item} of {result.form_id} {result.change}; "
            f"{result.rescored} test(s) re-scored.",
        ),
        "ok",
    )
    return redirect(url_for("admin.course", code=code) + "#keys")


@bp.post("/admin/courses/<code>/rescore")
def rescore(code: str):
    """Re-score every test of the course from the raw submissions, as a background job."""
    course = _course(code)
    job = jobs.enqueue(
        db.session,
        "courses.rescore",
        owner_id=g.user.id,
        params={"course": course.code},
        now=_now(),
        message="Đang chờ chấm lại / Waiting to re-score",
    )
    db.session.commit()
    worker.wake(current_app)
    return redirect(url_for("admin.job_page", job_id=job.id), 303)


@bp.post("/admin/courses/<code>/identities/<int:submission_id>")
def link_identity(code: str, submission_id: int):
    """Say which enrolled trainee sent a test under a name not on the roster (re-scores it)."""
    course = _course(code)
    try:
        reconciliation.link_identity(
            db.session,
            course,
            submission_id,
            request.form.get("person_code", ""),
            user=g.user,
            now=_now(),
        )
        db.session.commit()
    except ServiceError as error:
        return _failed(course, error, "identities")
    flash(t("Đã ghép bài làm với học viên.", "The test is linked to the trainee."), "ok")
    return redirect(url_for("admin.course", code=code) + "#scores")


@bp.post("/admin/courses/<code>/status")
def set_status(code: str):
    """Close a course (it leaves the tablets' lists) or open it again."""
    course = _course(code)
    try:
        courses_service.update_course(
            db.session, course, {"status": request.form.get("status", "")}
        )
        refresh_pickers(db.session, now=_now())
        db.session.commit()
    except ServiceError as error:
        return _failed(course, error, "status")
    closed = course.status == "closed"
    flash(
        t("Đã đóng khóa học." if closed else "Đã mở lại khóa học.",
          "The course is closed." if closed else "The course is open again."),
        "ok",
    )  # fmt: skip
    return redirect(url_for("admin.course", code=code))
