"""The pure writers: CSV guard and rendering, XLSX types, escaping and the row limit."""

import datetime as dt
import io

import openpyxl
import pytest

from exports import Column, Table, clock_header, iter_csv, write_xlsx
from exports import xlsx as xlsx_module


def csv_text(table):
    return b"".join(iter_csv(table)).decode("utf-8")


def test_csv_renders_types_and_neutralises_formulas():
    table = Table(
        "t",
        [Column("a", "a"), Column("b", "b", "integer")],
        [
            ["=1+1", 5],
            ["+cmd", -3],
            ["@x", 1.5],
            ["-2", None],
            [["tp01", "tp05"], True],
            [dt.date(2026, 11, 23), 0],
            ['Nguyễn, "Hoa"', 7],
        ],
    )
    assert csv_text(table) == (
        "\ufeffa,b\r\n'=1+1,5\r\n'+cmd,-3\r\n'@x,1.5\r\n'-2,\r\ntp01 tp05,1\r\n"
        '2026-11-23,0\r\n"Nguyễn, ""Hoa""",7\r\n'
    )


def test_csv_times_are_on_the_export_clock_like_xlsx():
    utc = dt.datetime(2026, 11, 30, 17, 0, 0, 250_000, tzinfo=dt.UTC)
    device = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    table = Table(
        "t",
        [Column("w", clock_header("w"), "datetime"), Column("d", "d", "date")],
        [[utc, dt.date(2026, 12, 1)], [device, None], [dt.datetime(2026, 12, 1, 8, 0), None]],
    )
    assert csv_text(table) == (
        "\ufeffw (UTC+07:00),d\r\n2026-12-01T00:00:00+07:00,2026-12-01\r\n"
        "2026-12-01T07:00:00+07:00,\r\n2026-12-01T08:00:00,\r\n"
    )
    out = io.BytesIO()
    write_xlsx([table], out)
    rows = list(
        openpyxl.load_workbook(io.BytesIO(out.getvalue())).active.iter_rows(values_only=True)
    )
    assert rows[0] == ("w (UTC+07:00)", "d")
    assert [r[0].replace(microsecond=0) for r in rows[1:]] == [
        dt.datetime(2026, 12, 1, 0, 0),
        dt.datetime(2026, 12, 1, 7, 0),
        dt.datetime(2026, 12, 1, 8, 0),
    ]


def test_xlsx_types_escaping_and_no_formulas():
    out = io.BytesIO()
    table = Table(
        "Bảng: 1/2",
        [
            Column("t", "text"),
            Column("n", "n", "integer"),
            Column("d", "d", "date"),
            Column("w", "w", "datetime"),
        ],
        [
            ["=SUM(A1)", 3, dt.date(2026, 11, 23), dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)],
            ["a<b & c\x01", None, None, None],
        ],
    )
    write_xlsx([table], out)
    book = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    sheet = book.worksheets[0]
    assert sheet.title == "Bảng_ 1_2"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1] == ("=SUM(A1)", 3, dt.datetime(2026, 11, 23), dt.datetime(2026, 11, 23, 9, 0))
    assert sheet["A2"].data_type == "s"
    assert rows[2][0].startswith("a<b & c")


def test_xlsx_continues_on_a_new_sheet_past_the_row_limit(monkeypatch):
    monkeypatch.setattr(xlsx_module, "MAX_ROWS", 4)
    out = io.BytesIO()
    write_xlsx([Table("t", [Column("n", "n", "integer")], [[i] for i in range(7)])], out)
    book = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    assert book.sheetnames == ["t", "t~2", "t~3"]
    values = [[r[0] for r in s.iter_rows(values_only=True)] for s in book.worksheets]
    assert values == [["n", 0, 1, 2], ["n", 3, 4, 5], ["n", 6]]


def test_unknown_column_kind_is_refused():
    with pytest.raises(ValueError, match="unknown kind"):
        Column("x", "x", "money")


def test_xlsx_reader_reads_what_excel_stores_and_refuses_dtds():
    import zipfile

    from server.domain.xlsx_reader import read_rows

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Mã", "Ngày", "Số"])
    sheet.append(["GL1", dt.datetime(2025, 9, 1), 3])
    sheet["E3"] = "xa"  # a gap: missing cells come back as None
    buffer = io.BytesIO()
    book.save(buffer)
    rows = list(read_rows(buffer.getvalue()))
    assert rows[0] == ["Mã", "Ngày", "Số"]
    assert rows[1] == ["GL1", 45901, 3]  # dates are serial numbers
    assert rows[2] == [None, None, None, None, "xa"]
    evil = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, zipfile.ZipFile(evil, "w") as dst:
        for item in src.namelist():
            data = src.read(item)
            if item == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<worksheet", b'<!DOCTYPE x [<!ENTITY a "b">]><worksheet', 1)
            dst.writestr(item, data)
    with pytest.raises(ValueError, match="DTD"):
        list(read_rows(evil.getvalue()))
