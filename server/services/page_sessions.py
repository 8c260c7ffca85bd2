"""Page sign-in sessions kept on the server, so that signing out really ends them.

The browser's cookie (signed by Flask) holds only a random session id. The session is valid
while its row exists, has not expired, and was made at the user's current
``session_version``: signing out deletes the row; "sign out everywhere", a new password, a
role change or disabling the account bump the version, which ends every copy at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.models import User, WebSession


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("ascii", "replace")).hexdigest()


def start_session(session: Session, user: User, *, now: dt.datetime, hours: int) -> str:
    """Open a session for a user who just proved their password (flushes).

    :param session: the database session.
    :param user: the user.
    :param now: the current time (aware UTC).
    :param hours: how long the session lasts.
    :return: the session id for the cookie (never stored as such).
    """
    session_id = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id_sha256=_digest(session_id),
            user_id=user.id,
            user_version=user.session_version,
            created_at=now,
            expires_at=now + dt.timedelta(hours=hours),
        )
    )
    session.execute(sa.delete(WebSession).where(WebSession.expires_at < now))
    session.flush()
    return session_id


def user_for_session(session: Session, session_id: str | None, *, now: dt.datetime) -> User | None:
    """The user a session id stands for, or None (unknown, expired, ended, or user disabled).

    :param session: the database session.
    :param session_id: from the cookie.
    :param now: the current time (aware UTC).
    :return: the active user, or None.
    """
    if not session_id or not isinstance(session_id, str) or len(session_id) > 128:
        return None
    row = session.execute(
        sa.select(User)
        .join(WebSession, WebSession.user_id == User.id)
        .where(
            WebSession.id_sha256 == _digest(session_id),
            WebSession.expires_at > now,
            WebSession.user_version == User.session_version,
            User.is_active.is_(True),
        )
    ).scalar_one_or_none()
    return row


def end_session(session: Session, session_id: str | None) -> None:
    """Sign one session out (flushes); a copy of its cookie is dead from now on."""
    if session_id and isinstance(session_id, str):
        session.execute(sa.delete(WebSession).where(WebSession.id_sha256 == _digest(session_id)))
        session.flush()


def end_all_sessions(session: Session, user: User) -> None:
    """Sign a user out everywhere (flushes): bump the version and drop their sessions."""
    user.session_version = (user.session_version or 1) + 1
    session.execute(sa.delete(WebSession).where(WebSession.user_id == user.id))
    session.flush()
