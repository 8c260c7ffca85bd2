"""TNA answers as rows: the needs report's projection of the raw needs-assessment submissions.

``needs_responses`` (one per assessment), ``needs_ratings`` (one per competency of the form)
and ``needs_choices`` (one per picked option) are derived, never the source of truth: they are
written after each submission's own commit (:func:`project_needs`, called next to the scoring
projection) and can be rebuilt from the raw submissions at any time (:func:`rebuild_needs`,
``flask --app wsgi needs rebuild``, also run by ``scores rebuild``).

Only the current, not deleted, not encrypted version of a record is projected: an edit
(``deprecatedID``) replaces the rows of the version it replaces, a soft delete removes them and
a restore brings them back. Each row says whether it ``counted``: a person (matched to the
register) who answered more than once in a survey wave counts once, with their latest answer
(by the form's ``end`` time, then the time received, then arrival order). Whatever order the
answers arrive in, the group of that person and wave is recounted in the same transaction.

Concurrency: projecting a record locks its first version's row (``FOR NO KEY UPDATE`` on
PostgreSQL; SQLite serialises writers anyway), so two identical posts projecting at once run
one after the other and the second replaces the first's rows instead of colliding on the
primary key; recounting a person's wave locks that person's row for the same reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.domain.tna import TnaResponse, competencies, declined, read_response
from server.models import (
    Form,
    FormVersion,
    NeedsChoice,
    NeedsRating,
    NeedsResponse,
    Person,
    Submission,
)

#: How many submissions a rebuild reads, matches and writes at a time.
BATCH_SIZE = 500
_TABLES = (NeedsChoice, NeedsRating, NeedsResponse)  # children first
_RESPONDENT = ("level", "staff_cat", "job_position", "unit_code", "responded_on", "wave")

Group = tuple[int, str]  # (person_id, wave)


def rated_competencies(session: Session, form_version_id: int) -> tuple[str, ...]:
    """The competencies a form version rates; empty = not a needs assessment.

    :param session: the database session.
    :param form_version_id: the version.
    :return: ``C01``… in form order.
    """
    schema = session.execute(
        sa.select(FormVersion.schema).where(FormVersion.id == form_version_id)
    ).scalar_one_or_none()
    return competencies((schema or {}).get("fields", ()))


def project_needs(session: Session, row: Submission, *, now: dt.datetime) -> bool:
    """Project the record a submission belongs to, if its form is a needs assessment (flushes).

    Safe to run any number of times: the record's rows are deleted and written again. Call it
    after a submission arrives (new, edited or resent), is deleted or is restored.

    :param session: the database session.
    :param row: any version of the record.
    :param now: the projection time.
    :return: whether the form is a needs assessment (False: nothing was done).
    """
    rated = rated_competencies(session, row.form_version_id)
    if not rated:
        return False
    root = row.root_id or row.id
    session.execute(  # one projection of a record at a time (see the module docstring)
        sa.select(Submission.id).where(Submission.id == root).with_for_update(key_share=True)
    ).all()
    versions = session.execute(
        sa.select(
            Submission.id,
            Submission.form_pk,
            Submission.form_version_id,
            Submission.is_current,
            Submission.deleted_at,
            Submission.is_encrypted,
            Submission.received_at,
        ).where(sa.or_(Submission.id == root, Submission.root_id == root))
    ).all()
    ids = [v.id for v in versions]
    groups: set[Group] = {
        (person_id, wave)
        for person_id, wave in session.execute(
            sa.select(NeedsResponse.person_id, NeedsResponse.wave).where(
                NeedsResponse.submission_id.in_(ids), NeedsResponse.person_id.is_not(None)
            )
        )
    }
    _delete(session, ids)
    live = next(
        (v for v in versions if v.is_current and v.deleted_at is None and not v.is_encrypted),
        None,
    )
    if live is not None:
        if live.form_version_id != row.form_version_id:
            rated = rated_competencies(session, live.form_version_id)
        data = session.execute(
            sa.select(Submission.data).where(Submission.id == live.id)
        ).scalar_one()
        if rated and not declined(data or {}):
            answers = read_response(data or {}, rated=rated, received_at=live.received_at)
            person_id = _people(session, [answers.person_code]).get(answers.person_code)
            if person_id is not None:
                groups.add((person_id, answers.wave))
            _insert(session, [_rows(live.id, live.form_pk, answers, person_id, now)])
    _recount(session, groups)
    session.flush()
    return True


def rebuild_needs(session: Session, *, now: dt.datetime, form: Form | None = None) -> int:
    """Recompute the whole projection (or one form's) from the raw submissions (flushes).

    Submissions are streamed in batches of :data:`BATCH_SIZE`; duplicates in a wave are
    settled by one set-wise update at the end.

    :param session: the database session.
    :param now: the projection time.
    :param form: only this form (default: every needs-assessment form).
    :return: the number of responses projected.
    """
    versions = sa.select(FormVersion.id, FormVersion.schema)
    if form is not None:
        versions = versions.where(FormVersion.form_pk == form.id)
    rated = {
        version_id: found
        for version_id, schema in session.execute(versions)
        if (found := competencies((schema or {}).get("fields", ())))
    }
    if form is None:
        for table in _TABLES:
            session.execute(sa.delete(table))
    else:
        of_form = sa.select(NeedsResponse.submission_id).where(NeedsResponse.form_pk == form.id)
        for table in _TABLES:
            session.execute(sa.delete(table).where(table.submission_id.in_(of_form)))
    if not rated:
        return 0
    query = (
        sa.select(
            Submission.id,
            Submission.form_pk,
            Submission.form_version_id,
            Submission.data,
            Submission.received_at,
        )
        .where(
            Submission.form_version_id.in_(rated),
            Submission.is_current.is_(True),
            Submission.deleted_at.is_(None),
            Submission.is_encrypted.is_(False),
        )
        .order_by(Submission.id)
        .execution_options(yield_per=BATCH_SIZE)
    )
    count = 0
    for batch in session.execute(query).partitions():
        read = [
            (
                s.id,
                s.form_pk,
                read_response(
                    s.data or {}, rated=rated[s.form_version_id], received_at=s.received_at
                ),
            )
            for s in batch
            if not declined(s.data or {})
        ]
        people = _people(session, [answers.person_code for *_, answers in read])
        _insert(
            session,
            [
                _rows(sid, form_pk, answers, people.get(answers.person_code), now)
                for sid, form_pk, answers in read
            ],
        )
        count += len(read)
    _recount(session, None)
    session.flush()
    return count


def _people(session: Session, codes: Iterable[str | None]) -> dict[str, int]:
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    rows = session.execute(sa.select(Person.code, Person.id).where(Person.code.in_(wanted)))
    return dict(rows.all())


def _rows(
    submission_id: int,
    form_pk: int,
    answers: TnaResponse,
    person_id: int | None,
    now: dt.datetime,
) -> tuple[dict, list[dict], list[dict]]:
    """The response row, its rating rows and its choice rows, each with the respondent."""
    values = asdict(answers)
    common = {name: values[name] for name in _RESPONDENT}
    common.update(submission_id=submission_id, counted=True)
    response = {
        **common,
        **{
            name: values[name]
            for name in (
                "person_code",
                "province_code",
                "district_code",
                "commune_code",
                "sex",
                "ethnic_minority",
                "birth_year",
                "years_pop",
                "edu_level",
                "edu_field",
                "cdnn_rank",
                "days_12m",
                "duration_seconds",
                "straightlined",
                "out_of_range",
            )
        },
        "form_pk": form_pk,
        "person_id": person_id,
        "projected_at": now,
    }
    ratings = [
        {
            **common,
            "competency": r.competency,
            "importance": r.importance,
            "performance": r.performance,
        }
        for r in answers.ratings
    ]
    choices = [{**common, "question": q, "code": c} for q, c in answers.choices]
    return response, ratings, choices


def _insert(session: Session, rows: Sequence[tuple[dict, list[dict], list[dict]]]) -> None:
    if not rows:
        return
    session.execute(sa.insert(NeedsResponse), [response for response, _, _ in rows])
    ratings = [r for _, rs, _ in rows for r in rs]
    choices = [c for _, _, cs in rows for c in cs]
    if ratings:
        session.execute(sa.insert(NeedsRating), ratings)
    if choices:
        session.execute(sa.insert(NeedsChoice), choices)


def _delete(session: Session, submission_ids: Sequence[int]) -> None:
    for table in _TABLES:
        session.execute(sa.delete(table).where(table.submission_id.in_(submission_ids)))


def _recount(session: Session, groups: set[Group] | None) -> None:
    """Mark the latest response of each (person, wave) counted and the others not.

    :param groups: the groups to settle; None = every response (rebuild).
    """
    if groups is not None and not groups:
        return
    responses = NeedsResponse.__table__
    if groups is not None:
        person_ids = sorted({person_id for person_id, _ in groups})
        session.execute(  # one recount of a person at a time (see the module docstring)
            sa.select(Person.id).where(Person.id.in_(person_ids)).with_for_update(key_share=True)
        ).all()
        scope = sa.or_(
            *(
                sa.and_(responses.c.person_id == person_id, responses.c.wave == wave)
                for person_id, wave in sorted(groups)
            )
        )
    else:
        scope = responses.c.person_id.is_not(None)
    other = responses.alias("other")
    mine, theirs = Submission.__table__.alias("mine"), Submission.__table__.alias("theirs")
    later = (
        sa.select(sa.literal(1))
        .select_from(other.join(theirs, theirs.c.id == other.c.submission_id), mine)
        .where(
            mine.c.id == responses.c.submission_id,
            other.c.person_id == responses.c.person_id,
            other.c.wave == responses.c.wave,
            other.c.submission_id != responses.c.submission_id,
            _order(theirs) > _order(mine),
        )
        .correlate(responses)
    )
    session.execute(sa.update(responses).where(scope).values(counted=~sa.exists(later)))
    for table in (NeedsRating.__table__, NeedsChoice.__table__):
        verdict = (
            sa.select(responses.c.counted)
            .where(responses.c.submission_id == table.c.submission_id)
            .scalar_subquery()
        )
        changed = table.c.counted != verdict
        if groups is not None:
            changed = sa.and_(
                table.c.submission_id.in_(sa.select(responses.c.submission_id).where(scope)),
                changed,
            )
        session.execute(sa.update(table).where(changed).values(counted=verdict))


def _order(submissions) -> Any:
    """Which of two answers is the later: the form's end, then received, then arrival order."""
    return sa.tuple_(
        sa.func.coalesce(submissions.c.submitted_at, submissions.c.received_at),
        submissions.c.received_at,
        submissions.c.id,
    )
