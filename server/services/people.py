"""Administering people's accounts: create, role, assignments, password links, disable, tokens.

``accounts`` holds the credentials themselves (hashes, Digest HA1, tokens); this module holds
what an administrator does with them, for the People page and the ``users`` CLI alike:

* every change is checked against the policy (``users.manage``; ``actor=None`` is the server's
  console, which is trusted as the CLI always was) and written to the audit log in the same
  transaction;
* **nobody chooses another person's password.** Creating a user or resetting a password issues
  a one-time *set-password link* (:func:`issue_link`) that the administrator hands over; the
  person opens it and chooses their own password (:func:`redeem_link`). Only the link's sha256
  is stored; a newer link, disabling the account or using it kills it; it lasts
  :data:`LINK_LIFETIME`. A reset also replaces the old password at once, so whoever knew it
  (and every page session) is out before the new one is chosen;
* **the pages always keep an active administrator**: disabling or demoting the last one from a
  page is refused (:class:`~server.errors.LastAdministrator`), with the active administrators
  locked while it is decided so that two administrators disabling each other at the same
  moment cannot both succeed. The console may still do it (retiring an
  installation's last account); ``make run`` then prints a first-run link again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from server.domain.policy import Action
from server.errors import InvalidAccount, LastAdministrator, PasswordLinkSpent, UserNotFound
from server.models import AdminUnit, ApiToken, PasswordLink, User
from server.services import accounts
from server.services.audit import record
from server.services.permissions import require

#: How long a set-password link can be used.
LINK_LIFETIME = dt.timedelta(days=3)
PURPOSES = ("invite", "reset")


def _check(actor: User | None) -> None:
    """The policy for page users; the console (``None``) may do everything."""
    if actor is not None:
        require(actor, Action.USERS_MANAGE)


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def get_user_by_id(session: Session, user_id: int) -> User:
    """Return a user by id.

    :raises UserNotFound: if there is none.
    """
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFound(reason="id", user_id=user_id)
    return user


def create_person(
    session: Session,
    actor: User | None,
    *,
    username: str,
    role: str,
    realm: str,
    now: dt.datetime,
    full_name: str = "",
    form_ids: Sequence[str] = (),
    unit_codes: Sequence[str] = (),
) -> tuple[User, str]:
    """Create a user who will choose their own password on a one-time link (flushes).

    Until the link is used the account has a random password nobody knows, so it cannot sign
    in, nor connect Collect.

    :param session: the database session.
    :param actor: the administrator (None: the console).
    :param username: the login name.
    :param role: admin, trainer, planner or collector.
    :param realm: the Digest realm.
    :param now: the time.
    :param full_name: the person's name.
    :param form_ids: forms assigned (collectors, planners).
    :param unit_codes: units whose data a planner reads.
    :return: the user and the set-password link's code.
    :raises RoleNotAllowed: the actor may not manage users.
    :raises InvalidAccount, UserExists, FormNotFound: as :func:`accounts.create_user`;
        ``unknown_units`` for a unit code no unit has.
    """
    _check(actor)
    full_name = unicodedata.normalize("NFC", full_name).strip()[:255]
    units = _known_units(session, unit_codes)
    user = accounts.create_user(
        username,
        role=role,
        password=secrets.token_urlsafe(32),
        realm=realm,
        session=session,
        full_name=full_name,
        form_ids=form_ids,
        now=now,
    )
    user.unit_codes = units
    session.flush()
    record(
        session,
        user=actor,
        action="user.create",
        target=user,
        now=now,
        details={
            "username": user.username,
            "role": role,
            "forms": [f.form_id for f in user.forms],
            "units": units,
        },
    )
    return user, issue_link(session, actor, user, purpose="invite", now=now)


def create_with_password(
    session: Session,
    actor: User | None,
    *,
    username: str,
    role: str,
    password: str,
    realm: str,
    now: dt.datetime,
    full_name: str = "",
    form_ids: Sequence[str] = (),
) -> User:
    """Create a user with a password typed at the console (``users create``), audited (flushes).

    :raises RoleNotAllowed: the actor may not manage users.
    :raises InvalidAccount, UserExists, FormNotFound: as :func:`accounts.create_user`.
    """
    _check(actor)
    user = accounts.create_user(
        username,
        role=role,
        password=password,
        realm=realm,
        session=session,
        full_name=full_name,
        form_ids=form_ids,
        now=now,
    )
    record(
        session,
        user=actor,
        action="user.create",
        target=user,
        now=now,
        details={"username": user.username, "role": role, "forms": [f.form_id for f in user.forms]},
    )
    return user


def set_password(
    session: Session, actor: User | None, user: User, password: str, *, realm: str, now: dt.datetime
) -> User:
    """Set a user's password typed at the console (``users set-password``), audited (flushes).

    Every page session of the user ends, as :func:`accounts.set_password` does.

    :raises RoleNotAllowed: the actor may not manage users.
    :raises InvalidAccount: the password is too short.
    """
    _check(actor)
    accounts.set_password(user, password, realm=realm)
    _kill_links(session, user, now=now)
    session.flush()
    record(
        session,
        user=actor,
        action="user.password_set",
        target=user,
        now=now,
        details={},
    )
    return user


def _known_units(session: Session, codes: Sequence[str]) -> list[str]:
    wanted = sorted({unicodedata.normalize("NFC", c).strip() for c in codes if c.strip()})
    if not wanted:
        return []
    found = set(
        session.execute(sa.select(AdminUnit.code).where(AdminUnit.code.in_(wanted))).scalars()
    )
    missing = [code for code in wanted if code not in found]
    if missing:
        raise InvalidAccount(reason="unknown_units", codes=missing)
    return wanted


def issue_link(
    session: Session, actor: User | None, user: User, *, purpose: str, now: dt.datetime
) -> str:
    """A new one-time set-password link for a user; older unused ones die (flushes).

    :param session: the database session.
    :param actor: who issues it (None: the console).
    :param user: whose password the link sets.
    :param purpose: "invite" (a new account) or "reset".
    :param now: the time of issue.
    :return: the code (shown once to the administrator; only its hash is kept).
    """
    _check(actor)
    _kill_links(session, user, now=now)
    code = secrets.token_urlsafe(24)
    session.add(
        PasswordLink(
            user_id=user.id,
            code_sha256=_digest(code),
            purpose=purpose,
            created_at=now,
            expires_at=now + LINK_LIFETIME,
            created_by_user_id=actor.id if actor else None,
        )
    )
    session.flush()
    return code


def _kill_links(session: Session, user: User, *, now: dt.datetime) -> None:
    session.execute(
        sa.update(PasswordLink)
        .where(PasswordLink.user_id == user.id, PasswordLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )


def check_link(session: Session, code: str, *, now: dt.datetime) -> PasswordLink:
    """The unused, unexpired link with this code, of an active user.

    :raises PasswordLinkSpent: otherwise (one answer for every case).
    """
    row = (
        session.execute(
            sa.select(PasswordLink).where(PasswordLink.code_sha256 == _digest(code[:200]))
        ).scalar_one_or_none()
        if code
        else None
    )
    if row is None or row.used_at is not None or row.expires_at <= now or not row.user.is_active:
        raise PasswordLinkSpent(reason="spent")
    return row


def redeem_link(
    session: Session,
    code: str,
    *,
    password: str,
    password_again: str,
    realm: str,
    now: dt.datetime,
) -> User:
    """Set a user's password from their link, and spend the link (flushes).

    The link is spent by a conditional UPDATE: of two clicks racing, only one finds it unused.
    Setting the password ends every page session of the user.

    :param session: the database session.
    :param code: the link's code.
    :param password: the chosen password.
    :param password_again: the same, typed again.
    :param realm: the Digest realm.
    :param now: the time.
    :return: the user.
    :raises PasswordLinkSpent: the link cannot be used.
    :raises InvalidAccount: the two passwords differ, or the password is too short.
    """
    row = check_link(session, code, now=now)
    if password != password_again:
        raise InvalidAccount(reason="passwords_differ")
    user = row.user
    accounts.set_password(user, password, realm=realm)  # before spending: a short one keeps it
    spent = session.execute(
        sa.update(PasswordLink)
        .where(PasswordLink.id == row.id, PasswordLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        raise PasswordLinkSpent(reason="raced")
    record(
        session,
        user=user,
        action="user.password_set",
        target=user,
        now=now,
        details={"link": row.purpose},
    )
    return user


def reset_password(
    session: Session, actor: User | None, user: User, *, realm: str, now: dt.datetime
) -> str:
    """Replace a user's password by one nobody knows and issue a link to choose a new one.

    The old password (and the Digest credentials Collect uses) stop working at once, and every
    page session of the user ends, as :func:`accounts.set_password` does.

    :return: the new link's code.
    :raises RoleNotAllowed: the actor may not manage users.
    """
    _check(actor)
    accounts.set_password(user, secrets.token_urlsafe(32), realm=realm)
    record(session, user=actor, action="user.password_reset", target=user, details={}, now=now)
    return issue_link(session, actor, user, purpose="reset", now=now)


def _keep_an_administrator(
    session: Session, actor: User | None, user: User, *, reason: str
) -> None:
    """Refuse a change from a page that would leave no active administrator.

    The active administrators' rows are locked before they are counted, by an UPDATE that
    changes nothing: on PostgreSQL it takes their row locks (as ``FOR UPDATE`` would), on SQLite
    the database's write lock (a plain SELECT there runs outside any transaction). A second
    administrator deciding at the same moment waits, then counts what the first committed.
    """
    if actor is None or user.role != "admin" or not user.is_active:
        return
    active_admins = (User.role == "admin", User.is_active.is_(True))
    session.execute(
        sa.update(User)
        .where(*active_admins)
        .values(role=User.role)
        .execution_options(synchronize_session=False)
    )
    others = session.execute(sa.select(User.id).where(*active_admins, User.id != user.id).limit(1))
    if others.first() is None:
        raise LastAdministrator(username=user.username, reason=reason)


def set_role(
    session: Session, actor: User | None, user: User, role: str, *, now: dt.datetime
) -> User:
    """Change a user's role; their page sessions end (flushes).

    :raises RoleNotAllowed: the actor may not manage users.
    :raises InvalidAccount: an unknown role.
    :raises LastAdministrator: the last active administrator would lose the role.
    """
    _check(actor)
    before = user.role
    if role == before:
        return user
    if role in accounts.ROLES:
        _keep_an_administrator(session, actor, user, reason="role")
    accounts.set_role(user, role)
    session.flush()
    record(
        session,
        user=actor,
        action="user.role",
        target=user,
        now=now,
        details={"from": before, "to": role},
    )
    return user


def set_assignments(
    session: Session,
    actor: User | None,
    user: User,
    *,
    form_ids: Sequence[str],
    unit_codes: Sequence[str],
    now: dt.datetime,
) -> User:
    """Replace the forms and units assigned to a user (flushes).

    Forms limit what collectors collect and what planners read; units limit a planner's
    reading to those units, their sub-units and their former units.

    :raises RoleNotAllowed: the actor may not manage users.
    :raises FormNotFound: a form id does not exist.
    :raises InvalidAccount: ``unknown_units``.
    """
    _check(actor)
    forms = accounts.forms_by_id(session, sorted(set(form_ids)))
    units = _known_units(session, unit_codes)
    before = {"forms": [f.form_id for f in user.forms], "units": list(user.unit_codes or [])}
    after = {"forms": sorted(f.form_id for f in forms), "units": units}
    if before == after:
        return user
    user.forms = forms
    user.unit_codes = units
    session.flush()
    record(session, user=actor, action="user.assign", target=user, details=after, now=now)
    return user


def disable(session: Session, actor: User | None, user: User, *, now: dt.datetime) -> User:
    """Disable a user: passwords, API tokens, links and page sessions stop working at once.

    :raises RoleNotAllowed: the actor may not manage users.
    :raises LastAdministrator: the user is the last active administrator.
    """
    _check(actor)
    if not user.is_active:
        return user
    _keep_an_administrator(session, actor, user, reason="disable")
    accounts.disable_user(user)
    _kill_links(session, user, now=now)
    session.flush()
    record(session, user=actor, action="user.disable", target=user, details={}, now=now)
    return user


def enable(session: Session, actor: User | None, user: User, *, now: dt.datetime) -> User:
    """Enable a disabled user again (their password and tokens work again).

    :raises RoleNotAllowed: the actor may not manage users.
    """
    _check(actor)
    if user.is_active:
        return user
    user.is_active = True
    session.flush()
    record(session, user=actor, action="user.enable", target=user, details={}, now=now)
    return user


def create_token(
    session: Session, actor: User | None, user: User, *, label: str, now: dt.datetime
) -> tuple[ApiToken, str]:
    """Issue an API token acting as a user (flushes); the token is shown once.

    :param label: what it is for; 1–255 characters.
    :return: the token's row and the token itself.
    :raises RoleNotAllowed: the actor may not manage users, or the user's role has no API.
    :raises InvalidAccount: ``token_label``.
    """
    _check(actor)
    label = unicodedata.normalize("NFC", label).strip()
    if not label or len(label) > 255:
        raise InvalidAccount(reason="token_label")
    token = accounts.create_api_token(user, label=label, session=session, now=now)
    row = session.execute(
        sa.select(ApiToken).where(ApiToken.token_sha256 == accounts.hash_token(token))
    ).scalar_one()
    record(
        session,
        user=actor,
        action="token.create",
        target=row,
        now=now,
        details={"user": user.username, "label": label},
    )
    return row, token


def list_tokens(session: Session, user: User) -> list[ApiToken]:
    """A user's API tokens, newest first (revoked ones too)."""
    query = sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    return list(session.execute(query).scalars())


def revoke_token(
    session: Session, actor: User | None, user: User, token_id: int, *, now: dt.datetime
) -> ApiToken:
    """Revoke one of a user's API tokens; revoking twice keeps the first time (flushes).

    :raises RoleNotAllowed: the actor may not manage users.
    :raises UserNotFound: the user has no such token.
    """
    _check(actor)
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise UserNotFound(reason="token", token_id=token_id)
    if row.revoked_at is None:
        row.revoked_at = now
        session.flush()
        record(
            session,
            user=actor,
            action="token.revoke",
            target=row,
            now=now,
            details={"user": user.username, "label": row.label},
        )
    return row


def list_people(session: Session) -> list[User]:
    """Every user by name, with their forms loaded in one more query (not one per user)."""
    query = sa.select(User).options(selectinload(User.forms)).order_by(User.username)
    return list(session.execute(query).scalars())


def pending_links(session: Session, *, now: dt.datetime) -> dict[int, PasswordLink]:
    """The usable set-password link of each user who has one (people who have not set one).

    :return: {user id: link}.
    """
    rows = session.execute(
        sa.select(PasswordLink).where(PasswordLink.used_at.is_(None), PasswordLink.expires_at > now)
    ).scalars()
    return {row.user_id: row for row in rows}
