"""Storing submissions: the instanceID rules of the intake's store step.

Every road in goes through ``server/services/intake.py``; this module is its store step.
The rules, in ODK Central's terms (see the protocol spec, §3):

* identical XML for a known instanceID is a retry or a split upload: nothing new is stored
  except attachments that arrive now (HTTP 201 again, so Collect marks it sent);
* different XML for a known instanceID is refused (409) — a device never silently overwrites;
* ``deprecatedID`` makes an edit: a new row with the new instanceID, the old row kept as
  history, attachments that were not re-sent carried forward by name;
* no instanceID: ``md5:<hex of the XML>`` stands in, so retries stay idempotent;
* encrypted envelopes are stored verbatim, their ``.enc`` files as attachments.

Services flush; the intake commits, and answers 201 only after the commit.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.domain.instances import Instance, ParsedInstance, XmlLimits
from server.domain.policy import Action
from server.errors import (
    EditNotAllowed,
    InvalidAttachment,
    SubmissionConflict,
    SubmissionDeleted,
    SubmissionExists,
    SubmissionNotFound,
    SubmissionOutdated,
)
from server.models import ExportLine, Submission, SubmissionAttachment
from server.services.accounts import Actor
from server.services.attachment_store import AttachmentStore
from server.services.permissions import allowed

logger = logging.getLogger(__name__)

#: Collect puts at most 101 files in one request (OkHttpConnection.uploadSubmissionAndFiles).
MAX_FILES_PER_REQUEST = 101
MAX_NAME_LENGTH = 255


@dataclass(frozen=True)
class IncomingFile:
    """One attachment part: its name (as the XML references it) and bytes."""

    name: str
    content: bytes
    content_type: str | None = None


class Receipt:
    """What happened to a submission: its id, the outcome, the files still missing.

    ``submission`` loads the ORM row on demand: the intake's fast path never needs it.
    """

    def __init__(
        self,
        submission_id: int,
        status: Literal["created", "edited", "duplicate", "attachments_added"],
        missing: list[str],
        session: Session,
        *,
        row: Submission | None = None,
        root_id: int | None = None,
        values: dict[str, Any] | None = None,
        line_done: bool = False,
    ) -> None:
        self.submission_id = submission_id
        self.status = status
        self.missing = missing
        self._session = session
        self._row = row
        #: The stored values when the row was inserted without the ORM (else None).
        self.values = values
        #: True when the export line was asked for with the INSERT (``store_submission``'s
        #: ``line``): kept in the same statement, or found not to be kept. The caller must
        #: not render it again.
        self.line_done = line_done
        self.root_id = row.root_id if row is not None else root_id

    @property
    def submission(self) -> Submission:
        """The stored row (loaded when first asked for)."""
        if self._row is None:
            self._row = self._session.get(Submission, self.submission_id)
        return self._row


@dataclass(frozen=True)
class Origin:
    """Where a submission came from, recorded with it."""

    actor: Actor
    device_id: str | None = None
    user_agent: str | None = None


def receive_submission(
    xml: bytes,
    files: list[IncomingFile],
    *,
    origin: Origin,
    session: Session,
    store: AttachmentStore,
    now: dt.datetime,
    limits: XmlLimits | None = None,
) -> Receipt:
    """The intake's first half alone: read, authorise and store (flushed, not committed).

    For tests and tools that commit and project on their own terms; every road in for real
    submissions is :meth:`server.services.intake.Intake.receive`, which also commits, retries
    the unique-constraint race, completes enrolments and runs the projections.

    :raises ServiceError: as :meth:`~server.services.intake.Intake.store` does.
    """
    from server.services.intake import Intake  # the pipeline builds on this module

    return Intake(session, store, limits=limits).store(xml, files, origin, now=now)


def store_submission(
    parsed: ParsedInstance,
    xml: bytes,
    files: list[IncomingFile],
    *,
    form_pk: int,
    version_id: int,
    origin: Origin,
    session: Session,
    store: AttachmentStore,
    now: dt.datetime,
    line: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None,
    item: Callable[[dict[str, Any]], str | None] | None = None,
) -> Receipt:
    """Store an authorised submission by the instanceID rules above (flushes, never commits).

    A new instance is one ``INSERT … ON CONFLICT DO NOTHING RETURNING id`` (plus its
    attachment rows): no read before, no ORM object after. Only when that insert finds the
    instanceID taken, or the submission is an edit, are the rows loaded and the rules of
    resubmission and editing applied.

    :param parsed: the submission as read (``domain.instances.parse_instance``).
    :param xml: the XML exactly as received.
    :param files: the other parts; only those the XML references are kept.
    :param form_pk: the form's primary key.
    :param version_id: the form version's id.
    :param origin: who sent it.
    :param session: the database session.
    :param store: where attachment bytes go (written durably before this returns).
    :param now: the receipt time (aware UTC).
    :param line: on PostgreSQL, the new row's export line from its values (the columns of
        ``export_lines`` but ``submission_id``; None: no line): a new instance's line is then
        inserted by the submission's own statement, one round trip instead of two
        (``Receipt.line_done``). Not called for an edit, nor on SQLite (no data-modifying
        CTEs there); the caller keeps those lines itself.
    :param item: on PostgreSQL, the new row's listing item after its id, from its values
        (``submission_queries.item_after_id``; None: the database writes all of it).
    :return: what happened.
    :raises SubmissionConflict, SubmissionDeleted, SubmissionOutdated, SubmissionExists,
        SubmissionNotFound, EditNotAllowed: the instanceID rules above.
    """
    values = _row_values(parsed, xml, form_pk, version_id, origin, now)
    if not parsed.envelope.deprecated_id:
        dialect = session.get_bind().dialect.name
        cells = line(values) if line is not None and dialect == "postgresql" else None
        listed = item(values) if item is not None and dialect == "postgresql" else None
        inserted = values if listed is None else {**values, "listed_item": listed}
        if cells is None:
            new_id = session.execute(_INSERT_NEW[dialect], inserted).scalar()
        else:
            params = {**inserted, **{_LINE_PREFIX + key: value for key, value in cells.items()}}
            new_id = session.execute(_insert_new_with_line(tuple(inserted), tuple(cells)), params)
            new_id = new_id.scalar()
        if new_id is not None:
            missing = _attach_new(new_id, parsed.expected_files, files, store, now, session)
            logger.info("submission %s created by %s", parsed.instance_id, origin.actor.label)
            return Receipt(
                new_id, "created", missing, session, root_id=None, values=values,
                line_done=line is not None and dialect == "postgresql",
            )  # fmt: skip
    existing = _by_instance_id(session, form_pk, parsed.instance_id)
    if existing is not None:
        return _resubmission(existing, parsed.envelope, xml, files, session, store, now)
    row = Submission(**values)
    previous = _editable(session, form_pk, parsed.envelope.deprecated_id, origin.actor)
    previous.is_current = False
    row.root_id = previous.root_id or previous.id
    row.review_state = "edited"
    carried = {a.name: a for a in previous.attachments if a.sha256}
    session.add(row)
    missing = _attach(row, list(parsed.expected_files), files, carried, store, now, session)
    session.flush()
    logger.info("submission %s edited by %s", parsed.instance_id, origin.actor.label)
    return Receipt(row.id, "edited", missing, session, row=row)


def _row_values(
    parsed: ParsedInstance,
    xml: bytes,
    form_pk: int,
    version_id: int,
    origin: Origin,
    now: dt.datetime,
) -> dict[str, Any]:
    actor = origin.actor
    return {
        "form_pk": form_pk,
        "form_version_id": version_id,
        "instance_id": parsed.instance_id,
        "deprecated_id": parsed.envelope.deprecated_id,
        "root_id": None,
        "is_current": True,
        "xml": xml,
        "md5": parsed.md5,
        "data": parsed.data,
        "submitted_at": parsed.submitted_at,
        "unit_code": parsed.unit_code,
        "instance_name": parsed.instance_name,
        "is_encrypted": parsed.envelope.is_encrypted,
        "device_id": (origin.device_id or "")[:255] or None,
        "user_agent": (origin.user_agent or "")[:512] or None,
        "submitter_user_id": actor.user.id if actor.user else None,
        "submitter_device_id": actor.device.id if actor.device else None,
        "received_at": now,
        "review_state": "received",
    }


def _insert_new(insert) -> sa.Insert:
    """INSERT a submission unless its instanceID is taken; RETURNING the new id.

    Built once with no values: the values travel as parameters, so each submission costs no
    statement construction and the compiled form is reused from SQLAlchemy's cache.
    """
    table = Submission.__table__
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=[table.c.form_pk, table.c.instance_id])
        .returning(table.c.id)
    )


#: The dialect's statement (both know ON CONFLICT), by dialect name.
_INSERT_NEW = {"postgresql": _insert_new(postgresql.insert), "sqlite": _insert_new(sqlite.insert)}
#: The export line's parameters beside the submission's (``_insert_new_with_line``).
_LINE_PREFIX = "line_"


@functools.cache
def _insert_new_with_line(columns: tuple[str, ...], line: tuple[str, ...]) -> sa.Select:
    """PostgreSQL: the new submission and its export line in one statement, RETURNING its id.

    ``WITH new AS (INSERT … ON CONFLICT DO NOTHING RETURNING id), line AS (INSERT INTO
    export_lines SELECT new.id, … FROM new) SELECT id FROM new``: when the instanceID is taken,
    ``new`` is empty and so no line is inserted. The foreign key is checked at the end of the
    statement, when the submission row exists. Built once per process and set of columns
    (the export line's columns are whatever ``export_lines._rendered`` returns).
    """
    table, lines = Submission.__table__, ExportLine.__table__
    new = (
        postgresql.insert(table)
        .values({name: sa.bindparam(name, type_=table.c[name].type) for name in columns})
        .on_conflict_do_nothing(index_elements=[table.c.form_pk, table.c.instance_id])
        .returning(table.c.id)
        .cte("new")
    )
    cells = [sa.bindparam(_LINE_PREFIX + name, type_=lines.c[name].type) for name in line]
    kept = sa.insert(lines).from_select(["submission_id", *line], sa.select(new.c.id, *cells))
    return sa.select(new.c.id).add_cte(kept.cte("line"))


def _attach_new(
    submission_id: int,
    expected: tuple[str, ...],
    files: list[IncomingFile],
    store: AttachmentStore,
    now: dt.datetime,
    session: Session,
) -> list[str]:
    """Attachment rows of a new submission, in one statement; returns the names missing."""
    if not expected:
        return []
    sent = {f.name: f for f in files}
    rows, missing = [], []
    for name in expected:
        part = sent.get(name)
        if part is None:
            missing.append(name)
            rows.append(
                {
                    "submission_id": submission_id,
                    "name": name,
                    "sha256": None,
                    "size": None,
                    "content_type": None,
                    "received_at": None,
                }
            )
        else:
            rows.append(
                {
                    "submission_id": submission_id,
                    "name": name,
                    "sha256": store.put(part.content),
                    "size": len(part.content),
                    "content_type": part.content_type,
                    "received_at": now,
                }
            )
    session.execute(sa.insert(SubmissionAttachment.__table__), rows)
    return missing


def check_files(files: list[IncomingFile]) -> None:
    """Refuse too many parts, or a part whose name is not a plain file name.

    :raises InvalidAttachment: with the count or the name.
    """
    if len(files) > MAX_FILES_PER_REQUEST:
        raise InvalidAttachment(reason="too_many", count=len(files), limit=MAX_FILES_PER_REQUEST)
    for item in files:
        name = item.name
        if (
            not name
            or len(name) > MAX_NAME_LENGTH
            or any(c in _FORBIDDEN_IN_NAMES or ord(c) < 32 or ord(c) == 127 for c in name)
            or name in {".", ".."}
        ):
            raise bad_attachment_name(name)


#: Path separators and NUL: a stored name is never a path, and these would make it one.
_FORBIDDEN_IN_NAMES = frozenset("/\\\x00")


def bad_attachment_name(name: str) -> InvalidAttachment:
    """The refusal of an attachment part whose name is not a plain file name.

    Shared with the OpenRosa view, which refuses parts whose header werkzeug could only read
    by changing the name (an escaped backslash, a line break inside the quotes).

    :param name: the name as sent (shortened for the message).
    :return: the error to raise.
    """
    shown = name[:60] + ("…" if len(name) > 60 else "")
    return InvalidAttachment(reason="bad_name", name=shown, max_length=MAX_NAME_LENGTH)


def _by_instance_id(session: Session, form_pk: int, instance_id: str) -> Submission | None:
    return session.execute(
        sa.select(Submission).where(
            Submission.form_pk == form_pk, Submission.instance_id == instance_id
        )
    ).scalar_one_or_none()


def _is_deleted(session: Session, row: Submission) -> bool:
    if row.deleted_at is not None:
        return True
    if row.root_id is None:
        return False
    root = session.get(Submission, row.root_id)
    return root is not None and root.deleted_at is not None


def _resubmission(
    existing: Submission,
    instance: Instance,
    xml: bytes,
    files: list[IncomingFile],
    session: Session,
    store: AttachmentStore,
    now: dt.datetime,
) -> Receipt:
    """Same instanceID again: a retry or split upload if the XML is identical, else refused."""
    if _is_deleted(session, existing):
        raise SubmissionDeleted(instance_id=existing.instance_id)
    if existing.xml != xml:
        if instance.deprecated_id:
            raise SubmissionExists(instance_id=existing.instance_id)
        raise SubmissionConflict(instance_id=existing.instance_id)
    if not existing.is_current:
        raise _outdated(existing)
    expected = [a.name for a in existing.attachments]
    before = {a.name: a.sha256 for a in existing.attachments}
    missing = _attach(existing, expected, files, {}, store, now, session)
    session.flush()
    changed = any(before.get(a.name) != a.sha256 for a in existing.attachments)
    status = "attachments_added" if changed else "duplicate"
    return Receipt(existing.id, status, missing, session, row=existing)


def _editable(session: Session, form_pk: int, deprecated_id: str, actor: Actor) -> Submission:
    previous = _by_instance_id(session, form_pk, deprecated_id)
    if previous is None:
        raise SubmissionNotFound(reason="edited", instance_id=deprecated_id)
    if _is_deleted(session, previous):
        raise SubmissionDeleted(reason="edit", instance_id=deprecated_id)
    if not previous.is_current:
        raise _outdated(previous)
    if not _sent_by(session, previous, actor) and not allowed(
        actor.who, Action.EDIT_OTHERS_SUBMISSION
    ):
        raise EditNotAllowed(instance_id=deprecated_id)
    return previous


def _sent_by(session: Session, row: Submission, actor: Actor) -> bool:
    """Whether the actor sent this record: its first version, or the version being edited."""
    rows = [row]
    if row.root_id is not None:
        rows.append(session.get(Submission, row.root_id))
    for sent in rows:
        if actor.user is not None and sent.submitter_user_id == actor.user.id:
            return True
        if actor.device is not None and sent.submitter_device_id == actor.device.id:
            return True
    return False


def _outdated(row: Submission) -> SubmissionOutdated:
    return SubmissionOutdated(instance_id=row.instance_id)


def _attach(
    row: Submission,
    expected: list[str],
    files: list[IncomingFile],
    carried: dict[str, SubmissionAttachment],
    store: AttachmentStore,
    now: dt.datetime,
    session: Session,
) -> list[str]:
    """Fill the row's expected attachments from this request's parts, or carry them forward.

    :return: names still missing.
    """
    sent = {f.name: f for f in files}
    current = {a.name: a for a in row.attachments}
    missing = []
    for name in expected:
        attachment = current.get(name)
        if attachment is None:
            attachment = SubmissionAttachment(submission=row, name=name)
            session.add(attachment)
        if name in sent:
            part = sent[name]
            attachment.sha256 = store.put(part.content)
            attachment.size = len(part.content)
            attachment.content_type = part.content_type
            attachment.received_at = now
        elif name in carried and attachment.sha256 is None:
            source = carried[name]
            attachment.sha256, attachment.size = source.sha256, source.size
            attachment.content_type, attachment.received_at = source.content_type, now
        if attachment.sha256 is None:
            missing.append(name)
    return missing
