"""XLSX with native numbers and dates, one sheet per table, written in constant memory.

Strings are never turned into formulas, URLs or numbers (a phone number "0912…" keeps its zero;
"=1+1" stays text). Times are shown on the export clock (:data:`exports.table.CLOCK`, Vietnam
time), since an Excel cell cannot store a zone; the headers name it.

The worksheet XML is streamed straight into the ZIP container, a row at a time (inline strings,
no shared-string table), so memory stays flat and each cell costs one string format instead of
a library call chain: openpyxl's write-only mode and xlsxwriter's ``constant_memory`` both spend
several calls per cell, and measured three times slower than this. A table longer than Excel's
1,048,576 rows continues on further sheets (``name~2``…) with the header repeated, never
silently cut. The container is deflated at level 1 (see ``exports.zip.DEFLATE_LEVEL``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from collections.abc import Sequence
from typing import IO, Any

from exports.table import CLOCK, Rendered, Table
from exports.zip import DEFLATE_LEVEL, WriteBehind

_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
#: Excel's last row: a sheet holds the header and 1,048,575 data rows.
MAX_ROWS = 1_048_576
_EPOCH = dt.datetime(1899, 12, 30)
#: The same day on the export clock: an aware time minus this is its wall time's serial.
_EPOCH_ON_CLOCK = _EPOCH.replace(tzinfo=CLOCK)
#: Characters that text cannot carry as they are (markup, controls Excel escapes).
_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NEEDS_ESCAPE = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_x[0-9A-Fa-f]{4}_")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPED_LITERAL = re.compile(r"_x([0-9A-Fa-f]{4})_")
_STYLE_BOLD, _STYLE_DATE, _STYLE_DATETIME = 1, 2, 3
_FLUSH_ROWS = 500
#: Where stored sheet cells take their row number (a control character text escapes).
ROW = "\x1f"
#: Separates a submission's stored repeat rows.
ITEM = "\x1d"

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STYLES = (
    f"{_HEAD}<styleSheet {_NS}>"
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/>'
    '<numFmt numFmtId="165" formatCode="dd/mm/yyyy hh:mm:ss"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    "</cellStyles></styleSheet>"
)
_SHEET_START = (
    f'{_HEAD}<worksheet {_NS} {_NS_R}><sheetViews><sheetView {{selected}}workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    '<selection pane="bottomLeft"/></sheetView></sheetViews>'
    '<sheetFormatPr defaultRowHeight="15"/><sheetData>'
)
_SHEET_END = (
    '</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
    'footer="0.3"/></worksheet>'
)


def sheet_name(name: str, taken: set[str]) -> str:
    """A valid, unique Excel sheet name (≤31 characters, none of the forbidden characters).

    :param name: the wanted name.
    :param taken: names already used (lower-cased); updated.
    :return: the name to use.
    """
    base = _SHEET_FORBIDDEN.sub("_", name).strip("'") or "sheet"
    candidate, n = base[:31], 1
    while candidate.lower() in taken:
        n += 1
        suffix = f"~{n}"
        candidate = base[: 31 - len(suffix)] + suffix
    taken.add(candidate.lower())
    return candidate


def _column_letters(n: int) -> list[str]:
    letters = []
    for index in range(n):
        name, index = "", index + 1
        while index:
            index, rest = divmod(index - 1, 26)
            name = chr(65 + rest) + name
        letters.append(name)
    return letters


def _xml(text: str) -> str:
    """Text as XML character data; control characters as Excel's ``_xHHHH_`` escapes."""
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    text = _ESCAPED_LITERAL.sub(r"_x005F_x\1_", text)  # a literal "_x0041_" stays literal
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


def _string(ref: str, text: str) -> str:
    escaped = _xml(text)
    if escaped[:1].isspace() or escaped[-1:].isspace():
        return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escaped}</t></is></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escaped}</t></is></c>'


def _serial(value: dt.datetime) -> str:
    delta = value - _EPOCH
    return repr(delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400)


def _cell(ref: str, value: Any, kind: str) -> str:
    """One cell, typed as the old xlsxwriter path typed it."""
    if kind in ("integer", "decimal") and isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return _string(ref, repr(value))
        return f'<c r="{ref}"><v>{int(value) if isinstance(value, bool) else value!r}</v></c>'
    if kind == "datetime" and isinstance(value, dt.datetime):
        local = value.astimezone(CLOCK).replace(tzinfo=None) if value.tzinfo else value
        return f'<c r="{ref}" s="{_STYLE_DATETIME}"><v>{_serial(local)}</v></c>'
    if kind == "date" and isinstance(value, dt.date):
        day = dt.datetime(value.year, value.month, value.day)
        return f'<c r="{ref}" s="{_STYLE_DATE}"><v>{_serial(day)}</v></c>'
    if isinstance(value, list | tuple):
        return _string(ref, " ".join(str(v) for v in value))
    return _string(ref, str(value))


class _Book:
    """The ZIP container: sheets are streamed in, the workbook parts written at the end."""

    def __init__(self, out: str | IO[bytes]):
        self.archive = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED,
                                       compresslevel=DEFLATE_LEVEL, allowZip64=True)  # fmt: skip
        self.sheets: list[str] = []
        self.taken: set[str] = set()
        self._open: WriteBehind | None = None

    def _close_sheet(self) -> None:
        if self._open is not None:
            handle, self._open = self._open, None
            handle.close()

    def sheet(self, name: str):
        """Open the next worksheet part for writing; returns its binary handle."""
        self.sheets.append(sheet_name(name, self.taken))
        part = f"xl/worksheets/sheet{len(self.sheets)}.xml"
        self._close_sheet()
        handle = self._open = WriteBehind(self.archive.open(part, "w", force_zip64=True))
        selected = 'tabSelected="1" ' if len(self.sheets) == 1 else ""
        handle.write(_SHEET_START.replace("{selected}", selected).encode())
        return handle

    def close(self) -> None:
        """Write the workbook, its relationships, styles and content types."""
        self._close_sheet()
        n = len(self.sheets)
        sheets = "".join(
            f'<sheet name="{_xml(name)}" sheetId="{i}" r:id="rId{i}"/>'
            for i, name in enumerate(self.sheets, start=1)
        )
        self.archive.writestr(
            "xl/workbook.xml",
            f"{_HEAD}<workbook {_NS} {_NS_R}><bookViews><workbookView/></bookViews>"
            f"<sheets>{sheets}</sheets></workbook>",
        )
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, n + 1)
        )
        rels += f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
        package = "http://schemas.openxmlformats.org/package/2006/relationships"
        self.archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'{_HEAD}<Relationships xmlns="{package}">{rels}</Relationships>',
        )
        self.archive.writestr("xl/styles.xml", _STYLES)
        self.archive.writestr(
            "_rels/.rels",
            f'{_HEAD}<Relationships xmlns="{package}"><Relationship Id="rId1" '
            f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        ml = "application/vnd.openxmlformats-officedocument.spreadsheetml"
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{ml}.worksheet+xml"/>'
            for i in range(1, n + 1)
        )
        self.archive.writestr(
            "[Content_Types].xml",
            f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ml}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{ml}.styles+xml"/>'
            f"{overrides}</Types>",
        )
        self.archive.close()


def write_xlsx(tables: list[Table], out: str | IO[bytes]) -> None:
    """Write tables as the sheets of one workbook.

    :param tables: the tables, first one first.
    :param out: a file path or binary file object.
    """
    book = _Book(out)
    try:
        for table in tables:
            _write_table(book, table)
    finally:
        book.close()


class RowCells:
    """Renders rows of one table's shape as the ``<c>`` elements of a sheet row.

    Every cell of every row passes here, so the common cells are written inline: text that
    needs no escaping (checked once per row over all its texts), whole numbers and finite
    decimals in number columns, times and dates in theirs. Anything else goes through
    :func:`_cell`, which writes the same XML the long way. Each cell's XML depends on its own
    value, column and row number only, so cells rendered apart and joined are the row's cells:
    the stored sheet cells of export lines (``exports.FormTables.sheet``) rely on it, rendered
    once with :data:`ROW` as the row number.

    :param kinds: the columns' kinds.
    :param first: the position of the first of these columns in the table.
    """

    def __init__(self, kinds: Sequence[str], first: int = 0) -> None:
        self.kinds = list(kinds)
        self.letters = _column_letters(first + len(self.kinds))[first:]
        self.opens = [f'<c r="{letter}' for letter in self.letters]
        self.numeric = [kind in ("integer", "decimal") for kind in self.kinds]
        self.days: dict[dt.date, str] = {}

    def __call__(self, row: Sequence[Any], rs: str) -> str:
        """The row's cells (empty ones left out), numbered ``rs``."""
        kinds, letters, opens, numeric, days = (
            self.kinds, self.letters, self.opens, self.numeric, self.days
        )  # fmt: skip
        texts = "\n".join([v for v in row if v.__class__ is str])
        plain = _SPECIAL.search(texts) is None and "_x" not in texts
        cells = []
        append = cells.append
        isfinite = math.isfinite
        for c, value in enumerate(row):
            kind = value.__class__
            if kind is str:
                if not value:
                    continue
                if plain and value.strip() is value:
                    append(f'{opens[c]}{rs}" t="inlineStr"><is><t>{value}</t></is></c>')
                else:
                    append(_string(letters[c] + rs, value))
            elif value is None:
                continue
            elif (kind is int or (kind is float and isfinite(value))) and numeric[c]:
                append(f'{opens[c]}{rs}"><v>{value!r}</v></c>')
            elif kind is dt.datetime and kinds[c] == "datetime":
                delta = value - (_EPOCH_ON_CLOCK if value.tzinfo else _EPOCH)
                serial = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400
                append(f'{opens[c]}{rs}" s="{_STYLE_DATETIME}"><v>{serial!r}</v></c>')
            elif kind is dt.date and kinds[c] == "date":
                serial = days.get(value)
                if serial is None:
                    serial = days[value] = repr(float((value - _EPOCH.date()).days))
                append(f'{opens[c]}{rs}" s="{_STYLE_DATE}"><v>{serial}</v></c>')
            else:
                append(_cell(letters[c] + rs, value, kinds[c]))
        return "".join(cells)


def _write_table(book: _Book, table: Table) -> None:
    """Stream one table's sheet (and further sheets past Excel's last row).

    A table's :attr:`~exports.Table.xlsx_rows`, when it has them, are read instead of its rows:
    their :class:`~exports.table.Rendered` rows hold sheet cells stored with :data:`ROW` for
    the row number (the main table's answer cells, then the tail rendered here; or a
    submission's repeat rows, separated by :data:`ITEM`).
    """
    kinds = [c.kind for c in table.columns]
    letters = _column_letters(len(kinds))
    header = "".join(
        f'<c r="{letter}1" s="{_STYLE_BOLD}" t="inlineStr"><is><t>{_xml(str(h))}</t></is></c>'
        for letter, h in zip(letters, table.headers, strict=True)
    )
    header_row = f'<row r="1">{header}</row>'
    handle = book.sheet(table.name)
    handle.write(header_row.encode())
    cells_of = RowCells(kinds)
    tail_of: RowCells | None = None
    rows = table.rows if table.xlsx_rows is None else table.xlsx_rows
    r, part, pending = 1, 1, []
    for row in rows:
        if row.__class__ is Rendered:
            text, tail = row
            if tail is None:  # a submission's repeat rows, stored
                items = text.split(ITEM) if text else ()
            else:  # the main table's stored answer cells, then the tail
                if tail_of is None:
                    tail_of = RowCells(kinds[len(kinds) - len(tail) :], len(kinds) - len(tail))
                items = (text,)
        else:
            items = (None,)
        for item in items:
            if r == MAX_ROWS:  # full: continue on the next sheet, header repeated
                handle.write(("".join(pending) + _SHEET_END).encode())
                pending, part, r = [], part + 1, 1
                handle.close()
                handle = book.sheet(f"{table.name}~{part}")
                handle.write(header_row.encode())
            r += 1
            rs = str(r)
            if item is None:
                pending.append(f'<row r="{rs}">{cells_of(row, rs)}</row>')
            elif tail is None:
                pending.append(f'<row r="{rs}">{item.replace(ROW, rs)}</row>')
            else:
                pending.append(f'<row r="{rs}">{item.replace(ROW, rs)}{tail_of(tail, rs)}</row>')
            if len(pending) >= _FLUSH_ROWS:
                handle.write("".join(pending).encode())
                pending = []
    handle.write(("".join(pending) + _SHEET_END).encode())
    handle.close()
