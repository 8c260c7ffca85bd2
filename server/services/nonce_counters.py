"""Digest replay protection: each (nonce, nc) pair is good for one request, in every process.

Collect reuses a nonce for minutes with an increasing ``nc`` (one challenge, many requests),
so a nonce alone cannot be single-use. RFC 7616 lets the server track ``nc`` instead: a pair
seen before is a replay, even if the header was captured whole. ``qop=auth`` signs neither the
body nor the headers, so without this a captured header could carry any other submission.
The pairs live in the database so that every worker and machine sees every use; a pair dies
with its nonce's lifetime.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from server.models import DigestNonceUse

_TABLE = DigestNonceUse.__table__


def claim(engine: Engine, nonce: str, nc: int, *, issued_at: dt.datetime, lifetime: int) -> bool:
    """Record one use of (nonce, nc); False if it was used before (a replay).

    :param engine: the database engine (its own transaction, committed here).
    :param nonce: the nonce the client answered (already verified as ours and fresh).
    :param nc: the client's request counter for that nonce.
    :param issued_at: when the nonce was issued (from its signed text).
    :param lifetime: the nonce lifetime in seconds; older rows are dropped on a first use.
    :return: True the first time a pair is seen, False afterwards.
    """
    try:
        with engine.begin() as conn:
            conn.execute(_TABLE.insert().values(nonce=nonce, nc=nc, issued_at=issued_at))
            if nc == 1:
                horizon = issued_at - dt.timedelta(seconds=lifetime + 120)
                conn.execute(sa.delete(_TABLE).where(_TABLE.c.issued_at < horizon))
    except IntegrityError:
        return False
    return True
