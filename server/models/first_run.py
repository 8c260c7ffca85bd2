"""First-run set-up codes: how a fresh installation gets its first administrator.

A fresh ``make run`` has no account at all. The server console (never a page) prints a link
holding a random code; only the code's sha256 is stored. The page behind it creates the first
administrator and spends the code in the same transaction, so a second click, a copied link or
a link printed before an administrator existed can never make another one.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime, utcnow


class FirstRunCode(Base):
    """One printed set-up code (its hash), and when it was spent."""

    __tablename__ = "first_run_codes"
    __table_args__ = (sa.UniqueConstraint("code_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code_sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set when the code created the first administrator (or was superseded by one).
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
