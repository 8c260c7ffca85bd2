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

import functools
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from exports.csv import LineRenderer
from exports.form_rows import (
    PART,
    Flattener,
    Labels,
    Leaf,
    Record,
    RecordSource,
    Repeat,
    columns_of,
    main_rows,
    main_stored_rows,
    repeat_items,
    repeat_rows,
    repeat_stored_rows,
    time_positions,
)
from exports.table import Column, Table, unique_keys
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
#: The version of the export lines' layout; bump it when :meth:`FormTables.line` or the CSV
#: cell rendering changes, so lines stored before are not used.
LINE_FORMAT = 1


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
        columns = [*columns_of(self._leaves, self.labelled), *tail]
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
            self._repeats.append(Repeat(name, tuple(steps), leaves, steps[0][0]))

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
        main = Flattener(self._leaves, self.language, labels if self.labelled else None)
        tables = [Table(self.form_id, self.main_columns, main_rows(source, main))]
        if lines is not None:
            tables[0].csv_rows = main_stored_rows(lines, main)
        if sheets is not None:
            tables[0].xlsx_rows = main_stored_rows(sheets, main)
        for part, repeat in enumerate(self._repeats, start=1):
            cells = Flattener(repeat.leaves, self.language, labels if self.labelled else None)
            columns = [
                Column("PARENT_KEY", "PARENT_KEY"),
                Column("KEY", "KEY"),
                *columns_of(repeat.leaves, self.labelled),
            ]
            table = Table(repeat.name, columns, repeat_rows(source, repeat, cells))
            if lines is not None:
                table.csv_rows = repeat_stored_rows(lines, repeat, cells, part)
            if sheets is not None:
                table.xlsx_rows = repeat_stored_rows(sheets, repeat, cells, part)
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
            items = repeat_items(repeat, cells, data, instance_id, None)
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
            items = repeat_items(repeat, cells, data, instance_id, None)
            parts.append(ITEM.join(row_cells(row, ROW) for row in items))
        return PART.join(parts)

    @functools.cached_property
    def _sheet_cells(self) -> tuple[RowCells, list[RowCells]]:
        """The sheet renderers of :meth:`sheet` (they keep nothing of a row: shareable)."""
        main = RowCells([c.kind for c in columns_of(self._leaves, False)])
        repeats = [
            RowCells(["text", "text", *(c.kind for c in columns_of(r.leaves, False))])
            for r in self._repeats
        ]
        return main, repeats

    @functools.cached_property
    def _line_parts(self):
        """What :meth:`line` renders with, compiled once per plan (the intake keeps a plan)."""
        repeats = [
            (
                repeat,
                Flattener(repeat.leaves, None, None),
                [2 + i for i in time_positions(repeat.leaves)],
            )
            for repeat in self._repeats
        ]
        main = Flattener(self._leaves, None, None)
        return (main.cells, time_positions(self._leaves)), repeats

    def _leaves_of(self, repeat: str | None) -> Iterator[Leaf]:
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
            yield Leaf(
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
