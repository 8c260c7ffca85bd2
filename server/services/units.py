"""Loading administrative units: the official list, and local/historical CSV files.

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

from server.domain.units import LEVEL_RANK, UnitRow, official_units, parse_units_csv, rows_error
from server.models import AdminUnit

logger = logging.getLogger(__name__)
_FAR_FUTURE = dt.date(9999, 12, 31)


@dataclass
class UnitsResult:
    """How many units a load added, changed, or found already up to date."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0


def load_official_units(*, session: Session, now: dt.datetime) -> UnitsResult:
    """Load or refresh the official 2025 units (34 provinces, 3,321 communes). Idempotent.

    :param session: the database session (flushed, not committed).
    :param now: the time of the load (aware UTC).
    :return: the counts.
    """
    return upsert_units(
        list(official_units()),
        source="official",
        session=session,
        now=now,
        filename="vietnam-provinces",
    )


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
