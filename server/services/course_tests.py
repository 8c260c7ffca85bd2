"""A course's tests as its page shows them: the answer keys, each trainee's scores, a re-score.

The keys and scores are the projections of ``services/scoring`` read back per course; the
re-score is one call (:func:`rescore_course`) so that it can move to a background job
unchanged when a job runner takes long work off the request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.models import (
    AnswerKey,
    Course,
    ExamScore,
    Form,
    FormVersion,
    Submission,
    SubmissionLink,
)
from server.services.projections import rebuild

#: The course fields naming its scored tests, in the order a page shows them.
TEST_FIELDS = (("pre", "pre_form_id"), ("post", "post_form_id"))


@dataclass
class KeyState:
    """The answer key of one of a course's test forms, as it stands."""

    phase: str
    form_id: str
    #: The form's current version, and the newest version that has a key (None: no key).
    current_version: str | None
    keyed_version: str | None
    items: list[AnswerKey] = field(default_factory=list)

    @property
    def current_is_keyed(self) -> bool:
        """Whether tests on the current version are scored (the key is for that version)."""
        return self.keyed_version is not None and self.keyed_version == self.current_version

    @property
    def dropped(self) -> list[str]:
        """Items taken out of the score after review."""
        return [k.item for k in self.items if k.status == "dropped"]


def scored_forms(session: Session, course: Course) -> list[Form]:
    """The course's pre- and post-test forms that are published (pre first)."""
    wanted = [getattr(course, name) for _, name in TEST_FIELDS if getattr(course, name)]
    if not wanted:
        return []
    found = {
        f.form_id: f
        for f in session.execute(sa.select(Form).where(Form.form_id.in_(wanted))).scalars()
    }
    return [found[form_id] for form_id in dict.fromkeys(wanted) if form_id in found]


def key_states(session: Session, course: Course) -> list[KeyState]:
    """The key of each of the course's test forms: version keyed, items, dropped items.

    :param session: the database session.
    :param course: the course.
    :return: one state per test form set on the course and published (pre first).
    """
    forms = {f.form_id: f for f in scored_forms(session, course)}
    states = []
    for phase, name in TEST_FIELDS:
        form = forms.get(getattr(course, name) or "")
        if form is None:
            continue
        versions = list(
            session.execute(
                sa.select(FormVersion.id, FormVersion.version)
                .where(FormVersion.form_pk == form.id)
                .order_by(FormVersion.id.desc())
            )
        )
        keyed = session.execute(
            sa.select(FormVersion.id, FormVersion.version)
            .where(FormVersion.form_pk == form.id)
            .where(sa.exists().where(AnswerKey.form_version_id == FormVersion.id))
            .order_by(FormVersion.id.desc())
            .limit(1)
        ).first()
        items = []
        if keyed is not None:
            items = list(
                session.execute(
                    sa.select(AnswerKey)
                    .where(AnswerKey.form_version_id == keyed.id)
                    .order_by(AnswerKey.id)
                ).scalars()
            )
        states.append(
            KeyState(
                phase=phase,
                form_id=form.form_id,
                current_version=versions[0].version if versions else None,
                keyed_version=keyed.version if keyed is not None else None,
                items=items,
            )
        )
    return states


@dataclass
class TraineeScores:
    """A trainee's latest scored pre- and post-test on the course (None: none yet)."""

    pre: ExamScore | None = None
    post: ExamScore | None = None


def course_scores(session: Session, course: Course) -> dict[int, TraineeScores]:
    """Each trainee's latest pre- and post-test score on the course (one query).

    Tests sent under a name not on the roster have no person yet (``reconciliation.waiting``
    lists them).

    :param session: the database session.
    :param course: the course.
    :return: scores by person id.
    """
    rows = session.execute(
        sa.select(SubmissionLink.person_id, ExamScore)
        .join(ExamScore, ExamScore.submission_id == SubmissionLink.submission_id)
        .join(Submission, Submission.id == SubmissionLink.submission_id)
        .where(
            SubmissionLink.course_id == course.id,
            SubmissionLink.person_id.is_not(None),
            Submission.is_current.is_(True),
            Submission.deleted_at.is_(None),
        )
        .order_by(Submission.id)
    )
    by_person: dict[int, TraineeScores] = {}
    for person_id, score in rows:
        if score.phase in ("pre", "post"):
            setattr(by_person.setdefault(person_id, TraineeScores()), score.phase, score)
    return by_person


def rescore_course(
    session: Session,
    course: Course,
    *,
    now: dt.datetime,
    progress: Callable[..., None] | None = None,
) -> int:
    """Re-link and re-score every submission of the course's test forms (flushes).

    A full re-score from the raw submissions (``projections.rebuild`` per test form, as
    ``scores rebuild FORM_ID`` does, its kept projection failures cleared): what an
    answer key fixed after a course, a roster corrected after the tests or an identity linked
    by hand needs to show everywhere. Completions a passed post-test earns are recorded. The
    pages run it as a background job (``courses.rescore``).

    :param session: the database session.
    :param course: the course.
    :param now: the time of the re-score.
    :param progress: ``progress(done, total, message, force=…)``, called per test form.
    :return: the number of submissions projected.
    """
    forms = scored_forms(session, course)
    count = 0
    for done, form in enumerate(forms):
        if progress is not None:
            progress(done, len(forms), f"Đang chấm {form.form_id} / Scoring {form.form_id}")
        count += rebuild(session, now=now, form=form)[0]
    if progress is not None:
        progress(len(forms), len(forms), "Xong / Done", force=True)
    return count
