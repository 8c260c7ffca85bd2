"""People: user accounts, their roles, assignments, set-password links and API tokens.

Administrators only (``users.manage``). Every change goes through ``services/people``, the
same service the ``users`` CLI uses, which checks the policy, keeps an active administrator and
writes the audit log. Nobody picks another person's password: a new account and a reset both
give a one-time link (shown once, ``Cache-Control: no-store``) on which the person chooses their
own. An API token is likewise shown once, on a no-store page.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app, g, redirect, render_template, request, session, url_for

from server.domain.policy import Action
from server.errors import PasswordLinkSpent, ServiceError
from server.extensions import db
from server.models.accounts import ROLES
from server.services import page_sessions, people
from server.services.forms import list_forms
from server.services.permissions import require
from server.web.admin import bp

#: What the page says after a change (Post/Redirect/Get carries the key, never text).
DONE = {
    "role": ("Đã đổi vai trò.", "The role was changed."),
    "assign": ("Đã lưu biểu mẫu và đơn vị được giao.", "Assignments saved."),
    "disable": ("Đã khóa tài khoản.", "The account is disabled."),
    "enable": ("Đã mở lại tài khoản.", "The account is enabled again."),
    "revoke": ("Đã thu hồi mã API.", "The API token was revoked."),
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _realm() -> str:
    return current_app.config["AUTH_REALM"]


def _no_store(html: str):
    response = current_app.make_response(html)
    response.headers["Cache-Control"] = "no-store"  # a link or token must not stay in a cache
    return response


def _link(code: str) -> str:
    root = (current_app.config["BASE_URL"] or request.host_url).rstrip("/")
    return f"{root}{url_for('admin.set_password_page', code=code)}"


def _list_page(*, error: ServiceError | None = None, values: dict | None = None, status=200):
    return render_template(
        "admin/people.html",
        users=people.list_people(db.session),
        pending=people.pending_links(db.session, now=_now()),
        roles=ROLES,
        forms=list_forms(db.session),
        error=error,
        values=values
        or {"username": "", "full_name": "", "role": "trainer", "forms": [], "units": ""},
    ), status


@bp.get("/admin/people")
def people_list():
    """Every user with role, state and assignments, and the form that adds one."""
    require(g.user, Action.USERS_MANAGE)
    return _list_page()


def _unit_codes(raw: str) -> list[str]:
    return [code for code in raw.replace(";", ",").replace(" ", ",").split(",") if code]


@bp.post("/admin/people")
def create_person():
    """Create a user and show, once, the link on which they choose their password."""
    require(g.user, Action.USERS_MANAGE)
    values = {
        "username": request.form.get("username", "")[:150],
        "full_name": request.form.get("full_name", "")[:255],
        "role": request.form.get("role", ""),
        "forms": request.form.getlist("form"),
        "units": request.form.get("units", "")[:2000],
    }
    try:
        user, code = people.create_person(
            db.session,
            g.user,
            username=values["username"],
            full_name=values["full_name"],
            role=values["role"],
            form_ids=values["forms"],
            unit_codes=_unit_codes(values["units"]),
            realm=_realm(),
            now=_now(),
        )
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        return _list_page(error=exc, values=values, status=exc.http_status)
    return _no_store(
        render_template(
            "admin/person_link.html",
            person=user,
            link=_link(code),
            purpose="invite",
            lifetime_days=people.LINK_LIFETIME.days,
        )
    )


def _detail_page(user, *, error: ServiceError | None = None, status: int = 200):
    done = DONE.get(request.args.get("done", ""))
    return render_template(
        "admin/person.html",
        person=user,
        roles=ROLES,
        forms=list_forms(db.session),
        tokens=people.list_tokens(db.session, user),
        pending=people.pending_links(db.session, now=_now()).get(user.id),
        error=error,
        done=done,
    ), status


@bp.get("/admin/people/<int:user_id>")
def person(user_id: int):
    """One user: role, assignments, password, state and API tokens."""
    require(g.user, Action.USERS_MANAGE)
    return _detail_page(people.get_user_by_id(db.session, user_id))


def _change(user_id: int, done: str, change):
    """Apply a change to a user, then back to their page (or the page with the error)."""
    require(g.user, Action.USERS_MANAGE)
    user = people.get_user_by_id(db.session, user_id)
    try:
        change(user)
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        return _detail_page(
            people.get_user_by_id(db.session, user_id), error=exc, status=exc.http_status
        )
    if user.id == g.user.id and not page_sessions.user_for_session(
        db.session, session.get("sid"), now=_now()
    ):
        return redirect(url_for("admin.login"))  # one's own role changed: signed out
    return redirect(url_for("admin.person", user_id=user_id, done=done))


@bp.post("/admin/people/<int:user_id>/role")
def person_role(user_id: int):
    """Change a user's role (their page sessions end)."""
    role = request.form.get("role", "")
    return _change(
        user_id, "role", lambda user: people.set_role(db.session, g.user, user, role, now=_now())
    )


@bp.post("/admin/people/<int:user_id>/assignments")
def person_assignments(user_id: int):
    """Replace the forms and units assigned to a user."""
    forms = request.form.getlist("form")
    units = _unit_codes(request.form.get("units", "")[:2000])
    return _change(
        user_id,
        "assign",
        lambda user: people.set_assignments(
            db.session, g.user, user, form_ids=forms, unit_codes=units, now=_now()
        ),
    )


@bp.post("/admin/people/<int:user_id>/disable")
def person_disable(user_id: int):
    """Disable a user: every credential and session stops at once."""
    return _change(
        user_id, "disable", lambda user: people.disable(db.session, g.user, user, now=_now())
    )


@bp.post("/admin/people/<int:user_id>/enable")
def person_enable(user_id: int):
    """Enable a disabled user again."""
    return _change(
        user_id, "enable", lambda user: people.enable(db.session, g.user, user, now=_now())
    )


@bp.post("/admin/people/<int:user_id>/tokens/<int:token_id>/revoke")
def person_token_revoke(user_id: int, token_id: int):
    """Revoke one API token of a user."""
    return _change(
        user_id,
        "revoke",
        lambda user: people.revoke_token(db.session, g.user, user, token_id, now=_now()),
    )


@bp.post("/admin/people/<int:user_id>/reset-password")
def person_reset_password(user_id: int):
    """End the user's password and sessions now; show, once, the link to choose a new one."""
    require(g.user, Action.USERS_MANAGE)
    user = people.get_user_by_id(db.session, user_id)
    try:
        code = people.reset_password(db.session, g.user, user, realm=_realm(), now=_now())
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        return _detail_page(user, error=exc, status=exc.http_status)
    if user.id == g.user.id:
        session.pop("sid", None)  # one's own password: this session ended with it
    return _no_store(
        render_template(
            "admin/person_link.html",
            person=user,
            link=_link(code),
            purpose="reset",
            lifetime_days=people.LINK_LIFETIME.days,
        )
    )


@bp.post("/admin/people/<int:user_id>/tokens")
def person_token_create(user_id: int):
    """Issue an API token acting as the user and show it once."""
    require(g.user, Action.USERS_MANAGE)
    user = people.get_user_by_id(db.session, user_id)
    label = request.form.get("label", "")[:300]
    try:
        _row, token = people.create_token(db.session, g.user, user, label=label, now=_now())
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        return _detail_page(user, error=exc, status=exc.http_status)
    return _no_store(
        render_template("admin/person_token.html", person=user, token=token, label=label.strip())
    )


@bp.route("/set-password/<code>", methods=["GET", "POST"])
def set_password_page(code: str):
    """The one-time link: the person chooses their own password, then signs in."""
    try:
        link = people.check_link(db.session, code, now=_now())
    except PasswordLinkSpent as exc:
        return _no_store(render_template("admin/set_password.html", spent=exc)), 403
    error = None
    if request.method == "POST":
        try:
            user = people.redeem_link(
                db.session,
                code,
                password=request.form.get("password", ""),
                password_again=request.form.get("password_again", ""),
                realm=_realm(),
                now=_now(),
            )
            db.session.commit()
        except PasswordLinkSpent as exc:
            db.session.rollback()
            return _no_store(render_template("admin/set_password.html", spent=exc)), 403
        except ServiceError as exc:
            db.session.rollback()
            error = exc
        else:
            # No redirect: the link is spent, so a reload can only say so (nothing is re-done).
            return _no_store(render_template("admin/set_password.html", person=user, done=True))
    html = render_template("admin/set_password.html", person=link.user, error=error)
    return _no_store(html), 400 if error else 200
