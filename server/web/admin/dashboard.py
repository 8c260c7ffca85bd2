"""The overview page every signed-in user lands on, with what their role lets them act on.

Forms with today's, this week's and all submissions (a planner's counted in their units);
tablets that went quiet and problems waiting (unknown codes, failed projections) for those who
can fix them; the KPI scorecard for a planner's unit; the trainer's own courses. Which sections
show is the permission policy's answer for each, never a role named here.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app, g, render_template, request

from server.domain.policy import Action
from server.errors import ServiceError
from server.extensions import db
from server.services import dashboard
from server.services.forms import list_forms
from server.services.permissions import allowed, readable_courses, readable_forms, units_of
from server.services.submission_queries import scope_clause
from server.services.units import count_units
from server.web.admin import bp


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _scorecard_unit() -> str | None:
    """The unit whose scorecard the user sees: a planner's first unit, else a lone province."""
    if not allowed(g.user, Action.REPORT_NEEDS):
        return None
    mine = units_of(g.user, Action.REPORT_NEEDS)
    if mine:
        return mine[0]
    return dashboard.lone_province(db.session) if mine is None else None


def _scorecard(now: dt.datetime) -> tuple[str | None, list[dict], str | None]:
    unit = _scorecard_unit()
    if unit is None:
        return None, [], None
    try:
        return unit, dashboard.scorecard(db.session, unit, now=now), None
    except ServiceError as exc:
        return unit, [], exc.message_vi if g.lang == "vi" else exc.message


@bp.get("/")
def index():
    """The overview: activity per form and, as the policy allows, tablets, problems, KPIs."""
    now = _now()
    readable = readable_forms(g.user, Action.FORM_READ)
    forms = [f for f in list_forms(db.session) if readable is None or f.id in readable]
    units = units_of(g.user, Action.SUBMISSION_READ)
    activity = dashboard.form_activity(db.session, now=now, within=scope_clause(db.session, units))
    can_devices = allowed(g.user, Action.DEVICE_MANAGE)
    quiet_days = current_app.config["QUIET_DEVICE_DAYS"]
    can_review = allowed(g.user, Action.SUBMISSION_REVIEW)
    unit, scorecard, scorecard_error = _scorecard(now)
    courses = readable_courses(db.session, g.user, Action.REPORT_COURSE)
    return render_template(
        "admin/index.html",
        forms=forms,
        activity=activity,
        quiet=dashboard.quiet_devices(db.session, now=now, days=quiet_days)
        if can_devices
        else None,
        quiet_days=quiet_days,
        problems=dashboard.problems(db.session, form_pks=readable) if can_review else None,
        scorecard_unit=unit,
        scorecard=scorecard,
        scorecard_error=scorecard_error,
        courses=dashboard.course_lines(db.session, courses) if courses else [],
        units=count_units(db.session),
        server_url=current_app.config["BASE_URL"] or request.host_url,
        can_devices=can_devices,
        today=now,
    )
