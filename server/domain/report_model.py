"""The shape every report is built as before it becomes a page, JSON, a workbook or a PDF.

A report is sections of tables. A table knows its columns (with both languages and the kind
of number in each), its rows as plain values (unrounded: surfaces round), and what a reader
needs to trust it: n, the denominator's definition, the as-of date, the sources and notes.
Nothing here formats numbers; ``server/web/formatting.py`` and the writers do, each in its
own medium.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

#: Kinds of column values: text, integer count, percentage (0–100), decimal, date, p-value.
COLUMN_KINDS = ("text", "count", "pct", "decimal", "date", "p")


@dataclass(frozen=True)
class ReportColumn:
    """One column: key in the rows, headers in both languages, kind of value."""

    key: str
    vi: str
    en: str
    kind: str = "text"

    def __post_init__(self) -> None:
        if self.kind not in COLUMN_KINDS:
            raise ValueError(f"column {self.key}: unknown kind {self.kind!r}")

    def header(self, lang: str) -> str:
        """The header in ``lang`` ('vi' or 'en')."""
        return self.en if lang == "en" else self.vi


@dataclass
class ReportTable:
    """A table of a report with what makes its figures readable."""

    id: str
    vi: str
    en: str
    columns: list[ReportColumn]
    rows: list[dict[str, Any]] = field(default_factory=list)
    n: int | None = None
    denominator_vi: str = ""
    denominator_en: str = ""
    notes_vi: list[str] = field(default_factory=list)
    notes_en: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    #: Why the table is empty, when it is ("no TNA answers in the period").
    empty_reason_vi: str = ""
    empty_reason_en: str = ""

    def title(self, lang: str) -> str:
        """The title in ``lang``."""
        return self.en if lang == "en" else self.vi

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (dates as ISO text)."""
        return _jsonable(self)


@dataclass
class ReportSection:
    """A section (A … I of spec §2.3): its tables and the ids of the charts drawn from them."""

    id: str
    vi: str
    en: str
    tables: list[ReportTable] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)

    def title(self, lang: str) -> str:
        """The title in ``lang``."""
        return self.en if lang == "en" else self.vi


@dataclass
class Report:
    """A whole report: its parameters, generated findings, sections and chart data."""

    kind: str
    parameters: dict[str, Any]
    as_of: dt.date
    generated_at: dt.datetime
    unit_code: str
    unit_name: str
    sections: list[ReportSection] = field(default_factory=list)
    findings_vi: list[str] = field(default_factory=list)
    findings_en: list[str] = field(default_factory=list)
    #: Chart id -> the plain data its drawing function takes (spec §2.4 N1–N9).
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Set when the scope has nothing to report at all (no register, no answers).
    empty_reason_vi: str = ""
    empty_reason_en: str = ""

    def tables(self) -> list[ReportTable]:
        """Every table, in section order."""
        return [table for section in self.sections for table in section.tables]

    def table(self, table_id: str) -> ReportTable:
        """One table by id."""
        return next(t for t in self.tables() if t.id == table_id)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: numbers unrounded, dates ISO."""
        return _jsonable(self)


_SCALARS = (str, int, bool, type(None))


def _jsonable(value: Any) -> Any:
    """A JSON-ready copy in one walk (``asdict`` deep-copies first: 0.6 s on a large course)."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, float):
        return None if value != value else value  # NaN is not JSON
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value
