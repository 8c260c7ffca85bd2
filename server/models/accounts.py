"""Who may talk to the server: users with roles, and device tokens (app users) for tablets."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, utcnow
from server.models.forms import Form

ROLES = ("admin", "trainer", "planner", "collector")

#: Forms assigned to a collector (other roles see every form their role allows).
user_forms = sa.Table(
    "user_forms",
    Base.metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("form_pk", sa.ForeignKey("forms.id", ondelete="CASCADE"), primary_key=True),
)

#: Forms a device token may list, download and submit to.
device_forms = sa.Table(
    "device_forms",
    Base.metadata,
    sa.Column("device_id", sa.ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("form_pk", sa.ForeignKey("forms.id", ondelete="CASCADE"), primary_key=True),
)


class User(Base):
    """A person with a login: administrator, trainer, planner or field collector."""

    __tablename__ = "users"
    __table_args__ = (
        sa.UniqueConstraint("username"),
        sa.CheckConstraint(f"role IN {ROLES!r}", name="role"),
        sa.CheckConstraint("length(username) > 0", name="username_not_blank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(150))
    full_name: Mapped[str] = mapped_column(sa.String(255), default="")
    role: Mapped[str] = mapped_column(sa.String(16))
    #: werkzeug scrypt/pbkdf2 hash, for Basic and page logins.
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    #: MD5(username:realm:password): Digest can only be checked against this (RFC 7616 HA1).
    digest_ha1: Mapped[str] = mapped_column(sa.String(32))
    #: The realm digest_ha1 was computed for; a different configured realm needs a new password.
    digest_realm: Mapped[str] = mapped_column(sa.String(100))
    is_active: Mapped[bool] = mapped_column(default=True)
    #: Units whose staff register a planner reads (their sub-units included).
    unit_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list, server_default="[]")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Page sessions carry the version they were signed in at; bumping it (sign out, password,
    #: role or state change) ends every session of the user at once, wherever it was copied.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")

    forms: Mapped[list[Form]] = relationship(secondary=user_forms, order_by=Form.form_id)

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}{'' if self.is_active else ' inactive'}>"


class Device(Base):
    """A device token ("app user"): the token in the URL is the credential, limited to its forms."""

    __tablename__ = "devices"
    __table_args__ = (sa.UniqueConstraint("token_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(sa.String(255))
    #: sha256 of the token: the token itself is shown once and never stored.
    token_sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set when revoked; a revoked token is refused (403) everywhere.
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    forms: Mapped[list[Form]] = relationship(secondary=device_forms, order_by=Form.form_id)

    def __repr__(self) -> str:
        return f"<Device {self.id} {self.label!r}{' revoked' if self.revoked_at else ''}>"


class PasswordLink(Base):
    """A one-time link on which a user sets their own password (a new account, or a reset).

    An administrator never chooses nor sees anyone's password: creating a user or resetting a
    password issues a link the administrator hands over, only its sha256 is stored, and it is
    spent by the password it sets. A newer link for the same user kills the older ones.
    """

    __tablename__ = "password_links"
    __table_args__ = (
        sa.UniqueConstraint("code_sha256"),
        sa.CheckConstraint("purpose IN ('invite', 'reset')", name="purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_sha256: Mapped[str] = mapped_column(sa.String(64))
    #: "invite" for a new account, "reset" when an administrator reset the password.
    purpose: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: Set when the link set a password, or when a newer link or a disable replaced it.
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    user: Mapped[User] = relationship(foreign_keys=[user_id])
