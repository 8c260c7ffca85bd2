"""The audit log: writing one event per change, and reading the log back with filters.

Every change a person makes to what others rely on (a review, a deletion, a form's state, an
account, a units import) writes an :class:`AuditEvent` in the same transaction as the change,
so the log never misses a change that happened nor shows one that was rolled back. Events are
never updated or deleted.

The log is read newest first in pages of a fixed size, continuing from an event id (keyset
paging: a page costs the same however deep it is, and a new event arriving meanwhile never
shifts a page). Days are Vietnam days (UTC+7), as people there name them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from exports import CLOCK, Column, Table, clock_header
from server.domain.policy import Action
from server.errors import InvalidRequest
from server.models import ApiToken, AuditEvent, User
from server.services.permissions import require

#: Events on one page of the log.
PAGE_SIZE = 50
#: The actor filter's value for changes made from the server's console (no user).
CONSOLE = "console"


def record(
    session: Session,
    *,
    user: User | None,
    action: str,
    target: Any,
    details: dict[str, Any],
    now: dt.datetime,
) -> AuditEvent:
    """Write one audit event (flushes).

    :param session: the database session.
    :param user: who acted (None for the console or the system).
    :param action: e.g. "submission.review", "user.role".
    :param target: the changed row (a Submission, a Form, a User…), or the name of a table
        when the change concerns a whole table (``"admin_units"`` for a units import).
    :param details: what changed.
    :param now: when.
    :return: the event.
    """
    whole_table = isinstance(target, str)
    event = AuditEvent(
        at=now,
        actor_user_id=user.id if user else None,
        action=action,
        target_type=target if whole_table else type(target).__tablename__,
        target_id=None if whole_table else target.id,
        details=details,
    )
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class AuditFilters:
    """What the log is narrowed to; None means no limit."""

    #: A user id, or :data:`CONSOLE` for changes made without a user.
    actor: int | str | None = None
    action: str | None = None
    #: First and last Vietnam day, both included.
    since: dt.date | None = None
    until: dt.date | None = None

    def query_args(self) -> dict[str, str]:
        """The filters as query parameters (links to the next page, the CSV)."""
        args = {
            "actor": "" if self.actor is None else str(self.actor),
            "action": self.action or "",
            "since": f"{self.since:%d/%m/%Y}" if self.since else "",
            "until": f"{self.until:%d/%m/%Y}" if self.until else "",
        }
        return {key: value for key, value in args.items() if value}


def parse_filters(values: Mapping[str, str]) -> AuditFilters:
    """Read the filters from query parameters (``actor``, ``action``, ``since``, ``until``).

    :param values: the parameters; empty values mean no filter.
    :return: the filters.
    :raises InvalidRequest: naming each parameter that is not a user id, a date, or whose
        period is reversed.
    """
    problems: dict[str, list[str]] = {}
    actor: int | str | None = (values.get("actor") or "").strip() or None
    if actor is not None and actor != CONSOLE:
        if not actor.isdigit() or len(actor) > 9:
            problems["actor"] = ["not a user"]
        else:
            actor = int(actor)
    days: dict[str, dt.date | None] = {}
    for name in ("since", "until"):
        raw = (values.get(name) or "").strip()[:20]
        try:
            days[name] = _day(raw) if raw else None
        except ValueError:
            problems[name] = ["not a date (dd/mm/yyyy)"]
    if problems:
        raise InvalidRequest(fields=problems)
    if days["since"] and days["until"] and days["since"] > days["until"]:
        raise InvalidRequest(reason="period_reversed", fields={"since": ["after until"]})
    action = (values.get("action") or "").strip()[:64] or None
    return AuditFilters(actor=actor, action=action, **days)


def _day(text: str) -> dt.date:
    """A day written the Vietnamese way (22/11/2026) or as ISO (2026-11-22)."""
    if "/" in text:
        return dt.datetime.strptime(text, "%d/%m/%Y").date()
    return dt.date.fromisoformat(text)


@dataclass(frozen=True)
class AuditPage:
    """One page of the log, newest first, and where the pages beside it start."""

    events: list[AuditEvent]
    #: Pass as ``after`` for the newer page (None: this is the newest page).
    newer: int | None
    #: Pass as ``before`` for the older page (None: this is the oldest page).
    older: int | None


def _start(day: dt.date) -> dt.datetime:
    """The first instant of a Vietnam day, in UTC."""
    return dt.datetime.combine(day, dt.time(), CLOCK).astimezone(dt.UTC)


def _filtered(query: sa.Select, filters: AuditFilters) -> sa.Select:
    if filters.actor == CONSOLE:
        query = query.where(AuditEvent.actor_user_id.is_(None))
    elif filters.actor is not None:
        query = query.where(AuditEvent.actor_user_id == filters.actor)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.since:
        query = query.where(AuditEvent.at >= _start(filters.since))
    if filters.until:
        query = query.where(AuditEvent.at < _start(filters.until + dt.timedelta(days=1)))
    return query


def browse(
    session: Session,
    who: User,
    filters: AuditFilters,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int = PAGE_SIZE,
) -> AuditPage:
    """One page of the audit log, newest first.

    :param session: the database session.
    :param who: the reader (administrators read the whole log).
    :param filters: what to narrow the log to.
    :param before: show events older than this id (the "older" link).
    :param after: show events newer than this id (the "newer" link); ignored with ``before``.
    :param limit: events per page.
    :return: the page.
    :raises RoleNotAllowed: for anyone the policy does not let read the log.
    """
    require(who, Action.AUDIT_READ_ALL)
    query = _filtered(sa.select(AuditEvent).options(joinedload(AuditEvent.actor)), filters)
    if before is not None:
        rows = _rows(session, query.where(AuditEvent.id < before), newest_first=True, n=limit + 1)
        more_older, more_newer = len(rows) > limit, True
        rows = rows[:limit]
    elif after is not None:
        rows = _rows(session, query.where(AuditEvent.id > after), newest_first=False, n=limit + 1)
        more_newer, more_older = len(rows) > limit, True
        rows = list(reversed(rows[:limit]))
    else:
        rows = _rows(session, query, newest_first=True, n=limit + 1)
        more_older, more_newer = len(rows) > limit, False
        rows = rows[:limit]
    if not rows:  # nothing matches, or a page past either end: the page links to the newest
        return AuditPage([], newer=None, older=None)
    return AuditPage(
        rows,
        newer=rows[0].id if more_newer else None,
        older=rows[-1].id if more_older else None,
    )


def _rows(session: Session, query: sa.Select, *, newest_first: bool, n: int) -> list[AuditEvent]:
    order = AuditEvent.id.desc() if newest_first else AuditEvent.id.asc()
    return list(session.execute(query.order_by(order).limit(n)).unique().scalars())


def action_names(session: Session) -> list[str]:
    """Every action the log holds, sorted (the action filter's choices)."""
    query = sa.select(AuditEvent.action).distinct().order_by(AuditEvent.action)
    return list(session.execute(query).scalars())


def actors(session: Session) -> list[User]:
    """Every user who appears in the log as an actor, by name (the actor filter's choices)."""
    acted = sa.select(AuditEvent.actor_user_id).where(AuditEvent.actor_user_id.is_not(None))
    query = sa.select(User).where(User.id.in_(acted)).order_by(User.username)
    return list(session.execute(query).scalars())


def target_labels(session: Session, events: list[AuditEvent]) -> dict[tuple[str, int], str]:
    """Names of the events' targets where a name exists: users and API tokens.

    :param session: the database session.
    :param events: the events shown.
    :return: {(target_type, target_id): name}; one query per kind of target.
    """
    wanted: dict[str, set[int]] = {"users": set(), "api_tokens": set()}
    for event in events:
        if event.target_type in wanted and event.target_id is not None:
            wanted[event.target_type].add(event.target_id)
    labels: dict[tuple[str, int], str] = {}
    if wanted["users"]:
        rows = session.execute(
            sa.select(User.id, User.username).where(User.id.in_(wanted["users"]))
        )
        labels.update({("users", i): name for i, name in rows})
    if wanted["api_tokens"]:
        rows = session.execute(
            sa.select(ApiToken.id, ApiToken.label, User.username)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.id.in_(wanted["api_tokens"]))
        )
        labels.update({("api_tokens", i): f"{name}: {label}" for i, label, name in rows})
    return labels


def describe(details: Mapping[str, Any]) -> str:
    """The details of an event as one short line (``from: trainer; to: admin``).

    :param details: the event's details.
    :return: the text; lists are joined with ", ".
    """
    parts = []
    for key, value in details.items():
        if value is None or value == "" or value == []:
            continue
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        parts.append(f"{key}: {shown}")
    return "; ".join(parts)


def audit_table(session: Session, who: User, filters: AuditFilters) -> Table:
    """The filtered log as one neutral table, newest first (the CSV download).

    :param session: the database session.
    :param who: the reader.
    :param filters: what to narrow the log to.
    :return: the table; rows are read lazily, in batches.
    :raises RoleNotAllowed: for anyone the policy does not let read the log.
    """
    require(who, Action.AUDIT_READ_ALL)
    query = _filtered(
        sa.select(
            AuditEvent.id,
            AuditEvent.at,
            User.username,
            AuditEvent.action,
            AuditEvent.target_type,
            AuditEvent.target_id,
            AuditEvent.details,
        ).outerjoin(User, User.id == AuditEvent.actor_user_id),
        filters,
    ).order_by(AuditEvent.id.desc())

    def rows() -> Iterator[tuple]:
        for row in session.execute(query.execution_options(yield_per=1000)):
            at = row.at if row.at.tzinfo else row.at.replace(tzinfo=dt.UTC)
            yield (
                row.id,
                at,
                row.username or CONSOLE,
                row.action,
                row.target_type,
                row.target_id,
                describe(row.details or {}),
            )

    columns = [
        Column("id", "id", "integer"),
        Column("at", clock_header("at"), "datetime"),
        Column("actor", "actor"),
        Column("action", "action"),
        Column("target_type", "target_type"),
        Column("target_id", "target_id", "integer"),
        Column("details", "details"),
    ]
    return Table("audit", columns, rows())
