"""Which units a report covers, and which of its rows each posting or answer falls into.

A report is asked for one unit code at one date. It covers that unit, everything below it,
and the former units that became part of it (``server/domain/units.UnitScope``); its rows
are the unit's children on that date (the districts of a province before the 2025 reform,
its communes after). Postings point at unit ids and are placed by id; TNA answers carry a
unit *code* and a day and are placed by code windows, as the submission filters do.
The whole unit tree is read once per report (about 14,000 small rows).

Grouped counts do not place rows with a ``CASE`` of one ``IN (…)`` list per report row, which
tests every posting or answer against every row's list (most of the report's time at 100,000
answers, measured by ``bench/reports.py``): postings are joined to a small (unit id, row)
table (:func:`unit_rows`), and answers are grouped by unit code and period and placed here
(:meth:`ReportScope.row_for`), a few hundred lookups per table.
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
    _answer_map: list[tuple[str, dt.date, dt.date, int]] | None = field(default=None, repr=False)
    #: Counts already made for this report (several sections ask for the same one).
    memo: dict = field(default_factory=dict, repr=False)

    def answer_map(self) -> list[tuple[str, dt.date, dt.date, int]]:
        """(code, first day, last day, row) that place an answer; -1 = the whole, no row.

        The windows of the whole and of each row, cut into pieces that do not overlap, so
        that joining on code and day finds at most one piece per answer: the first row whose
        window holds it (as :func:`answer_row_case` picks), and nothing outside the whole.

        :return: the pieces, unbounded days as ``FAR_PAST`` / ``FAR_FUTURE``.
        """
        if self._answer_map is None:
            self._answer_map = _answer_pieces(self)
        return self._answer_map

    def answer_cuts(self) -> list[dt.date]:
        """The days where the placement of some code changes (periods of ``row_for``)."""
        cuts = {first for _, first, _, _ in self.answer_map() if first > FAR_PAST}
        cuts |= {last + dt.timedelta(days=1) for _, _, last, _ in self.answer_map()
                 if last < FAR_FUTURE}  # fmt: skip
        return sorted(cuts)

    def row_for(self, code: str, period: int) -> int:
        """The row of answers with this code in the ``period``-th period of :meth:`answer_cuts`.

        :return: the row index; -1 when under the unit but in no row (or not under it).
        """
        if "rows_by_code" not in self.memo:
            by_code: dict[str, list[tuple[dt.date, dt.date, int]]] = defaultdict(list)
            for piece_code, first, last, row in self.answer_map():
                by_code[piece_code].append((first, last, row))
            self.memo["rows_by_code"] = (by_code, self.answer_cuts())
        by_code, cuts = self.memo["rows_by_code"]
        day = cuts[period - 1] if period > 0 else FAR_PAST
        return next((row for first, last, row in by_code.get(code, ()) if first <= day <= last), -1)


#: Stand-ins for an unbounded window in the joined placement table.
FAR_PAST = dt.date(1, 1, 1)
FAR_FUTURE = dt.date(9999, 12, 31)


def _answer_pieces(scope: ReportScope) -> list[tuple[str, dt.date, dt.date, int]]:
    spans: dict[str, list[tuple[dt.date, dt.date, int]]] = defaultdict(list)
    for codes, first, last in scope.whole.windows:
        for code in codes:
            spans[code].append((first or FAR_PAST, last or FAR_FUTURE, -2))  # -2: the whole
    for index, part in enumerate(scope.rows):
        for codes, first, last in part.windows:
            for code in codes:
                if code in spans:
                    spans[code].append((first or FAR_PAST, last or FAR_FUTURE, index))
    pieces = []
    for code in sorted(spans):
        windows = spans[code]
        cuts = sorted(
            {first for first, _, _ in windows}
            | {last + dt.timedelta(days=1) for _, last, _ in windows if last < FAR_FUTURE}
        )
        for start, next_start in zip(cuts, [*cuts[1:], None], strict=True):
            end = next_start - dt.timedelta(days=1) if next_start else FAR_FUTURE
            holding = [row for first, last, row in windows if first <= start and end <= last]
            if -2 not in holding:
                continue
            row = min((r for r in holding if r >= 0), default=-1)
            if (
                pieces
                and pieces[-1][0] == code
                and pieces[-1][3] == row
                and (pieces[-1][2] + dt.timedelta(days=1) == start)
            ):
                pieces[-1] = (code, pieces[-1][1], end, row)
            else:
                pieces.append((code, start, end, row))
    return pieces


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
            reason="unknown_unit", unit=code, fields={"unit": ["unknown unit code"]}
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


def unit_rows(scope: ReportScope) -> sa.CTE:
    """The table (unit_id, row) of every unit under the report; row -1 = none of its rows.

    Joining postings to it keeps those under the report and says which row each falls into.
    """
    ids = sorted(scope.whole.unit_ids) or [-1]
    return (
        sa.values(
            sa.column("unit_id", sa.Integer),
            sa.column("row", sa.Integer),
            name="report_unit_rows",
            literal_binds=True,
        )
        .data([(unit_id, scope.row_of_unit.get(unit_id, -1)) for unit_id in ids])
        .cte("report_unit_rows")
    )


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
