"""Users and device tokens: creating them, checking their credentials, and what they may reach.

Who sees which form over OpenRosa is the permission policy's ``openrosa.collect``
(``server/domain/policy.py``): admins and trainers every form, collectors and device tokens
their assigned forms, planners none.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from server.domain.digest import compute_ha1
from server.domain.policy import Action, form_scope
from server.errors import FormNotFound, InvalidAccount, UserExists, UserNotFound
from server.models import ApiToken, Device, Form, Submission, User
from server.models.accounts import ROLES
from server.models.base import aware_utc
from server.models.integrity import conflict_for
from server.services.permissions import require, subject_of
from server.services.setup_cache import ApiCaller, setup_cache

MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True)
class Actor:
    """Whoever is making a request: a user, or a device token."""

    user: User | None = None
    device: Device | None = None

    @property
    def label(self) -> str:
        """How logs and records name this actor."""
        if self.user is not None:
            return f"user:{self.user.username}"
        return f"device:{self.device.id}" if self.device else "anonymous"

    @property
    def who(self) -> User | Device | None:
        """The user or device the permission policy judges."""
        return self.user if self.user is not None else self.device

    def form_pks(self) -> frozenset[int] | None:
        """Primary keys of the forms this actor may list and submit to; None = all forms."""
        return form_scope(subject_of(self.who), Action.COLLECT)

    def may_use(self, form: Form) -> bool:
        """Whether the actor may download and submit this form."""
        allowed = self.form_pks()
        return allowed is None or form.id in allowed


def create_user(
    username: str,
    *,
    role: str,
    password: str,
    realm: str,
    session: Session,
    full_name: str = "",
    form_ids: Sequence[str] = (),
    now: dt.datetime,
) -> User:
    """Create a user (flushes).

    :param username: login name; NFC, no ``:`` (Digest joins fields with it), ≤150 chars.
    :param role: admin, trainer, planner or collector.
    :param password: at least 8 characters.
    :param realm: the Digest realm, for the stored HA1.
    :param session: the database session.
    :param full_name: the person's name, for pages.
    :param form_ids: forms to assign (meaningful for collectors).
    :param now: creation time.
    :return: the user.
    :raises InvalidAccount: bad name, role or password.
    :raises UserExists: the name is taken.
    :raises FormNotFound: a form id does not exist.
    """
    username = unicodedata.normalize("NFC", username).strip()
    if not username or ":" in username or len(username) > 150 or not username.isprintable():
        raise InvalidAccount(reason="username", username=username)
    if role not in ROLES:
        raise InvalidAccount(reason="role", role=role, roles=list(ROLES))
    if session.execute(sa.select(User.id).where(User.username == username)).first():
        raise UserExists(username=username)
    user = User(username=username, role=role, full_name=full_name, created_at=now)
    _set_password(user, password, realm)
    user.forms = forms_by_id(session, form_ids)
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # another process created the same name meanwhile
        raise conflict_for(exc, username=username) from exc
    return user


def set_password(user: User, password: str, *, realm: str) -> None:
    """Replace a user's password (both the hash and the Digest HA1); ends their page sessions.

    :param user: the user.
    :param password: the new password, at least 8 characters.
    :param realm: the Digest realm.
    :raises InvalidAccount: if the password is too short.
    """
    _set_password(user, password, realm)
    _end_sessions(user)


def set_role(user: User, role: str) -> None:
    """Change a user's role; their page sessions end (what they may see changed).

    :param user: the user.
    :param role: admin, trainer, planner or collector.
    :raises InvalidAccount: for an unknown role.
    """
    if role not in ROLES:
        raise InvalidAccount(reason="role", role=role, roles=list(ROLES))
    if role != user.role:
        user.role = role
        _end_sessions(user)


def disable_user(user: User) -> None:
    """Disable a user: passwords, tokens and page sessions stop working at once."""
    user.is_active = False
    _end_sessions(user)


def _end_sessions(user: User) -> None:
    # A copied session cookie names the version it was made at; any other is refused.
    user.session_version = (user.session_version or 1) + 1


def _set_password(user: User, password: str, realm: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidAccount(reason="password", min_length=MIN_PASSWORD_LENGTH)
    user.password_hash = generate_password_hash(password)
    user.digest_ha1 = compute_ha1(user.username, realm, password)
    user.digest_realm = realm


def get_user(session: Session, username: str) -> User:
    """Return a user by name.

    :param session: the database session.
    :param username: the login name.
    :return: the user.
    :raises UserNotFound: if there is none.
    """
    user = find_user(session, username)
    if user is None:
        raise UserNotFound(username=username)
    return user


def find_user(session: Session, username: str) -> User | None:
    """Return the user with that name, or None."""
    name = unicodedata.normalize("NFC", username)
    return session.execute(sa.select(User).where(User.username == name)).scalar_one_or_none()


def check_basic(session: Session, username: str, password: str) -> User | None:
    """Check a user name and password (HTTP Basic, page logins).

    :return: the active user, or None when the name or password is wrong.
    """
    user = find_user(session, username)
    # An unknown name costs the same hash check as a known one: timing must not tell which
    # user names exist.
    stored = user.password_hash if user is not None else _decoy_hash()
    if not check_password_hash(stored, password) or user is None or not user.is_active:
        return None
    return user


@functools.cache
def _decoy_hash() -> str:
    """A hash of a random password, made the way real ones are (same method and cost)."""
    return generate_password_hash(secrets.token_urlsafe(16))


def forms_by_id(session: Session, form_ids: Sequence[str]) -> list[Form]:
    """Look forms up by form_id, all of them or an error.

    :raises FormNotFound: naming the ids that do not exist.
    """
    if not form_ids:
        return []
    forms = list(session.execute(sa.select(Form).where(Form.form_id.in_(form_ids))).scalars())
    missing = sorted(set(form_ids) - {f.form_id for f in forms})
    if missing:
        raise FormNotFound(reason="unknown_ids", form_ids=missing)
    return forms


def hash_token(token: str) -> str:
    """sha256 of a device token: what is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_device(
    label: str, *, form_ids: Sequence[str], session: Session, now: dt.datetime
) -> tuple[Device, str]:
    """Create a device token limited to some forms (flushes).

    :param label: what the token is for ("Máy tính bảng xã Ia Ka").
    :param form_ids: the forms it may use; at least one.
    :param session: the database session.
    :param now: creation time.
    :return: the device and its token (shown once, stored only as a hash).
    :raises InvalidAccount: no label or no form.
    :raises FormNotFound: a form id does not exist.
    """
    label = unicodedata.normalize("NFC", label).strip()
    if not label or len(label) > 255:
        raise InvalidAccount(reason="device_label")
    if not form_ids:
        raise InvalidAccount(reason="device_forms")
    token = secrets.token_urlsafe(32)
    device = Device(label=label, token_sha256=hash_token(token), created_at=now)
    device.forms = forms_by_id(session, form_ids)
    session.add(device)
    session.flush()
    return device, token


#: Longer "tokens" are refused unread (ours are much shorter).
MAX_TOKEN_LENGTH = 128


def device_for_token(session: Session, token: str) -> Device | None:
    """Return the active device with that token, or None (unknown or revoked)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    device = session.execute(
        sa.select(Device).where(Device.token_sha256 == hash_token(token))
    ).scalar_one_or_none()
    return device if device is not None and device.revoked_at is None else None


def get_device(session: Session, device_id: int) -> Device:
    """Return a device by id.

    :raises UserNotFound: if there is none.
    """
    device = session.get(Device, device_id)
    if device is None:
        raise UserNotFound(reason="device", device_id=device_id)
    return device


def revoke_device(session: Session, device_id: int, *, now: dt.datetime) -> Device:
    """Revoke a device token (flushes): its URL stops working at once on every worker.

    Revoking twice keeps the first time. The set-up generation moves with the change, so the
    OpenRosa caches of every process forget the token (``setup_cache``).

    :raises UserNotFound: no such device.
    """
    device = get_device(session, device_id)
    device.revoked_at = device.revoked_at or now
    session.flush()
    return device


@dataclass(frozen=True)
class DeviceActivity:
    """What a tablet has sent: how many submissions, and when it was last heard from."""

    submissions: int
    last_seen: dt.datetime | None


def device_activity(session: Session) -> dict[int, DeviceActivity]:
    """Submissions and the last receipt per device token, in one grouped query.

    :return: {device id: activity}; devices that never sent are absent.
    """
    rows = session.execute(
        sa.select(
            Submission.submitter_device_id,
            sa.func.count(Submission.id),
            sa.func.max(Submission.received_at),
        )
        .where(Submission.submitter_device_id.is_not(None))
        .group_by(Submission.submitter_device_id)
    )
    return {device_id: DeviceActivity(count, aware_utc(last)) for device_id, count, last in rows}


def list_users(session: Session) -> list[User]:
    """Every user, by name."""
    return list(session.execute(sa.select(User).order_by(User.username)).scalars())


def list_devices(session: Session) -> list[Device]:
    """Every device token, newest first."""
    return list(session.execute(sa.select(Device).order_by(Device.id.desc())).scalars())


def create_api_token(user: User, *, label: str, session: Session, now: dt.datetime) -> str:
    """Issue an API token for a user (flushes); only its hash is stored.

    :param user: the user the token acts as.
    :param label: what the token is for ("Power Query báo cáo quý").
    :param session: the database session.
    :param now: creation time.
    :return: the token, to be shown once.
    :raises RoleNotAllowed: for a role that has no API (collectors use ODK Collect only).
    """
    require(user, Action.USE_API)
    token = secrets.token_urlsafe(32)
    session.add(
        ApiToken(user_id=user.id, label=label, token_sha256=hash_token(token), created_at=now)
    )
    session.flush()
    return token


def user_for_api_token(session: Session, token: str) -> User | None:
    """Return the active user behind a bearer token, or None (unknown, revoked, disabled).

    One statement: the token, its user and the user's forms (the policy reads them on every
    request) come joined; looked up one after the other they were three round trips, more
    than a listing page's own query costs.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    statement = (
        sa.select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_sha256 == hash_token(token),
            ApiToken.revoked_at.is_(None),
            User.is_active.is_(True),
        )
        .options(joinedload(User.forms))
    )
    return session.execute(statement).unique().scalar_one_or_none()


def api_caller_for_token(session: Session, token: str) -> ApiCaller | None:
    """Return what the policy needs of the active user behind a bearer token, or None.

    From the set-up cache: a request pays the set-up generation's read, not the token's
    query (see :func:`user_for_api_token` for an ORM ``User``).
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return setup_cache(session).api_caller(session, hash_token(token))
