"""Export lines: a submission's answer cells rendered once, as the CSV writer would have.

A CSV export of a table whose rows carry stored lines must be byte for byte the export of the
same rows rendered from their answers; these tests hold the two roads side by side.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from exports import Column, FormTables, Record, Table, iter_csv, write_xlsx
from exports.csv import LineRenderer
from exports.form_tables import PART
from exports.table import Rendered, Spliced
from exports.xlsx import ROW, RowCells
from exports.zip import WriteBehind
from tests.form_schemas import FIRST, SECOND, TAIL, V1, V2, field, schema

TRICKY = {
    "name": 'a "quoted", text\nover two lines',
    "nick": " -1+1\x1f\x1d",  # the sheet's own separators, inside an answer
    "who": {"age": -3},
    "topics": "tp05",
    "ok": "@SUM(A1)",
    "dob": None,
    "end": "2026-01-01T23:30:00+07:00",
    "tr": [{"tr_name": "", "day": [{"hours": None}]}, {"day": "x"}],
}
EMPTY: dict = {}
ANSWERS = [FIRST, SECOND, TRICKY, EMPTY]
RECEIVED = dt.datetime(2026, 11, 23, 1, 2, 3, 456000, tzinfo=dt.UTC)


def tail(i: int) -> list:
    return [f"uuid:{i}", "=2", RECEIVED if i % 2 else None]


def plan() -> FormTables:
    columns = [*TAIL, Column("review", "review"), Column("received", "received", "datetime")]
    return FormTables("f", [V1, V2], tail=columns)


def sources(tables_plan: FormTables, with_line, *, sheet: bool = False):
    def plain(_subtree):
        return iter(Record(data, f"uuid:{i}", None, tail(i)) for i, data in enumerate(ANSWERS))

    def lined(_subtree):
        for i, data in enumerate(ANSWERS):
            stored = tables_plan.sheet if sheet else tables_plan.line
            line = stored(data, f"uuid:{i}") if with_line(i) else None
            yield Record(None if line is not None else data, f"uuid:{i}", None, tail(i), line)

    return plain, lined


def csv_text(table) -> str:
    return b"".join(iter_csv(table)).decode("utf-8").lstrip("\ufeff")


def csv_of(table, text: bool) -> str:
    if text:
        table.rows = table.csv_rows
    return csv_text(table)


def sheets_of(tables) -> dict[str, bytes]:
    out = io.BytesIO()
    write_xlsx(tables, out)
    archive = zipfile.ZipFile(out)
    return {n: archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/")}


def test_tables_from_lines_are_the_tables_from_answers():
    for with_line in (lambda i: True, lambda i: i % 2 == 0, lambda i: False):
        tables_plan = plan()
        plain, lined = sources(tables_plan, with_line)
        expected = [csv_text(t) for t in tables_plan.tables(plain)]
        got = [csv_of(t, True) for t in tables_plan.tables(plain, lines=lined)]
        assert got == expected
        sheeted = sources(tables_plan, with_line, sheet=True)[1]
        assert sheets_of(tables_plan.tables(plain, sheets=sheeted)) == sheets_of(
            tables_plan.tables(plain)
        )
    assert len(expected) == 3  # main, tr, tr-day: every table compared
    assert '"a ""quoted"", text\nover two lines"' in expected[0]
    assert "'@SUM(A1)" in expected[0]


def test_a_line_holds_the_answer_cells_then_each_repeat_tables_lines():
    line = plan().line(FIRST, "uuid:1")
    main, repeat, nested = line.split(PART)
    assert main.startswith(
        "Nguyễn Thị Hoa,,34,tp01 tp05,1,1,yes,1990-05-01,2026-11-23T15:00:00+07:00"
    )
    assert repeat == (
        "uuid:1,uuid:1/tr[1],'=cmd|' /C calc'!A0\r\n"
        "uuid:1,uuid:1/tr[2],\r\n"  # "not an item": a row without answers, as from the answers
        "uuid:1,uuid:1/tr[3],Trần Văn An\r\n"
    )
    assert nested.count("\r\n") == 2 and nested.startswith("uuid:1/tr[1],uuid:1/tr[1]/day[1],1.5")


def test_no_line_when_labels_are_shown_or_an_answer_holds_the_separator():
    assert FormTables("f", [V1], lang="vi").line(FIRST, "uuid:1") is None
    assert FormTables("f", [V1], lang="vi").signature is None
    assert plan().line({"name": f"a{PART}b"}, "uuid:1") is None


def test_lines_are_ignored_when_labels_are_shown():
    tables_plan = FormTables("f", [V1], lang="vi", tail=TAIL)
    tables = tables_plan.tables(lambda _s: iter(()), lines=lambda _s: iter(()))
    assert all(t.csv_rows is None for t in tables)


def test_the_signature_moves_with_the_columns_not_with_the_labels():
    same = FormTables("f", [V1]).signature
    assert same == FormTables("f", [V1], tail=TAIL).signature
    assert same != FormTables("f", [V1, V2]).signature  # a field and a choice more
    relabelled = schema(*[dict(f, label="khác") for f in V1["fields"]])
    assert same == FormTables("f", [relabelled]).signature
    retyped = schema(*[f if f["name"] != "dob" else field("dob") for f in V1["fields"]])
    assert same != FormTables("f", [retyped]).signature


def test_lone_empty_answer_cell_is_empty_in_the_line():
    text = LineRenderer().text
    assert text([None]) == "" and text([""]) == "" and text([]) == ""
    assert text(["a,b", 1]) == '"a,b",1'


CELL = st.one_of(
    st.none(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.sampled_from(list('ab ,"\n\r\t=+-@\u00a0ươ1')), max_size=6),
    st.datetimes(timezones=st.just(dt.UTC)),
    st.dates(),
    st.lists(st.integers(0, 9), max_size=3),
)


@given(st.lists(CELL, max_size=6), st.lists(CELL, min_size=1, max_size=6))
def test_cells_rendered_before_and_their_tail_are_the_row_rendered_at_once(head, rest):
    columns = [
        Column(f"c{i}", f"c{i}", "datetime" if isinstance(v, dt.date) else "text")
        for i, v in enumerate(head + rest)
    ]
    times = [i for i, v in enumerate(head) if isinstance(v, dt.date)]
    whole = csv_text(Table("t", columns, [head + rest]))
    text = Rendered(LineRenderer(times).text(head), rest)
    assert csv_text(Table("t", columns, [], csv_rows=[text])) == whole


@given(
    st.lists(CELL, max_size=4),
    st.lists(CELL, max_size=3),
    st.lists(CELL, min_size=1, max_size=4),
    st.lists(st.one_of(st.none(), st.sampled_from(["received", "=x", "a,b"])), max_size=2),
)
# A row of one empty cell is written "" by the csv module, not as an empty line: CI met these.
@example([], [], [None], [])
@example([], [], [[]], [])
@example([], [], [""], [])
def test_a_tail_spliced_around_stored_cells_is_the_row_rendered_at_once(
    head, before, middle, after
):
    cells = head + before + middle + after
    columns = [
        Column(f"c{i}", f"c{i}", "datetime" if isinstance(v, dt.date) else "text")
        for i, v in enumerate(cells)
    ]
    whole = csv_text(Table("t", columns, [cells, cells]))
    times = [i for i, v in enumerate(cells) if isinstance(v, dt.date)]
    start = len(head) + len(before)
    stored = LineRenderer([i - start for i in times if start <= i < start + len(middle)])
    tail = Spliced(before, stored.text(middle), len(middle), tuple(after))
    head_text = LineRenderer([i for i in times if i < len(head)]).text(head)
    rows = [Rendered(head_text, tail)] * 2  # the second row reads the kept text of ``after``
    assert csv_text(Table("t", columns, [], csv_rows=rows)) == whole


class _Failing:
    def __init__(self):
        self.closed = False

    def write(self, chunk):
        raise OSError("disk full")

    def close(self):
        self.closed = True


def test_a_member_written_behind_raises_what_its_thread_met_and_ends_it():
    failing = _Failing()
    handle = WriteBehind(failing)
    handle.write(b"x")
    with pytest.raises(OSError, match="disk full"):
        handle.close()  # waits for the thread, which met the failure
    assert not handle._thread.is_alive() and failing.closed
    handle.close()  # closing again does nothing
    with pytest.raises(OSError, match="disk full"):
        handle.write(b"y")


@given(st.lists(CELL, max_size=6), st.lists(CELL, min_size=1, max_size=6), st.integers(2, 10**6))
def test_sheet_cells_stored_and_their_tail_are_the_row_rendered_at_once(head, rest, number):
    kinds = [
        "datetime" if isinstance(v, dt.datetime) else "date" if isinstance(v, dt.date)
        else "decimal" if isinstance(v, float) else "integer" if isinstance(v, int) else "text"
        for v in head + rest
    ]  # fmt: skip
    rs = str(number)
    whole = RowCells(kinds)(head + rest, rs)
    stored = RowCells(kinds[: len(head)])(head, ROW)
    assert stored.replace(ROW, rs) + RowCells(kinds[len(head) :], len(head))(rest, rs) == whole
