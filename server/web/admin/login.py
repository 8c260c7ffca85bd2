"""Signing in to the pages: a user name and password form, then a server-side session.

Pages are for administrators, trainers and planners; collectors use ODK Collect. The cookie
holds only a random session id (see ``services/page_sessions``): signing out, a new password,
a role change or disabling the account end the session on the server, not just in the browser.
Wrong passwords are throttled per account and per address (``services/throttle``), and every
form carries a CSRF token (Flask-WTF, installed in ``server/web/security.py``).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import current_app, g, redirect, render_template, request, session, url_for

from server.domain.policy import Action
from server.errors import TooManyAttempts
from server.extensions import db
from server.services import first_run, page_sessions, throttle
from server.services.accounts import check_basic
from server.services.permissions import allowed
from server.web.admin import bp
from server.web.security import throttle_policy

PUBLIC_ENDPOINTS = {
    "admin.login",
    "admin.logout",
    "admin.first_run_page",
    "admin.set_password_page",
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@bp.before_request
def require_login():
    """Send anyone not signed in to the login page (and back afterwards)."""
    user = page_sessions.user_for_session(db.session, session.get("sid"), now=_now())
    if user is not None and not allowed(user, Action.USE_PAGES):
        user = None
    g.user = user
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if user is None:
        session.pop("sid", None)
        return redirect(url_for("admin.login", next=_return_path()))
    return None


def _return_path() -> str:
    """Where to come back after signing in: this page, or the page a form was sent from.

    A form sent after the session ended goes back to the page it was on (same site only): a
    POST-only address cannot be opened again.
    """
    if request.method in ("GET", "HEAD"):
        return request.full_path.rstrip("?")
    came_from = urlsplit(request.referrer or "")
    if came_from.netloc == request.host and came_from.path:
        return came_from.path + (f"?{came_from.query}" if came_from.query else "")
    return url_for("admin.index")


def safe_next(target: str | None) -> str:
    r"""A path on this site to go to after signing in; anything else goes to the overview.

    Browsers read ``/\evil``, ``/%09/evil`` and the like as another host, so only a plain
    path of printable characters, whose parsed form has no scheme and no host, is kept.
    """
    fallback = url_for("admin.index")
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return fallback
    if any(ord(ch) < 0x21 or ch in "\\\x7f" for ch in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form, or sign in."""
    error = None
    status = 200
    if request.method == "POST":
        username = request.form.get("username", "")[:150]
        keys = throttle.keys_for(username, request.remote_addr)
        try:
            throttle.check_not_locked(db.engine, keys, now=_now())
            user = check_basic(db.session, username, request.form.get("password", ""))
            if user is None or not allowed(user, Action.USE_PAGES):
                throttle.record_failure(db.engine, keys, now=_now(), policy=throttle_policy())
        except TooManyAttempts as exc:
            response = current_app.make_response(
                (render_template("admin/login.html", error=_locked_text(exc)), 429)
            )
            response.headers["Retry-After"] = str(exc.details["retry_after"])
            return response
        if user is not None and allowed(user, Action.USE_PAGES):
            throttle.clear_account(db.engine, username)
            session.clear()
            session.permanent = True
            session["sid"] = page_sessions.start_session(
                db.session, user, now=_now(), hours=current_app.config["SESSION_HOURS"]
            )
            db.session.commit()
            return redirect(safe_next(request.args.get("next")))
        error = (
            "Sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản không dùng trang này. / "
            "Wrong user name or password, or this account does not use the pages."
        )
        status = 401
    return render_template(
        "admin/login.html", error=error, no_admin=not first_run.has_administrator(db.session)
    ), status


def _locked_text(exc: TooManyAttempts) -> str:
    return f"{exc.title_vi}: {exc.message_vi} / {exc.title_en}: {exc.message}"


@bp.post("/logout")
def logout():
    """Sign out: this session ends on the server too."""
    page_sessions.end_session(db.session, session.get("sid"))
    db.session.commit()
    session.clear()
    return redirect(url_for("admin.login"))


@bp.post("/logout-everywhere")
def logout_everywhere():
    """Sign out on every device and browser (a lost tablet, a shared computer)."""
    page_sessions.end_all_sessions(db.session, g.user)
    db.session.commit()
    session.clear()
    return redirect(url_for("admin.login"))
