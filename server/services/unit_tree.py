"""The administrative units as people browse them, and imports made from a page.

Browsing walks the tree one level at a time (provinces, then the units under one of them), or
searches names and codes; each listed unit comes with how many units lie under it, and with its
2025 successors (a former unit) or its former units (a 2025 unit), from ``unit_successors``.
Three queries per page whatever its size.

An import from a page goes through :func:`server.services.units.import_units_csv`, the same
all-or-nothing path as ``flask --app wsgi units import``, and writes an audit event.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from server.domain.policy import Action
from server.domain.units import EARLIEST, LEVEL_RANK
from server.models import AdminUnit, UnitSuccessor, User
from server.services.audit import record
from server.services.permissions import require
from server.services.units import UnitsResult, import_units_csv

#: Which units a listing shows: those in force now, those that ended, or both.
PERIODS = ("current", "former", "all")
#: Most units one listing shows (a search that finds more says so).
LIMIT = 300


@dataclass(frozen=True)
class UnitEntry:
    """One listed unit with what the page shows beside it."""

    unit: AdminUnit
    #: Units directly under it (of the chosen period).
    children: int
    #: The 2025 units a former unit became part of, primary first.
    successors: list[AdminUnit] = field(default_factory=list)
    #: The former units that became part of a 2025 unit.
    predecessors: list[AdminUnit] = field(default_factory=list)

    @property
    def since_unknown(self) -> bool:
        """Whether the unit's start is before our records (stored as 1900-01-01)."""
        return self.unit.valid_from == EARLIEST


@dataclass(frozen=True)
class UnitListing:
    """A page of units: the parent browsed into (with its ancestors), or a search's results."""

    entries: list[UnitEntry]
    parent: AdminUnit | None
    #: The parent's ancestors, province first.
    trail: list[AdminUnit]
    #: More units matched than :data:`LIMIT`.
    truncated: bool


def _period(query: sa.Select, period: str) -> sa.Select:
    if period == "current":
        return query.where(AdminUnit.valid_to.is_(None))
    if period == "former":
        return query.where(AdminUnit.valid_to.is_not(None))
    return query


def browse_units(
    session: Session,
    who: User,
    *,
    parent_id: int | None = None,
    search: str = "",
    period: str = "current",
) -> UnitListing:
    """List the units under a parent (provinces at the top), or those matching a search.

    :param session: the database session.
    :param who: the reader.
    :param parent_id: the unit browsed into; None = the provinces.
    :param search: a code (prefix) or part of a name; when given, the whole tree is searched.
    :param period: "current", "former" or "all" (see :data:`PERIODS`).
    :return: the listing, ordered by level, name and start.
    :raises RoleNotAllowed: the policy does not let ``who`` read units.
    """
    require(who, Action.UNITS_READ)
    period = period if period in PERIODS else "current"
    parent = session.get(AdminUnit, parent_id) if parent_id is not None else None
    query = sa.select(AdminUnit)
    search = search.strip()[:100]
    if search:
        query = query.where(
            sa.or_(
                AdminUnit.code.startswith(search, autoescape=True),
                AdminUnit.name.icontains(search, autoescape=True),
            )
        )
    elif parent is not None:
        query = query.where(AdminUnit.parent_id == parent.id)
    else:
        query = query.where(AdminUnit.level == "province")
    query = _period(query, period)
    rank = sa.case(LEVEL_RANK, value=AdminUnit.level)
    order = (rank, AdminUnit.name, AdminUnit.valid_from)
    units = list(session.execute(query.order_by(*order).limit(LIMIT + 1)).scalars())
    truncated = len(units) > LIMIT
    units = units[:LIMIT]
    trail = []
    above = parent.parent if parent is not None else None
    while above is not None:
        trail.insert(0, above)
        above = above.parent
    return UnitListing(_entries(session, units, period), parent, trail, truncated)


def _entries(session: Session, units: list[AdminUnit], period: str) -> list[UnitEntry]:
    ids = [u.id for u in units]
    if not ids:
        return []
    counted = _period(
        sa.select(AdminUnit.parent_id, sa.func.count()).where(AdminUnit.parent_id.in_(ids)),
        period,
    ).group_by(AdminUnit.parent_id)
    children = dict(session.execute(counted).all())
    other = aliased(AdminUnit)
    successors: dict[int, list[AdminUnit]] = defaultdict(list)
    for old_id, new in session.execute(
        sa.select(UnitSuccessor.predecessor_id, other)
        .join(other, other.id == UnitSuccessor.successor_id)
        .where(UnitSuccessor.predecessor_id.in_(ids))
        .order_by(UnitSuccessor.is_primary.desc(), other.name)
    ):
        successors[old_id].append(new)
    predecessors: dict[int, list[AdminUnit]] = defaultdict(list)
    for new_id, old in session.execute(
        sa.select(UnitSuccessor.successor_id, other)
        .join(other, other.id == UnitSuccessor.predecessor_id)
        .where(UnitSuccessor.successor_id.in_(ids))
        .order_by(other.level, other.name)
    ):
        predecessors[new_id].append(old)
    return [
        UnitEntry(u, children.get(u.id, 0), successors.get(u.id, []), predecessors.get(u.id, []))
        for u in units
    ]


def import_units_file(
    content: bytes, *, filename: str, actor: User | None, session: Session, now: dt.datetime
) -> UnitsResult:
    """Import local or historical units from a CSV, all or nothing, with an audit event (flushes).

    The page and ``flask --app wsgi units import`` both come here.

    :param content: the file's bytes.
    :param filename: its name, for messages.
    :param actor: the administrator (None: the server's console).
    :param session: the database session.
    :param now: the time.
    :return: the counts.
    :raises RoleNotAllowed: the actor may not import units.
    :raises InvalidUnitsFile: with every bad row; nothing is changed.
    :raises EmptyFile: an empty file.
    """
    if actor is not None:
        require(actor, Action.UNITS_IMPORT)
    result = import_units_csv(content, filename=filename, session=session, now=now)
    details = {
        "file": filename,
        "added": result.added,
        "updated": result.updated,
        "unchanged": result.unchanged,
    }
    record(
        session, user=actor, action="units.import", target="admin_units", details=details, now=now
    )
    return result
