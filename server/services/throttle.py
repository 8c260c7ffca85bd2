"""Slowing password guessing down: failed checks counted per account and per address.

A lock is kept in the database (table ``auth_throttle``) so every gunicorn worker and every
machine on one PostgreSQL sees it; Flask-Limiter would need Redis or Memcached for that, a
second server the embedded default must not require (ARCHITECTURE.md says more).

Counting happens on its own short transaction (``engine.begin()``): the request that failed
ends with an error and its own session is rolled back, but the failure must stay counted.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from server.errors import TooManyAttempts
from server.models import AuthThrottle
from server.models.base import UTCDateTime

_TABLE = AuthThrottle.__table__


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures are allowed per account and per address within ``window`` seconds."""

    per_account: int
    per_address: int
    window: int

    def limit(self, key: str) -> int:
        """The number of failures that locks ``key``."""
        return self.per_account if key.startswith("account:") else self.per_address


def keys_for(username: str | None, address: str | None) -> list[str]:
    """The throttle keys of one attempt: its account (if named) and its network address."""
    keys = []
    if username:
        keys.append(f"account:{username.casefold()[:150]}")
    if address:
        keys.append(f"address:{address[:64]}")
    return keys


def check_not_locked(engine: Engine, keys: Sequence[str], *, now: dt.datetime) -> None:
    """Refuse an attempt on a locked account or from a locked address.

    :param engine: the database engine.
    :param keys: from :func:`keys_for`.
    :param now: the current time (aware UTC).
    :raises TooManyAttempts: with ``retry_after`` seconds, when any key is locked.
    """
    if not keys:
        return
    with engine.connect() as conn:
        until = conn.execute(
            sa.select(sa.func.max(_TABLE.c.locked_until)).where(
                _TABLE.c.key.in_(list(keys)), _TABLE.c.locked_until > now
            )
        ).scalar()
    if until is not None:
        raise _locked(until, now)


def record_failure(
    engine: Engine, keys: Sequence[str], *, now: dt.datetime, policy: ThrottlePolicy
) -> None:
    """Count one failed password check for each key; lock the keys that reach their limit.

    :param engine: the database engine (its own transaction, committed here).
    :param keys: from :func:`keys_for`.
    :param now: the current time (aware UTC).
    :param policy: the limits.
    :raises TooManyAttempts: when this failure locked a key (the caller answers 429 at once).
    """
    window_start = now - dt.timedelta(seconds=policy.window)
    locked = False
    with engine.begin() as conn:
        for key in keys:
            stale = _TABLE.c.window_started_at < window_start
            insert = _dialect_insert(engine)(_TABLE).values(
                key=key, failures=1, window_started_at=now, locked_until=None
            )
            upsert = insert.on_conflict_do_update(
                index_elements=[_TABLE.c.key],
                set_={
                    "failures": sa.case((stale, 1), else_=_TABLE.c.failures + 1),
                    "window_started_at": sa.case(
                        (stale, sa.literal(now, UTCDateTime())), else_=_TABLE.c.window_started_at
                    ),
                },
            ).returning(_TABLE.c.failures)
            failures = conn.execute(upsert).scalar_one()
            if failures >= policy.limit(key):
                conn.execute(
                    _TABLE.update()
                    .where(_TABLE.c.key == key)
                    .values(
                        failures=0,
                        window_started_at=now,
                        locked_until=now + dt.timedelta(seconds=policy.window),
                    )
                )
                locked = True
    if locked:
        raise _locked(now + dt.timedelta(seconds=policy.window), now)


def clear_account(engine: Engine, username: str) -> None:
    """Forget an account's failures after a correct password (addresses keep theirs).

    :param engine: the database engine.
    :param username: the account that signed in.
    """
    key = keys_for(username, None)[0]
    with engine.begin() as conn:
        conn.execute(_TABLE.delete().where(_TABLE.c.key == key, _TABLE.c.locked_until.is_(None)))


def _dialect_insert(engine: Engine):
    return postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert


def _locked(until: dt.datetime, now: dt.datetime) -> TooManyAttempts:
    if until.tzinfo is None:
        until = until.replace(tzinfo=dt.UTC)
    seconds = max(1, math.ceil((until - now).total_seconds()))
    minutes = math.ceil(seconds / 60)
    return TooManyAttempts(minutes=minutes, retry_after=seconds)
