"""CSV that Excel opens correctly with Vietnamese text, and that cannot inject formulas.

UTF-8 with a byte-order mark (Excel otherwise assumes the ANSI code page and garbles "ư"),
CRLF line ends, every field quoted only when needed. A text cell that starts with ``=``, ``+``,
``-``, ``@``, tab, carriage return or line feed, or with any whitespace followed by one of
those four, is prefixed with ``'`` (OWASP "CSV injection"), so a hostile answer such as
``=HYPERLINK(…)``, even after a line break, is shown as text; numbers are never touched.
Spreadsheets skip leading blanks and line breaks before they look for a formula, which is why
the first character alone is not enough.

Dates are ISO ``YYYY-MM-DD``; times are ISO 8601 on the export clock (:data:`exports.table.CLOCK`,
Vietnam time) with the offset written out, e.g. ``2026-11-23T16:30:00+07:00``: the same wall
time the XLSX shows, and still unambiguous for programs that read the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from types import SimpleNamespace
from typing import IO, Any

from exports.table import CLOCK, Rendered, Spliced, Table

BOM = "\ufeff"
_FORMULA_START = frozenset("=+-@")
#: First characters that make a cell suspect: a formula sign, or a break Excel may skip.
_DANGEROUS_FIRST = _FORMULA_START | frozenset("\t\r\n")


def _is_dangerous(text: str) -> bool:
    """Whether a spreadsheet could read the text as a formula (the caller knows it is not empty)."""
    first = text[0]
    if first in _DANGEROUS_FIRST:
        return True
    return first.isspace() and text.lstrip()[:1] in _FORMULA_START


def cell(value: Any) -> str:
    """Render one value as CSV text (lists space-separated, dates ISO, times on the clock).

    :param value: the value.
    :return: the text, neutralised against formula injection.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(CLOCK)
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value)
    text = str(value)
    return "'" + text if text and _is_dangerous(text) else text


#: Types the csv module already writes exactly as :func:`cell` would (None empty, int str(),
#: float repr()): passed through untouched, which saves a call per cell.
_NATIVE = frozenset({int, float, type(None)})
_TIME_KINDS = ("date", "datetime")
#: A row of only these may be written by joining its cells (None as an empty cell).
_JOINABLE = _NATIVE | {str}
#: What a row's cells are joined with when a text holds a comma: a character no cell holds (a
#: row where one does goes the careful way), so that where each cell starts is still known.
_SEP = "\x00"
#: After a separator: a character a dangerous cell may start with (a formula sign, a tab or line
#: break, or any whitespace (``\s`` is ``str.isspace``) that may hide one). Joined cells with
#: none, and a safe first cell, need no guard; a false alarm (a negative number, a text
#: starting with a blank) only costs the cell-by-cell look.
_CELL_FORMULA = re.compile("\x00[=+\\-@\\s]")
#: The same after a comma, for lines joined by commas (a comma inside a text is a false alarm).
_MAYBE_FORMULA = re.compile(r",[=+\-@\s]")


_ON_CLOCK = CLOCK.utcoffset(None)
_CLOCK_SUFFIX = dt.datetime(2000, 1, 1, tzinfo=CLOCK).isoformat()[19:]  # "+07:00"


def _time(value: Any) -> Any:
    """A date or a time as :func:`cell` writes it; any other value as it is.

    An aware time is moved to the clock's wall time by adding the difference of offsets and
    written without its fraction: the text :func:`cell` gives, for a third less work.
    """
    kind = value.__class__
    if kind is dt.datetime:
        offset = value.utcoffset()
        if offset is None:
            return value.isoformat(timespec="seconds")
        return (value + (_ON_CLOCK - offset)).isoformat()[:19] + _CLOCK_SUFFIX
    if kind is dt.date:
        return value.isoformat()
    return value


def _cells(row) -> list:
    """A row ready for ``csv.writer``: :func:`cell` for what the writer cannot render alone."""
    out = []
    append = out.append
    for value in row:
        kind = value.__class__
        if kind in _NATIVE:
            append(value)
        elif kind is str:
            append("'" + value if value and _is_dangerous(value) else value)
        else:
            append(cell(value))
    return out


class LineRenderer:
    """Renders rows of one table's shape as CSV lines, each the bytes the csv module writes.

    Every row of a million-row export passes here, so the common row takes a short way: its
    date and time columns rendered, its cells (text and numbers, once those are rendered)
    joined by commas in one call. That line is exactly what the csv module writes when no cell
    holds a comma, a quote or a line break (one comma fewer than cells, no quote, no line
    break), and it is safe when no cell can start a formula (:data:`_MAYBE_FORMULA`). A row
    where a text holds a comma (a third of the benchmark's rows: free-text answers) is joined
    once more by :data:`_SEP` to see where each cell starts; when none can start a formula
    (:data:`_CELL_FORMULA`) the cells go to the csv module as they are, which quotes the ones
    that need it. Any other row goes through :func:`cell` and the csv module, cell by cell: the
    same bytes.

    Each cell is written on its own (the csv module's minimal quoting looks at one field at a
    time), so the lines of two runs of cells joined by a comma are the line of both runs: the
    export lines stored at intake (:meth:`exports.FormTables.line`) rely on it.

    :param times: positions of the date and time columns.
    """

    def __init__(self, times: Sequence[int] = ()) -> None:
        self.times = tuple(times)
        self._scratch: list[str] = []
        self._writerow = csv.writer(
            SimpleNamespace(write=self._scratch.append), lineterminator="\r\n"
        ).writerow

    def __call__(self, row: Iterable[Any]) -> str:
        """The row's line, ending in CRLF."""
        cells = list(row)
        for i in self.times:
            cells[i] = _time(cells[i])
        if set(map(type, cells)) <= _JOINABLE:
            texts = ["" if v is None else str(v) for v in cells]
            line = ",".join(texts)
            first = line[:1]
            safe_first = first not in _DANGEROUS_FIRST and not first.isspace()
            if line.count(",") == len(cells) - 1:
                if (
                    '"' not in line
                    and "\n" not in line
                    and "\r" not in line
                    and _MAYBE_FORMULA.search(line) is None
                    and safe_first
                ):
                    # A row of one empty cell: the csv module writes "", not an empty line.
                    return (line or '""') + "\r\n"
            elif (
                safe_first
                and _CELL_FORMULA.search(cells_joined := _SEP.join(texts)) is None
                and (cells_joined.count(_SEP) == len(cells) - 1)
            ):  # a text holds a comma, and no cell can start a formula: the csv module quotes
                return self._written(cells)
        return self._written(_cells(cells))

    def text(self, cells: Sequence[Any]) -> str:
        """The cells as the text they take inside a longer line (no line end; "" for none)."""
        if not cells:
            return ""
        # A trailing empty cell keeps a lone empty cell from being written as "" (the csv
        # module quotes the only field of a row when it is empty, never a field among others).
        return self([*cells, None])[:-3]

    def _written(self, cells: list) -> str:
        self._writerow(cells)
        return self._scratch.pop()


def iter_csv(table: Table, *, chunk_rows: int = 2000) -> Iterator[bytes]:
    """Yield the CSV file in chunks, for streaming responses.

    Rows go through one :class:`LineRenderer`; a table's :attr:`~exports.Table.csv_rows`, when
    it has them, are read instead of its rows: their :class:`~exports.table.Rendered` rows are
    already text but for their tail (the server's metadata), which is rendered here.

    :param table: the table.
    :param chunk_rows: rows per yielded chunk.
    :return: byte chunks; the first starts with the BOM and the header row.
    """
    lines: list[str] = [BOM]
    add = lines.append
    add(LineRenderer()([cell(h) for h in table.headers]))
    times = [i for i, column in enumerate(table.columns) if column.kind in _TIME_KINDS]
    line_of = LineRenderer(times)
    tail_of: LineRenderer | None = None
    start = 0
    rows = table.rows if table.csv_rows is None else table.csv_rows
    pending = 0
    spliced: dict[tuple[int, int, int], _SplicedTail] = {}
    for row in rows:
        if row.__class__ is Rendered:
            text, tail = row
            if tail is None:
                add(text)
            elif tail.__class__ is Spliced:
                shape = (len(tail.before), tail.width, len(tail.after))
                if (renderer := spliced.get(shape)) is None:
                    renderer = spliced[shape] = _SplicedTail(len(table.columns), times, tail)
                add(renderer(text, tail))
            else:
                if tail_of is None:
                    start = len(table.columns) - len(tail)  # cells already rendered
                    tail_of = LineRenderer([i - start for i in times if i >= start])
                if not start:
                    add(tail_of(tail))
                elif len(tail) > 1:
                    add(f"{text},{tail_of(tail)}")
                else:  # a lone cell is written alone as "" when empty; not after others
                    add(f"{text},{tail_of([*tail, None])[:-3]}\r\n")
        else:
            add(line_of(row))
        pending += 1
        if pending >= chunk_rows:
            yield "".join(lines).encode("utf-8")
            lines.clear()
            pending = 0
    yield "".join(lines).encode("utf-8")


#: How many distinct ``Spliced.after`` texts a writer keeps (review states: a handful).
_KEPT_TAILS = 64


class _SplicedTail:
    """Renders rows whose tail is a :class:`~exports.table.Spliced` of one shape.

    The cells after the stored text (a review state) take few values in an export, so their
    text is kept per value (they must be hashable): such a row costs a few string joins.
    """

    def __init__(self, width: int, times: Sequence[int], tail: Spliced) -> None:
        self.start = width - tail.columns  # the cells rendered before the tail
        middle = self.start + len(tail.before)
        end = middle + tail.width
        self._before = LineRenderer([i - self.start for i in times if self.start <= i < middle])
        self._after = LineRenderer([i - end for i in times if i >= end])
        self._after_texts: dict[tuple[Any, ...], str] = {}

    def __call__(self, text: str, tail: Spliced) -> str:
        parts = [text] if self.start else []
        if tail.before:
            parts.append(self._before.text(tail.before))
        parts.append(tail.text)
        if tail.after:
            after = self._after_texts.get(tail.after)
            if after is None:
                after = self._after.text(tail.after)
                if len(self._after_texts) < _KEPT_TAILS:
                    self._after_texts[tail.after] = after
            parts.append(after)
        # A row of one empty cell is the only empty line: the csv module writes it as "".
        return (",".join(parts) or '""') + "\r\n"


def write_csv(table: Table, out: IO[bytes]) -> None:
    """Write a table as CSV to a binary file.

    :param table: the table.
    :param out: a binary file object.
    """
    for chunk in iter_csv(table):
        out.write(chunk)
