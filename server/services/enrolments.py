"""Enrolments: who takes a course, whether they came, whether they completed it.

Split from ``services/courses`` (a course's own definition): enrolling people from the
register, importing attendance and completion, marking a course's attendance page, and the
completion a passed post-test earns (``complete_enrolment``, an explicit step of the intake).

Enrolling someone who is not in post on the course's dates is allowed (people move; registers
lag) but never silent: the warning is returned and shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.errors import InvalidCourse, InvalidRequest, PersonNotFound
from server.models import Course, Enrolment, Person, Posting
from server.services.roster import people_in_post
from server.services.submission_queries import unit_ids_under


@dataclass
class EnrolResult:
    """People enrolled, already enrolled, and warnings about the others."""

    enrolled: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def enrol(session: Session, course: Course, person_codes: Sequence[str]) -> EnrolResult:
    """Enrol people by their codes (flushes); enrolling someone twice changes nothing.

    The insert skips a pair already there (``ON CONFLICT DO NOTHING`` on the unique
    course-person constraint), so two requests racing (a double click, two trainers) enrol
    each person once and neither fails.

    :raises PersonNotFound: naming the codes that are not in the register.
    """
    person_codes = list(dict.fromkeys(c.strip() for c in person_codes if c.strip()))
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
    wanted = []
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
        wanted.append(person)
    inserted = _insert_enrolments(session, course, [p.id for p in wanted])
    for person in wanted:
        (result.enrolled if person.id in inserted else result.already).append(person.code)
    return result


def _insert_enrolments(session: Session, course: Course, person_ids: list[int]) -> set[int]:
    """Insert enrolments, skipping pairs already stored; return the people inserted."""
    if not person_ids:
        return set()
    session.flush()
    table = Enrolment.__table__
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    statement = insert.on_conflict_do_nothing(
        index_elements=[table.c.course_id, table.c.person_id]
    ).returning(table.c.person_id)
    rows = [
        {"course_id": course.id, "person_id": pid, "attendance": "enrolled",
         "completion": "in_progress"}
        for pid in person_ids
    ]  # fmt: skip
    # executemany with RETURNING: SQLAlchemy batches it as one INSERT … VALUES (…), (…)
    inserted = {pid for (pid,) in session.execute(statement, rows)}
    session.expire(course, ["enrolments"])
    return inserted


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


#: What an enrolment row may be wrong by: (English, Vietnamese).
_ROW_PROBLEMS = {
    "course": ("unknown course", "không có khóa học này"),
    "other_course": (
        "course {code} is not this course ({this})",
        "khóa học {code} không phải khóa này ({this})",
    ),
    "person": ("unknown person", "không có cán bộ này trong danh sách"),
    "attendance": ("unknown attendance", "điểm danh không hợp lệ (có mặt / vắng)"),
    "completion": ("unknown completion", "kết quả không hợp lệ (đạt / không đạt)"),
}


def import_enrolments(
    session: Session, filename: str, content: bytes, *, course: Course | None = None
) -> EnrolResult:
    """Enrol people and record attendance and completion from a CSV, all or nothing (flushes).

    Columns: ``course_code`` (Mã khóa học), ``person_code`` (Mã cán bộ), optional
    ``attendance`` (Điểm danh: có mặt / vắng) and ``completion`` (Hoàn thành: đạt / không đạt).

    :param course: the one course the file is for (a course's page): a row without a course
        code is for it, and a row naming another course is a bad row.
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
    if course is None:
        courses = {c.code: c for c in session.execute(sa.select(Course)).scalars()}
    else:
        courses = {course.code: course, "": course}
    people = dict(session.execute(sa.select(Person.code, Person.id)).all())
    problems, plan = [], []
    for number, row in enumerate(rows, start=2):
        code = (row.get("course_code") or "").strip()
        found = courses.get(code)
        person = people.get((row.get("person_code") or "").strip())
        attendance = _ATTENDANCE.get((row.get("attendance") or "enrolled").strip().lower())
        completion = _COMPLETION.get((row.get("completion") or "in_progress").strip().lower())
        if found is None or person is None or attendance is None or completion is None:
            what = (
                ("other_course" if course is not None else "course")
                if found is None
                else "person"
                if person is None
                else "attendance"
                if attendance is None
                else "completion"
            )
            en, vi = _ROW_PROBLEMS[what]
            this = course.code if course is not None else ""
            problems.append(
                {
                    "row": number,
                    "error": en.format(code=code, this=this),
                    "error_vi": vi.format(code=code, this=this),
                }
            )
            continue
        plan.append((found, person, attendance, completion))
    if problems or not plan:
        raise InvalidCourse(file=filename, reason="rows" if problems else "no_rows", rows=problems)
    result = EnrolResult()
    for target, person_id, attendance, completion in plan:
        inserted = _insert_enrolments(session, target, [person_id])
        enrolment = session.execute(
            sa.select(Enrolment).where(
                Enrolment.course_id == target.id, Enrolment.person_id == person_id
            )
        ).scalar_one()
        (result.enrolled if inserted else result.already).append(str(person_id))
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
    session.flush()  # a pending change to the enrolment goes first, as a read would have done
    changed = (
        session.execute(
            _COMPLETE,
            {
                "b_course": completion.course_id,
                "b_person": completion.person_id,
                "on": completion.on,
            },
        )
        .scalars()
        .all()
    )
    for enrolment_id in changed:  # an ORM copy in this session is stale now
        loaded = session.identity_map.get(session.identity_key(Enrolment, enrolment_id))
        if loaded is not None:
            session.expire(loaded)
    return bool(changed)


#: One prebuilt UPDATE instead of a read then a write: the intake runs it for every passed
#: post-test, and building the ORM statement cost as much as running it.
_COMPLETE = (
    sa.update(Enrolment.__table__)
    .where(
        Enrolment.__table__.c.course_id == sa.bindparam("b_course"),
        Enrolment.__table__.c.person_id == sa.bindparam("b_person"),
        Enrolment.__table__.c.completion != "completed",
    )
    .values(
        completion="completed", source="post_test", completed_on=sa.bindparam("on", type_=sa.Date)
    )
    .returning(Enrolment.__table__.c.id)
)


def register_search(
    session: Session,
    course: Course,
    *,
    q: str | None,
    whole_register: bool = False,
    reader_units: set[int] | None = None,
    limit: int = 50,
) -> list[dict]:
    """People to enrol: in post on the course's first day, in its venue's units by default.

    :param session: the database session.
    :param course: the course.
    :param q: part of a name or person code (None or empty: everyone in scope).
    :param whole_register: search every unit, not only the venue's (a course for a province
        may take people from anywhere).
    :param reader_units: the units the reader may see (None: all), from the policy.
    :param limit: at most this many people.
    :return: the register's rows (``roster.people_in_post``) with ``enrolled`` added.
    """
    units = reader_units
    if course.venue_unit_code and not whole_register:
        venue = unit_ids_under(session, course.venue_unit_code, course.start_date)
        units = venue if units is None else units & venue
    rows = people_in_post(session, on=course.start_date, unit_ids=units, q=q, limit=limit)
    enrolled = set(
        session.execute(
            sa.select(Person.code)
            .join(Enrolment, Enrolment.person_id == Person.id)
            .where(Enrolment.course_id == course.id)
        ).scalars()
    )
    for row in rows:
        row["enrolled"] = row["person_code"] in enrolled
    return rows


ATTENDANCE = ("enrolled", "attended", "absent")
COMPLETION = ("in_progress", "completed", "not_completed")


def record_attendance(
    session: Session, course: Course, marks: Mapping[str, Mapping[str, str]]
) -> int:
    """Record the attendance and completion of several trainees at once (flushes).

    Every value is checked before anything is written, and only what differs is written, so
    saving a page again leaves the enrolments (and who completed them how) as they are.

    :param session: the database session.
    :param course: the course.
    :param marks: ``{person_code: {"attendance": …, "completion": …}}`` (either key may be
        missing).
    :return: the number of enrolments changed.
    :raises InvalidRequest: a value outside :data:`ATTENDANCE` / :data:`COMPLETION`.
    :raises PersonNotFound: someone not enrolled on the course.
    """
    choices = {"attendance": ATTENDANCE, "completion": COMPLETION}
    for code, values in marks.items():
        for name, value in values.items():
            if name not in choices or value not in choices[name]:
                raise InvalidRequest(
                    reason="not_a_choice",
                    field=f"{name} ({code})",
                    choices=list(choices.get(name, choices["attendance"])),
                    fields={name: [f"not one of {', '.join(choices.get(name, ()))}"]},
                )
    current = {
        e.person.code: e
        for e in session.execute(
            sa.select(Enrolment).where(Enrolment.course_id == course.id)
        ).scalars()
    }
    changed = 0
    for code, values in marks.items():
        enrolment = current.get(code)
        if enrolment is None:
            raise PersonNotFound(reason="not_enrolled", person_code=code, course=course.code)
        differs = {k: v for k, v in values.items() if getattr(enrolment, k) != v}
        if differs:
            update_enrolment(session, course, code, values=differs)
            changed += 1
    return changed
