"""Submissions as received: the XML kept byte for byte, its parsed data, and its attachments.

One row is one XML a device sent. An edit (``deprecatedID``) adds a row with the new instanceID
and marks the row it replaces as not current; the rows of one record share ``root_id``, which
is the history. ``(form_pk, instance_id)`` is unique across all rows, so a retry can never store
a second copy.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, utcnow
from server.models.forms import Form, FormVersion

REVIEW_STATES = ("received", "edited", "has_issues", "approved", "rejected")


class Submission(Base):
    """One submitted XML (the first of a record, or an edit of it)."""

    __tablename__ = "submissions"
    __table_args__ = (
        sa.UniqueConstraint("form_pk", "instance_id"),
        sa.CheckConstraint(f"review_state IN {REVIEW_STATES!r}", name="review_state"),
        sa.CheckConstraint("length(md5) = 32", name="md5_length"),
        sa.Index("ix_submissions_form_received", "form_pk", "received_at", "id"),
        sa.Index("ix_submissions_form_unit", "form_pk", "unit_code"),
        sa.CheckConstraint(
            "(reviewed_at IS NULL) = (reviewed_by_user_id IS NULL)", name="review_pair"
        ),
        sa.CheckConstraint(
            "attachments_present >= 0 AND attachments_present <= attachments_expected",
            name="attachment_counts",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form_pk: Mapped[int] = mapped_column(sa.ForeignKey("forms.id", ondelete="RESTRICT"))
    form_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("form_versions.id", ondelete="RESTRICT"), index=True
    )
    #: meta/instanceID as sent, or "md5:<hex>" of the XML when the device sent none.
    instance_id: Mapped[str] = mapped_column(sa.String(255))
    #: meta/deprecatedID of an edit: the instanceID this row replaces.
    deprecated_id: Mapped[str | None] = mapped_column(sa.String(255))
    #: First row of the record this row belongs to; NULL on that first row itself.
    root_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="RESTRICT"), index=True
    )
    #: False once an edit has replaced this row.
    is_current: Mapped[bool] = mapped_column(default=True)
    #: The XML exactly as received (the envelope, for encrypted forms).
    xml: Mapped[bytes] = mapped_column(sa.LargeBinary)
    md5: Mapped[str] = mapped_column(sa.String(32))
    #: Answers typed by the form version's schema; {} for encrypted submissions.
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    instance_name: Mapped[str | None] = mapped_column(sa.String(255))
    #: How many files the XML references, and how many of them arrived: kept by triggers on
    #: ``submission_attachments`` (migration 0022) for every writer, so that a listing reads
    #: them with the row instead of counting a page's attachments.
    attachments_expected: Mapped[int] = mapped_column(default=0, server_default="0")
    attachments_present: Mapped[int] = mapped_column(default=0, server_default="0")
    is_encrypted: Mapped[bool] = mapped_column(default=False)
    review_state: Mapped[str] = mapped_column(sa.String(16), default="received")
    #: deviceID query parameter Collect appends (collect:…), truncated to 255.
    device_id: Mapped[str | None] = mapped_column(sa.String(255))
    user_agent: Mapped[str | None] = mapped_column(sa.String(512))
    submitter_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    submitter_device_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("devices.id", ondelete="RESTRICT")
    )
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the device finished the form (its ``end`` metadata), if the form records it.
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Most specific administrative unit code the answers name (hamlet > commune > district >
    #: province), for filtering by unit.
    unit_code: Mapped[str | None] = mapped_column(sa.String(32))
    review_comment: Mapped[str | None] = mapped_column(sa.Text)
    reviewed_by_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Soft delete: hidden everywhere, and its instanceID still refuses resubmission.
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: The item the API lists for this row, as JSON text: written by a PostgreSQL trigger on
    #: every insert and update (migration 0026), never by Python; NULL on SQLite, where the
    #: listing renders the item from the columns. Deferred: only the listing reads it.
    listed_item: Mapped[str | None] = mapped_column(sa.Text, deferred=True)

    form: Mapped[Form] = relationship()
    form_version: Mapped[FormVersion] = relationship()
    attachments: Mapped[list[SubmissionAttachment]] = relationship(
        back_populates="submission", order_by="SubmissionAttachment.name"
    )

    def __repr__(self) -> str:
        return f"<Submission {self.id} {self.instance_id}{'' if self.is_current else ' old'}>"


class SubmissionAttachment(Base):
    """A file a submission references; present once its bytes arrived (sha256 set)."""

    __tablename__ = "submission_attachments"
    __table_args__ = (sa.UniqueConstraint("submission_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    #: The file name exactly as the XML references it (Unicode, never "secured").
    name: Mapped[str] = mapped_column(sa.String(255))
    #: sha256 of the content = its address in the attachment store; NULL while missing.
    sha256: Mapped[str | None] = mapped_column(sa.String(64))
    size: Mapped[int | None]
    content_type: Mapped[str | None] = mapped_column(sa.String(128))
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    submission: Mapped[Submission] = relationship(back_populates="attachments")

    def __repr__(self) -> str:
        return f"<SubmissionAttachment {self.name} {'missing' if not self.sha256 else 'present'}>"
