"""The first-run page: the one-time console link creates the first administrator.

The rules (one code, spent with the account, dead once an administrator exists) live in
``services/first_run``; this page only shows the form, checks that the two passwords match,
and signs the new administrator in.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app, redirect, render_template, request, session, url_for

from server.errors import FirstRunLinkSpent, ServiceError
from server.extensions import db
from server.services import first_run, page_sessions
from server.web.admin import bp


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@bp.route("/first-run/<code>", methods=["GET", "POST"])
def first_run_page(code: str):
    """Show the form that creates the first administrator, or create them and sign them in."""
    try:
        first_run.check_code(db.session, code, now=_now())
    except FirstRunLinkSpent as exc:
        return render_template("admin/first_run.html", spent=exc), 403
    error, values = None, {"username": "", "full_name": ""}
    if request.method == "POST":
        values = {
            "username": request.form.get("username", "")[:150],
            "full_name": request.form.get("full_name", "")[:200],
        }
        password = request.form.get("password", "")
        if password != request.form.get("password_again", ""):
            error = "Hai mật khẩu không giống nhau. / The two passwords differ."
        else:
            try:
                user = first_run.create_first_admin(
                    db.session,
                    code,
                    password=password,
                    realm=current_app.config["AUTH_REALM"],
                    now=_now(),
                    **values,
                )
                session.clear()
                session.permanent = True
                session["sid"] = page_sessions.start_session(
                    db.session, user, now=_now(), hours=current_app.config["SESSION_HOURS"]
                )
                db.session.commit()
                return redirect(url_for("admin.index"))
            except FirstRunLinkSpent as exc:
                db.session.rollback()
                return render_template("admin/first_run.html", spent=exc), 403
            except ServiceError as exc:
                db.session.rollback()
                error = f"{exc.message_vi or exc.title_vi} / {exc.message}"
    status = 400 if error else 200
    return render_template("admin/first_run.html", error=error, values=values), status
