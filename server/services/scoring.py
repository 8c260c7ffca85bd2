"""The projections derived from test submissions: registry links, scores and item marks.

A key belongs to one test form version (``answer_keys`` imports it); ``project_submission``
links and scores one submission at intake, and ``rebuild`` recomputes every link and score
from the raw submissions, so these tables are never the source of truth.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.domain.scoring import KeyItem, find_answers, score
from server.models import (
    Course,
    ExamScore,
    Form,
    IdentityLink,
    ItemMarks,
    Person,
    Submission,
    SubmissionLink,
)
from server.services.enrolments import complete_enrolment
from server.services.setup_cache import answer_key

#: Answer names that pick a course and a person from the server-generated lists.
COURSE_FIELD = "course_code"
PERSON_FIELDS = ("trainee_id", "staff_id")
#: Constant calculates and metadata a test form sends beside its items (forms spec §4).
_ATTEMPT_FIELDS = ("phase", "bank_id", "bank_version", "start", "end")


@dataclass(frozen=True)
class Completion:
    """A post-test passed by a trainee of a known course: what completes their enrolment.

    Scoring finds it; completing is the caller's explicit next step
    (:func:`server.services.enrolments.complete_enrolment`), never a side effect of projecting.
    """

    course_id: int
    person_id: int
    on: dt.date


def project_submission(
    session: Session, row, *, now: dt.datetime, key: Sequence[KeyItem] | None = None
) -> Completion | None:
    """Link a submission to the registry and score it when its version is keyed (flushes).

    :param session: the database session.
    :param row: the submission (current version; encrypted ones are skipped): a
        :class:`~server.models.Submission` or anything with its ``id``, ``form_version_id``,
        ``data``, ``is_encrypted``, ``submitted_at`` and ``received_at``.
    :param now: the computation time.
    :param key: the version's key, if already loaded.
    :return: the completion a passed post-test earns, for the caller to record.
    """
    if row.is_encrypted:
        return None
    data = row.data or {}
    picked = find_answers(data, [COURSE_FIELD, *PERSON_FIELDS])
    course_code = picked.get(COURSE_FIELD)
    person_code = next((picked[f] for f in PERSON_FIELDS if picked.get(f)), None)
    if person_code == "_notlisted":
        person_code = None
    codes = {
        "submission_id": row.id,
        "course_code": str(course_code) if course_code else None,
        "person_code": str(person_code) if person_code else None,
    }
    key = answer_key(session, row.form_version_id) if key is None else key
    if session.get_bind().dialect.name == "postgresql":
        return _project_postgresql(session, row, codes, key, data, now)
    course, person = _registry(session, course_code, person_code)
    if person is None and key and course is not None:
        # a trainer may have said who sent a test under a name not on the roster (§3.10)
        person = session.scalar(
            sa.select(IdentityLink.person_id).where(IdentityLink.submission_id == row.id)
        )
    _upsert(
        session,
        SubmissionLink,
        **codes,
        course_id=course.id if course else None,
        person_id=person,
        unknown_course=bool(course_code) and course is None,
        unknown_person=bool(person_code) and person is None,
    )
    if not key:
        session.flush()
        return None
    exam, marks = _scored(row, key, data, now)
    exam["passed"] = passed = _passed(exam["percent"], course.pass_mark if course else None)
    _upsert(session, ExamScore, **exam)
    if marks is not None:
        session.execute(_upsert_statement(ItemMarks.__table__, "sqlite", tuple(marks)), marks)
    session.flush()
    return _completion(row, exam["phase"], passed, course.id if course else None, person)


def _scored(row, key: Sequence[KeyItem], data: dict, now: dt.datetime) -> tuple[dict, dict | None]:
    """The score row (without ``passed``, which needs the course) and the item marks row."""
    answers = find_answers(data, [k.item for k in key])
    result = score(answers, key)
    meta = find_answers(data, list(_ATTEMPT_FIELDS))
    exam = {
        "submission_id": row.id,
        "phase": meta.get("phase"),
        "bank_id": _text(meta.get("bank_id")),
        "bank_version": _text(meta.get("bank_version")),
        "started_at": _instant(meta.get("start")),
        "ended_at": _instant(meta.get("end")),
        "raw": result.raw,
        "maximum": result.maximum,
        "percent": result.percent,
        "marks": result.marks,
        "blank": result.blank,
        "computed_at": now,
    }
    return exam, _item_marks(row, key, answers, result.marks)


def _passed(percent: float, pass_mark: float | None) -> bool | None:
    """``Score.passed``: the percent reaches the course's pass mark; None without a course."""
    return None if pass_mark is None else percent >= pass_mark


def _completion(row, phase, passed, course_id, person_id) -> Completion | None:
    if passed and phase == "post" and course_id is not None and person_id is not None:
        return Completion(course_id, person_id, (row.submitted_at or row.received_at).date())
    return None


def _project_postgresql(
    session: Session, row, codes: dict, key: Sequence[KeyItem], data: dict, now: dt.datetime
) -> Completion | None:
    """PostgreSQL: look up, link, score and mark a submission in one statement (one round trip).

    The same rows as the SQLite path above, which reads the course and person first and
    computes ``passed`` in Python: here the statement finds them itself (``_LINK_SQL``) and
    compares the percent with the course's pass mark, then returns what the completion needs.
    """
    if not key:
        session.execute(_LINKED_POSTGRESQL, codes)
        _expire(session, row.id)
        session.flush()
        return None
    exam, marks = _scored(row, key, data, now)
    found = session.execute(
        _SCORED_POSTGRESQL,
        # the item marks row as one JSON text: psycopg dumps a str in C, four lists in Python
        {**codes, **exam, "marks_row": None if marks is None else json.dumps(marks)},
    ).one()
    _expire(session, row.id)
    session.flush()
    return _completion(row, exam["phase"], found.passed, found.course_id, found.person_id)


def _expire(session: Session, submission_id: int) -> None:
    """Rows just rewritten by a statement: an ORM copy in this session is stale."""
    for model in (SubmissionLink, ExamScore):
        loaded = session.identity_map.get(session.identity_key(model, submission_id))
        if loaded is not None:
            session.expire(loaded)


def _registry(session: Session, course_code, person_code) -> tuple[sa.Row | None, int | None]:
    """The course (id, pass mark) and the person a submission names, in one round trip.

    A scored test names both; looking them up in one statement instead of two is one round
    trip less per submission on the intake's hot path.
    """
    if not course_code and not person_code:
        return None, None
    found = session.execute(
        _REGISTRY,
        {
            "course": str(course_code) if course_code else None,
            "person": str(person_code) if person_code else None,
        },
    ).one()
    course = _CourseRow(found.course_id, found.pass_mark) if found.course_id is not None else None
    return course, found.person_id


@dataclass(frozen=True)
class _CourseRow:
    id: int
    pass_mark: float | None


_COURSES, _PERSONS = Course.__table__, Person.__table__
#: A NULL code matches nothing (``code = NULL`` is never true), so one statement serves all.
_REGISTRY = sa.select(
    sa.select(_COURSES.c.id)
    .where(_COURSES.c.code == sa.bindparam("course", type_=sa.String))
    .scalar_subquery()
    .label("course_id"),
    sa.select(_COURSES.c.pass_mark)
    .where(_COURSES.c.code == sa.bindparam("course", type_=sa.String))
    .scalar_subquery()
    .label("pass_mark"),
    sa.select(_PERSONS.c.id)
    .where(_PERSONS.c.code == sa.bindparam("person", type_=sa.String))
    .scalar_subquery()
    .label("person_id"),
)


#: The course and the person a submission names, as CTEs ``course`` (id, pass mark) and
#: ``person`` (one row, its id or NULL). A NULL code matches nothing.
_LOOKUP_SQL = (
    "course AS (SELECT id, pass_mark FROM courses WHERE code = CAST(:course_code AS text)), "
    "known AS (SELECT id FROM persons WHERE code = CAST(:person_code AS text)), "
)
#: The link row from those CTEs, as :func:`project_submission` builds it on SQLite.
_LINK_SQL = (
    "INSERT INTO submission_links (submission_id, course_code, person_code, course_id, "
    "person_id, unknown_course, unknown_person) "
    "SELECT :submission_id, CAST(:course_code AS text), CAST(:person_code AS text), "
    "(SELECT id FROM course), person.id, "
    "CAST(:course_code AS text) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM course), "
    "CAST(:person_code AS text) IS NOT NULL AND person.id IS NULL FROM person "
    "ON CONFLICT (submission_id) DO UPDATE SET course_code = excluded.course_code, "
    "person_code = excluded.person_code, course_id = excluded.course_id, "
    "person_id = excluded.person_id, unknown_course = excluded.unknown_course, "
    "unknown_person = excluded.unknown_person"
)

#: PostgreSQL: the link of a submission that is not scored.
_LINKED_POSTGRESQL = sa.text(
    f"WITH {_LOOKUP_SQL}person AS (SELECT (SELECT id FROM known) AS id) {_LINK_SQL}"  # noqa: S608
)


#: The item marks row's columns, as ``json_populate_record`` reads them from its JSON object.
_MARKS_COLUMNS = "submission_id, form_version_id, items, marks, max_marks, responses"


def _scored_postgresql() -> sa.TextClause:
    scores = ExamScore.__table__
    names = [c.name for c in scores.columns if c.name != "passed"]
    updates = ", ".join(f"{n} = excluded.{n}" for n in [*names[1:], "passed"])
    statement = sa.text(
        f"WITH {_LOOKUP_SQL}"  # noqa: S608 (names from the metadata, values bound)
        # a trainer may have said who sent a test under a name not on the roster (§3.10)
        "person AS (SELECT COALESCE((SELECT id FROM known), CASE WHEN EXISTS "
        "(SELECT 1 FROM course) THEN (SELECT person_id FROM identity_links "
        "WHERE submission_id = :submission_id LIMIT 1) END) AS id), "
        f"link AS ({_LINK_SQL}), "
        f"score AS (INSERT INTO test_scores ({', '.join(names)}, passed) "
        f"VALUES ({', '.join(':' + n for n in names)}, "
        "(SELECT CAST(:percent AS double precision) >= pass_mark FROM course)) "
        f"ON CONFLICT (submission_id) DO UPDATE SET {updates} RETURNING passed), "
        f"marks AS (INSERT INTO test_item_marks ({_MARKS_COLUMNS}) SELECT {_MARKS_COLUMNS} "
        "FROM json_populate_record(NULL::test_item_marks, CAST(:marks_row AS json)) "
        "WHERE CAST(:marks_row AS json) IS NOT NULL ON CONFLICT (submission_id) DO UPDATE SET "
        "form_version_id = excluded.form_version_id, items = excluded.items, "
        "marks = excluded.marks, max_marks = excluded.max_marks, "
        "responses = excluded.responses) "
        "SELECT (SELECT id FROM course) AS course_id, person.id AS person_id, "
        "(SELECT passed FROM score) AS passed FROM person"
    )
    typed = {c.name: c.type for c in scores.columns if c.name != "passed"}
    return statement.bindparams(*(sa.bindparam(name, type_=t) for name, t in typed.items()))


#: PostgreSQL: a scored test's lookups and its three projection upserts as one statement.
_SCORED_POSTGRESQL = _scored_postgresql()


def _upsert(session: Session, model: type[SubmissionLink | ExamScore], **values) -> None:
    """Insert a projection row, or overwrite the one already there, in one statement.

    Two identical submissions posted at once are both answered 201 and both projected; with a
    read-then-insert the loser would hit the primary key (``UniqueViolation``) and log a
    traceback for nothing. ``INSERT … ON CONFLICT DO UPDATE`` (SQLite and PostgreSQL alike)
    makes the projection idempotent: both compute the same values from the same XML.
    """
    dialect = session.get_bind().dialect.name
    session.execute(_upsert_statement(model.__table__, dialect, tuple(values)), values)
    loaded = session.identity_map.get(session.identity_key(model, values["submission_id"]))
    if loaded is not None:
        session.expire(loaded)  # the row changed under the ORM's copy


@functools.cache
def _upsert_statement(table: sa.Table, dialect: str, columns: tuple[str, ...]) -> sa.Insert:
    """The upsert of these columns, built once per table, dialect and column set.

    Built without values, so each submission only binds parameters: constructing the
    statement and its ``excluded`` references per call was a fifth of a scored test's CPU.
    """
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    keys = [c.name for c in table.primary_key.columns]
    return insert.on_conflict_do_update(
        index_elements=[table.c[k] for k in keys],
        set_={name: insert.excluded[name] for name in columns if name not in keys},
    )


def _item_marks(row, key: Sequence[KeyItem], answers: dict, marks: dict[str, float]) -> dict | None:
    """The attempt's row of the item matrix: each active item's mark, maximum and response.

    Item analysis (spec §3.5) needs the attempt × item matrix and the distractor table (§3.6)
    the responses; reading them here once, at scoring time, spares every report from parsing
    every submission again. One row per attempt, the items in key order (``ItemMarks``);
    None when the key has no active item. Upserted for the same reason as :func:`_upsert`; on
    PostgreSQL in one statement with the link and the score (``_SCORED_POSTGRESQL``).
    """
    active = [item for item in key if not item.dropped]
    if not active:
        return None
    return {
        "submission_id": row.id,
        "form_version_id": row.form_version_id,
        "items": [item.item for item in active],
        "marks": [marks.get(item.item, 0.0) for item in active],
        "max_marks": [item.points for item in active],
        "responses": [_response(answers.get(item.item)) for item in active],
    }


def _response(answer) -> str | None:
    """The stored answer as text (space-separated choice names), None when blank."""
    if answer in (None, "", []):
        return None
    text = " ".join(map(str, answer)) if isinstance(answer, list) else str(answer)
    return text[:255]


def _text(value) -> str | None:
    return None if value in (None, "") else str(value)[:64]


def _instant(value) -> dt.datetime | None:
    """An ODK ``start``/``end`` value as an aware UTC time (None when absent or unreadable)."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        return None  # a time without its offset cannot be placed; the flag is left out
    return moment.astimezone(dt.UTC)


def rebuild(
    session: Session, *, now: dt.datetime, version_id: int | None = None, form: Form | None = None
) -> int:
    """Recompute links and scores from the raw submissions (of one version, one form, or all).

    :return: the number of submissions projected.
    """
    query = sa.select(Submission).where(
        Submission.is_current.is_(True), Submission.deleted_at.is_(None)
    )
    if version_id is not None:
        query = query.where(Submission.form_version_id == version_id)
    if form is not None:
        query = query.where(Submission.form_pk == form.id)
    keys: dict[int, Sequence[KeyItem]] = {}
    count = 0
    for row in session.execute(query.order_by(Submission.id)).scalars():
        if row.form_version_id not in keys:
            keys[row.form_version_id] = answer_key(session, row.form_version_id)
            of_version = sa.select(Submission.id).where(
                Submission.form_version_id == row.form_version_id
            )
            session.execute(sa.delete(ExamScore).where(ExamScore.submission_id.in_(of_version)))
            session.execute(sa.delete(ItemMarks).where(ItemMarks.submission_id.in_(of_version)))
        completion = project_submission(session, row, now=now, key=keys[row.form_version_id])
        if completion is not None:
            complete_enrolment(session, completion)
        count += 1
    return count


def scores_of_form(session: Session, form: Form) -> list[dict]:
    """Every current scored submission of a form, oldest first, with its registry link."""
    query = (
        sa.select(Submission.id, Submission.instance_id, ExamScore, SubmissionLink)
        .join(ExamScore, ExamScore.submission_id == Submission.id)
        .outerjoin(SubmissionLink, SubmissionLink.submission_id == Submission.id)
        .where(
            Submission.form_pk == form.id,
            Submission.is_current.is_(True),
            Submission.deleted_at.is_(None),
        )
        .order_by(Submission.received_at, Submission.id)
    )
    rows = []
    for submission_id, instance_id, result, link in session.execute(query):
        rows.append(
            {
                "submission_id": submission_id,
                "instance_id": instance_id,
                "phase": result.phase,
                "course_code": link.course_code if link else None,
                "person_code": link.person_code if link else None,
                "unknown_course": bool(link and link.unknown_course),
                "unknown_person": bool(link and link.unknown_person),
                "raw": result.raw,
                "maximum": result.maximum,
                "percent": result.percent,
                "passed": result.passed,
                "marks": result.marks,
                "blank": result.blank,
            }
        )
    return rows
