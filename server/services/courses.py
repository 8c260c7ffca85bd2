"""Courses: what defines one (code, dates, topics, its tests), checked, created, changed.

Who takes a course and how they did is ``services/enrolments``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.domain import catalogue
from server.errors import CourseExists, CourseNotFound, InvalidCourse
from server.models import Course, Form
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


#: What a course's values may be wrong by: (English, Vietnamese) message templates. The
#: English messages are the API's ``details['fields']``; the Vietnamese ones its
#: ``details['fields_vi']`` (the pages show each beside its field).
_FIELD_PROBLEMS = {
    "required": ("required", "Bắt buộc nhập"),
    "code_fixed": ("a course's code never changes", "Mã khóa học không đổi được"),
    "too_long": ("at most {limit} characters", "Tối đa {limit} ký tự"),
    "reversed": (
        "{end:%d/%m/%Y} is before the start {start:%d/%m/%Y}",
        "Ngày kết thúc {end:%d/%m/%Y} trước ngày bắt đầu {start:%d/%m/%Y}",
    ),
    "course_type": ("not one of {choices}", "Phải là một trong: {choices}"),
    "pass_mark": ("must be 0-100 (percent)", "Phải từ 0 đến 100 (%)"),
    "topics": ("unknown topic(s) {unknown}", "Chủ đề không có trong danh mục: {unknown}"),
    "certificate": ("not in the certificate catalogue", "Không có trong danh mục chứng chỉ"),
    "form": ("no form {form_id!r}", "Không có biểu mẫu {form_id!r}"),
    "objectives": ("at most 3 learning objectives", "Tối đa 3 mục tiêu học tập"),
    "status": ("not one of open, closed", "Phải là open hoặc closed"),
    "date": ("not a date (YYYY-MM-DD)", "Không phải ngày (YYYY-MM-DD)"),
    "number": ("not a whole number", "Không phải số nguyên"),
}


#: The longest text each field's column holds.
_LIMITS = {
    "code": 32,
    "title": 255,
    "audience_level": 16,
    "venue_unit_code": 32,
    "organiser": 255,
    "pre_form_id": 255,
    "post_form_id": 255,
    "satisfaction_form_id": 255,
}


class _Problems(dict):
    """``{field: [(english, vietnamese)]}``, filled from :data:`_FIELD_PROBLEMS`."""

    def add(self, field_name: str, problem: str, **values) -> None:
        en, vi = _FIELD_PROBLEMS[problem]
        self.setdefault(field_name, []).append((en.format(**values), vi.format(**values)))

    def error(self, code: str) -> InvalidCourse:
        return InvalidCourse(
            reason="fields",
            code=code,
            fields={name: [en for en, _ in found] for name, found in self.items()},
            fields_vi={name: [vi for _, vi in found] for name, found in self.items()},
        )


def _check(session: Session, values: CourseInput, status: str = "open") -> _Problems:
    problems = _Problems()
    for name in ("code", "title"):
        if not getattr(values, name).strip():
            problems.add(name, "required")
    for name, limit in _LIMITS.items():
        if len(getattr(values, name) or "") > limit:
            problems.add(name, "too_long", limit=limit)
    if values.end_date < values.start_date:
        problems.add("end_date", "reversed", end=values.end_date, start=values.start_date)
    if values.course_type not in catalogue.COURSE_TYPES:
        problems.add("course_type", "course_type", choices=", ".join(catalogue.COURSE_TYPES))
    if not 0 <= values.pass_mark <= 100:
        problems.add("pass_mark", "pass_mark")
    unknown_topics = sorted(set(values.topics) - set(catalogue.TOPICS))
    if unknown_topics:
        problems.add("topics", "topics", unknown=", ".join(unknown_topics))
    if values.certificate and values.certificate not in catalogue.CERTIFICATES:
        problems.add("certificate", "certificate")
    for name in ("pre_form_id", "post_form_id", "satisfaction_form_id"):
        form_id = getattr(values, name)
        if form_id and not session.execute(sa.select(Form.id).where(Form.form_id == form_id)
                                           ).first():  # fmt: skip
            problems.add(name, "form", form_id=form_id)
    if len(values.objectives) > 3:
        problems.add("objectives", "objectives")
    if status not in ("open", "closed"):
        problems.add("status", "status")
    return problems


def course_input(form: Mapping[str, Any]) -> CourseInput:
    """A course's values from a page form's strings (dates ISO, lists as lists).

    Empty optional strings become None; list fields drop empty entries.

    :param form: ``code``, ``title``, ``course_type``, ``start_date``, ``end_date``,
        ``pass_mark`` and the optional fields of :class:`CourseInput`.
    :return: the values, still to be checked by :func:`create_course` or
        :func:`update_course`.
    :raises InvalidCourse: a date or the pass mark that does not parse, by field.
    """
    problems = _Problems()

    def date(name: str) -> dt.date:
        try:
            return dt.date.fromisoformat(str(form.get(name) or "").strip())
        except ValueError:
            problems.add(name, "date")
            return dt.date.min

    def text(name: str) -> str | None:
        value = str(form.get(name) or "").strip()
        return value or None

    def listed(name: str) -> list[str]:
        return [str(v).strip() for v in form.get(name) or () if str(v).strip()]

    try:
        pass_mark = int(str(form.get("pass_mark") or "70").strip())
    except ValueError:
        problems.add("pass_mark", "number")
        pass_mark = 70
    values = CourseInput(
        code=text("code") or "",
        title=text("title") or "",
        course_type=text("course_type") or "",
        start_date=date("start_date"),
        end_date=date("end_date"),
        pass_mark=pass_mark,
        topics=listed("topics"),
        audience_level=text("audience_level"),
        venue_unit_code=text("venue_unit_code"),
        organiser=text("organiser"),
        trainers=listed("trainers"),
        pre_form_id=text("pre_form_id"),
        post_form_id=text("post_form_id"),
        satisfaction_form_id=text("satisfaction_form_id"),
        certificate=text("certificate"),
        objectives=listed("objectives"),
    )
    if problems:
        raise problems.error(values.code)
    return values


def values_of(course: Course) -> CourseInput:
    """The values a course was created or last edited with (to fill an edit form)."""
    return CourseInput(**{name: getattr(course, name) for name in _INPUT_FIELDS})


def create_course(
    session: Session,
    values: CourseInput,
    *,
    created_by: int | None = None,
    repeat_ok: bool = False,
) -> Course:
    """Create a course (flushes).

    :param session: the database session.
    :param values: the course's values.
    :param created_by: the user creating it (its owner for the permission policy).
    :param repeat_ok: a course with this code, owner and exactly these values is the one
        asked for, not a conflict: it is returned as it is (a form sent twice by a double
        click creates one course and both answers lead to it).
    :return: the course.
    :raises InvalidCourse: naming every bad field (reversed dates, unknown form…).
    :raises CourseExists: the code is taken (by another course, when ``repeat_ok``).
    """
    problems = _check(session, values)
    if problems:
        raise problems.error(values.code)
    existing = session.execute(
        sa.select(Course).where(Course.code == values.code)
    ).scalar_one_or_none()
    if existing is not None:
        if repeat_ok and existing.created_by_user_id == created_by and _same(existing, values):
            return existing
        raise CourseExists(code=values.code)
    course = Course(**_normalised(values).__dict__, created_by_user_id=created_by)
    session.add(course)
    try:
        session.flush()
    except IntegrityError as exc:  # another process created the same code meanwhile
        raise conflict_for(exc, code=values.code) from exc
    return course


def _same(course: Course, values: CourseInput) -> bool:
    return values_of(course) == _normalised(values)


def _normalised(values: CourseInput) -> CourseInput:
    """The values as a stored course gives them back (lists, not tuples)."""
    return replace(
        values,
        **{
            name: list(getattr(values, name))
            for name in _INPUT_FIELDS
            if isinstance(getattr(values, name), tuple | list)
        },
    )


_INPUT_FIELDS = tuple(f.name for f in fields(CourseInput))


def update_course(session: Session, course: Course, changes: Mapping[str, Any]) -> Course:
    """Change a course's values or status (flushes); its code never changes.

    Tests already sent name the course by its code, so the code stays; everything else is
    checked exactly as on creation.

    :param session: the database session.
    :param course: the course.
    :param changes: field names of :class:`CourseInput` (except ``code``) and ``status``
        (``open`` / ``closed``) with their new values.
    :return: the course.
    :raises InvalidCourse: naming every bad field, the code among them if asked to change.
    """
    changes = dict(changes)
    status = changes.pop("status", course.status)
    wanted = replace(values_of(course), **{k: v for k, v in changes.items() if k != "code"})
    problems = _check(session, wanted, status)
    if changes.get("code", course.code) != course.code:
        problems.add("code", "code_fixed")
    if problems:
        raise problems.error(course.code)
    for name, value in _normalised(wanted).__dict__.items():
        if getattr(course, name) != value:
            setattr(course, name, value)
    course.status = status
    session.flush()
    return course


def get_course(session: Session, code: str) -> Course:
    """Return a course by code.

    :raises CourseNotFound: if there is none.
    """
    course = session.execute(sa.select(Course).where(Course.code == code)).scalar_one_or_none()
    if course is None:
        raise CourseNotFound(code=code)
    return course
