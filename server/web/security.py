"""What every HTTP answer gets against a hostile network: CSRF, same origin, hosts, headers.

* **CSRF**: Flask-WTF's ``CSRFProtect`` on every state-changing page request (sign in and
  sign out included). The JSON API (bearer tokens, never cookies) and OpenRosa (Digest or a
  device token in the URL) carry no ambient credential a foreign page could ride on, so they
  are exempt.
* **Same origin**: a page POST whose ``Origin`` (or, without it, ``Referer``) names another
  site is refused before the view runs, a second wall behind the token.
* **Hosts**: ``TAPHUAN_ALLOWED_HOSTS`` becomes Flask's ``TRUSTED_HOSTS`` (400 for others).
* **Headers**: ``nosniff``, no framing, a strict Content-Security-Policy (the pages use no
  inline script or style), a referrer policy, and HSTS when served over https.
* **Cookie**: the session cookie is ``Secure`` whenever the request came over https.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect

from server.errors import RequestForgery
from server.services.throttle import ThrottlePolicy
from server.web.uploads import bound_upload

csrf = CSRFProtect()

#: Blueprints whose requests carry no cookie credential (see the module docstring).
CSRF_EXEMPT_BLUEPRINTS = ("api", "openrosa", "openrosa_key")
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, marked ``Secure`` when the request itself came over https.

    A fixed ``SESSION_COOKIE_SECURE`` cannot serve both the LAN default (plain http, where a
    Secure cookie would never come back) and a deployment behind https.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure when configured so, or when this request is https."""
        configured = super().get_cookie_secure(app)
        return configured or (has_request_context() and request.is_secure)


def install(app: Flask) -> None:
    """Put CSRF, the origin check, the host list, the cookie policy and the headers on an app.

    :param app: the app (its settings are final).
    """
    hosts = [h.strip() for h in app.config["ALLOWED_HOSTS"].split(",") if h.strip()]
    app.config.update(
        TRUSTED_HOSTS=hosts or None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=app.config["SESSION_HOURS"]),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session it belongs to
        WTF_CSRF_SSL_STRICT=False,  # the origin check below covers http and https alike
    )
    app.session_interface = HttpsAwareSessionInterface()
    app.before_request(_same_origin)
    app.before_request(bound_upload)  # before the CSRF check reads a form's body
    csrf.init_app(app)
    app.after_request(_headers)


def exempt_blueprints(app: Flask) -> None:
    """Exempt the cookie-less surfaces from CSRF (call after they are registered)."""
    for name in CSRF_EXEMPT_BLUEPRINTS:
        csrf.exempt(app.blueprints[name])


def _same_origin():
    if request.method not in _UNSAFE or request.blueprint in CSRF_EXEMPT_BLUEPRINTS:
        return
    claimed = request.headers.get("Origin") or request.headers.get("Referer")
    if claimed is None:
        return  # old browsers and privacy settings send neither; the CSRF token still holds
    parts = urlsplit(claimed)
    if claimed == "null" or parts.netloc != request.host:
        raise RequestForgery(reason="other_origin", origin=claimed)


def _headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Content-Security-Policy", _CSP)
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def forgery_error(error: CSRFError) -> RequestForgery:
    """Flask-WTF's refusal as a catalogue error (a clear message, a stable code)."""
    return RequestForgery(reason="csrf", cause=error.description)


def throttle_policy() -> ThrottlePolicy:
    """The sign-in limits from the app's settings."""
    config = current_app.config
    return ThrottlePolicy(
        per_account=config["AUTH_MAX_FAILURES"],
        per_address=config["AUTH_MAX_FAILURES_PER_ADDRESS"],
        window=config["AUTH_LOCK_SECONDS"],
    )
