"""HTTP Digest authentication (RFC 7616, MD5, qop=auth) as ODK Collect speaks it.

Collect never sends credentials first: it answers a ``WWW-Authenticate`` challenge, then keeps
sending the same nonce with an increasing ``nc`` (okhttp-digest). So nonces must stay valid for
some minutes, and an expired one is answered with ``stale=true`` so Collect retries silently.

Nonces are signed, not stored: ``<issued-at>.<hmac(secret, issued-at)>``, so any app process
can verify them. Replay is stopped by the (nonce, nc) pairs the server records
(``services/nonce_counters``): ``qop=auth`` is required, and each pair is good for one request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def md5_hex(text: str) -> str:
    """MD5 of UTF-8 text, lowercase hex (the Digest building block)."""
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # noqa: S324 (RFC 7616 MD5)


def compute_ha1(username: str, realm: str, password: str) -> str:
    """HA1 = MD5(username:realm:password), stored so Digest can be checked without the password.

    :param username: the user name.
    :param realm: the realm announced in challenges.
    :param password: the plaintext password.
    :return: lowercase hex.
    """
    return md5_hex(f"{username}:{realm}:{password}")


def expected_response(*, ha1: str, method: str, params: dict[str, str]) -> str:
    """The ``response`` value a client with the right password sends.

    :param ha1: the user's stored HA1.
    :param method: the HTTP method of the request.
    :param params: the parsed Authorization parameters (nonce, uri, qop, nc, cnonce, algorithm).
    :return: lowercase hex.
    """
    nonce = params.get("nonce", "")
    if params.get("algorithm", "MD5").upper() == "MD5-SESS":
        ha1 = md5_hex(f"{ha1}:{nonce}:{params.get('cnonce', '')}")
    ha2 = md5_hex(f"{method}:{params.get('uri', '')}")
    if params.get("qop"):
        return md5_hex(
            f"{ha1}:{nonce}:{params.get('nc', '')}:{params.get('cnonce', '')}:{params['qop']}:{ha2}"
        )
    return md5_hex(f"{ha1}:{nonce}:{ha2}")


def parse_authorization(header: str) -> tuple[str, dict[str, str]]:
    """Split an Authorization header into its scheme and parameters.

    :param header: e.g. ``Digest username="a", nc=00000001, …``.
    :return: (lower-case scheme, parameters); for Basic the one parameter is ``token``.
    """
    scheme, _, rest = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "basic":
        return scheme, {"token": rest.strip()}
    params = {}
    for match in _PARAM.finditer(rest):
        value = match.group(2) if match.group(2) is not None else match.group(3)
        params[match.group(1).lower()] = re.sub(r"\\(.)", r"\1", value)
    return scheme, params


@dataclass(frozen=True)
class NonceCheck:
    """Outcome of checking a nonce: valid, or why not."""

    valid: bool
    stale: bool = False
    #: When the nonce was issued (seconds since the epoch), for a valid one.
    issued_at: int = 0


def make_nonce(secret: str, now: float) -> str:
    """Issue a signed nonce: ``<issued-at>.<random>.<signature>``.

    The random part makes every challenge's nonce unique, also two in the same second, so
    the (nonce, nc) pairs recorded against replay never collide between clients.

    :param secret: the app's secret key.
    :param now: the current time (seconds since the epoch).
    :return: the nonce text.
    """
    body = f"{int(now)}.{secrets.token_hex(8)}"
    return f"{body}.{_sign(secret, body)}"


def check_nonce(nonce: str, *, secret: str, now: float, lifetime: int) -> NonceCheck:
    """Verify a nonce's signature and age.

    :param nonce: as the client sent it.
    :param secret: the app's secret key.
    :param now: the current time (seconds since the epoch).
    :param lifetime: seconds a nonce stays usable.
    :return: valid, or invalid with ``stale`` set when only its age is wrong.
    """
    body, _, signature = nonce.rpartition(".")
    issued, _, salt = body.partition(".")
    if not issued.isdigit() or len(salt) != 16 or len(nonce) > 80:
        return NonceCheck(valid=False)
    if not hmac.compare_digest(signature, _sign(secret, body)):
        return NonceCheck(valid=False)
    age = now - int(issued)
    if age < -60 or age > lifetime:
        return NonceCheck(valid=False, stale=True)
    return NonceCheck(valid=True, issued_at=int(issued))


def _sign(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), f"digest-nonce:{text}".encode(), hashlib.sha256).hexdigest()[
        :32
    ]
