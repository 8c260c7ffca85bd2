"""The CSV writer's short way for common rows writes exactly what the careful way writes.

The careful way is the csv module over :func:`exports.csv.cell` for every cell; the short way
joins the cells itself when it can prove the result is the same. Hypothesis looks for a row
where they differ: texts with commas, quotes, line breaks, blanks and formula signs in any
place, numbers of any sign, dates, times, lists, booleans and None.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exports import Column, Table, iter_csv
from exports.csv import BOM, cell

TRICKY = st.sampled_from(list(",\"'\r\n\t =+-@ \u00a0\u3000\x00aĐ1;"))
TEXT = st.one_of(st.text(max_size=12), st.lists(TRICKY, max_size=6).map("".join))
ZONES = [dt.UTC, dt.timezone(dt.timedelta(hours=7)), dt.timezone(dt.timedelta(hours=-5.5))]
AWARE = st.datetimes(
    min_value=dt.datetime(1900, 1, 2),
    max_value=dt.datetime(2100, 1, 1),
    timezones=st.sampled_from(ZONES),
)
CELL = st.one_of(
    st.none(),
    TEXT,
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False),
    st.booleans(),
    st.dates(),
    AWARE,
    st.datetimes(),
    st.lists(st.integers(), max_size=3),
)
COLUMNS = [
    Column("a", "a"),
    Column("b", "b", "integer"),
    Column("d", "d", "date"),
    Column("t", "t", "datetime"),
    Column("c", "c"),
]


def careful(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(h) for h in table.headers])
    for row in table.rows:
        writer.writerow([cell(v) for v in row])
    return BOM + out.getvalue()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(CELL, CELL, CELL, CELL, CELL), max_size=8))
def test_the_short_way_writes_what_the_careful_way_writes(rows):
    written = b"".join(iter_csv(Table("t", COLUMNS, rows), chunk_rows=3)).decode("utf-8")
    assert written == careful(Table("t", COLUMNS, rows))


def test_common_rows_and_hostile_ones():
    rows = [
        ["Hoa", 3, dt.date(2026, 1, 2), dt.datetime(2026, 1, 1, 17, tzinfo=dt.UTC), "x"],
        ["=1+1", -3, None, None, " =cmd"],
        ["a, b", 1.5, "2026-13-01", "not a time", 'say "hi"'],
        ["\tx", True, None, dt.datetime(2026, 1, 1, 8), ["tp01", "tp05"]],
    ]
    table = Table("t", COLUMNS, rows)
    assert b"".join(iter_csv(table)).decode() == careful(Table("t", COLUMNS, rows))
    assert b"".join(iter_csv(table)).decode().splitlines()[1:3] == [
        "Hoa,3,2026-01-02,2026-01-02T00:00:00+07:00,x",
        "'=1+1,-3,,,' =cmd",
    ]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(CELL), max_size=4))
def test_a_table_of_one_column_writes_an_empty_cell_as_the_csv_module_does(rows):
    """A lone empty cell is ``""`` (a blank line would read back as a row with no cell)."""
    columns = [Column("a", "a")]
    written = b"".join(iter_csv(Table("t", columns, rows))).decode("utf-8")
    assert written == careful(Table("t", columns, rows))
    empty = b"".join(iter_csv(Table("t", columns, [(None,), ("",)]))).decode("utf-8")
    assert empty.splitlines()[1:] == ['""', '""']
