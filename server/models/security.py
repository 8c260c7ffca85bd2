"""What the server remembers to resist a hostile network: failed sign-ins and used Digest counters.

Both live in the database, not in process memory, because the service runs as several
gunicorn workers (and, on PostgreSQL, several machines): a limit that each process kept for
itself would multiply by the number of processes, and a replayed Digest header sent to
another worker would pass.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime


class AuthThrottle(Base):
    """Failed password checks counted per key (``account:<name>`` or ``address:<ip>``)."""

    __tablename__ = "auth_throttle"
    __table_args__ = (sa.CheckConstraint("failures >= 0", name="failures_not_negative"),)

    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    #: Failures since ``window_started_at``.
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: Set when the failures reached the limit: every attempt before this time gets 429.
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class DigestNonceUse(Base):
    """One (nonce, nc) pair a Digest client has used; a second use is a replay."""

    __tablename__ = "digest_nonce_uses"

    nonce: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    nc: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    #: When the nonce was issued (from its signed text): rows die with the nonce's lifetime.
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class WebSession(Base):
    """A signed-in page session. The cookie carries its random id; the row is what makes it valid.

    A signed cookie alone cannot be taken back: signing out would end only the browser's copy.
    With the row, signing out deletes it and a copied cookie is dead at once.
    """

    __tablename__ = "web_sessions"

    #: sha256 of the random id in the cookie (a database dump does not yield live cookies).
    id_sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: The user's ``session_version`` at sign-in; an older one is refused.
    user_version: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
