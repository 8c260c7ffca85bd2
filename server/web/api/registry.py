"""The registry over the API: staff register, courses, enrolments, answer keys, scores.

Roles: administrators manage everything; trainers create courses and manage the ones they
created (enrolments, keys); planners read the register of the units assigned to them.
"""

from __future__ import annotations

import datetime as dt

from flask import g, jsonify, request

from exports import Output, formats
from server.domain.policy import Action
from server.errors import InvalidRequest
from server.extensions import db
from server.models import Course
from server.services import answer_keys, enrolments, scoring
from server.services import courses as courses_service
from server.services import roster as roster_service
from server.services.forms import get_form
from server.services.permissions import course_owners_of_form, require, units_of
from server.services.pickers import refresh_pickers
from server.services.submission_queries import unit_ids_under
from server.web.api import bp, json_body, operation, parse
from server.web.api.registry_schemas import (
    CourseDetailSchema,
    CourseInputSchema,
    CourseSchema,
    CourseUpdateSchema,
    EnrolInputSchema,
    EnrolmentUpdateSchema,
    EnrolResultSchema,
    KeyResultSchema,
    PersonSchema,
    RosterChangesSchema,
    RosterQuery,
    ScoreSchema,
)
from server.web.downloads import download


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def unit_ids_within(codes: tuple[str, ...] | None, on: dt.date) -> set[int] | None:
    """Unit ids under a reader's unit codes on a day; None = no limit."""
    if codes is None:
        return None
    ids: set[int] = set()
    for code in codes:
        ids |= unit_ids_under(db.session, code, on)
    return ids


def _upload(field: str = "file"):
    upload = request.files.get(field)
    if upload is None:
        raise InvalidRequest(reason="multipart_field", field=field, fields={field: ["required"]})
    return upload


@bp.get("/roster")
@operation(
    "People in post (planners: in their units), with their position of that day",
    tags=("registry",),
    query=RosterQuery,
    response=PersonSchema(many=True),
    errors=(403, 422),
)
def list_roster():
    """List the staff register."""
    args = parse(RosterQuery(), request.args)
    on = args.get("on") or _now().date()
    require(g.user, Action.ROSTER_READ)
    scope = unit_ids_within(units_of(g.user, Action.ROSTER_READ), on)
    if args.get("unit"):
        wanted = unit_ids_under(db.session, args["unit"], on)
        scope = wanted if scope is None else scope & wanted
    people = roster_service.people_in_post(
        db.session,
        on=on,
        unit_ids=scope,
        q=args.get("q"),
        limit=args["limit"],
    )
    return jsonify(PersonSchema(many=True).dump(people))


@bp.post("/roster/import")
@operation(
    "Import the register (multipart: file .xlsx/.csv; dry_run=true to preview)",
    tags=("registry",),
    response=RosterChangesSchema,
    errors=(400, 403),
)
def import_roster():
    """Import the staff register (administrators)."""
    require(g.user, Action.ROSTER_IMPORT)
    upload = _upload()
    dry_run = request.form.get("dry_run", "").lower() in {"1", "true", "yes"}
    changes = roster_service.import_roster(
        upload.filename or "roster.csv",
        upload.read(),
        session=db.session,
        now=_now(),
        dry_run=dry_run,
    )
    if dry_run:
        db.session.rollback()
    else:
        refresh_pickers(db.session, now=_now())
        db.session.commit()
    return jsonify(RosterChangesSchema().dump(changes))


@bp.get("/roster/export.xlsx")
@operation(
    "The register in the import format (people in post today)",
    tags=("registry",),
    content_type=formats.XLSX.media_type,
    errors=(403,),
)
def export_roster():
    """Download the register as XLSX (administrators and trainers)."""
    require(g.user, Action.ROSTER_EXPORT)
    output = Output(tables=lambda: [roster_service.roster_table(db.session)])
    return download(output, formats.XLSX, "danh_sach_can_bo.xlsx")


@bp.get("/roster/template.xlsx")
@operation(
    "An empty register workbook with the headers and every code list",
    tags=("registry",),
    content_type=formats.XLSX.media_type,
)
def roster_template():
    """Download the register template."""
    require(g.user, Action.ROSTER_TEMPLATE)
    output = Output(tables=roster_service.template_tables)
    return download(output, formats.XLSX, "mau_danh_sach_can_bo.xlsx")


def _course_data(course, *, detail: bool = False, people: set[int] | None = None) -> dict:
    data = {
        name: getattr(course, name)
        for name in (
            "code",
            "title",
            "course_type",
            "status",
            "start_date",
            "end_date",
            "pass_mark",
            "topics",
            "trainers",
            "pre_form_id",
            "post_form_id",
            "satisfaction_form_id",
            "objectives",
        )
    }
    data["enrolled"] = len(course.enrolments)
    if detail:
        data["enrolments"] = [
            {
                "person_code": e.person.code,
                "full_name": e.person.full_name,
                "attendance": e.attendance,
                "completion": e.completion,
                "completed_on": e.completed_on,
                "source": e.source,
            }
            for e in sorted(course.enrolments, key=lambda e: e.person.code)
            if people is None or e.person_id in people
        ]
    return data


@bp.get("/courses")
@operation("Courses, by start date", tags=("registry",), response=CourseSchema(many=True))
def list_courses():
    """List courses."""
    require(g.user, Action.COURSE_LIST)
    courses = db.session.execute(db.select(Course).order_by(Course.start_date)).scalars()
    return jsonify(CourseSchema(many=True).dump([_course_data(c) for c in courses]))


@bp.post("/courses")
@operation(
    "Create a course (administrators, trainers)",
    tags=("registry",),
    body=CourseInputSchema,
    response=CourseDetailSchema,
    errors=(400, 403, 409, 422),
)
def create_course():
    """Create a course."""
    require(g.user, Action.COURSE_CREATE)
    values = parse(CourseInputSchema(), json_body())
    course = courses_service.create_course(
        db.session, courses_service.CourseInput(**values), created_by=g.user.id
    )
    refresh_pickers(db.session, now=_now())
    db.session.commit()
    return jsonify(CourseDetailSchema().dump(_course_data(course, detail=True))), 201


@bp.get("/courses/<code>")
@operation(
    "A course with its enrolments", tags=("registry",), response=CourseDetailSchema, errors=(404,)
)
def get_course(code: str):
    """Show one course; its enrolled people only as far as the reader may see them."""
    course = courses_service.get_course(db.session, code)
    require(g.user, Action.COURSE_READ_PEOPLE, owner_ids=[course.created_by_user_id])
    return jsonify(
        CourseDetailSchema().dump(_course_data(course, detail=True, people=_people(course)))
    )


def _people(course) -> set[int] | None:
    """Enrolled people the reader may see: a planner, those posted in their units."""
    units = unit_ids_within(units_of(g.user, Action.COURSE_READ_PEOPLE), course.start_date)
    if units is None:
        return None
    ids = {e.person_id for e in course.enrolments}
    return enrolments.people_posted_in(db.session, ids, units, course.start_date)


@bp.patch("/courses/<code>")
@operation(
    "Close or reopen a course, change its title or pass mark",
    tags=("registry",),
    body=CourseUpdateSchema,
    response=CourseDetailSchema,
    errors=(403, 404, 422),
)
def update_course(code: str):
    """Change a course (its managers)."""
    course = courses_service.get_course(db.session, code)
    require(g.user, Action.COURSE_MANAGE, owner_ids=[course.created_by_user_id])
    courses_service.update_course(db.session, course, parse(CourseUpdateSchema(), json_body()))
    refresh_pickers(db.session, now=_now())
    db.session.commit()
    return jsonify(CourseDetailSchema().dump(_course_data(course, detail=True)))


@bp.post("/courses/<code>/enrolments")
@operation(
    "Enrol people by person code; warns about people not in post on the dates",
    tags=("registry",),
    body=EnrolInputSchema,
    response=EnrolResultSchema,
    errors=(403, 404, 422),
)
def enrol(code: str):
    """Enrol people on a course (its managers)."""
    course = courses_service.get_course(db.session, code)
    require(g.user, Action.COURSE_MANAGE, owner_ids=[course.created_by_user_id])
    values = parse(EnrolInputSchema(), json_body())
    result = enrolments.enrol(db.session, course, values["person_codes"])
    refresh_pickers(db.session, now=_now())
    db.session.commit()
    return jsonify(EnrolResultSchema().dump(result))


@bp.patch("/courses/<code>/enrolments/<person_code>")
@operation(
    "Record attendance or completion",
    tags=("registry",),
    body=EnrolmentUpdateSchema,
    response=CourseDetailSchema,
    errors=(403, 404, 422),
)
def update_enrolment(code: str, person_code: str):
    """Update one enrolment (the course's managers)."""
    course = courses_service.get_course(db.session, code)
    require(g.user, Action.COURSE_MANAGE, owner_ids=[course.created_by_user_id])
    values = parse(EnrolmentUpdateSchema(), json_body())
    enrolments.update_enrolment(db.session, course, person_code, values=values)
    db.session.commit()
    return jsonify(CourseDetailSchema().dump(_course_data(course, detail=True)))


@bp.post("/forms/<form_id>/answer-key")
@operation(
    "Upload the answer key of a test form version (multipart: file; version) and "
    "re-score its submissions",
    tags=("registry",),
    response=KeyResultSchema,
    errors=(400, 403, 404),
)
def upload_key(form_id: str):
    """Replace an answer key (administrators, trainers)."""
    form = get_form(db.session, form_id)
    require(g.user, Action.KEY_UPLOAD, owner_ids=course_owners_of_form(db.session, form))
    upload = _upload()
    result = answer_keys.import_answer_key(
        form,
        upload.filename or "key.csv",
        upload.read(),
        session=db.session,
        now=_now(),
        version=request.form.get("version") or None,
    )
    db.session.commit()
    return jsonify(KeyResultSchema().dump(result))


@bp.get("/forms/<form_id>/scores")
@operation(
    "Server scores of a test form's submissions, with their course and trainee",
    tags=("registry",),
    response=ScoreSchema(many=True),
    errors=(403, 404),
)
def form_scores(form_id: str):
    """List the scores of a test form."""
    form = get_form(db.session, form_id)
    require(g.user, Action.SCORES_READ, form=form)
    return jsonify(ScoreSchema(many=True).dump(scoring.scores_of_form(db.session, form)))
