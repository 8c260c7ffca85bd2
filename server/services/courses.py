"""Courses and enrolments.

Enrolling someone who is not in post on the course's dates is allowed (people move; registers
lag) but never silent: the warning is returned and shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.domain import catalogue
from server.errors import (
    CourseExists,
    CourseNotFound,
    InvalidCourse,
    PersonNotFound,
)
from server.models import Course, Enrolment, Form, Person, Posting
from server.models.integrity import conflict_for


@dataclass
class CourseInput:
    """What defines a course."""

    code: str
    title: str
    course_type: str
    start_date: dt.date
    end_date: dt.date
    pass_mark: int = 70
    topics: Sequence[str] = ()
    audience_level: str | None = None
    venue_unit_code: str | None = None
    organiser: str | None = None
    trainers: Sequence[str] = ()
    pre_form_id: str | None = None
    post_form_id: str | None = None
    satisfaction_form_id: str | None = None
    certificate: str | None = None
    objectives: Sequence[str] = ()


@dataclass
class EnrolResult:
    """People enrolled, already enrolled, and warnings about the others."""

    enrolled: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _check(session: Session, values: CourseInput) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if not values.code.strip() or not values.title.strip():
        problems["code"] = ["code and title are required"]
    if values.end_date < values.start_date:
        problems["end_date"] = [
            f"{values.end_date:%d/%m/%Y} is before the start {values.start_date:%d/%m/%Y}"
        ]
    if values.course_type not in catalogue.COURSE_TYPES:
        problems["course_type"] = [f"not one of {', '.join(catalogue.COURSE_TYPES)}"]
    if not 0 <= values.pass_mark <= 100:
        problems["pass_mark"] = ["must be 0-100 (percent)"]
    unknown_topics = sorted(set(values.topics) - set(catalogue.TOPICS))
    if unknown_topics:
        problems["topics"] = [f"unknown topic(s) {', '.join(unknown_topics)}"]
    if values.certificate and values.certificate not in catalogue.CERTIFICATES:
        problems["certificate"] = ["not in the certificate catalogue"]
    for name in ("pre_form_id", "post_form_id", "satisfaction_form_id"):
        form_id = getattr(values, name)
        if form_id and not session.execute(sa.select(Form.id).where(Form.form_id == form_id)
                                           ).first():  # fmt: skip
            problems[name] = [f"no form {form_id!r}"]
    if len(values.objectives) > 3:
        problems["objectives"] = ["at most 3 learning objectives"]
    return problems


def create_course(
    session: Session, values: CourseInput, *, created_by: int | None = None
) -> Course:
    """Create a course (flushes).

    :raises InvalidCourse: naming every bad field (reversed dates, unknown form…).
    :raises CourseExists: the code is taken.
    """
    problems = _check(session, values)
    if problems:
        raise InvalidCourse(reason="fields", code=values.code, fields=problems)
    if session.execute(sa.select(Course.id).where(Course.code == values.code)).first():
        raise CourseExists(code=values.code)
    fields = {
        k: (list(v) if isinstance(v, tuple | list) else v) for k, v in values.__dict__.items()
    }
    course = Course(**fields, created_by_user_id=created_by)
    session.add(course)
    try:
        session.flush()
    except IntegrityError as exc:  # another process created the same code meanwhile
        raise conflict_for(exc, code=values.code) from exc
    return course


def get_course(session: Session, code: str) -> Course:
    """Return a course by code.

    :raises CourseNotFound: if there is none.
    """
    course = session.execute(sa.select(Course).where(Course.code == code)).scalar_one_or_none()
    if course is None:
        raise CourseNotFound(code=code)
    return course


def enrol(session: Session, course: Course, person_codes: Sequence[str]) -> EnrolResult:
    """Enrol people by their codes (flushes).

    :raises PersonNotFound: naming the codes that are not in the register.
    """
    people = {
        p.code: p
        for p in session.execute(sa.select(Person).where(Person.code.in_(person_codes))).scalars()
    }
    missing = sorted(set(person_codes) - set(people))
    if missing:
        raise PersonNotFound(reason="unknown_codes", person_codes=missing)
    result = EnrolResult()
    enrolled = set(
        session.execute(
            sa.select(Enrolment.person_id).where(Enrolment.course_id == course.id)
        ).scalars()
    )
    for code in person_codes:
        person = people[code]
        if person.id in enrolled:
            result.already.append(code)
            continue
        if not _in_post(session, person, course):
            result.warnings.append(
                f"{code} ({person.full_name}) không đương nhiệm trong thời gian khóa học / "
                f"is not in post between {course.start_date:%d/%m/%Y} and "
                f"{course.end_date:%d/%m/%Y}"
            )
        session.add(Enrolment(course_id=course.id, person_id=person.id))
        enrolled.add(person.id)
        result.enrolled.append(code)
    session.flush()
    return result


def _in_post(session: Session, person: Person, course: Course) -> bool:
    return (
        session.execute(
            sa.select(Posting.id).where(
                Posting.person_id == person.id,
                Posting.valid_from <= course.end_date,
                sa.or_(Posting.valid_to.is_(None), Posting.valid_to >= course.start_date),
            )
        ).first()
        is not None
    )


def people_posted_in(
    session: Session, person_ids: set[int], unit_ids: set[int], on: dt.date
) -> set[int]:
    """Which of these people held a position in one of these units on a day.

    :param session: the database session.
    :param person_ids: the people asked about.
    :param unit_ids: the units (already expanded to sub-units and former units).
    :param on: the day.
    :return: the ids among ``person_ids`` posted there that day.
    """
    if not person_ids or not unit_ids:
        return set()
    rows = session.execute(
        sa.select(Posting.person_id).where(
            Posting.person_id.in_(person_ids),
            Posting.unit_id.in_(unit_ids),
            Posting.valid_from <= on,
            sa.or_(Posting.valid_to.is_(None), Posting.valid_to >= on),
        )
    )
    return {person_id for (person_id,) in rows}


def update_enrolment(
    session: Session, course: Course, person_code: str, *, values: dict
) -> Enrolment:
    """Record attendance or completion of one enrolment (flushes).

    :raises PersonNotFound: if the person is not enrolled on the course.
    """
    enrolment = session.execute(
        sa.select(Enrolment)
        .join(Person, Person.id == Enrolment.person_id)
        .where(Enrolment.course_id == course.id, Person.code == person_code)
    ).scalar_one_or_none()
    if enrolment is None:
        raise PersonNotFound(reason="not_enrolled", person_code=person_code, course=course.code)
    for name, value in values.items():
        setattr(enrolment, name, value)
    if values.get("completion") == "completed":
        enrolment.source = "api"
    session.flush()
    return enrolment


_ATTENDANCE = {
    "enrolled": "enrolled",
    "attended": "attended",
    "absent": "absent",
    "đăng ký": "enrolled",
    "có mặt": "attended",
    "vắng": "absent",
}
_COMPLETION = {
    "in_progress": "in_progress",
    "completed": "completed",
    "not_completed": "not_completed",
    "đang học": "in_progress",
    "hoàn thành": "completed",
    "đạt": "completed",
    "không đạt": "not_completed",
    "chưa hoàn thành": "not_completed",
}


def import_enrolments(session: Session, filename: str, content: bytes) -> EnrolResult:
    """Enrol people and record attendance and completion from a CSV, all or nothing (flushes).

    Columns: ``course_code`` (Mã khóa học), ``person_code`` (Mã cán bộ), optional
    ``attendance`` (Điểm danh: có mặt / vắng) and ``completion`` (Hoàn thành: đạt / không đạt).

    :raises InvalidCourse: listing every bad row (unknown course, person or value).
    """
    import csv
    import io

    from server.domain.catalogue import fold

    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidCourse(file=filename, reason="not_utf8", rows=[]) from exc
    aliases = {
        "ma khoa hoc": "course_code",
        "ma can bo": "person_code",
        "diem danh": "attendance",
        "hoan thanh": "completion",
    }
    reader = csv.reader(io.StringIO(text))
    header = [aliases.get(fold(h), fold(h).replace(" ", "_")) for h in next(reader, [])]
    rows = [dict(zip(header, r, strict=False)) for r in reader if any(c.strip() for c in r)]
    courses = {c.code: c for c in session.execute(sa.select(Course)).scalars()}
    people = dict(session.execute(sa.select(Person.code, Person.id)).all())
    problems, plan = [], []
    for number, row in enumerate(rows, start=2):
        course = courses.get((row.get("course_code") or "").strip())
        person = people.get((row.get("person_code") or "").strip())
        attendance = _ATTENDANCE.get((row.get("attendance") or "enrolled").strip().lower())
        completion = _COMPLETION.get((row.get("completion") or "in_progress").strip().lower())
        if course is None or person is None or attendance is None or completion is None:
            what = (
                "course"
                if course is None
                else "person"
                if person is None
                else "attendance"
                if attendance is None
                else "completion"
            )
            problems.append({"row": number, "error": f"unknown {what}"})
            continue
        plan.append((course, person, attendance, completion))
    if problems or not plan:
        raise InvalidCourse(file=filename, reason="rows" if problems else "no_rows", rows=problems)
    result = EnrolResult()
    for course, person_id, attendance, completion in plan:
        enrolment = session.execute(
            sa.select(Enrolment).where(
                Enrolment.course_id == course.id, Enrolment.person_id == person_id
            )
        ).scalar_one_or_none()
        if enrolment is None:
            enrolment = Enrolment(course_id=course.id, person_id=person_id)
            session.add(enrolment)
            result.enrolled.append(str(person_id))
        else:
            result.already.append(str(person_id))
        enrolment.attendance = attendance
        if completion != "in_progress" or enrolment.completion == "in_progress":
            enrolment.completion = completion
            enrolment.source = "import" if completion == "completed" else enrolment.source
    session.flush()
    return result


def complete_enrolment(session: Session, completion) -> bool:
    """Record a completion a passed post-test earned (flushes).

    An explicit step of the intake and of re-scoring, never hidden in a projection: it changes
    a record people rely on (the needs report's KPI numerators count completions). A completion
    recorded otherwise (by hand, on an import) is never undone or re-dated.

    :param session: the database session.
    :param completion: a :class:`server.services.scoring.Completion` (course, person, date).
    :return: whether an enrolment changed.
    """
    enrolment = session.execute(
        sa.select(Enrolment).where(
            Enrolment.course_id == completion.course_id,
            Enrolment.person_id == completion.person_id,
        )
    ).scalar_one_or_none()
    if enrolment is None or enrolment.completion == "completed":
        return False
    enrolment.completion, enrolment.source = "completed", "post_test"
    enrolment.completed_on = completion.on
    session.flush()
    return True
