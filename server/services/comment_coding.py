"""Recoding an open comment of a course evaluation by hand (spec §3.7.4, ``comment_codes``).

Automatic keyword coding gives every comment a first code; a trainer reading the comments
corrects it on the report page. The codes given by hand replace the automatic ones for that
comment (several codes allowed, from the code frame), are stored with who and when, and every
report built afterwards (page, workbook, PDF, programme) counts them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.domain.satisfaction import CODE_FRAME, NO_COMMENT_CODE
from server.domain.scoring import find_answers
from server.errors import InvalidRequest, SubmissionNotFound
from server.models import CommentCode, Course, Form, Submission, SubmissionLink, User

FRAME_NUMBERS = frozenset(code.number for code in CODE_FRAME)


def recode_comment(
    session: Session,
    course: Course,
    submission_id: int,
    question: str,
    codes: Sequence[int],
    *,
    user: User | None,
    now: dt.datetime,
) -> list[int]:
    """Replace the codes of one comment (flushes).

    :param course: the course whose evaluation the comment belongs to.
    :param submission_id: the evaluation form's submission.
    :param question: the open question (``improve``…).
    :param codes: the codes, from the frame; an empty list returns the comment to automatic
        coding.
    :raises SubmissionNotFound: not an evaluation of this course.
    :raises InvalidRequest: a code outside the frame, or no comment under that question.
    :return: the stored codes, sorted.
    """
    wanted = sorted({int(c) for c in codes})
    unknown = [c for c in wanted if c not in FRAME_NUMBERS]
    if unknown:
        raise InvalidRequest(reason="unknown_codes", field="codes", codes=unknown)
    if NO_COMMENT_CODE in wanted and len(wanted) > 1:
        raise InvalidRequest(reason="code_99_alone", field="codes")
    data = session.execute(
        sa.select(Submission.data)
        .join(Form, Form.id == Submission.form_pk)
        .join(SubmissionLink, SubmissionLink.submission_id == Submission.id)
        .where(
            Submission.id == submission_id,
            Form.form_id == (course.satisfaction_form_id or ""),
            SubmissionLink.course_id == course.id,
            Submission.is_current.is_(True),
            Submission.deleted_at.is_(None),
        )
    ).scalar_one_or_none()
    if data is None:
        raise SubmissionNotFound(
            reason="not_course_evaluation", submission_id=submission_id, course=course.code
        )
    text = find_answers(data or {}, [question]).get(question)
    if not isinstance(text, str) or not text.strip():
        raise InvalidRequest(
            reason="no_comment", field="question", submission_id=submission_id, question=question
        )
    session.execute(
        sa.delete(CommentCode).where(
            CommentCode.submission_id == submission_id, CommentCode.question == question
        )
    )
    session.add_all(
        CommentCode(
            submission_id=submission_id,
            question=question,
            code=code,
            coded_by_user_id=user.id if user is not None else None,
            coded_at=now,
        )
        for code in wanted
    )
    session.flush()
    return wanted
