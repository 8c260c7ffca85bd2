"""The registry of what the reports derive from each stored submission.

A projection reads a submission that is already stored and writes rows a report reads
(registry links, test scores and item marks, needs ratings). Each one here is:

* **idempotent**: it rewrites its rows for the record, so running it again (a retry from
  Collect, a rebuild) gives the same rows;
* **cheap when it does not apply**: ``applies`` looks only at the version's cached facts
  (``setup_cache.VersionFacts``), so a form with nothing to project costs no query at all;
* **rebuildable**: ``flask --app wsgi scores rebuild`` recomputes every projection from the raw
  submissions, so one that failed after a commit is never a lost submission.

A report that needs a new projection adds one entry to :data:`PROJECTIONS`; the intake runs
them all, in order, in the submission's own transaction, and after its commit only when one
of them raised (``server/services/intake.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.models import Form, ProjectionFailure, Submission
from server.services.needs_projection import project_needs, rebuild_needs
from server.services.scoring import Completion, project_submission
from server.services.scoring import rebuild as project_scores
from server.services.setup_cache import VersionFacts


@dataclass(frozen=True)
class StoredSubmission:
    """What a projection reads of a stored submission, without loading the ORM row."""

    id: int
    form_pk: int
    form_version_id: int
    root_id: int | None
    is_encrypted: bool
    data: dict[str, Any]
    submitted_at: dt.datetime | None
    received_at: dt.datetime


@dataclass(frozen=True)
class Projection:
    """One derived table set: when it applies, and how to (re)write a submission's rows."""

    name: str
    applies: Callable[[VersionFacts], bool]
    #: (session, submission, version facts, now) → a :class:`Completion` to record, or None.
    run: Callable[[Session, StoredSubmission, VersionFacts, dt.datetime], Completion | None]


def _links_and_scores(
    session: Session, row: StoredSubmission, facts: VersionFacts, now: dt.datetime
) -> Completion | None:
    return project_submission(session, row, now=now, key=facts.key)


def _needs(
    session: Session, row: StoredSubmission, facts: VersionFacts, now: dt.datetime
) -> Completion | None:
    project_needs(session, row, now=now)
    return None


PROJECTIONS: tuple[Projection, ...] = (
    Projection(
        "links, scores and item marks",
        applies=lambda facts: bool(facts.key) or facts.names_course_or_trainee,
        run=_links_and_scores,
    ),
    Projection("needs ratings", applies=lambda facts: bool(facts.rated), run=_needs),
)


def applicable(facts: VersionFacts) -> list[Projection]:
    """The projections a version's submissions feed (often none)."""
    return [p for p in PROJECTIONS if p.applies(facts)]


def record_failures(
    session: Session, submission_id: int, failed: dict[str, Exception], *, now: dt.datetime
) -> None:
    """Keep (or refresh) one row per projection that raised for a submission (no commit).

    :param session: the database session, outside any failed transaction.
    :param submission_id: the stored submission.
    :param failed: projection name → the exception it raised.
    :param now: when.
    """
    for name, exc in failed.items():
        error = f"{type(exc).__name__}: {exc}"[:500]
        found = session.execute(
            sa.select(ProjectionFailure).where(
                ProjectionFailure.submission_id == submission_id,
                ProjectionFailure.projection == name,
            )
        ).scalar_one_or_none()
        if found is None:
            session.add(
                ProjectionFailure(
                    submission_id=submission_id, projection=name, error=error, failed_at=now
                )
            )
        else:
            found.error, found.failed_at = error, now
    session.flush()


def clear_failures(session: Session, submission_ids: list[int] | None = None) -> int:
    """Forget the failures of submissions whose projections were just rebuilt (no commit).

    :param session: the database session.
    :param submission_ids: the rebuilt submissions; None = every one (a full rebuild).
    :return: how many rows went.
    """
    statement = sa.delete(ProjectionFailure)
    if submission_ids is not None:
        statement = statement.where(ProjectionFailure.submission_id.in_(submission_ids))
    return session.execute(statement).rowcount or 0


def rebuild(session: Session, *, now: dt.datetime, form: Form | None = None) -> tuple[int, int]:
    """Recompute every projection from the raw submissions (one form's, or all); no commit.

    The failures kept for what was rebuilt are cleared: a rebuild that raises rolls back with
    them.

    :return: (submissions linked and scored, needs responses projected).
    """
    scored = project_scores(session, now=now, form=form)
    needs = rebuild_needs(session, now=now, form=form)
    if form is None:
        clear_failures(session)
    else:
        of_form = sa.select(Submission.id).where(Submission.form_pk == form.id)
        session.execute(
            sa.delete(ProjectionFailure).where(ProjectionFailure.submission_id.in_(of_form))
        )
    return scored, needs
