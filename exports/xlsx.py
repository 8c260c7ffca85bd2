"""XLSX with native numbers and dates, one sheet per table, written in constant memory.

Strings are never turned into formulas, URLs or numbers (a phone number "0912…" keeps its zero;
"=1+1" stays text). Times are shown in Vietnam time (UTC+7), which Excel cannot store as a zone.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import IO, Any

import xlsxwriter

from exports.table import Table

VIETNAM = dt.timezone(dt.timedelta(hours=7))
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


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


def write_xlsx(tables: list[Table], out: str | IO[bytes]) -> None:
    """Write tables as the sheets of one workbook.

    :param tables: the tables, first one first.
    :param out: a file path or binary file object.
    """
    workbook = xlsxwriter.Workbook(out, {
        "constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
        "strings_to_urls": False, "in_memory": False,
    })  # fmt: skip
    bold = workbook.add_format({"bold": True})
    formats = {
        "date": workbook.add_format({"num_format": "dd/mm/yyyy"}),
        "datetime": workbook.add_format({"num_format": "dd/mm/yyyy hh:mm:ss"}),
    }
    taken: set[str] = set()
    for table in tables:
        sheet = workbook.add_worksheet(sheet_name(table.name, taken))
        sheet.write_row(0, 0, table.headers, bold)
        sheet.freeze_panes(1, 0)
        kinds = [c.kind for c in table.columns]
        for r, row in enumerate(table.rows, start=1):
            for c, value in enumerate(row):
                if value is not None and value != "":
                    _write(sheet, r, c, value, kinds[c], formats)
    workbook.close()


def _write(sheet, r: int, c: int, value: Any, kind: str, formats: dict) -> None:
    if kind in ("integer", "decimal") and isinstance(value, int | float):
        sheet.write_number(r, c, value)
    elif kind == "datetime" and isinstance(value, dt.datetime):
        local = value.astimezone(VIETNAM).replace(tzinfo=None) if value.tzinfo else value
        sheet.write_datetime(r, c, local, formats["datetime"])
    elif kind == "date" and isinstance(value, dt.date):
        sheet.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), formats["date"])
    elif isinstance(value, list | tuple):
        sheet.write_string(r, c, " ".join(str(v) for v in value))
    else:
        sheet.write_string(r, c, str(value))
