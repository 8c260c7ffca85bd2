"""Which units a report covers, and which of its rows each posting or answer falls into.

A report is asked for one unit code at one date. It covers that unit, everything below it,
and the former units that became part of it (``server/domain/units.UnitScope``); its rows
are the unit's children on that date (the districts of a province before the 2025 reform,
its communes after). Postings point at unit ids and are placed by id; TNA answers carry a
unit *code* and a day and are placed by code windows, as the submission filters do.
The whole unit tree is read once per report (about 14,000 small rows).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.domain.units import UnitPeriod, UnitScope, unit_scopes
from server.errors import InvalidRequest
from server.models import AdminUnit
from server.models.units import UnitSuccessor


@dataclass(frozen=True)
class ReportUnit:
    """A unit as a report row names it."""

    code: str
    name: str
    level: str


@dataclass
class ScopePart:
    """One unit of the report (the whole, or one row) with what falls under it."""

    unit: ReportUnit
    #: Unit ids a posting on the report's date may point at to count here.
    unit_ids: set[int]
    #: (codes, first day, last day) an answer's unit code and day must fall into.
    windows: list[tuple[frozenset[str], dt.date | None, dt.date | None]]


@dataclass
class ReportScope:
    """The report's unit, its rows, and the lookup from unit id to row."""

    whole: ScopePart
    rows: list[ScopePart] = field(default_factory=list)
    #: unit id -> index in ``rows`` (postings of the report's date).
    row_of_unit: dict[int, int] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)


def load_report_scope(session: Session, code: str, as_of: dt.date) -> ReportScope:
    """Work out what a report on ``code`` at ``as_of`` covers.

    :param session: the database session.
    :param code: any level's unit code (a former unit's too).
    :param as_of: the report's date.
    :return: the scope and its rows.
    :raises InvalidRequest: no unit has this code.
    """
    rows = session.execute(
        sa.select(
            AdminUnit.id,
            AdminUnit.code,
            AdminUnit.parent_id,
            AdminUnit.valid_from,
            AdminUnit.valid_to,
            AdminUnit.name,
            AdminUnit.level,
        )
    ).all()
    periods = [UnitPeriod(r.id, r.code, r.parent_id, r.valid_from, r.valid_to) for r in rows]
    chosen = [r for r in rows if r.code == code]
    if not chosen:
        raise InvalidRequest(
            f"unit: no administrative unit has the code {code!r}",
            message_vi=f"unit: không có đơn vị hành chính mã {code!r}.",
            fields={"unit": ["unknown unit code"]},
        )
    current = [r for r in chosen if _valid_on(r, as_of)] or sorted(
        chosen, key=lambda r: r.valid_from
    )[-1:]
    successors: dict[int, set[int]] = defaultdict(set)
    for old, new in session.execute(
        sa.select(UnitSuccessor.predecessor_id, UnitSuccessor.successor_id)
    ):
        successors[old].add(new)
    parents = {r.id for r in current}
    children = sorted(
        (r for r in rows if r.parent_id in parents and _valid_on(r, as_of)),
        key=lambda r: r.code,
    )
    scopes = unit_scopes(periods, successors, [code, *(c.code for c in children)])
    whole = _part(scopes[code], current[0], as_of)
    report = ReportScope(whole=whole, names={r.code: r.name for r in rows if _valid_on(r, as_of)})
    for index, child in enumerate(children):
        part = _part(scopes[child.code], child, as_of)
        # A child code may be shared by a unit of another branch: keep only what lies here.
        part.unit_ids &= whole.unit_ids
        report.rows.append(part)
        for unit_id in part.unit_ids:
            report.row_of_unit.setdefault(unit_id, index)
    return report


def _valid_on(row, day: dt.date) -> bool:
    return row.valid_from <= day and (row.valid_to is None or row.valid_to >= day)


def _part(scope: UnitScope, row, as_of: dt.date) -> ScopePart:
    return ScopePart(
        unit=ReportUnit(code=row.code, name=row.name, level=row.level),
        unit_ids=scope.ids_on(as_of),
        windows=scope.code_windows(),
    )


def answer_clause(
    part: ScopePart, code_column: sa.ColumnElement, day_column: sa.ColumnElement
) -> sa.ColumnElement[bool]:
    """The condition "this answer's unit code and day fall under ``part``".

    :param part: the whole report or one row.
    :param code_column: the answer's unit code column.
    :param day_column: the answer's day column (a date).
    :return: a WHERE clause.
    """
    clauses = []
    for codes, first, last in part.windows:
        parts = [code_column.in_(sorted(codes))]
        if first is not None:
            parts.append(day_column >= first)
        if last is not None:
            parts.append(day_column <= last)
        clauses.append(sa.and_(*parts))
    return sa.or_(*clauses) if clauses else sa.false()


def answer_row_case(
    scope: ReportScope, code_column: sa.ColumnElement, day_column: sa.ColumnElement
) -> sa.ColumnElement[int]:
    """A column giving the row index an answer falls into (-1 for none), for GROUP BY."""
    whens = [
        (answer_clause(part, code_column, day_column), index)
        for index, part in enumerate(scope.rows)
    ]
    if not whens:
        return sa.literal(-1)
    return sa.case(*whens, else_=-1)
