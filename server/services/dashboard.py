"""What the overview page shows each user: activity per form, quiet tablets, problems waiting.

Each figure is one grouped query, so the page stays quick with hundreds of thousands of
submissions. Days and weeks are Vietnam's (a submission at 23:30 UTC counts on the next local
day); a week starts on Monday. The caller passes what the user may see (forms, units), as the
permission policy decided; nothing here knows about roles.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.models import (
    AdminUnit,
    Course,
    Device,
    Enrolment,
    Form,
    ProjectionFailure,
    Submission,
    SubmissionLink,
)
from server.models.base import aware_utc
from server.services.accounts import device_activity
from server.services.needs_report import NeedsParams, build_needs_report
from server.services.submission_queries import VIETNAM

#: A tablet that has not sent for this many days is listed as quiet (TAPHUAN_QUIET_DEVICE_DAYS).
QUIET_DAYS = 7


@dataclass(frozen=True)
class FormActivity:
    """Submissions of one form: today, this week, in all, and the last one's arrival."""

    today: int
    week: int
    total: int
    last_received: dt.datetime | None


@dataclass(frozen=True)
class QuietDevice:
    """An active tablet that has not sent anything for a while (or never)."""

    id: int
    label: str
    last_seen: dt.datetime | None
    days: int | None


@dataclass(frozen=True)
class Problem:
    """A kind of problem waiting for someone, with how many and the latest."""

    kind: str
    form_id: str
    count: int
    latest: dt.datetime | None


def day_starts(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The start of today and of this week (Monday), Vietnam time, as aware UTC moments."""
    local = now.astimezone(VIETNAM)
    today = dt.datetime.combine(local.date(), dt.time(), VIETNAM)
    week = today - dt.timedelta(days=local.weekday())
    return today.astimezone(dt.UTC), week.astimezone(dt.UTC)


def form_activity(
    session: Session,
    *,
    now: dt.datetime,
    within: sa.ColumnElement[bool] | None = None,
) -> dict[int, FormActivity]:
    """Current, not deleted submissions per form, in one grouped query.

    :param session: the database session.
    :param now: the moment "today" is taken from.
    :param within: a condition on Submission limiting what counts (a planner's units).
    :return: {form pk: activity}; forms without submissions are absent.
    """
    today, week = day_starts(now)
    query = (
        sa.select(
            Submission.form_pk,
            sa.func.count().filter(Submission.received_at >= today),
            sa.func.count().filter(Submission.received_at >= week),
            sa.func.count(),
            sa.func.max(Submission.received_at),
        )
        .where(Submission.is_current.is_(True), Submission.deleted_at.is_(None))
        .group_by(Submission.form_pk)
    )
    if within is not None:
        query = query.where(within)
    return {
        pk: FormActivity(today_n, week_n, total, aware_utc(last))
        for pk, today_n, week_n, total, last in session.execute(query)
    }


def quiet_devices(
    session: Session, *, now: dt.datetime, days: int = QUIET_DAYS
) -> list[QuietDevice]:
    """Active tablets silent for ``days`` or more (or never heard from since made), quietest first.

    :param session: the database session.
    :param now: the present moment.
    :param days: how long counts as quiet.
    :return: the devices.
    """
    limit = now - dt.timedelta(days=days)
    activity = device_activity(session)
    quiet = []
    devices = session.execute(sa.select(Device).where(Device.revoked_at.is_(None))).scalars()
    for device in devices:
        seen = activity.get(device.id)
        last = seen.last_seen if seen else None
        since = last or device.created_at
        if since is not None and since <= limit:
            quiet.append(
                QuietDevice(device.id, device.label, last, (now - last).days if last else None)
            )
    never = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(quiet, key=lambda d: (d.last_seen or never, d.label))


def problems(session: Session, *, form_pks: frozenset[int] | None = None) -> list[Problem]:
    """What waits for someone, by kind and form: codes nobody knows, projections that failed.

    * ``unknown_course``: a test or evaluation sent with a course code not in the register;
    * ``unknown_person``: a test sent with a trainee code not in the register (a trainer links
      it from the course report's "waiting" list);
    * ``projection_failed``: a stored submission whose scores or ratings could not be derived
      (``flask --app wsgi scores rebuild`` clears them once fixed).

    :param session: the database session.
    :param form_pks: the forms the reader may see; None = all.
    :return: the problems, largest first.
    """
    live = sa.and_(Submission.is_current.is_(True), Submission.deleted_at.is_(None))
    when = sa.func.coalesce(Submission.submitted_at, Submission.received_at)
    kinds = (
        ("unknown_course", SubmissionLink, SubmissionLink.unknown_course.is_(True), when),
        ("unknown_person", SubmissionLink, SubmissionLink.unknown_person.is_(True), when),
        ("projection_failed", ProjectionFailure, sa.true(), ProjectionFailure.failed_at),
    )
    found = []
    for kind, table, condition, moment in kinds:
        query = (
            sa.select(Form.form_id, sa.func.count(), sa.func.max(moment))
            .select_from(table)
            .join(Submission, Submission.id == table.submission_id)
            .join(Form, Form.id == Submission.form_pk)
            .where(live, condition)
            .group_by(Form.form_id)
        )
        if form_pks is not None:
            query = query.where(Submission.form_pk.in_(sorted(form_pks)))
        found += [
            Problem(kind, form_id, count, aware_utc(latest))
            for form_id, count, latest in session.execute(query)
        ]
    return sorted(found, key=lambda p: (-p.count, p.kind, p.form_id))


@dataclass(frozen=True)
class CourseLine:
    """A course on the overview: its dates and how far its trainees have got."""

    code: str
    title: str
    start_date: dt.date
    end_date: dt.date
    enrolled: int
    completed: int


def course_lines(session: Session, courses: list[Course], *, limit: int = 12) -> list[CourseLine]:
    """The newest courses of a list with their enrolment counts, in one grouped query.

    :param session: the database session.
    :param courses: the courses the reader may see (newest first, as the policy lists them).
    :param limit: how many to show.
    :return: the lines.
    """
    shown = courses[:limit]
    counts = dict.fromkeys((c.id for c in shown), (0, 0))
    if shown:
        rows = session.execute(
            sa.select(
                Enrolment.course_id,
                sa.func.count(),
                sa.func.count().filter(Enrolment.completion == "completed"),
            )
            .where(Enrolment.course_id.in_(list(counts)))
            .group_by(Enrolment.course_id)
        )
        counts.update({course_id: (n, done) for course_id, n, done in rows})
    return [CourseLine(c.code, c.title, c.start_date, c.end_date, *counts[c.id]) for c in shown]


def scorecard(session: Session, unit_code: str, *, now: dt.datetime) -> list[dict]:
    """The needs report's KPI scorecard (table A) for a unit, today, for the planner's overview.

    The same computation as the report page (``needs_report.build_needs_report``) with its
    defaults: as of today (Vietnam), the period from 1 January. One line per KPI reading:
    ``kpi``, ``name``/``name_en``, ``coverage`` and ``expected`` (%), ``status``.

    :raises ServiceError: as the report does (an unknown unit …).
    """
    today = now.astimezone(VIETNAM).date()
    params = NeedsParams(
        as_of=today, period_from=dt.date(today.year, 1, 1), period_to=today, unit=unit_code
    )
    report = build_needs_report(session, params, now=now)
    for section in report.sections:
        for table in section.tables:
            if table.id == "A-scorecard":
                return table.rows
    return []


def lone_province(session: Session) -> str | None:
    """The only current province's code, when the server holds exactly one; else None.

    A department's server holds its own province; with several, an administrator picks a
    unit on the report page.
    """
    codes = session.execute(
        sa.select(AdminUnit.code)
        .where(AdminUnit.level == "province", AdminUnit.valid_to.is_(None))
        .limit(2)
    ).scalars()
    found = list(codes)
    return found[0] if len(found) == 1 else None
