"""Signing in to the pages: a user name and password form, then a signed session cookie.

Pages are for administrators, trainers and planners; collectors use ODK Collect. The session
holds only the user id; a disabled user is signed out at their next request.
"""

from __future__ import annotations

from flask import g, redirect, render_template, request, session, url_for

from server.extensions import db
from server.models import User
from server.services.accounts import check_basic
from server.web.admin import bp

PUBLIC_ENDPOINTS = {"admin.login", "admin.logout"}
PAGE_ROLES = {"admin", "trainer", "planner"}


@bp.before_request
def require_login():
    """Send anyone not signed in to the login page (and back afterwards)."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    user = db.session.get(User, session.get("user_id")) if session.get("user_id") else None
    if user is None or not user.is_active or user.role not in PAGE_ROLES:
        session.pop("user_id", None)
        return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
    g.user = user
    return None


def _safe_next(target: str | None) -> str:
    # Only paths on this site: never an absolute URL given by a link (open redirect).
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("admin.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form, or sign in."""
    error = None
    if request.method == "POST":
        user = check_basic(
            db.session, request.form.get("username", ""), request.form.get("password", "")
        )
        if user is not None and user.role in PAGE_ROLES:
            session.clear()
            session["user_id"] = user.id
            return redirect(_safe_next(request.args.get("next")))
        error = (
            "Sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản không dùng trang này. / "
            "Wrong user name or password, or this account does not use the pages."
        )
    status = 401 if error else 200
    return render_template("admin/login.html", error=error), status


@bp.post("/logout")
def logout():
    """Sign out."""
    session.clear()
    return redirect(url_for("admin.login"))
