"""What the evaluation report reads from the database, in a few queries per course.

The report's statistics are pure (``server/domain``); this module turns rows into their inputs:
the roster as ``Trainee``s (unit, level and category from the posting held on the course's
first day), every scored attempt linked to the course as an ``Attempt`` (fallback identities
included: the rules of §3.10 decide what counts), the keys of the bank versions the attempts
used, the item matrices of first attempts (from the ``test_item_marks`` projection), and the
satisfaction answers. One query per kind, never one per trainee.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.domain.evaluation_stats import Attempt, TopicItem, Trainee, select_attempts
from server.domain.item_analysis import ItemSpec
from server.models import (
    AdminUnit,
    AnswerKey,
    Course,
    Enrolment,
    ExamScore,
    Form,
    FormVersion,
    ItemMarks,
    Person,
    Posting,
    Submission,
    SubmissionLink,
)

_ATTENDANCE = {"attended": 100.0, "absent": 0.0}


@dataclass
class Bank:
    """One bank version as keyed: its items in key order, with labels and options."""

    bank_id: str | None
    bank_version: str | None
    version_ids: list[int]
    items: list[ItemSpec]
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)
    options: dict[str, list[str]] = field(default_factory=dict)
    option_labels: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str | None, str | None]:
        """(bank id, version): how attempts name the bank they used."""
        return self.bank_id, self.bank_version

    def topic_items(self) -> list[TopicItem]:
        """Active items with a topic, for the §3.4 sub-scores."""
        return [
            TopicItem(i.item_id, i.topic, i.max_mark)
            for i in self.items
            if i.topic and not i.dropped
        ]


@dataclass
class ItemMatrix:
    """First attempts × items of one bank version and phase (spec §3.5.1)."""

    attempt_ids: list[int]
    trainee_ids: list[str]
    marks: np.ndarray
    blanks: np.ndarray
    responses: list[list[str | None]]
    totals: np.ndarray


@dataclass
class CourseData:
    """Everything one course's report is computed from."""

    course: Course
    trainees: list[Trainee]
    attempts: list[Attempt]
    #: submission id of each attempt (``Attempt.attempt_id`` is its text).
    banks: dict[tuple[str | None, str | None], Bank]
    unit_names: list[str]
    #: submission id → [(item, mark, response)]: the item projection of the course, read once.
    item_rows: dict[int, list[tuple[str, float, str | None]]] = field(default_factory=dict)


def load_course(session: Session, course: Course) -> CourseData:
    """Roster, attempts and keys of one course.

    :param session: the database session.
    :param course: the course.
    :return: the inputs of the course report.
    """
    trainees = _trainees(session, course)
    attempts, item_rows, versions = _attempts(session, course)
    banks = load_banks(session, {(a.bank_id, a.bank_version) for a in attempts}, versions)
    units = sorted({t.unit for t in trainees if t.unit})
    return CourseData(course, trainees, attempts, banks, units, item_rows)


def _trainees(session: Session, course: Course) -> list[Trainee]:
    on = course.start_date
    posting = (
        sa.select(
            Posting.person_id,
            AdminUnit.name.label("unit"),
            Posting.level,
            Posting.job_category,
        )
        .join(AdminUnit, AdminUnit.id == Posting.unit_id)
        .where(Posting.valid_from <= on, sa.or_(Posting.valid_to.is_(None), Posting.valid_to >= on))
        .subquery()
    )
    rows = session.execute(
        sa.select(
            Person.code,
            Person.full_name,
            posting.c.unit,
            posting.c.level,
            posting.c.job_category,
            Enrolment.attendance,
        )
        .join(Enrolment, Enrolment.person_id == Person.id)
        .outerjoin(posting, posting.c.person_id == Person.id)
        .where(Enrolment.course_id == course.id)
        .order_by(Person.code)
    )
    seen: dict[str, Trainee] = {}
    for code, name, unit, level, category, attendance in rows:
        if code not in seen:  # two postings on the day: the first (by code order) stands
            seen[code] = Trainee(
                trainee_id=code,
                name=name,
                unit=unit,
                level=level,
                staff_cat=category,
                attendance_pct=_ATTENDANCE.get(attendance),
            )
    return list(seen.values())


def _attempts(session: Session, course: Course):
    """Every current scored attempt linked to the course, its item rows and its bank versions.

    :return: (attempts, {submission id: [(item, mark, response)]}, {(bank, version): {form
        version ids}}).
    """
    rows = (
        session.connection()
        .execute(
            sa.select(
                Submission.id,
                Submission.form_version_id,
                sa.func.coalesce(Submission.submitted_at, Submission.received_at),
                Person.code,
                SubmissionLink.person_id,
                ExamScore.phase,
                ExamScore.raw,
                ExamScore.maximum,
                ExamScore.bank_id,
                ExamScore.bank_version,
                ExamScore.started_at,
                ExamScore.ended_at,
            )
            .join(ExamScore, ExamScore.submission_id == Submission.id)
            .join(SubmissionLink, SubmissionLink.submission_id == Submission.id)
            .outerjoin(Person, Person.id == SubmissionLink.person_id)
            .where(
                SubmissionLink.course_id == course.id,
                Submission.is_current.is_(True),
                Submission.deleted_at.is_(None),
                ExamScore.phase.in_(("pre", "post")),
            )
            .order_by(Submission.id)
        )
        .all()
    )
    item_rows = _item_rows(session, [r[0] for r in rows])
    # Marks and blanks come from the item rows (the same numbers, without decoding a JSON
    # document per attempt); an attempt scored before item rows existed reads its JSON.
    stored = _stored_marks(session, [r[0] for r in rows if r[0] not in item_rows])
    versions: dict[tuple, set[int]] = defaultdict(set)
    attempts = []
    for (
        sid,
        version_id,
        submitted,
        person_code,
        person_id,
        phase,
        raw,
        maximum,
        bank_id,
        bank_version,
        started,
        ended,
    ) in rows:
        fallback = person_id is None
        if sid in item_rows:
            marks = {item: mark for item, mark, _response in item_rows[sid]}
            blank = [item for item, _mark, response in item_rows[sid] if response is None]
        else:
            marks, blank = stored.get(sid, ({}, []))
        versions[(bank_id, bank_version)].add(version_id)
        attempts.append(
            Attempt(
                trainee_id=person_code if person_code and not fallback else f"?{sid}",
                phase=phase,
                raw=raw,
                maximum=maximum,
                submitted_at=submitted,
                attempt_id=str(sid),
                started_at=started,
                ended_at=ended,
                bank_id=bank_id,
                bank_version=bank_version,
                n_items=len(marks or {}),
                marks=marks or {},
                blank_items=tuple(blank or ()),
                responses=";".join(
                    f"{item}={response or ''}"
                    for item, _mark, response in sorted(item_rows.get(sid, ()))
                ),
                is_fallback_identity=fallback,
            )
        )
    return attempts, item_rows, versions


def _stored_marks(session: Session, submission_ids: Sequence[int]) -> dict[int, tuple]:
    """Marks and blanks as the score row stores them, for attempts without item rows."""
    out: dict[int, tuple] = {}
    for chunk in _chunks(submission_ids):
        for sid, marks, blank in session.connection().execute(
            sa.select(ExamScore.submission_id, ExamScore.marks, ExamScore.blank).where(
                ExamScore.submission_id.in_(chunk)
            )
        ):
            out[sid] = (marks or {}, blank or [])
    return out


def _item_rows(
    session: Session, submission_ids: Sequence[int]
) -> dict[int, list[tuple[str, float, str | None]]]:
    """The item projection of some attempts (item, mark, response), one query per 5,000."""
    rows: dict[int, list[tuple[str, float, str | None]]] = defaultdict(list)
    connection = session.connection()  # plain rows: the ORM layer doubled the time of 160k
    for chunk in _chunks(submission_ids):
        for sid, items, marks, responses in connection.execute(
            sa.select(
                ItemMarks.submission_id, ItemMarks.items, ItemMarks.marks, ItemMarks.responses
            ).where(ItemMarks.submission_id.in_(chunk))
        ):
            rows[sid] = list(zip(items, marks, responses, strict=True))
    return rows


def _chunks(values: Sequence[int], size: int = 5000):
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def load_banks(
    session: Session,
    wanted: set[tuple[str | None, str | None]],
    ids_by_bank: dict[tuple, set[int]],
) -> dict[tuple[str | None, str | None], Bank]:
    """The keys of the bank versions the attempts used, merged over the forms that carry them.

    The pre- and post-test are two forms (two form versions) keyed with the same bank; an
    item's key, points, topic and status are the bank's, so the first keyed version read gives
    them and the others only add their version id (for pooling).
    """
    banks = {}
    for key in wanted:
        version_ids = sorted(ids_by_bank.get(key, ()))
        if not version_ids:
            continue
        banks[key] = load_bank(session, key, version_ids)
    return banks


def load_bank(session: Session, key: tuple, version_ids: list[int]) -> Bank:
    """A bank version's key (items, labels, options) from the form versions that carry it."""
    keys = session.execute(
        sa.select(AnswerKey)
        .where(AnswerKey.form_version_id.in_(version_ids))
        .order_by(AnswerKey.form_version_id, AnswerKey.id)
    ).scalars()
    schemas = dict(
        session.execute(
            sa.select(FormVersion.id, FormVersion.schema).where(FormVersion.id.in_(version_ids))
        ).all()
    )
    items: dict[str, ItemSpec] = {}
    bank = Bank(key[0], key[1], version_ids, [])
    for k in keys:
        if k.item in items:
            continue
        field_ = _field(schemas.get(k.form_version_id), k.item)
        options = [str(c["name"]) for c in (field_ or {}).get("choices") or []]
        items[k.item] = ItemSpec(
            item_id=k.item,
            max_mark=k.points,
            qtype=k.qtype,
            n_options=len(options) or None,
            key=tuple(k.correct),
            topic=k.topic,
            dropped=k.status == "dropped",
        )
        bank.labels[k.item] = _pair((field_ or {}).get("labels") or {})
        bank.options[k.item] = options
        bank.option_labels[k.item] = {
            str(c["name"]): _pair(c.get("labels") or {})
            for c in (field_ or {}).get("choices") or []
        }
    bank.items = list(items.values())
    return bank


def _field(schema: dict | None, name: str) -> dict | None:
    for f in (schema or {}).get("fields", []):
        if f.get("name") == name:
            return f
    return None


def _pair(labels: dict[str, str]) -> tuple[str, str]:
    vi = next((t for lang, t in labels.items() if "vi" in lang.lower()), None)
    en = next((t for lang, t in labels.items() if "(en)" in lang.lower()), None)
    first = next(iter(labels.values()), "")
    return vi or first, en or vi or first


def item_matrix(
    session: Session,
    bank: Bank,
    phase: str,
    attempts: Sequence[Attempt],
    item_rows: dict[int, list[tuple[str, float, str | None]]] | None = None,
) -> ItemMatrix | None:
    """The first attempts' marks of one bank version and phase, item columns in key order.

    :param attempts: the attempts to choose from (one course's, or every course's for the
        pooled analysis); the first of each trainee and phase is used (§3.1).
    :param item_rows: the attempts' item rows when already read (a course's are).
    :return: the matrix, or None when no attempt is left.
    """
    chosen = [
        pa.first
        for (_tid, ph), pa in select_attempts(
            a for a in attempts if (a.bank_id, a.bank_version) == bank.key and a.phase == phase
        ).items()
        if ph == phase
    ]
    if not chosen:
        return None
    active = [i.item_id for i in bank.items]
    column = {item: j for j, item in enumerate(active)}
    row_of = {int(a.attempt_id): r for r, a in enumerate(chosen)}
    marks = np.zeros((len(chosen), len(active)))
    blanks = np.zeros((len(chosen), len(active)), dtype=bool)
    responses: list[list[str | None]] = [[None] * len(active) for _ in chosen]
    if item_rows is None:
        item_rows = _item_rows(session, list(row_of))
    for sid, r in row_of.items():
        for item, mark, response in item_rows.get(sid, ()):
            j = column.get(item)
            if j is None:
                continue
            marks[r, j] = mark
            blanks[r, j] = response is None
            responses[r][j] = response
    dropped = [j for j, i in enumerate(bank.items) if i.dropped]
    blanks[:, dropped] = True
    totals = np.array([a.raw for a in chosen], dtype=float)
    return ItemMatrix(
        attempt_ids=list(row_of),
        trainee_ids=[a.trainee_id for a in chosen],
        marks=marks,
        blanks=blanks,
        responses=responses,
        totals=totals,
    )


def pooled_attempts(session: Session, bank: Bank) -> list[Attempt]:
    """First-attempt candidates of every course that used a bank version (the pooled analysis).

    Only what selection and the matrix need is read: trainee, phase, time and total.
    """
    rows = session.execute(
        sa.select(
            Submission.id,
            sa.func.coalesce(Submission.submitted_at, Submission.received_at),
            SubmissionLink.course_id,
            SubmissionLink.person_id,
            ExamScore.phase,
            ExamScore.raw,
            ExamScore.maximum,
        )
        .join(ExamScore, ExamScore.submission_id == Submission.id)
        .outerjoin(SubmissionLink, SubmissionLink.submission_id == Submission.id)
        .where(
            Submission.form_version_id.in_(bank.version_ids),
            Submission.is_current.is_(True),
            Submission.deleted_at.is_(None),
            ExamScore.bank_id.is_not_distinct_from(bank.bank_id),
            ExamScore.bank_version.is_not_distinct_from(bank.bank_version),
        )
    )
    return [
        Attempt(
            trainee_id=f"{course}:{person}" if person is not None else f"?{sid}",
            phase=phase,
            raw=raw,
            maximum=maximum,
            submitted_at=submitted,
            attempt_id=str(sid),
            bank_id=bank.bank_id,
            bank_version=bank.bank_version,
        )
        for sid, submitted, course, person, phase, raw, maximum in rows
    ]


def n_courses_of(session: Session, bank: Bank) -> int:
    """How many courses' attempts a pooled analysis of the bank version takes in."""
    return session.scalar(
        sa.select(sa.func.count(sa.distinct(SubmissionLink.course_id)))
        .join(Submission, Submission.id == SubmissionLink.submission_id)
        .join(ExamScore, ExamScore.submission_id == Submission.id)
        .where(
            Submission.form_version_id.in_(bank.version_ids),
            Submission.is_current.is_(True),
            Submission.deleted_at.is_(None),
            SubmissionLink.course_id.is_not(None),
        )
    )


def satisfaction_answers(session: Session, course: Course) -> list[tuple[int, dict[str, Any]]]:
    """The satisfaction form's answers linked to the course: (submission id, typed data)."""
    if not course.satisfaction_form_id:
        return []
    return [
        (sid, data or {})
        for sid, data in session.execute(
            sa.select(Submission.id, Submission.data)
            .join(Form, Form.id == Submission.form_pk)
            .join(SubmissionLink, SubmissionLink.submission_id == Submission.id)
            .where(
                Form.form_id == course.satisfaction_form_id,
                SubmissionLink.course_id == course.id,
                Submission.is_current.is_(True),
                Submission.deleted_at.is_(None),
            )
            .order_by(Submission.id)
        )
    ]


def satisfaction_schema(session: Session, form_id: str) -> dict[str, dict]:
    """The satisfaction form's fields by name (newest version), for item labels."""
    schema = session.scalar(
        sa.select(FormVersion.schema)
        .join(Form, Form.id == FormVersion.form_pk)
        .where(Form.form_id == form_id)
        .order_by(FormVersion.id.desc())
        .limit(1)
    )
    return {f["name"]: f for f in (schema or {}).get("fields", [])}


def label_pair(labels: dict[str, str]) -> tuple[str, str]:
    """(vi, en) of a schema label mapping."""
    return _pair(labels)
