"""Receiving submissions: every road (OpenRosa today, KoBo/Central pulls later) comes here.

The rules, in ODK Central's terms (see the protocol spec, §3):

* identical XML for a known instanceID is a retry or a split upload: nothing new is stored
  except attachments that arrive now (HTTP 201 again, so Collect marks it sent);
* different XML for a known instanceID is refused (409) — a device never silently overwrites;
* ``deprecatedID`` makes an edit: a new row with the new instanceID, the old row kept as
  history, attachments that were not re-sent carried forward by name;
* no instanceID: ``md5:<hex of the XML>`` stands in, so retries stay idempotent;
* encrypted envelopes are stored verbatim, their ``.enc`` files as attachments.

Services flush; the caller commits, and answers 201 only after the commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.domain.instances import (
    Instance,
    XmlLimits,
    binary_values,
    finished_at,
    index_fields,
    read_instance,
    typed_data,
    unit_code,
)
from server.domain.policy import Action
from server.errors import (
    EditNotAllowed,
    FormClosed,
    FormNotAssigned,
    FormNotFound,
    FormVersionNotFound,
    InvalidAttachment,
    SubmissionConflict,
    SubmissionDeleted,
    SubmissionExists,
    SubmissionNotFound,
    SubmissionOutdated,
)
from server.models import Form, FormVersion, Submission, SubmissionAttachment
from server.services.accounts import Actor
from server.services.attachment_store import AttachmentStore
from server.services.permissions import allowed

logger = logging.getLogger(__name__)

#: Collect puts at most 101 files in one request (OkHttpConnection.uploadSubmissionAndFiles).
MAX_FILES_PER_REQUEST = 101
MAX_NAME_LENGTH = 255
#: Schema fields by (form version id, XForm md5): a version's XML never changes.
_fields_cache: dict[tuple[int, str], dict[str, Any]] = {}


@dataclass(frozen=True)
class IncomingFile:
    """One attachment part: its name (as the XML references it) and bytes."""

    name: str
    content: bytes
    content_type: str | None = None


@dataclass
class Receipt:
    """What happened to a submission."""

    submission: Submission
    status: Literal["created", "edited", "duplicate", "attachments_added"]
    missing: list[str] = field(default_factory=list)


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
    """Store a submission and its attachments, or explain why not.

    :param xml: the submission XML exactly as received.
    :param files: the other parts; only those the XML references are kept.
    :param origin: who sent it, from which device and client.
    :param session: the database session (flushed, not committed).
    :param store: where attachment bytes go (written durably before this returns).
    :param now: the receipt time (aware UTC).
    :param limits: the XML depth and element limits (the settings; default :class:`XmlLimits`).
    :return: the stored row and what happened.
    :raises MalformedSubmission: unreadable XML, XML past the limits, no form id, encrypted
        without instanceID.
    :raises InvalidAttachment: bad part names, or too many parts.
    :raises FormNotFound, FormVersionNotFound: unknown form or version.
    :raises FormNotAssigned: the actor may not submit to this form.
    :raises FormClosed: the form refuses submissions.
    :raises SubmissionConflict, SubmissionDeleted, SubmissionOutdated, SubmissionExists,
        SubmissionNotFound: the instanceID rules above.
    """
    _check_files(files)
    instance = read_instance(xml, limits=limits)
    form = session.execute(
        sa.select(Form).where(Form.form_id == instance.form_id)
    ).scalar_one_or_none()
    if form is None:
        raise FormNotFound(reason="not_on_server", form_id=instance.form_id)
    if not origin.actor.may_use(form):
        raise FormNotAssigned(reason="actor", form_id=form.form_id, actor=origin.actor.label)
    if form.state == "closed":
        raise FormClosed(form_id=form.form_id)
    version = session.execute(
        sa.select(FormVersion.id, FormVersion.md5).where(
            FormVersion.form_pk == form.id, FormVersion.version == instance.version
        )
    ).one_or_none()
    if version is None:
        raise FormVersionNotFound(form_id=form.form_id, version=instance.version)
    md5 = hashlib.md5(xml).hexdigest()  # noqa: S324 (identity of bytes, not security)
    instance_id = instance.instance_id or f"md5:{md5}"
    existing = _by_instance_id(session, form, instance_id)
    if existing is not None:
        return _resubmission(existing, instance, xml, files, session, store, now)
    fields = _fields(session, version.id, version.md5)
    data = {} if instance.is_encrypted else typed_data(instance.root, fields)
    row = Submission(
        form_pk=form.id,
        form_version_id=version.id,
        instance_id=instance_id,
        deprecated_id=instance.deprecated_id,
        xml=xml,
        md5=md5,
        data=data,
        submitted_at=finished_at(data),
        unit_code=unit_code(data),
        instance_name=(instance.instance_name or "")[:255] or None,
        is_encrypted=instance.is_encrypted,
        device_id=(origin.device_id or "")[:255] or None,
        user_agent=(origin.user_agent or "")[:512] or None,
        submitter_user_id=origin.actor.user.id if origin.actor.user else None,
        submitter_device_id=origin.actor.device.id if origin.actor.device else None,
        received_at=now,
        review_state="received",
    )
    carried: dict[str, SubmissionAttachment] = {}
    status: Literal["created", "edited"] = "created"
    if instance.deprecated_id:
        previous = _editable(session, form, instance.deprecated_id, origin.actor)
        previous.is_current = False
        row.root_id = previous.root_id or previous.id
        row.review_state = "edited"
        carried = {a.name: a for a in previous.attachments if a.sha256}
        status = "edited"
    session.add(row)
    expected = (
        instance.encrypted_files if instance.is_encrypted else binary_values(instance.root, fields)
    )
    missing = _attach(row, expected, files, carried, store, now, session)
    session.flush()
    logger.info("submission %s/%s %s by %s", form.form_id, instance_id, status, origin.actor.label)
    return Receipt(row, status, missing)


def _check_files(files: list[IncomingFile]) -> None:
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


def _by_instance_id(session: Session, form: Form, instance_id: str) -> Submission | None:
    return session.execute(
        sa.select(Submission).where(
            Submission.form_pk == form.id, Submission.instance_id == instance_id
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
    return Receipt(existing, "attachments_added" if changed else "duplicate", missing)


def _editable(session: Session, form: Form, deprecated_id: str, actor: Actor) -> Submission:
    previous = _by_instance_id(session, form, deprecated_id)
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


def _fields(session: Session, version_id: int, md5: str) -> dict[str, Any]:
    """Schema fields of a form version by path, cached (the md5 keys the exact XML)."""
    fields = _fields_cache.get((version_id, md5))
    if fields is None:
        schema = session.execute(
            sa.select(FormVersion.schema).where(FormVersion.id == version_id)
        ).scalar_one()
        fields = _fields_cache[(version_id, md5)] = index_fields(schema["fields"])
    return fields
