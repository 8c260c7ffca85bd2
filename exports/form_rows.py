"""A submission's answers as rows of the tables :mod:`exports.form_tables` plans.

:class:`Flattener` turns answers into a row's cells (select_multiple flags, dates, labels);
the row generators read a :data:`RecordSource` once per table, and read a submission's stored
export line instead of its answers where the caller hands lines over (``Record.line``).
Split from the planning so that each module stays one concept: the plan (which columns) there,
the rows (what each holds) here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from exports.table import Column, Rendered, clock_header, unique_keys

#: Separates the parts of an export line (main table, then each repeat table): a control
#: character XML 1.0 does not allow, so no answer holds it.
PART = "\x1e"

#: What a missing group reads as (never written to).
_NOTHING: Mapping[str, Any] = {}


class Labels(Protocol):
    """Names of the codes picked from list files (the server's register, for one export)."""

    def label(self, file: str, code: str, on: dt.date) -> str | None:
        """The name of ``code`` in list ``file`` on day ``on``, or None."""


class Record(NamedTuple):
    """One submission as the tables need it.

    ``data`` holds the typed answers (at least the subtree a pass asked for; it may be None
    when ``line`` is given); ``day`` is the submission's day, needed only to name list codes
    (:attr:`FormTables.labelled`); ``tail`` are the cells of the caller's own columns, appended
    to the main row (with a CSV ``line``, possibly an :class:`exports.table.Spliced` holding
    some of them already rendered); ``line`` is the submission's stored export line
    (:meth:`FormTables.line`) when a CSV pass asked for lines and one of the plan's
    signature exists.
    """

    data: Mapping[str, Any] | None
    instance_id: str
    day: dt.date | None
    tail: Sequence[Any]
    line: str | None = None


#: One pass over the submissions, in export order. The argument is the path (below the form's
#: root) of the only subtree of ``data`` the pass reads, or None for all of it: a source may
#: then hand over just that subtree (a repeat table's pass needs only its repeat).
RecordSource = Callable[[tuple[str, ...] | None], Iterable[Record]]


@dataclass(frozen=True)
class Leaf:
    """One question as columns: where its answer sits and how it is shown."""

    path: tuple[str, ...]
    header: str
    kind: str
    select_multiple: bool
    choices: tuple[tuple[str, Mapping[str, str]], ...]
    #: The list file the question picks from (``courses.csv``), or None.
    choice_file: str | None = None
    #: A list answer shown as its items joined by spaces (geopoints, rankings).
    joined: bool = False


@dataclass(frozen=True)
class Repeat:
    """A repeat group's table: its name, its chain of enclosing repeats, its questions."""

    name: str
    chain: tuple[tuple[tuple[str, ...], str], ...]  # (path below the level above, name) each
    leaves: tuple[Leaf, ...]
    subtree: tuple[str, ...]


def columns_of(leaves: Sequence[Leaf], labelled: bool) -> list[Column]:
    """The columns of ``leaves`` (a select_multiple's flags, list names when labelled)."""
    columns = []
    for leaf in leaves:
        header = clock_header(leaf.header) if leaf.kind == "datetime" else leaf.header
        columns.append(Column(leaf.header, header, leaf.kind))
        if labelled and leaf.choice_file:
            columns.append(Column(f"{leaf.header}_label", f"{leaf.header}_label"))
        if leaf.select_multiple:
            columns.extend(
                Column(f"{leaf.header}/{name}", f"{leaf.header}/{name}", "integer")
                for name, _ in leaf.choices
            )
    keys = unique_keys(c.key for c in columns)
    return [Column(k, c.header, c.kind) for k, c in zip(keys, columns, strict=True)]


class Flattener:
    """Turns one submission's (or repeat item's) answers into the cells of its table's row.

    This runs for every row of every export, so the plan is compiled once: each group on the
    way to a question is looked up once per row, a run of questions of one group that are
    shown as they are stored (most of them) is read in one call (``map(group.get, keys)``),
    and only the others go through a function of their own (:func:`_shown`).
    """

    def __init__(self, leaves: Sequence[Leaf], language: str | None, labels: Labels | None):
        groups: dict[tuple[str, ...], int] = {(): 0}
        self.steps: list[tuple[int, str]] = []  # (group index, key) of every group but the root
        #: (group index, key, shower) or, for a run of plain answers, (group index, keys, None)
        self.ops: list[tuple[int, Any, Callable | None]] = []
        for leaf in leaves:
            for depth in range(1, len(leaf.path)):
                group = leaf.path[:depth]
                if group not in groups:
                    groups[group] = len(groups)
                    self.steps.append((groups[group[:-1]], group[-1]))
            index, key = groups[leaf.path[:-1]], leaf.path[-1]
            show = _shown(leaf, language, labels)
            if show is None and self.ops and self.ops[-1][0] == index and self.ops[-1][2] is None:
                self.ops[-1] = (index, (*self.ops[-1][1], key), None)
            elif show is None:
                self.ops.append((index, (key,), None))
            else:
                self.ops.append((index, key, show))

    def cells(self, data: Mapping[str, Any], day: dt.date | None) -> list[Any]:
        """The row's cells, in the columns' order."""
        groups = [data]
        for parent, key in self.steps:
            found = groups[parent].get(key)
            groups.append(found if isinstance(found, dict) else _NOTHING)
        row: list[Any] = []
        extend = row.extend
        for group, key, show in self.ops:
            if show is None:
                extend(map(groups[group].get, key))
            else:
                show(groups[group].get(key), row, day)
        return row


def _shown(leaf: Leaf, language: str | None, labels: Labels | None) -> Callable | None:
    """How a question's answer becomes its cells; None when the answer is the cell."""
    named = labels is not None and leaf.choice_file is not None
    file = leaf.choice_file
    if leaf.select_multiple:
        return _multiple(leaf, language, labels if named else None)
    if leaf.joined:

        def joined(value: Any, row: list, _day: dt.date | None) -> None:
            row.append(" ".join(map(str, value)) if isinstance(value, list) else value)

        return joined
    if leaf.kind == "date":
        day_of = dt.date.fromisoformat

        def date(value: Any, row: list, _day: dt.date | None) -> None:
            if value.__class__ is str:
                try:  # noqa: SIM105 (suppress() costs a context manager per cell)
                    value = day_of(value[:10])
                except ValueError:
                    pass  # not a date: the text as it was sent
            row.append(value)

        return date
    if leaf.kind == "datetime":
        time_of = dt.datetime.fromisoformat

        def time(value: Any, row: list, _day: dt.date | None) -> None:
            if value.__class__ is str:
                try:  # noqa: SIM105 (suppress() costs a context manager per cell)
                    value = time_of(value)
                except ValueError:
                    pass
            row.append(value)

        return time
    words = (
        {name: shown.get(language, name) for name, shown in leaf.choices}
        if language and leaf.choices
        else None
    )
    if words is None and not named:
        return None

    def chosen(value: Any, row: list, day: dt.date | None) -> None:
        row.append(words.get(value, value) if words and isinstance(value, str) else value)
        if named:
            row.append(_picked_labels(labels, file, value, day))

    return chosen


def _multiple(leaf: Leaf, language: str | None, labels: Labels | None) -> Callable:
    """A select_multiple: its value (codes, or labels joined by "; "), names, one 0/1 per choice."""
    names = [name for name, _ in leaf.choices]
    position = {name: i for i, name in enumerate(names)}
    none = [None] * len(names)
    zeros = [0] * len(names)
    words = {name: shown.get(language, name) for name, shown in leaf.choices}
    joiner = "; " if language else " "
    file = leaf.choice_file

    def multiple(value: Any, row: list, day: dt.date | None) -> None:
        picked = value if isinstance(value, list) else ([] if value is None else [value])
        shown = [words.get(v, v) for v in picked] if language else picked
        row.append(joiner.join(map(str, shown)) if picked else None)
        if labels is not None:
            row.append(_picked_labels(labels, file, picked, day))
        if value is None:
            row.extend(none)
            return
        flags = zeros.copy()
        try:
            for v in picked:
                at = position.get(v)
                if at is not None:
                    flags[at] = 1
        except TypeError:  # an unhashable item: compare one by one
            flags = [1 if name in picked else 0 for name in names]
        row.extend(flags)

    return multiple


def _picked_labels(labels: Labels, file: str, value: Any, on: dt.date | None) -> str | None:
    """The name of a picked code (None if unknown), or the names of several joined by "; "."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, list):
        return "; ".join(labels.label(file, str(v), on) or str(v) for v in value)
    return labels.label(file, str(value), on)


def time_positions(leaves: Sequence[Leaf]) -> list[int]:
    """Positions of the date and time columns among the codes columns of ``leaves``."""
    return [i for i, c in enumerate(columns_of(leaves, False)) if c.kind in ("date", "datetime")]


def main_rows(source: RecordSource, cells: Flattener) -> Iterator[list[Any]]:
    """The main table's rows: each submission's cells, then its tail."""
    flatten = cells.cells
    for data, _instance_id, day, tail, _line in source(None):
        row = flatten(data, day)
        row.extend(tail)
        yield row


def main_stored_rows(source: RecordSource, cells: Flattener) -> Iterator[list[Any] | Rendered]:
    """The main table's rows, a submission's stored line where it has one."""
    flatten = cells.cells
    for data, _instance_id, day, tail, line in source(None):
        if line is None:
            row = flatten(data, day)
            row.extend(tail)
            yield row
        else:
            yield Rendered(line.partition(PART)[0], tail)


def repeat_items(repeat: Repeat, cells: Flattener, data: Mapping[str, Any], instance_id: str,
                  day: dt.date | None) -> Iterator[list[Any]]:  # fmt: skip
    """The rows one submission gives a repeat table (PARENT_KEY, KEY, then the answers)."""
    flatten = cells.cells
    last = len(repeat.chain) - 1
    level = [(instance_id, data)]
    for depth, (path, name) in enumerate(repeat.chain):
        below = []
        for parent_key, container in level:
            items = container
            for part in path:
                items = items.get(part) if isinstance(items, dict) else None
            if not isinstance(items, list):
                continue
            for i, item in enumerate(items, start=1):
                key = f"{parent_key}/{name}[{i}]"
                item = item if isinstance(item, dict) else _NOTHING
                if depth == last:
                    yield [parent_key, key, *flatten(item, day)]
                else:
                    below.append((key, item))
        level = below


def repeat_rows(source: RecordSource, repeat: Repeat, cells: Flattener) -> Iterator[list]:
    """A repeat table's rows, every item of every submission."""
    for data, instance_id, day, _tail, _line in source(repeat.subtree):
        yield from repeat_items(repeat, cells, data, instance_id, day)


def repeat_stored_rows(source: RecordSource, repeat: Repeat, cells: Flattener,
                       part: int) -> Iterator[list | Rendered]:  # fmt: skip
    """A repeat table's rows, a submission's stored lines where it has them."""
    for data, instance_id, day, _tail, line in source(repeat.subtree):
        if line is None:
            yield from repeat_items(repeat, cells, data, instance_id, day)
        else:
            text = line.split(PART)[part]
            if text:
                yield Rendered(text, None)
