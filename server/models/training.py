"""Courses, enrolments, answer keys, and what is derived from tests (links and scores).

Answer keys belong to a test *form version*: the same items may be keyed differently in another
version. ``SubmissionLink`` and ``TestScore`` are projections: they can be deleted and rebuilt
from the raw submissions at any time (``flask --app wsgi scores rebuild``), which is how a
corrected key re-scores every test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, utcnow
from server.models.roster import Person

COURSE_TYPES = ("dao_tao", "boi_duong", "tap_huan")


class Course(Base):
    """A course of the training programme."""

    __tablename__ = "courses"
    __table_args__ = (
        sa.UniqueConstraint("code"),
        sa.CheckConstraint("end_date >= start_date", name="dates"),
        sa.CheckConstraint("pass_mark BETWEEN 0 AND 100", name="pass_mark"),
        sa.CheckConstraint(f"course_type IN {COURSE_TYPES!r}", name="course_type"),
        sa.CheckConstraint("status IN ('open', 'closed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32))
    title: Mapped[str] = mapped_column(sa.String(255))
    course_type: Mapped[str] = mapped_column(sa.String(16))
    #: Topic codes TP01… the course covers.
    topics: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: Staff level of the audience (province, district, commune, village), if one.
    audience_level: Mapped[str | None] = mapped_column(sa.String(16))
    start_date: Mapped[dt.date] = mapped_column(sa.Date)
    end_date: Mapped[dt.date] = mapped_column(sa.Date)
    venue_unit_code: Mapped[str | None] = mapped_column(sa.String(32))
    organiser: Mapped[str | None] = mapped_column(sa.String(255))
    #: Person codes of the trainers.
    trainers: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: Pass mark in percent of the post-test.
    pass_mark: Mapped[int] = mapped_column(default=70)
    pre_form_id: Mapped[str | None] = mapped_column(sa.String(255))
    post_form_id: Mapped[str | None] = mapped_column(sa.String(255))
    satisfaction_form_id: Mapped[str | None] = mapped_column(sa.String(255))
    #: Certificate code (catalogue) the course issues, if any.
    certificate: Mapped[str | None] = mapped_column(sa.String(32))
    #: Up to three learning objectives, shown in the satisfaction form.
    objectives: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: open: offered on tablets; closed: gone from the pickers at the next form update.
    status: Mapped[str] = mapped_column(sa.String(8), default="open")
    #: The user who created the course; trainers manage the courses they created.
    created_by_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="course")

    def __repr__(self) -> str:
        return f"<Course {self.code}>"


class Enrolment(Base):
    """A person on a course, with attendance and completion."""

    __tablename__ = "enrolments"
    __table_args__ = (
        sa.UniqueConstraint("course_id", "person_id"),
        sa.CheckConstraint("attendance IN ('enrolled', 'attended', 'absent')", name="attendance"),
        sa.CheckConstraint(
            "completion IN ('in_progress', 'completed', 'not_completed')", name="completion"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("persons.id", ondelete="RESTRICT"), index=True
    )
    attendance: Mapped[str] = mapped_column(sa.String(16), default="enrolled")
    completion: Mapped[str] = mapped_column(sa.String(16), default="in_progress")
    completed_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    #: How completion was recorded: import, api, post_test.
    source: Mapped[str | None] = mapped_column(sa.String(16))

    course: Mapped[Course] = relationship(back_populates="enrolments")
    person: Mapped[Person] = relationship()

    def __repr__(self) -> str:
        return f"<Enrolment course={self.course_id} person={self.person_id}>"


class AnswerKey(Base):
    """The correct answer(s) of one item of one test form version."""

    __tablename__ = "answer_keys"
    __table_args__ = (
        sa.UniqueConstraint("form_version_id", "item"),
        sa.CheckConstraint("points > 0", name="points"),
        sa.CheckConstraint("qtype IN ('single', 'multi', 'tf')", name="qtype"),
        sa.CheckConstraint("status IN ('active', 'dropped')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("form_versions.id", ondelete="CASCADE"), index=True
    )
    item: Mapped[str] = mapped_column(sa.String(64))
    qtype: Mapped[str] = mapped_column(sa.String(8))
    #: Correct choice names.
    correct: Mapped[list[str]] = mapped_column(sa.JSON)
    points: Mapped[float] = mapped_column(default=1.0)
    topic: Mapped[str | None] = mapped_column(sa.String(8))
    competency: Mapped[str | None] = mapped_column(sa.String(8))
    #: dropped: excluded from marks and maximum after review.
    status: Mapped[str] = mapped_column(sa.String(8), default="active")

    def __repr__(self) -> str:
        return f"<AnswerKey {self.form_version_id}:{self.item} {self.correct}>"


class SubmissionLink(Base):
    """A submission's picked course and person, resolved to the registry (a projection)."""

    __tablename__ = "submission_links"

    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    course_code: Mapped[str | None] = mapped_column(sa.String(64))
    person_code: Mapped[str | None] = mapped_column(sa.String(64))
    course_id: Mapped[int | None] = mapped_column(sa.ForeignKey("courses.id", ondelete="SET NULL"))
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("persons.id", ondelete="SET NULL"))
    #: The code was sent but matches nothing in the registry (kept as sent, never dropped).
    unknown_course: Mapped[bool] = mapped_column(default=False)
    unknown_person: Mapped[bool] = mapped_column(default=False)


class ExamScore(Base):
    """The server's score of one test submission against its form version's key."""

    __tablename__ = "test_scores"

    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    phase: Mapped[str | None] = mapped_column(sa.String(8))
    #: The bank and its version the attempt says it used (constant calculates of the form).
    bank_id: Mapped[str | None] = mapped_column(sa.String(64))
    bank_version: Mapped[str | None] = mapped_column(sa.String(64))
    #: The form's start/end metadata: the duration flag of the trainee table (spec §3.3).
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    raw: Mapped[float]
    maximum: Mapped[float]
    percent: Mapped[float]
    passed: Mapped[bool | None]
    #: {item: mark} for every active item; blanks score 0 and are listed in ``blank``.
    marks: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    blank: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
