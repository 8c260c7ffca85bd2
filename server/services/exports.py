"""The export of a form's submissions: the rows, read as cheaply as the database gives them.

What the tables are (columns across versions, flattened answers, repeats as their own tables)
is planned by the pure :class:`exports.FormTables`; this service only supplies the rows and the
columns only the server knows: its scores of tests (forms with an answer key) and the
metadata. Only current versions of submissions are exported (an edit replaces its original),
deleted ones never.

Rows stream from the database in batches (a server-side cursor on PostgreSQL), with only the
columns the tables need: the answers as the JSON text stored, decoded by orjson (the driver's
own JSON decoding took a third of a CSV export), and, for a repeat table's pass, only the
repeat's subtree, which the database extracts (``#>>`` / ``json_extract``) so Python never
decodes the rest. Every table is its own pass, so memory stays flat whatever the size.

A CSV pass (CSV, and the ZIP's tables) and an XLSX pass read each submission's export line
instead where one of the plan's signature is stored (``services/export_lines``): the answer
cells already rendered as CSV text and sheet XML when the submission arrived, so only the
metadata is rendered here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from exports import CLOCK, Column, FormTables, Output, Record, Spliced, Table, clock_header
from exports.zip import MediaSource
from server.errors import DecryptionFailed
from server.models import (
    AnswerKey,
    ExamScore,
    ExportLine,
    Form,
    Submission,
    SubmissionAttachment,
    User,
)
from server.services.decryption import SubmissionDecryptor
from server.services.list_labels import load_list_labels
from server.services.submission_queries import SubmissionFilters, submission_query

logger = logging.getLogger(__name__)

#: Rows per batch read from the database.
BATCH = 2000

#: The server's marks of a test submission (test_scores), for forms with an answer key.
SCORE_COLUMNS = (
    Column("score_raw", "score_raw", "decimal"),
    Column("score_max", "score_max", "decimal"),
    Column("score_percent", "score_percent", "decimal"),
    Column("score_passed", "score_passed", "integer"),
    Column("score_key_version", "score_key_version"),
)
META_COLUMNS = (
    Column("instance_id", "instanceID"),
    Column("version", "version"),
    Column("submitted_by", "submitted_by"),
    Column("device_id", "device_id"),
    Column("received_at", clock_header("received_at"), "datetime"),
    Column("submitted_at", clock_header("submitted_at"), "datetime"),
    Column("review_state", "review_state"),
)
#: The metadata columns whose cells never change once a submission is stored: an export line
#: keeps them rendered (``services/export_lines``); only the review state is rendered per row.
FIXED_META = META_COLUMNS[:-1]
FIXED_WIDTH = len(FIXED_META)
_UNSCORED = (None,) * len(SCORE_COLUMNS)


@dataclass
class Export:
    """What an export consists of: its tables, where its media are, and any warnings."""

    form_id: str
    tables: list[Table]
    media: list[tuple[str, MediaSource]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def output(self) -> Output:
        """The export as the formats registry writes it (tables, and media for a ZIP)."""
        return Output(tables=lambda: self.tables, media=lambda: self.media)


class _Reader:
    """Streams the current, matching submissions of a form as :class:`exports.Record` s."""

    def __init__(self, session: Session, form: Form, filters: SubmissionFilters,
                 decryptor: SubmissionDecryptor | None = None, *, scored: bool = False,
                 dated: bool = False):  # fmt: skip
        self.session, self.form, self.filters = session, form, filters
        self.decryptor, self.scored, self.dated = decryptor, scored, dated
        self.versions = {v.id: v.version for v in form.versions}
        self.users = dict(session.execute(sa.select(User.id, User.username)).all())

    def _select(self, *columns) -> sa.Select:
        return (
            submission_query(self.session, self.form, self.filters)
            .with_only_columns(*columns)
            .order_by(Submission.received_at, Submission.id)
        )

    def records(self, subtree: tuple[str, ...] | None) -> Iterator[Record]:
        """One pass over the submissions (see :data:`exports.RecordSource`)."""
        return self._records(subtree)

    def lined(self, signature: str, stored: sa.Column, fixed: sa.Column | None = None):
        """A source whose records carry ``stored``, a column of plan ``signature``'s lines.

        The answers are only read for submissions without one. With ``fixed`` (the lines'
        CSV text of the fixed metadata), a record with both has a :class:`exports.Spliced`
        tail: only its scores and review state are left to render.
        """
        return lambda subtree: self._records(subtree, signature, stored, fixed)

    def _records(self, subtree: tuple[str, ...] | None, signature: str | None = None,
                 stored: sa.Column | None = None,
                 fixed: sa.Column | None = None) -> Iterator[Record]:  # fmt: skip
        if subtree is None:
            answers = sa.cast(Submission.data, sa.Text)
        else:  # the database extracts the subtree: a repeat's pass decodes only the repeat
            answers = Submission.data[subtree].as_string()
        line = sa.null()
        if stored is not None:
            line = stored
            answers = sa.case((stored.is_(None), answers))
        envelope = sa.null()
        if self.decryptor is not None:  # the envelope, only of rows it can open
            envelope = sa.case((Submission.is_encrypted.is_(True), Submission.xml))
        meta: Any = sa.null()
        shown = (Submission.instance_id, Submission.submitter_user_id,
                 Submission.submitter_device_id, Submission.device_id, Submission.received_at,
                 Submission.submitted_at)  # fmt: skip
        if fixed is not None and stored is not None and subtree is None:
            meta = fixed  # the columns it renders are only read for rows without it
            unrendered = sa.or_(stored.is_(None), fixed.is_(None))
            shown = tuple(sa.case((unrendered, column)) for column in shown)
        instance_id, user_id, device_pk, device_id, received, submitted = shown
        query = self._select(
            Submission.id, instance_id, answers, Submission.form_version_id, user_id, device_pk,
            device_id, received, submitted, Submission.review_state, Submission.is_encrypted,
            envelope, line, meta,
        )  # fmt: skip
        if stored is not None:
            query = query.outerjoin(
                ExportLine,
                sa.and_(ExportLine.submission_id == Submission.id, ExportLine.plan == signature),
            )
        if self.scored and subtree is None:  # joined into the same pass: no query per row
            query = query.add_columns(
                ExamScore.raw, ExamScore.maximum, ExamScore.percent, ExamScore.passed
            ).outerjoin(ExamScore, ExamScore.submission_id == Submission.id)
        query = query.execution_options(stream_results=True, yield_per=BATCH)
        versions, users, scored, dated = self.versions, self.users, self.scored, self.dated
        loads = orjson.loads
        batches = self.session.connection().execute(query).partitions()
        if self.decryptor is None:  # decrypting runs queries of its own on the connection
            batches = _read_ahead(batches)
        for batch in batches:
            for (
                row_id, instance_id, text, version_id, user_id, device_pk, device_id,
                received, submitted, review_state, encrypted, xml, stored, meta, *marks,
            ) in batch:  # fmt: skip
                if stored is not None:
                    data = None
                elif encrypted and xml is not None:
                    data = self.decryptor.data(row_id, version_id, xml)
                elif subtree is None:
                    data = loads(text)
                else:
                    data = _wrapped(subtree, text)
                day = (submitted or received).astimezone(CLOCK).date() if dated else None
                if subtree is not None:  # a repeat table's pass: the main row's tail unused
                    yield Record(data, instance_id, day, (), stored)
                    continue
                if meta is not None and stored is not None:  # the fixed cells are rendered
                    scores = _scores(marks, versions.get(version_id)) if scored else ()
                    tail = Spliced(scores, meta, FIXED_WIDTH, (review_state,))
                    yield Record(data, instance_id, day, tail, stored)
                    continue
                who = submitter(users, user_id, device_pk)
                tail = [instance_id, versions.get(version_id), who, device_id, received,
                        submitted, review_state]  # fmt: skip
                if scored:
                    tail[:0] = _scores(marks, versions.get(version_id))
                yield Record(data, instance_id, day, tail, stored)

    def encrypted(self) -> Iterator[tuple[int, bytes]]:
        """(id, envelope) of the encrypted submissions, in export order."""
        query = self._select(Submission.id, Submission.xml).where(Submission.is_encrypted.is_(True))
        yield from self.session.execute(query.execution_options(yield_per=BATCH)).tuples()


def submitter(users: dict[int, str], user_id: int | None, device_pk: int | None) -> str | None:
    """The ``submitted_by`` cell: the user's name, or ``device:<id>`` for a device token."""
    if user_id is not None:
        return users.get(user_id)
    return None if device_pk is None else f"device:{device_pk}"


def _read_ahead(batches: Iterator[list]) -> Iterator[list]:
    """The batches, each next one fetched in a thread while the caller writes this one.

    The database prepares and sends the next rows (and the driver waits for them, without the
    GIL) while Python turns these into cells: the two no longer take turns. Only one fetch is
    ever under way, so the connection is never used by two threads at once; a caller that
    stops early waits for it before the connection is used again.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-rows") as fetcher:
        pending = fetcher.submit(next, batches, None)
        while (batch := pending.result()) is not None:
            pending = fetcher.submit(next, batches, None)
            yield batch


def _wrapped(subtree: tuple[str, ...], text: str | None) -> dict[str, Any]:
    """The answers holding just ``subtree`` (its JSON text as the database extracted it)."""
    value: Any = None
    if text is not None:
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:  # a scalar where a repeat was expected: nothing to list
            value = None
    for part in reversed(subtree):
        value = {part: value}
    return value


def _scores(marks: list[Any], key_version: str | None) -> tuple[Any, ...]:
    """The server's marks (empty for a submission that was not scored)."""
    raw, maximum, percent, passed = marks
    if maximum is None:
        return _UNSCORED
    return (raw, maximum, round(percent, 2), None if passed is None else int(passed), key_version)


def require_plaintext(form: Form) -> None:
    """Refuse to export an encrypted form without its private key.

    :raises DecryptionFailed: when any version of the form encrypts its submissions.
    """
    if any(v.is_encrypted for v in form.versions):
        raise DecryptionFailed(reason="key_required", form_id=form.form_id)


def build_export(session: Session, form: Form, filters: SubmissionFilters, *,
                 lang: str = "codes", storage_dir: str | None = None,
                 decryptor: SubmissionDecryptor | None = None) -> Export:  # fmt: skip
    """Plan the export of a form's submissions.

    :param session: the database session (used lazily while the tables are written).
    :param form: the form.
    :param filters: which submissions.
    :param lang: "codes", or "vi"/"en" for choice labels in that language.
    :param storage_dir: the attachment store, to list media (ZIP exports); None = no media.
    :param decryptor: opens encrypted submissions; without it an encrypted form is refused.
    :return: the tables (main first, then one per repeat) and media.
    :raises DecryptionFailed: for an encrypted form without a key, or with a wrong one.
    """
    versions = list(form.versions)
    if decryptor is None:
        require_plaintext(form)
    else:
        decryptor.check(form)
    scored = bool(
        session.scalar(
            sa.select(sa.exists().where(AnswerKey.form_version_id.in_([v.id for v in versions])))
        )
    )
    tail = [*(SCORE_COLUMNS if scored else ()), *META_COLUMNS]
    plan = FormTables(form.form_id, [v.schema for v in versions], lang=lang, tail=tail)
    labels = None
    if plan.labelled:  # labels are for people reading; codes stay as the form has them
        labels = load_list_labels(session, form, plan.list_files, plan.language)
    reader = _Reader(session, form, filters, decryptor, scored=scored, dated=plan.labelled)
    lines = sheets = None
    if decryptor is None and plan.signature is not None:  # CSV and XLSX read stored lines
        lines = reader.lined(plan.signature, ExportLine.text, ExportLine.meta)
        sheets = reader.lined(plan.signature, ExportLine.sheet)
    tables = plan.tables(reader.records, labels, lines=lines, sheets=sheets)
    export = Export(form.form_id, tables, warnings=plan.warnings)
    if storage_dir is not None:
        export.media = _media(session, form, filters, Path(storage_dir))
        if decryptor is not None:
            export.media = [m for m in export.media if not m[0].endswith(".enc")]
            export.media += [
                medium
                for row_id, xml in reader.encrypted()
                for medium in decryptor.media(row_id, xml)
            ]
    return export


def _media(session: Session, form: Form, filters: SubmissionFilters,
           storage: Path) -> list[tuple[str, Path]]:  # fmt: skip
    """Attachments of the exported submissions, as media/ names with their files."""
    base = submission_query(session, form, filters).subquery()
    query = (
        sa.select(SubmissionAttachment.name, SubmissionAttachment.sha256, base.c.instance_id)
        .join(base, base.c.id == SubmissionAttachment.submission_id)
        .where(SubmissionAttachment.sha256.is_not(None))
        .order_by(base.c.received_at, base.c.id, SubmissionAttachment.name)
    )
    chosen: dict[str, str] = {}  # name inside media/ -> sha256
    for name, sha256, instance_id in session.execute(query):
        target = name
        if chosen.get(target, sha256) != sha256:  # same name, other content: keep both
            target = f"{instance_id.replace(':', '-').replace('/', '-')}/{name}"
        chosen.setdefault(target, sha256)
    return [(target, storage / sha[:2] / sha) for target, sha in chosen.items()]
