"""The XLSX writer's inline cells are exactly the cells its long way (``_cell``) writes.

Hypothesis looks for a row whose sheet XML differs from the reference rendering, cell by cell
through ``_string`` and ``_cell``: texts with markup, control characters, literal ``_x0041_``
escapes and outer blanks, numbers of any kind in any column, dates and times on any clock.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from hypothesis import given, settings
from hypothesis import strategies as st

from exports import Column, Table, write_xlsx
from exports import xlsx as xlsx_module

PIECES = st.sampled_from(["a", "Đ", " ", "\t", "&", "<", ">", "\x01", "_x0041_", "\n", "="])
TEXT = st.one_of(st.text(max_size=10), st.lists(PIECES, max_size=5).map("".join))
ZONES = [dt.UTC, dt.timezone(dt.timedelta(hours=7)), dt.timezone(dt.timedelta(hours=-5.5))]
CELL = st.one_of(
    st.none(),
    TEXT,
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(),
    st.booleans(),
    st.dates(min_value=dt.date(1900, 3, 1)),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), timezones=st.sampled_from(ZONES)),
    st.datetimes(min_value=dt.datetime(1900, 3, 1)),
    st.lists(st.integers(), max_size=2),
)
COLUMNS = [
    Column("t", "t"),
    Column("i", "i", "integer"),
    Column("x", "x", "decimal"),
    Column("d", "d", "date"),
    Column("w", "w", "datetime"),
]


def reference(rows) -> str:
    letters = xlsx_module._column_letters(len(COLUMNS))
    out = []
    for r, row in enumerate(rows, start=2):
        cells = []
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            ref = f"{letters[c]}{r}"
            if value.__class__ is str:
                cells.append(xlsx_module._string(ref, value))
            else:
                cells.append(xlsx_module._cell(ref, value, COLUMNS[c].kind))
        out.append(f'<row r="{r}">{"".join(cells)}</row>')
    return "".join(out)


def sheet_rows(rows) -> str:
    out = io.BytesIO()
    write_xlsx([Table("t", COLUMNS, rows)], out)
    xml = zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml").decode()
    body = xml.split("</row>", 1)[1]  # after the header row
    return body.split("</sheetData>")[0]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(CELL, CELL, CELL, CELL, CELL), max_size=6))
def test_inline_cells_are_the_long_ways_cells(rows):
    assert sheet_rows(rows) == reference(rows)
