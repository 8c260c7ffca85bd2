"""The permission policy applied to real users, devices and rows.

``server/domain/policy.py`` decides from plain facts; this module gathers the facts (a user's
assigned forms and units, the creators of the courses that use a form, whether a person is
posted in a planner's units) and turns a "no" into the catalogue's 403.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.domain.policy import Action, Subject, decide, form_scope, owner_scope, unit_scope
from server.errors import FormNotAssigned, FormNotReadable, RoleNotAllowed
from server.models import AdminUnit, Course, Device, Form, User
from server.services.setup_cache import ApiCaller, DeviceFacts
from server.services.units import load_unit_scope

_FORM_ACTIONS = {Action.FORM_READ, Action.SUBMISSION_READ, Action.SCORES_READ}


def subject_of(who: User | ApiCaller | Device | DeviceFacts | None) -> Subject:
    """The policy's view of a user or a device token (None = anonymous)."""
    if who is None:
        return Subject(role=None)
    if isinstance(who, DeviceFacts):  # a device token, as the OpenRosa paths cache it
        return Subject(role="device", device_id=who.id, form_pks=who.form_pks)
    if isinstance(who, ApiCaller):  # an API token's user, as the listing caches it
        return Subject(
            role=who.role, user_id=who.id, form_pks=who.form_pks, unit_codes=who.unit_codes
        )
    if isinstance(who, Device):
        return Subject(role="device", device_id=who.id, form_pks=frozenset(f.id for f in who.forms))
    return Subject(
        role=who.role,
        user_id=who.id,
        form_pks=frozenset(f.id for f in who.forms),
        unit_codes=tuple(who.unit_codes or ()),
    )


def require(who: User | Device | None, action: Action, **target) -> None:
    """Raise the catalogue's 403 unless the policy allows ``action`` on ``target``.

    :param who: the user or device.
    :param action: the action.
    :param target: ``form`` (a Form), ``owner_ids`` or ``in_units`` (see ``policy.decide``).
    :raises FormNotReadable: a form outside the user's forms.
    :raises FormNotAssigned: a form outside a collector's or device's forms.
    :raises RoleNotAllowed: anything else the policy refuses.
    """
    form: Form | None = target.pop("form", None)
    subject = subject_of(who)
    decision = decide(subject, action, form_pk=form.id if form else None, **target)
    if decision:
        return
    why = {"reason": decision.reason, "role": subject.role or "anonymous", "action": action.value}
    if form is not None and action in _FORM_ACTIONS:
        raise FormNotReadable(form_id=form.form_id, **why)
    if form is not None and action is Action.COLLECT:
        raise FormNotAssigned(form_id=form.form_id)
    raise RoleNotAllowed(**why)


def allowed(who: User | Device | None, action: Action, **target) -> bool:
    """Whether the policy allows it (for showing or hiding a link; enforcement uses require)."""
    form: Form | None = target.pop("form", None)
    return bool(decide(subject_of(who), action, form_pk=form.id if form else None, **target))


def readable_forms(who: User | Device | None, action: Action) -> frozenset[int] | None:
    """Primary keys of the forms a listing may show; None = every form."""
    return form_scope(subject_of(who), action)


def own_only(who: User | Device | None, action: Action) -> int | None:
    """For an ``OWN`` grant, the user whose things are meant; None when not limited so."""
    return owner_scope(subject_of(who), action)


def units_of(who: User | Device | None, action: Action) -> tuple[str, ...] | None:
    """Unit codes a listing is limited to; None = no limit, () = nothing."""
    return unit_scope(subject_of(who), action)


def unit_in_scope(session: Session, who: User | Device | None, code: str) -> bool | None:
    """Whether a unit code lies within the user's own units (None: the user has no unit limit).

    Former units count where their successors do: a planner of the 2025 province 52 may ask
    for the former district 627 that became part of it.
    """
    codes = units_of(who, Action.REPORT_NEEDS)
    if codes is None:
        return None
    wanted = {unit_id for (unit_id,) in session.execute(sa.select(AdminUnit.id).where(
        AdminUnit.code == code))}  # fmt: skip
    if not wanted:
        return None  # an unknown code: the report answers 422, not 403
    covered: set[int] = set()
    for mine in codes:
        covered |= load_unit_scope(session, mine).covered
    return wanted <= covered


def course_owners_of_form(session: Session, form: Form) -> set[int | None]:
    """Creators of every course that uses a form as its pre-, post- or satisfaction test."""
    rows = session.execute(
        sa.select(Course.created_by_user_id).where(
            sa.or_(
                Course.pre_form_id == form.form_id,
                Course.post_form_id == form.form_id,
                Course.satisfaction_form_id == form.form_id,
            )
        )
    )
    return {owner for (owner,) in rows}


def today() -> dt.date:
    """The day unit scopes are taken at when no other day is asked for (Vietnam time)."""
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=7)).date()


def readable_courses(session: Session, who: User | None, action: Action) -> list[Course]:
    """The courses whose report ``who`` may read, newest first.

    Every course for an unlimited grant, own courses for an ``OWN`` grant, courses held in the
    planner's units (former units included) for a ``UNITS`` grant; one query per kind, not one
    per course.
    """
    subject = subject_of(who)
    if not decide(subject, action):
        return []
    courses = list(
        session.execute(sa.select(Course).order_by(Course.start_date.desc(), Course.code)).scalars()
    )
    codes = unit_scope(subject, action)
    if codes is not None:
        covered: set[int] = set()
        for mine in codes:
            covered |= load_unit_scope(session, mine).covered
        inside = {
            code
            for (code,) in session.execute(
                sa.select(AdminUnit.code).where(AdminUnit.id.in_(covered))
            )
        }
        courses = [c for c in courses if c.venue_unit_code in inside]
    return [c for c in courses if decide(subject, action, owner_ids=[c.created_by_user_id])]
