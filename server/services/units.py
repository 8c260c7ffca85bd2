"""Loading administrative units (official lists, CSV files) and what a unit filter covers.

The official load brings the 2025 units and, with their history, the pre-reform units and the
mapping between them (``unit_successors``).

Both paths go through :func:`upsert_units`, which is all-or-nothing: every row is checked and
every parent resolved in memory first, and only a clean batch touches the session. Parents are
resolved by code *at the child's date*: the old commune 24043 (until 30/06/2025) and the new
commune that reused its code belong to different parents, and both stay addressable.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.domain.units import (
    LEVEL_RANK,
    OFFICIAL_VALID_FROM,
    UnitPeriod,
    UnitRow,
    UnitScope,
    legacy_successions,
    legacy_units,
    official_units,
    parse_units_csv,
    rows_error,
    unit_scope,
)
from server.models import AdminUnit, UnitSuccessor

logger = logging.getLogger(__name__)
_FAR_FUTURE = dt.date(9999, 12, 31)


@dataclass
class UnitsResult:
    """How many units a load added, changed, or found already up to date."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    #: Links former unit -> 2025 unit added, changed (primary flag) or removed.
    successors_added: int = 0
    successors_updated: int = 0
    successors_removed: int = 0


def load_official_units(*, session: Session, now: dt.datetime, history: bool = True) -> UnitsResult:
    """Load or refresh the official units. Idempotent: a second run changes nothing.

    The 2025 units (34 provinces, 3,321 communes) come from ``vietnam-provinces``; with
    ``history``, also the pre-reform units (63 provinces, 696 districts, 10,035 communes, valid
    until 30/06/2025) and the link from each to its 2025 unit(s), from ``vietnamadminunits``.

    :param session: the database session (flushed, not committed).
    :param now: the time of the load (aware UTC).
    :param history: also load the pre-reform units and their successors.
    :return: the counts.
    :raises InvalidUnitsFile: if a unit overlaps one imported from CSV with the same code.
    """
    rows = list(official_units())
    if history:
        rows.extend(legacy_units())
    result = upsert_units(
        rows,
        source="official",
        session=session,
        now=now,
        filename="vietnam-provinces + vietnamadminunits" if history else "vietnam-provinces",
    )
    if history:
        _upsert_official_successors(session, result)
    return result


def _upsert_official_successors(session: Session, result: UnitsResult) -> None:
    # Former units end on 30/06/2025 and 2025 units start on 01/07/2025, so (level, code) and
    # the side of the reform pick exactly one unit each.
    ids: dict[tuple[str, str, bool], int] = {
        (level, code, start >= OFFICIAL_VALID_FROM): unit_id
        for unit_id, level, code, start in session.execute(
            sa.select(AdminUnit.id, AdminUnit.level, AdminUnit.code, AdminUnit.valid_from).where(
                AdminUnit.source == "official"
            )
        )
    }
    wanted = {
        (ids[(s.old_level, s.old_code, False)], ids[(s.new_level, s.new_code, True)]): s.is_primary
        for s in legacy_successions()
    }
    existing = {
        (r.predecessor_id, r.successor_id): r
        for r in session.execute(
            sa.select(UnitSuccessor.id, UnitSuccessor.predecessor_id, UnitSuccessor.successor_id,
                      UnitSuccessor.is_primary).where(UnitSuccessor.source == "official")
        )
    }  # fmt: skip
    inserts = [
        {
            "predecessor_id": old,
            "successor_id": new,
            "valid_from": OFFICIAL_VALID_FROM,
            "is_primary": primary,
            "source": "official",
        }
        for (old, new), primary in wanted.items()
        if (old, new) not in existing
    ]
    updates = [
        {"b_id": row.id, "is_primary": wanted[key]}
        for key, row in existing.items()
        if key in wanted and row.is_primary != wanted[key]
    ]
    removed = [row.id for key, row in existing.items() if key not in wanted]
    if inserts:
        session.execute(sa.insert(UnitSuccessor), inserts)
    if updates:
        table = UnitSuccessor.__table__
        session.execute(
            sa.update(table).where(table.c.id == sa.bindparam("b_id")),
            updates,
        )
    if removed:
        session.execute(sa.delete(UnitSuccessor).where(UnitSuccessor.id.in_(removed)))
    session.flush()
    result.successors_added = len(inserts)
    result.successors_updated = len(updates)
    result.successors_removed = len(removed)


def load_unit_scope(session: Session, code: str) -> UnitScope:
    """What a filter on a unit code covers, former units included (see ``UnitScope``).

    :param session: the database session.
    :param code: the unit code filtered on.
    :return: the scope (empty if no unit has the code).
    """
    units = [
        UnitPeriod(*row)
        for row in session.execute(
            sa.select(
                AdminUnit.id,
                AdminUnit.code,
                AdminUnit.parent_id,
                AdminUnit.valid_from,
                AdminUnit.valid_to,
            )
        )
    ]
    successors: dict[int, set[int]] = defaultdict(set)
    for old, new in session.execute(
        sa.select(UnitSuccessor.predecessor_id, UnitSuccessor.successor_id)
    ):
        successors[old].add(new)
    return unit_scope(units, successors, code)


def import_units_csv(
    content: bytes, *, filename: str, session: Session, now: dt.datetime
) -> UnitsResult:
    """Import local or historical units from a CSV, all or nothing.

    :param content: the CSV bytes (see :func:`server.domain.units.parse_units_csv`).
    :param filename: its name, for messages.
    :param session: the database session (flushed, not committed).
    :param now: the time of the import (aware UTC).
    :return: the counts.
    :raises InvalidUnitsFile: with every bad row numbered; nothing is changed.
    :raises EmptyFile: for an empty file.
    """
    parsed = parse_units_csv(content, filename=filename)
    return upsert_units(
        parsed.rows,
        source="import",
        session=session,
        now=now,
        filename=filename,
        problems=parsed.problems,
    )


def upsert_units(
    rows: list[UnitRow],
    *,
    source: str,
    session: Session,
    now: dt.datetime,
    filename: str,
    problems: list[dict] | None = None,
) -> UnitsResult:
    """Add new units and update known ones (matched on level, code and valid_from).

    :param rows: the units, any order.
    :param source: "official" or "import" for new rows.
    :param session: the database session.
    :param now: the time of the change.
    :param filename: the source's name, for messages.
    :param problems: row problems already found while reading the source; reported together
        with the ones found here.
    :return: the counts.
    :raises InvalidUnitsFile: if there were problems, any parent is unknown or ambiguous,
        or a period overlaps another unit with the same code; nothing is changed then.
    """
    existing = {
        (u.level, u.code, u.valid_from): u for u in session.execute(sa.select(AdminUnit)).scalars()
    }
    incoming = {row.key: row for row in rows}
    candidates: dict[str, list[tuple]] = defaultdict(list)
    for key, unit in existing.items():
        if key not in incoming:
            candidates[unit.code].append((unit.level, unit.valid_from, unit.valid_to, key))
    for key, row in incoming.items():
        candidates[row.code].append((row.level, row.valid_from, row.valid_to, key))

    errors: list[dict] = list(problems or [])
    parents: dict[tuple, tuple | None] = {}
    for row in rows:
        problem = _overlap(row, candidates[row.code])
        if problem:
            errors.append({"row": row.row, "error": problem})
            continue
        try:
            parents[row.key] = _resolve_parent(row, candidates)
        except ValueError as exc:
            errors.append({"row": row.row, "error": str(exc)})
    if errors:
        raise rows_error(filename, sorted(errors, key=lambda e: e["row"]))

    result = UnitsResult()
    objects = dict(existing)
    for row in sorted(rows, key=lambda r: LEVEL_RANK[r.level]):
        parent_key = parents[row.key]
        parent = objects[parent_key] if parent_key else None
        unit = objects.get(row.key)
        if unit is None:
            unit = AdminUnit(
                level=row.level,
                code=row.code,
                valid_from=row.valid_from,
                source=source,
                created_at=now,
            )
            session.add(unit)
            objects[row.key] = unit
            result.added += 1
        elif (unit.name, unit.kind, unit.valid_to, unit.parent) == (
            row.name,
            row.kind,
            row.valid_to,
            parent,
        ):
            result.unchanged += 1
            continue
        else:
            result.updated += 1
        unit.name, unit.kind, unit.valid_to, unit.parent = row.name, row.kind, row.valid_to, parent
        unit.updated_at = now
    session.flush()
    logger.info(
        "units from %s: %s added, %s updated, %s unchanged",
        filename,
        result.added,
        result.updated,
        result.unchanged,
    )
    return result


def _overlap(row: UnitRow, same_code: list[tuple]) -> str | None:
    for level, start, end, key in same_code:
        if key == row.key or level != row.level:
            continue
        if start <= (row.valid_to or _FAR_FUTURE) and row.valid_from <= (end or _FAR_FUTURE):
            until = f"{end:%d/%m/%Y}" if end else "now"
            return (
                f"{row.level} {row.code} overlaps the unit with the same code valid "
                f"{start:%d/%m/%Y}–{until}; close one period (valid_to) first"
            )
    return None


def _resolve_parent(row: UnitRow, candidates: dict[str, list[tuple]]) -> tuple | None:
    if row.parent_code is None:
        return None
    # The parent must have existed during (part of) the child's period: a hamlet whose start
    # is unknown (1900) still belongs under the commune created in 2008.
    row_end = row.valid_to or _FAR_FUTURE
    matches = [
        key
        for level, start, end, key in candidates.get(row.parent_code, [])
        if LEVEL_RANK[level] < LEVEL_RANK[row.level]
        and (row.parent_level is None or level == row.parent_level)
        and start <= row_end
        and row.valid_from <= (end or _FAR_FUTURE)
    ]
    if not matches:
        until = f"{row.valid_to:%d/%m/%Y}" if row.valid_to else "now"
        raise ValueError(
            f"parent_code {row.parent_code!r}: no unit above {row.level} with this code "
            f"existed between {row.valid_from:%d/%m/%Y} and {until}"
        )
    if len(matches) > 1:
        levels = ", ".join(sorted({m[0] for m in matches}))
        raise ValueError(
            f"parent_code {row.parent_code!r} is ambiguous ({levels}); add a parent_level column"
        )
    return matches[0]


def count_units(session: Session) -> dict[str, int]:
    """Count units by level, current ones only (valid_to empty).

    :param session: the database session.
    :return: {level: count}.
    """
    rows = session.execute(
        sa.select(AdminUnit.level, sa.func.count())
        .where(AdminUnit.valid_to.is_(None))
        .group_by(AdminUnit.level)
    )
    return dict(rows.all())


def iter_units(session: Session) -> Iterable[AdminUnit]:
    """Return every unit, ordered by level then code then validity start.

    :param session: the database session.
    :return: the units.
    """
    return session.execute(
        sa.select(AdminUnit).order_by(AdminUnit.level, AdminUnit.code, AdminUnit.valid_from)
    ).scalars()
