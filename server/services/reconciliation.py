"""Tests sent under a name not on the roster, and linking them to a person (spec §3.10).

A trainee missing from the tablet's list picks "not on the list" and types a name, birth year,
phone and unit. Such an attempt counts in its phase's descriptives but in no matched analysis
until a trainer says who it is. The link is stored (``identity_links``) and the submission is
projected again, so the attempt joins the person's results (and may complete the enrolment)
and every later rebuild keeps the link.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.domain.scoring import find_answers
from server.errors import InvalidRequest, PersonNotFound, SubmissionNotFound
from server.models import (
    Course,
    Enrolment,
    ExamScore,
    IdentityLink,
    Person,
    Submission,
    SubmissionLink,
    User,
)
from server.services.enrolments import complete_enrolment
from server.services.scoring import project_submission

#: The fallback identity's questions in the standard test forms.
FALLBACK_FIELDS = ("fb_name", "fb_birth_year", "fb_phone", "fb_unit")


def waiting(session: Session, course: Course) -> list[dict]:
    """The course's scored tests without a person, oldest first, with what the sender typed."""
    rows = session.execute(
        sa.select(
            Submission.id,
            Submission.data,
            sa.func.coalesce(Submission.submitted_at, Submission.received_at),
            SubmissionLink.person_code,
            ExamScore.phase,
            ExamScore.percent,
        )
        .join(SubmissionLink, SubmissionLink.submission_id == Submission.id)
        .join(ExamScore, ExamScore.submission_id == Submission.id)
        .where(
            SubmissionLink.course_id == course.id,
            SubmissionLink.person_id.is_(None),
            Submission.is_current.is_(True),
            Submission.deleted_at.is_(None),
        )
        .order_by(Submission.id)
    )
    out = []
    for sid, data, sent_at, code, phase, percent in rows:
        typed = find_answers(data or {}, list(FALLBACK_FIELDS))
        out.append(
            {
                "submission_id": sid,
                "phase": phase,
                "sent_at": sent_at,
                "code_sent": code,
                "percent": percent,
                **{name: typed.get(name) for name in FALLBACK_FIELDS},
            }
        )
    return out


def link_identity(
    session: Session,
    course: Course,
    submission_id: int,
    person_code: str,
    *,
    user: User | None,
    now: dt.datetime,
) -> int:
    """Say who sent a fallback test: an enrolled trainee of the course (flushes).

    :raises SubmissionNotFound: not a scored test of this course still waiting for a person.
    :raises PersonNotFound: no such person in the register.
    :raises InvalidRequest: the person is not enrolled in the course.
    :return: the person's id.
    """
    row = session.execute(
        sa.select(Submission)
        .join(SubmissionLink, SubmissionLink.submission_id == Submission.id)
        .join(ExamScore, ExamScore.submission_id == Submission.id)
        .where(
            Submission.id == submission_id,
            SubmissionLink.course_id == course.id,
            SubmissionLink.person_id.is_(None),
            Submission.is_current.is_(True),
            Submission.deleted_at.is_(None),
        )
    ).scalar_one_or_none()
    if row is None:
        raise SubmissionNotFound(
            reason="not_pending_test", submission_id=submission_id, course=course.code
        )
    person = session.execute(
        sa.select(Person).where(Person.code == person_code)
    ).scalar_one_or_none()
    if person is None:
        raise PersonNotFound(person_code=person_code)
    enrolled = session.scalar(
        sa.select(sa.func.count())
        .select_from(Enrolment)
        .where(Enrolment.course_id == course.id, Enrolment.person_id == person.id)
    )
    if not enrolled:
        raise InvalidRequest(
            reason="not_enrolled", field="person_code", person_code=person_code, course=course.code
        )
    session.add(
        IdentityLink(
            submission_id=row.id,
            person_id=person.id,
            linked_by_user_id=user.id if user is not None else None,
            linked_at=now,
        )
    )
    session.flush()
    completion = project_submission(session, row, now=now)
    if completion is not None:
        complete_enrolment(session, completion)
    return person.id
