"""The neutral table every export is built as, before any file format is chosen.

A :class:`Table` is a name, ordered columns and an iterable of rows (sequences aligned with the
columns). Rows are consumed once, lazily, so a table over a million submissions never sits in
memory. Column ``kind`` tells writers how to store a value natively (a number in XLSX stays a
number; a date becomes a real date).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

KINDS = ("text", "integer", "decimal", "date", "datetime")


@dataclass(frozen=True)
class Column:
    """One column: a unique key, the header shown, and the kind of its values."""

    key: str
    header: str
    kind: str = "text"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.key}: unknown kind {self.kind!r}")


@dataclass
class Table:
    """A named table: columns and lazily produced rows."""

    name: str
    columns: list[Column]
    rows: Iterable[Sequence[Any]] = field(default_factory=list)

    @property
    def headers(self) -> list[str]:
        """The header row."""
        return [c.header for c in self.columns]


def unique_keys(keys: Iterable[str]) -> list[str]:
    """Make keys unique by suffixing repeats (``a``, ``a_2``, ``a_3``), keeping order.

    :param keys: candidate keys, possibly repeated.
    :return: unique keys, same length and order.
    """
    seen: dict[str, int] = {}
    result = []
    for key in keys:
        count = seen.get(key, 0) + 1
        seen[key] = count
        result.append(key if count == 1 else f"{key}_{count}")
    return result
