"""The programme roll-up (reports spec §3.8): what every course of a period added up to.

For planners and administrators: courses held, class-days and trainer-days; participants as
person-times and unique persons by level, staff category, unit and sex; mean post %, pass
rate, mean gain and ⟨g⟩ per course type and per topic; the overall-satisfaction top-2-box.

Read in four queries whatever the number of courses (enrolments with the posting held on the
course's first day; each trainee-course's first pre and post test, picked by the database with
a window function; the evaluation forms' "overall" answer extracted by the database from the
JSON), then pooled in Python. A passed post-test already completed the enrolment when it was
scored (``scoring._complete``), and completions are what the needs report's KPI numerators
count: the roll-up and the KPIs read the same rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from server.domain.policy import Action
from server.domain.programme import (
    Participant,
    TraineeOutcome,
    likert_answer,
)
from server.domain.report_model import Report, ReportColumn, ReportSection
from server.models import (
    AdminUnit,
    Course,
    Enrolment,
    ExamScore,
    Form,
    FormVersion,
    Person,
    Posting,
    Submission,
    SubmissionLink,
)
from server.services import programme_tables as tables
from server.services.permissions import readable_courses

C = ReportColumn
PERIODS = ("year", "quarter")
OVERALL = "overall"


@dataclass(frozen=True)
class ProgrammeFilter:
    """Which courses: started within [start, end], of a type, covering a topic."""

    start: dt.date | None = None
    end: dt.date | None = None
    period: str = "year"
    course_type: str | None = None
    topic: str | None = None

    def keeps(self, course: Course) -> bool:
        """Whether a course is in the roll-up."""
        return (
            (self.start is None or course.start_date >= self.start)
            and (self.end is None or course.start_date <= self.end)
            and (self.course_type is None or course.course_type == self.course_type)
            and (self.topic is None or self.topic in (course.topics or []))
        )


def build_programme_report(
    session: Session,
    who,
    selection: ProgrammeFilter,
    *,
    now: dt.datetime,
    everything: bool = False,
) -> Report:
    """The roll-up of the courses ``who`` may read (planners: held in their units).

    :param session: the database session.
    :param who: the reader.
    :param selection: the period and filters.
    :param now: when the report is made.
    :param everything: every course, whoever reads (the CLI: a shell is an administrator).
    :return: the report.
    """
    candidates = (
        list(session.execute(sa.select(Course)).scalars())
        if everything
        else readable_courses(session, who, Action.REPORT_PROGRAMME)
    )
    courses = [c for c in candidates if selection.keeps(c)]
    courses.sort(key=lambda c: (c.start_date, c.code))
    ids = [c.id for c in courses]
    enrolled = _enrolments(session, ids)
    outcomes = _outcomes(session, ids)
    ratings = _overall_ratings(session, courses)
    report = Report(
        kind="programme",
        parameters={
            "start": selection.start,
            "end": selection.end,
            "period": selection.period,
            "course_type": selection.course_type,
            "topic": selection.topic,
            "courses": len(courses),
        },
        as_of=now.date(),
        generated_at=now,
        unit_code="",
        unit_name="",
    )
    section = ReportSection(
        "R", "Tổng hợp chương trình đào tạo", "Programme roll-up", charts=["R4"]
    )
    section.tables.append(tables.held_table(courses, enrolled, selection.period))
    section.tables.append(tables.participants_table(enrolled))
    section.tables.append(tables.outcomes_table(courses, outcomes, ratings))
    per_course = tables.courses_table(courses, enrolled, outcomes, ratings)
    section.tables.append(per_course)
    report.sections.append(section)
    report.charts["R4"] = {
        "courses": [
            {
                "label": r["code"],
                "value": r["mean_gain"],
                "low": r["gain_low"],
                "high": r["gain_high"],
            }
            for r in per_course.rows[-30:]
            if r["mean_gain"] is not None
        ]
    }
    if not courses:
        report.empty_reason_vi = "Không có khóa học nào trong phạm vi và thời gian đã chọn."
        report.empty_reason_en = "No course in the chosen scope and period."
    return report


# --------------------------------------------------------------------------- reading


def _streaming(session: Session, statement):
    """Rows of one statement read in batches (a server-side cursor on PostgreSQL).

    100,000 enrolments fetched at once cost more memory than the roll-up itself. The options
    go on the statement: set on the connection they would stay for its later statements
    (an INSERT cannot run in a cursor).
    """
    return session.connection().execute(
        statement.execution_options(stream_results=True, yield_per=5000)
    )


def _enrolments(session: Session, ids: list[int]) -> list[Participant]:
    if not ids:
        return []
    unit, parent = aliased(AdminUnit), aliased(AdminUnit)
    active = sa.and_(
        Posting.person_id == Enrolment.person_id,
        Posting.valid_from <= Course.start_date,
        sa.or_(Posting.valid_to.is_(None), Posting.valid_to >= Course.start_date),
    )
    rows = _streaming(
        session,
        sa.select(
            Enrolment.course_id,
            Enrolment.person_id,
            Enrolment.completion,
            Person.sex,
            Posting.level,
            Posting.job_category,
            # a hamlet's collaborators are counted in their commune
            sa.case((unit.level == "village", parent.name), else_=unit.name),
        )
        .join(Course, Course.id == Enrolment.course_id)
        .join(Person, Person.id == Enrolment.person_id)
        .outerjoin(Posting, active)
        .outerjoin(unit, unit.id == Posting.unit_id)
        .outerjoin(parent, parent.id == unit.parent_id)
        .where(Enrolment.course_id.in_(ids))
        .order_by(Enrolment.course_id, Enrolment.person_id, Posting.id),
    )
    seen: dict[tuple[int, int], Participant] = {}
    for course_id, person_id, completion, sex, level, category, unit_name in rows:
        if (course_id, person_id) not in seen:  # two postings that day: the first stands
            seen[(course_id, person_id)] = Participant(
                course_id, person_id, completion == "completed", sex, level, category, unit_name
            )
    return list(seen.values())


def _outcomes(session: Session, ids: list[int]) -> list[TraineeOutcome]:
    """Each linked trainee-course's first pre and post test (§3.1: first for statistics)."""
    if not ids:
        return []
    when = sa.func.coalesce(Submission.submitted_at, Submission.received_at)
    ranked = (
        sa.select(
            SubmissionLink.course_id,
            SubmissionLink.person_id,
            ExamScore.phase,
            ExamScore.percent,
            ExamScore.passed,
            sa.func.row_number()
            .over(
                partition_by=(SubmissionLink.course_id, SubmissionLink.person_id, ExamScore.phase),
                order_by=(when, Submission.id),
            )
            .label("rn"),
        )
        .join(SubmissionLink, SubmissionLink.submission_id == ExamScore.submission_id)
        .join(Submission, Submission.id == ExamScore.submission_id)
        .where(
            SubmissionLink.course_id.in_(ids),
            SubmissionLink.person_id.is_not(None),  # fallback identities wait (§3.10)
            Submission.is_current.is_(True),
            Submission.deleted_at.is_(None),
            ExamScore.phase.in_(("pre", "post")),
        )
        .subquery()
    )
    is_pre, is_post = ranked.c.phase == "pre", ranked.c.phase == "post"
    rows = _streaming(
        session,
        sa.select(
            ranked.c.course_id,
            ranked.c.person_id,
            sa.func.max(sa.case((is_pre, ranked.c.percent))),
            sa.func.max(sa.case((is_post, ranked.c.percent))),
            sa.func.max(sa.case((is_post, sa.cast(ranked.c.passed, sa.Integer)))),
        )
        .where(ranked.c.rn == 1)
        .group_by(ranked.c.course_id, ranked.c.person_id),
    )
    return [
        TraineeOutcome(cid, pid, pre, post, None if passed is None else bool(passed))
        for cid, pid, pre, post, passed in rows
    ]


def _overall_ratings(session: Session, courses: list[Course]) -> dict[int, list[int]]:
    """Course id → its evaluation forms' "overall satisfaction" answers (1–5)."""
    by_form: dict[str, list[int]] = defaultdict(list)
    for course in courses:
        if course.satisfaction_form_id:
            by_form[course.satisfaction_form_id].append(course.id)
    ratings: dict[int, list[int]] = defaultdict(list)
    for form_id, ids in by_form.items():
        path = _overall_path(session, form_id)
        if path is None:
            continue
        rows = _streaming(
            session,
            sa.select(SubmissionLink.course_id, Submission.data[path].as_string())
            .join(SubmissionLink, SubmissionLink.submission_id == Submission.id)
            .join(Form, Form.id == Submission.form_pk)
            .where(
                Form.form_id == form_id,
                SubmissionLink.course_id.in_(ids),
                Submission.is_current.is_(True),
                Submission.deleted_at.is_(None),
            ),
        )
        for course_id, value in rows:
            if (rating := likert_answer(value)) is not None:
                ratings[course_id].append(rating)
    return ratings


def _overall_path(session: Session, form_id: str) -> tuple[str, ...] | None:
    """Where the form keeps "overall" in a submission's data (its groups), newest version."""
    schema = session.scalar(
        sa.select(FormVersion.schema)
        .join(Form, Form.id == FormVersion.form_pk)
        .where(Form.form_id == form_id)
        .order_by(FormVersion.id.desc())
        .limit(1)
    )
    for f in (schema or {}).get("fields", []):
        if f.get("name") == OVERALL and not f.get("repeat"):
            parts = [p for p in (f.get("path") or f"/data/{OVERALL}").split("/") if p]
            return tuple(parts[1:])  # without the root element
    return None
