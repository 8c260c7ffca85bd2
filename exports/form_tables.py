"""A form's submissions as neutral tables: the schemas plan the columns, rows fill them.

This is formpack's shape (schema + rows → tables), kept pure so that it is tested without a
database. :class:`FormTables` reads the field schemas of every version of a form and plans

* the main table: one column per question, in form order across all versions (a field new in
  a later version sits right after the field that precedes it there; a version that lacks a
  field leaves it empty), then columns the caller appends (scores, metadata);
* one table per repeat group, keyed to its parent the way ODK Central and KoBo do it
  (``KEY`` = parent key + ``/name[i]``, ``PARENT_KEY``).

select_multiple questions get their value (codes space-separated, as ODK stores them; labels
joined by "; ", since labels contain spaces) and a 0/1 column per choice. In a label language,
a question picked from a list file (``select_one_from_file courses.csv``) keeps its code and
gets a ``<name>_label`` column beside it, named by a :class:`Labels` the caller supplies.
Dates and times typed by the form become dates and datetimes; writers show them.

The caller supplies rows as :class:`Record` s from a :data:`RecordSource`: one call per table,
so a writer streams one table at a time and memory stays flat whatever the number of rows.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from exports.csv import LineRenderer
from exports.table import Column, Rendered, Table, clock_header, unique_keys
from exports.xlsx import ITEM, ROW, RowCells

__all__ = [
    "FormTables",
    "Labels",
    "Record",
    "RecordSource",
    "union_fields",
]

_SKIPPED_KINDS = {"group", "repeat", "note"}
#: Nodes pyxform adds for table-list layouts; they never hold answers.
_GENERATED_PREFIXES = ("generated_table_list_label_", "reserved_name_for_field_list_labels_")
_COLUMN_KINDS = {"integer": "integer", "decimal": "decimal"}
#: By XForms bind type, whatever the question kind: ``today`` is metadata but still a date.
_TYPE_KINDS = {"date": "date", "dateTime": "datetime"}
_LANGUAGE_TAGS = {"vi": "(vi)", "en": "(en)"}
_SELECTS = ("select_one", "select_multiple")
#: Answers stored as lists (a geopoint's numbers, a ranking's codes) that a cell shows joined
#: by spaces, as ODK writes them: every writer shows them so, and text is cheaper to write.
_LISTED_KINDS = {"rank"}
_LISTED_TYPES = {"geopoint", "geotrace", "geoshape"}
#: Separates the parts of an export line (main table, then each repeat table): a control
#: character XML 1.0 does not allow, so no answer holds it.
PART = "\x1e"
#: The version of the export lines' layout; bump it when :meth:`FormTables.line` or the CSV
#: cell rendering changes, so lines stored before are not used.
LINE_FORMAT = 1
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
    to the main row; ``line`` is the submission's stored export line
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


def union_fields(schemas: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every field of every version, in form order; the newest definition of each wins.

    A field new in a later version is placed right after the field that precedes it there.
    Choices of a field accumulate: a choice a later version dropped keeps its column.

    :param schemas: the versions' field schemas (``{"fields": [...]}``), oldest first.
    :return: field dicts, as stored in the schemas.
    """
    order: list[str] = []
    latest: dict[str, dict[str, Any]] = {}
    for schema in schemas:
        previous = None
        for spec in schema["fields"]:
            path = spec["path"]
            if path not in latest:
                at = order.index(previous) + 1 if previous in order else len(order)
                order.insert(at, path)
            old_choices = (latest.get(path) or {}).get("choices") or []
            merged = dict(spec)
            if spec.get("choices") is not None:
                names = {c["name"] for c in spec["choices"]}
                merged["choices"] = spec["choices"] + [
                    c for c in old_choices if c["name"] not in names
                ]
            latest[path] = merged
            previous = path
    return [latest[p] for p in order]


@dataclass(frozen=True)
class _Leaf:
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
class _Repeat:
    """A repeat group's table: its name, its chain of enclosing repeats, its questions."""

    name: str
    chain: tuple[tuple[tuple[str, ...], str], ...]  # (path below the level above, name) each
    leaves: tuple[_Leaf, ...]
    subtree: tuple[str, ...]


class FormTables:
    """The tables of a form's submissions, planned from the schemas of all its versions.

    :param form_id: the form's id: the main table's name and the repeat tables' prefix.
    :param schemas: the versions' schemas (``root``, ``fields``, ``languages``), oldest first.
    :param lang: "codes", or "vi"/"en" for choice labels in that language.
    :param tail: columns the caller appends to the main table (their cells come in
        :attr:`Record.tail`).
    """

    def __init__(self, form_id: str, schemas: Sequence[Mapping[str, Any]], *,
                 lang: str = "codes", tail: Sequence[Column] = ()):  # fmt: skip
        self.form_id = form_id
        self.root = "/" + schemas[-1]["root"]
        self.fields = union_fields(schemas)
        #: The schema's language name for ``lang`` (e.g. "Vietnamese (vi)"), or None: codes.
        self.language = _language_key(schemas[-1], lang)
        self.warnings: list[str] = []
        if lang != "codes" and self.language is None:
            self.warnings.append(
                f"form '{form_id}' has no {lang} labels; choice codes are exported instead"
            )
        #: The list files whose codes get a name column (only when labels are shown).
        self.list_files = (
            {
                f["choice_file"]
                for f in self.fields
                if f["kind"] in _SELECTS and f.get("choice_file")
            }
            if self.language is not None
            else set()
        )
        self._leaves = tuple(self._leaves_of(None))
        columns = [*_columns(self._leaves, self.labelled), *tail]
        keys = unique_keys(c.key for c in columns)
        self.main_columns = [
            Column(k, c.header, c.kind) for k, c in zip(keys, columns, strict=True)
        ]
        by_path = {f["path"]: f for f in self.fields}
        self._repeats = []
        for spec in self.fields:
            if spec["kind"] != "repeat":
                continue
            chain = [spec]
            while chain[0].get("repeat"):
                chain.insert(0, by_path[chain[0]["repeat"]])
            steps, above = [], self.root
            for repeat in chain:
                steps.append((tuple(repeat["path"][len(above) + 1 :].split("/")), repeat["name"]))
                above = repeat["path"]
            name = f"{form_id}-{spec['path'][len(self.root) + 1 :].replace('/', '-')}"
            leaves = tuple(self._leaves_of(spec["path"]))
            self._repeats.append(_Repeat(name, tuple(steps), leaves, steps[0][0]))

    @property
    def labelled(self) -> bool:
        """Whether list codes get name columns (labels asked and the form picks from lists)."""
        return bool(self.list_files)

    def tables(
        self,
        source: RecordSource,
        labels: Labels | None = None,
        *,
        lines: RecordSource | None = None,
        sheets: RecordSource | None = None,
    ) -> list[Table]:
        """The main table, then one table per repeat group, rows read lazily from ``source``.

        :param source: the submissions; called once per table, when its rows are read.
        :param labels: names of list codes; needed when :attr:`labelled`.
        :param lines: the submissions again, each :attr:`Record.line` its stored CSV line
            (:meth:`line`, of this plan's :attr:`signature`) or None where there is none: the
            tables then also get ``csv_rows``. Ignored when the plan shows labels.
        :param sheets: the same with the stored sheet cells (:meth:`sheet`): ``xlsx_rows``.
        :return: the tables.
        :raises ValueError: when the plan shows list names and no labels were given.
        """
        if self.labelled and labels is None:
            raise ValueError(f"form '{self.form_id}': labels are needed for {self.list_files}")
        if self.signature is None:  # lines hold codes
            lines = sheets = None
        main = _Flattener(self._leaves, self.language, labels if self.labelled else None)
        tables = [Table(self.form_id, self.main_columns, _main_rows(source, main))]
        if lines is not None:
            tables[0].csv_rows = _main_stored_rows(lines, main)
        if sheets is not None:
            tables[0].xlsx_rows = _main_stored_rows(sheets, main)
        for part, repeat in enumerate(self._repeats, start=1):
            cells = _Flattener(repeat.leaves, self.language, labels if self.labelled else None)
            columns = [
                Column("PARENT_KEY", "PARENT_KEY"),
                Column("KEY", "KEY"),
                *_columns(repeat.leaves, self.labelled),
            ]
            table = Table(repeat.name, columns, _repeat_rows(source, repeat, cells))
            if lines is not None:
                table.csv_rows = _repeat_stored_rows(lines, repeat, cells, part)
            if sheets is not None:
                table.xlsx_rows = _repeat_stored_rows(sheets, repeat, cells, part)
            tables.append(table)
        return tables

    @functools.cached_property
    def signature(self) -> str | None:
        """What the stored export lines of this plan depend on, as a short hash.

        The columns of every table, their kinds and choices: a new version that changes any
        of them changes the signature, and lines stored under the old one are not used. None
        when the plan shows labels (lines hold the codes only).
        """
        if self.language is not None:
            return None
        shape = (
            LINE_FORMAT,
            [(leaf.path, leaf.kind, leaf.select_multiple, leaf.joined,
              [name for name, _ in leaf.choices]) for leaf in self._leaves],
            [(r.name, r.chain, [(leaf.path, leaf.kind, leaf.select_multiple, leaf.joined,
              [name for name, _ in leaf.choices]) for leaf in r.leaves]) for r in self._repeats],
        )  # fmt: skip
        return hashlib.sha256(repr(shape).encode()).hexdigest()[:16]

    def line(self, data: Mapping[str, Any], instance_id: str) -> str | None:
        """A submission's export line: the CSV text of its answer cells in every table.

        The main table's answer cells (without the caller's tail: review state and scores
        change after the submission arrives), then, after :data:`PART`, each repeat table's
        whole lines for this submission, in table order. A CSV export joins the stored text
        to the tail it renders instead of reading, typing and flattening the answers again.

        :param data: the typed answers.
        :param instance_id: the submission's instanceID (repeat tables' keys start with it).
        :return: the text, or None when the plan shows labels or a cell holds :data:`PART`
            (the character is not allowed in XML, so no form answer holds it; then the export
            renders the submission as it always did).
        """
        if self.language is not None:
            return None
        (flatten, times), repeats = self._line_parts
        # Renderers are made per call (a few µs): a plan is shared by a process's threads.
        parts = [LineRenderer(times).text(flatten(data, None))]
        for repeat, cells, item_times in repeats:
            items = _repeat_items(repeat, cells, data, instance_id, None)
            parts.append("".join(map(LineRenderer(item_times), items)))
        line = PART.join(parts)
        return None if line.count(PART) != len(repeats) else line

    def sheet(self, data: Mapping[str, Any], instance_id: str) -> str | None:
        """A submission's sheet cells: :meth:`line`'s cells as XLSX rows render them.

        The main table's answer cells, then, after :data:`PART`, each repeat table's rows for
        this submission separated by ``exports.xlsx.ITEM``; the row number is left as
        ``exports.xlsx.ROW`` (the writer numbers rows as it goes). Control characters in
        answers are escaped in sheet XML, so neither separator can occur in a cell.

        :return: the text, or None when the plan shows labels.
        """
        if self.language is not None:
            return None
        (flatten, _times), repeats = self._line_parts
        main_cells, repeat_cells = self._sheet_cells
        parts = [main_cells(flatten(data, None), ROW)]
        for (repeat, cells, _times), row_cells in zip(repeats, repeat_cells, strict=True):
            items = _repeat_items(repeat, cells, data, instance_id, None)
            parts.append(ITEM.join(row_cells(row, ROW) for row in items))
        return PART.join(parts)

    @functools.cached_property
    def _sheet_cells(self) -> tuple[RowCells, list[RowCells]]:
        """The sheet renderers of :meth:`sheet` (they keep nothing of a row: shareable)."""
        main = RowCells([c.kind for c in _columns(self._leaves, False)])
        repeats = [
            RowCells(["text", "text", *(c.kind for c in _columns(r.leaves, False))])
            for r in self._repeats
        ]
        return main, repeats

    @functools.cached_property
    def _line_parts(self):
        """What :meth:`line` renders with, compiled once per plan (the intake keeps a plan)."""
        repeats = [
            (
                repeat,
                _Flattener(repeat.leaves, None, None),
                [2 + i for i in _time_positions(repeat.leaves)],
            )
            for repeat in self._repeats
        ]
        main = _Flattener(self._leaves, None, None)
        return (main.cells, _time_positions(self._leaves)), repeats

    def _leaves_of(self, repeat: str | None) -> Iterator[_Leaf]:
        """The questions directly in ``repeat`` (None: outside any repeat), in form order."""
        prefix = repeat or self.root
        skipped = (f"{self.root}/meta/instanceID", f"{self.root}/meta/deprecatedID")
        for spec in self.fields:
            if spec.get("repeat") != repeat or spec["kind"] in _SKIPPED_KINDS:
                continue
            if spec["name"].startswith(_GENERATED_PREFIXES) or spec["path"] in skipped:
                continue  # layout nodes, and ids that the metadata columns already carry
            relative = spec["path"][len(prefix) + 1 :]
            kind = _COLUMN_KINDS.get(spec["kind"]) or _TYPE_KINDS.get(spec.get("type"), "text")
            choices = tuple((c["name"], c.get("labels") or {}) for c in spec.get("choices") or [])
            yield _Leaf(
                tuple(relative.split("/")),
                spec["path"][len(self.root) + 1 :],
                kind,
                spec["kind"] == "select_multiple",
                choices,
                spec.get("choice_file") if spec["kind"] in _SELECTS else None,
                spec["kind"] in _LISTED_KINDS or spec.get("type") in _LISTED_TYPES,
            )


def _language_key(schema: Mapping[str, Any], lang: str) -> str | None:
    tag = _LANGUAGE_TAGS.get(lang)
    if tag is None:
        return None
    return next((name for name in schema.get("languages") or [] if tag in name), None)


def _columns(leaves: Sequence[_Leaf], labelled: bool) -> list[Column]:
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


class _Flattener:
    """Turns one submission's (or repeat item's) answers into the cells of its table's row.

    This runs for every row of every export, so the plan is compiled once: each group on the
    way to a question is looked up once per row, a run of questions of one group that are
    shown as they are stored (most of them) is read in one call (``map(group.get, keys)``),
    and only the others go through a function of their own (:func:`_shown`).
    """

    def __init__(self, leaves: Sequence[_Leaf], language: str | None, labels: Labels | None):
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


def _shown(leaf: _Leaf, language: str | None, labels: Labels | None) -> Callable | None:
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


def _multiple(leaf: _Leaf, language: str | None, labels: Labels | None) -> Callable:
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


def _time_positions(leaves: Sequence[_Leaf]) -> list[int]:
    """Positions of the date and time columns among the codes columns of ``leaves``."""
    return [i for i, c in enumerate(_columns(leaves, False)) if c.kind in ("date", "datetime")]


def _main_rows(source: RecordSource, cells: _Flattener) -> Iterator[list[Any]]:
    flatten = cells.cells
    for data, _instance_id, day, tail, _line in source(None):
        row = flatten(data, day)
        row.extend(tail)
        yield row


def _main_stored_rows(source: RecordSource, cells: _Flattener) -> Iterator[list[Any] | Rendered]:
    flatten = cells.cells
    for data, _instance_id, day, tail, line in source(None):
        if line is None:
            row = flatten(data, day)
            row.extend(tail)
            yield row
        else:
            yield Rendered(line.partition(PART)[0], tail)


def _repeat_items(repeat: _Repeat, cells: _Flattener, data: Mapping[str, Any], instance_id: str,
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


def _repeat_rows(source: RecordSource, repeat: _Repeat, cells: _Flattener) -> Iterator[list]:
    for data, instance_id, day, _tail, _line in source(repeat.subtree):
        yield from _repeat_items(repeat, cells, data, instance_id, day)


def _repeat_stored_rows(source: RecordSource, repeat: _Repeat, cells: _Flattener,
                      part: int) -> Iterator[list | Rendered]:  # fmt: skip
    for data, instance_id, day, _tail, line in source(repeat.subtree):
        if line is None:
            yield from _repeat_items(repeat, cells, data, instance_id, day)
        else:
            text = line.split(PART)[part]
            if text:
                yield Rendered(text, None)
