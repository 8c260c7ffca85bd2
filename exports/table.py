"""The neutral table every export is built as, before any file format is chosen.

A :class:`Table` is a name, ordered columns and an iterable of rows (sequences aligned with the
columns). Rows are consumed once, lazily, so a table over a million submissions never sits in
memory. Column ``kind`` tells writers how to store a value natively (a number in XLSX stays a
number; a date becomes a real date).

Every writer shows times on one clock, :data:`CLOCK` (Vietnam time): a spreadsheet cell cannot
carry a zone, so the CSV must not show another one, and headers name it (:func:`clock_header`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

KINDS = ("text", "integer", "decimal", "date", "datetime")
#: The clock of every exported time: Vietnam (Asia/Ho_Chi_Minh) has kept UTC+7 without daylight
#: saving since 1975, so a fixed offset is exact for every date the programme can hold.
CLOCK = dt.timezone(dt.timedelta(hours=7), "UTC+07:00")


def clock_header(header: str) -> str:
    """A datetime column's header naming the clock its values are on.

    :param header: the plain header, e.g. ``submitted_at``.
    :return: e.g. ``submitted_at (UTC+07:00)``.
    """
    return f"{header} ({CLOCK.tzname(None)})"


@dataclass(frozen=True)
class Column:
    """One column: a unique key, the header shown, and the kind of its values."""

    key: str
    header: str
    kind: str = "text"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.key}: unknown kind {self.kind!r}")


class Rendered(NamedTuple):
    """A row whose leading cells a writer rendered before (a submission's stored export line).

    ``text`` is in the writer's own form: CSV text, or a sheet's cells (``exports.xlsx``).
    ``tail`` holds the cells still to render after it (for CSV, possibly a :class:`Spliced`
    with cells in its middle rendered too); with ``tail`` None, ``text`` is every
    row one submission gives a repeat table (CSV lines ending in CRLF, possibly none; sheet
    rows separated by ``exports.xlsx.ITEM``).
    """

    text: str
    tail: Sequence[Any] | Spliced | None


class Spliced(NamedTuple):
    """A :class:`Rendered` row's tail whose middle cells a CSV writer rendered before.

    The tail's cells are ``before`` (to render), then ``text`` (the CSV text of ``width``
    cells, e.g. a submission's metadata that never changes, rendered when it arrived), then
    ``after`` (to render): the cells that can change around the ones that cannot.
    """

    before: Sequence[Any]
    text: str
    width: int
    after: tuple[Any, ...]

    @property
    def columns(self) -> int:
        """How many columns the tail covers."""
        return len(self.before) + self.width + len(self.after)


@dataclass
class Table:
    """A named table: columns and lazily produced rows.

    ``csv_rows`` and ``xlsx_rows``, when a table has them, give the same rows for the CSV and
    the XLSX writer, some (or all) as :class:`Rendered` whose cells were rendered when the
    submission arrived; other writers need values and read ``rows``.
    """

    name: str
    columns: list[Column]
    rows: Iterable[Sequence[Any]] = field(default_factory=list)
    csv_rows: Iterable[Sequence[Any] | Rendered] | None = None
    xlsx_rows: Iterable[Sequence[Any] | Rendered] | None = None

    @property
    def headers(self) -> list[str]:
        """The header row."""
        return [c.header for c in self.columns]


def unique_keys(keys: Iterable[str]) -> list[str]:
    """Make keys unique by suffixing repeats (``a``, ``a_2``, ``a_3``), keeping order.

    A suffixed key never takes a key that is already there (``a``, ``a_2``, ``a`` gives
    ``a``, ``a_2``, ``a_3``).

    :param keys: candidate keys, possibly repeated.
    :return: unique keys, same length and order.
    """
    keys = list(keys)
    taken = set(keys)
    seen: dict[str, int] = {}
    result: list[str] = []
    for key in keys:
        count = seen.get(key, 0) + 1
        seen[key] = count
        if count == 1:
            result.append(key)
            continue
        while f"{key}_{count}" in taken:
            count += 1
        seen[key] = count
        taken.add(f"{key}_{count}")
        result.append(f"{key}_{count}")
    return result
