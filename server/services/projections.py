"""The registry of what the reports derive from each stored submission.

A projection reads a submission that is already committed and writes rows a report reads
(registry links, test scores and item marks, needs ratings). Each one here is:

* **idempotent**: it rewrites its rows for the record, so running it again (a retry from
  Collect, a rebuild) gives the same rows;
* **cheap when it does not apply**: ``applies`` looks only at the version's cached facts
  (``setup_cache.VersionFacts``), so a form with nothing to project costs no query at all;
* **rebuildable**: ``flask --app wsgi scores rebuild`` recomputes every projection from the raw
  submissions, so one that failed after a commit is never a lost submission.

A report that needs a new projection adds one entry to :data:`PROJECTIONS`; the intake runs
them all, in order, after the submission's own commit (``server/services/intake.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from server.services.needs_projection import project_needs
from server.services.scoring import Completion, project_submission
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
