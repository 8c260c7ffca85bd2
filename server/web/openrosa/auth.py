"""Who is asking: a device token in the URL, or a user answering a Digest challenge.

Collect sends credentials only after a 401 with a challenge (Digest always, Basic only over
https), so every refusal of an anonymous request carries one (``server/web/errors.py``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import time

from flask import current_app, request

from server.domain.digest import check_nonce, expected_response, parse_authorization
from server.errors import AuthenticationRequired, TokenInvalid
from server.extensions import db
from server.services import nonce_counters, throttle
from server.services.accounts import MAX_TOKEN_LENGTH, Actor, check_basic, find_user, hash_token
from server.services.setup_cache import setup_cache
from server.web.security import throttle_policy


def authenticate(view_args: dict) -> Actor:
    """Return the actor of the current request.

    :param view_args: the matched URL's arguments (``token`` under ``/key/<token>/``).
    :return: the actor.
    :raises TokenInvalid: unknown or revoked device token.
    :raises AuthenticationRequired: no or wrong credentials (``details['stale']`` when only
        the nonce expired).
    """
    if "token" in view_args:
        token = view_args["token"]
        device = (
            setup_cache(db.session).device(db.session, hash_token(token))
            if token and len(token) <= MAX_TOKEN_LENGTH
            else None
        )
        if device is None:
            raise TokenInvalid()
        return Actor(device=device)
    header = request.headers.get("Authorization", "")
    scheme, params = parse_authorization(header) if header else ("", {})
    if scheme == "digest":
        return Actor(user=_digest_user(params))
    if scheme == "basic" and request.is_secure:
        return Actor(user=_basic_user(params.get("token", "")))
    raise _required("required")


def _required(reason: str, *, stale: bool = False) -> AuthenticationRequired:
    """The 401 for one ``reason`` of the catalogue (``AuthenticationRequired``)."""
    return AuthenticationRequired(reason=reason, stale=stale)


def raw_request_target() -> str:
    """The request target as the client wrote it (path and query), which Digest signs."""
    environ = request.environ
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.path
    query = environ.get("QUERY_STRING", "")
    if query and "?" not in raw:
        raw = f"{raw}?{query}"
    return raw


def _digest_user(params: dict[str, str]):
    config = current_app.config
    throttle.check_not_locked(
        db.engine, _throttle_keys(params.get("username", "")), now=dt.datetime.now(dt.UTC)
    )
    user = find_user(db.session, params.get("username", ""))
    if user is None or not user.is_active or params.get("realm") != config["AUTH_REALM"]:
        _failed(params.get("username", ""))
        raise _required("unknown_user")
    if user.digest_realm != config["AUTH_REALM"]:
        raise _required("realm_changed")
    nonce = check_nonce(
        params.get("nonce", ""),
        secret=config["SECRET_KEY"],
        now=time.time(),
        lifetime=config["DIGEST_NONCE_SECONDS"],
    )
    if not nonce.valid:
        raise _required("stale_nonce", stale=nonce.stale)
    if params.get("uri") != raw_request_target():
        raise _required("uri_mismatch")
    nc = _counter(params)
    if params.get("qop") != "auth" or nc is None:
        # RFC 2069 Digest (no qop, no nc) cannot be protected against replay.
        raise _required("unsupported_qop")
    expected = expected_response(ha1=user.digest_ha1, method=request.method, params=params)
    if not hmac.compare_digest(expected, params.get("response", "")):
        _failed(params.get("username", ""))
        raise _required("wrong_password")
    issued = dt.datetime.fromtimestamp(nonce.issued_at, dt.UTC)
    if not nonce_counters.claim(
        db.engine, params["nonce"], nc, issued_at=issued, lifetime=config["DIGEST_NONCE_SECONDS"]
    ):
        # A replayed header; a real client that lost count just takes the fresh challenge.
        raise _required("nonce_reused", stale=True)
    return user


def _counter(params: dict[str, str]) -> int | None:
    raw = params.get("nc", "")
    if len(raw) != 8:
        return None
    try:
        return int(raw, 16)
    except ValueError:
        return None


def _throttle_keys(username: str) -> list[str]:
    return throttle.keys_for(username, request.remote_addr)


def _failed(username: str) -> None:
    throttle.record_failure(
        db.engine, _throttle_keys(username), now=dt.datetime.now(dt.UTC), policy=throttle_policy()
    )


def _basic_user(token: str):
    try:
        decoded = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _required("malformed_basic") from exc
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError:
        text = decoded.decode("latin-1")  # RFC 7617 default charset, as Collect sends
    username, _, password = text.partition(":")
    throttle.check_not_locked(db.engine, _throttle_keys(username), now=dt.datetime.now(dt.UTC))
    user = check_basic(db.session, username, password)
    if user is None:
        _failed(username)
        raise _required("wrong_password")
    return user
