"""The audit log and API tokens: who changed what, and how programs authenticate."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.accounts import User
from server.models.base import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    """One change: a review, a deletion, a restore, a form closed… Never updated or deleted."""

    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_target", "target_type", "target_id"),
        sa.Index("ix_audit_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    #: "submission.review", "submission.delete", "submission.restore", "form.state", …
    action: Mapped[str] = mapped_column(sa.String(64))
    target_type: Mapped[str] = mapped_column(sa.String(32))
    #: The changed row; NULL when the change concerns a whole table (a units import).
    target_id: Mapped[int | None]
    #: What changed: {"from": …, "to": …, "comment": …}.
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    actor: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} {self.target_type}:{self.target_id}>"


class ApiToken(Base):
    """A bearer token for scripts (Excel Power Query, R, Python) acting as one user."""

    __tablename__ = "api_tokens"
    __table_args__ = (sa.UniqueConstraint("token_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(sa.String(255), default="")
    #: sha256 of the token; the token is shown once.
    token_sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} user={self.user_id}>"
