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
import io
from collections.abc import Iterator
from typing import IO, Any

from exports.table import CLOCK, Table

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


def iter_csv(table: Table, *, chunk_rows: int = 2000) -> Iterator[bytes]:
    """Yield the CSV file in chunks, for streaming responses.

    :param table: the table.
    :param chunk_rows: rows per yielded chunk.
    :return: byte chunks; the first starts with the BOM and the header row.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([cell(h) for h in table.headers])
    pending = 0
    for row in table.rows:
        writer.writerow(_cells(row))
        pending += 1
        if pending >= chunk_rows:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode("utf-8")


def write_csv(table: Table, out: IO[bytes]) -> None:
    """Write a table as CSV to a binary file.

    :param table: the table.
    :param out: a binary file object.
    """
    for chunk in iter_csv(table):
        out.write(chunk)
