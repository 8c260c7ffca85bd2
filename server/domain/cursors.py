"""Signed keyset-pagination cursors.

A cursor carries the sort key of the last row of a page and a fingerprint of the query it
belongs to, signed with the app secret: a client cannot forge a position, nor reuse a cursor
with other filters (both would silently skip or repeat rows).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from server.errors import InvalidCursor


def fingerprint(query: dict[str, Any]) -> str:
    """A short stable hash of a query's filters (not its cursor or page size)."""
    canonical = json.dumps(query, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(position: dict[str, Any], *, query: dict[str, Any], secret: str) -> str:
    """Make an opaque cursor for the row after which the next page starts.

    :param position: the last row's sort key, e.g. {"received_at": "…", "id": 42}.
    :param query: the filters of the listing (bound into the signature).
    :param secret: the app secret key.
    :return: URL-safe text.
    """
    body = json.dumps({"p": position, "q": fingerprint(query)}, separators=(",", ":")).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(body + signature).decode().rstrip("=")


def decode_cursor(cursor: str, *, query: dict[str, Any], secret: str) -> dict[str, Any]:
    """Check and open a cursor made by :func:`encode_cursor` for the same query.

    :param cursor: the text the client sent back.
    :param query: the filters of the current request.
    :param secret: the app secret key.
    :return: the position.
    :raises InvalidCursor: if it was altered, is malformed, or belongs to other filters.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        body, signature = raw[:-12], raw[-12:]
        expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()[:12]
        if len(raw) <= 12 or not hmac.compare_digest(signature, expected):
            raise ValueError("bad signature")
        payload = json.loads(body)
    except (ValueError, TypeError) as exc:
        raise InvalidCursor(reason="altered", fields={"cursor": ["invalid"]}) from exc
    if payload.get("q") != fingerprint(query):
        raise InvalidCursor(reason="other_filters", fields={"cursor": ["belongs to other filters"]})
    return payload["p"]
