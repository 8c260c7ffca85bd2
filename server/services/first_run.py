"""The first administrator of a fresh installation, made from a one-time console link.

Nobody on the department's staff has a terminal on the server, and a fresh database has no
account to sign in with. ``make run`` therefore asks :func:`issue_code` for a code while no
active administrator exists and prints ``<base>/first-run/<code>`` on the server's console only.
Whoever reads that console opens the link and creates the first administrator
(:func:`create_first_admin`); that spends the code, and once an administrator exists every
code is dead. Only a hash of each code is stored, like device tokens.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.errors import FirstRunLinkSpent
from server.models import FirstRunCode, User
from server.services.accounts import create_user

#: How long a printed link stays usable when nobody uses it.
CODE_LIFETIME = dt.timedelta(days=7)


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def has_administrator(session: Session) -> bool:
    """Whether an active administrator exists (then no set-up link works)."""
    return (
        session.execute(
            sa.select(User.id).where(User.role == "admin", User.is_active.is_(True)).limit(1)
        ).first()
        is not None
    )


def issue_code(session: Session, *, now: dt.datetime) -> str | None:
    """A new one-time code, or None when an administrator exists already (flushes).

    :param session: the database session.
    :param now: the time of issue (aware UTC).
    :return: the code to print on the console (never stored, never shown on a page).
    """
    if has_administrator(session):
        return None
    code = secrets.token_urlsafe(24)
    session.add(FirstRunCode(code_sha256=_digest(code), created_at=now))
    session.flush()
    return code


def check_code(session: Session, code: str, *, now: dt.datetime) -> FirstRunCode:
    """The unspent, unexpired code row, while no administrator exists.

    :raises FirstRunLinkSpent: otherwise (one refusal for every case: the page says what to do).
    """
    row = (
        session.execute(
            sa.select(FirstRunCode).where(FirstRunCode.code_sha256 == _digest(code[:200]))
        ).scalar_one_or_none()
        if code
        else None
    )
    if (
        row is None
        or row.used_at is not None
        or row.created_at + CODE_LIFETIME < now
        or has_administrator(session)
    ):
        raise FirstRunLinkSpent(reason="spent")
    return row


def create_first_admin(
    session: Session,
    code: str,
    *,
    username: str,
    full_name: str,
    password: str,
    realm: str,
    now: dt.datetime,
) -> User:
    """Create the first administrator and spend the code, in the caller's transaction (flushes).

    The code is spent by a conditional UPDATE: of two clicks racing, only one finds it unspent,
    so a double-clicked button never makes two administrators.

    :raises FirstRunLinkSpent: the code cannot be used (see :func:`check_code`).
    :raises InvalidAccount, UserExists: as :func:`accounts.create_user`.
    """
    row = check_code(session, code, now=now)
    spent = session.execute(
        sa.update(FirstRunCode)
        .where(FirstRunCode.id == row.id, FirstRunCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        raise FirstRunLinkSpent(reason="raced")
    user = create_user(
        username,
        role="admin",
        password=password,
        realm=realm,
        session=session,
        full_name=full_name,
        now=now,
    )
    # Every other printed code dies with the first administrator.
    session.execute(
        sa.update(FirstRunCode)
        .where(FirstRunCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return user
