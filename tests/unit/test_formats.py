"""The formats registry: names and suffixes, which part each writes, the writers behind them."""

from __future__ import annotations

import io
import json
import zipfile

import openpyxl
import pytest

from exports import Column, Output, Page, Table, formats


def tables() -> list[Table]:
    return [
        Table("main", [Column("a", "a"), Column("n", "n", "integer")], [["Hoa", 1], ["=x", 2]]),
        Table("main-rep", [Column("k", "KEY")], [["uuid:1/rep[1]"]]),
    ]


def write(fmt: formats.Format, output: Output) -> bytes:
    out = io.BytesIO()
    fmt.write(output, out)
    return out.getvalue()


def test_names_suffixes_and_parts():
    assert list(formats.FORMATS) == ["csv", "xlsx", "zip", "json", "html", "pdf"]
    assert formats.named("XLSX") is formats.XLSX
    assert formats.named("doc") is None and formats.named(None) is None
    assert formats.named("pdf", among=(formats.CSV,)) is None
    assert formats.for_path("/tmp/báo cáo.Pdf") is formats.PDF
    assert formats.for_path("x.txt", (formats.CSV,), default=formats.CSV) is formats.CSV
    assert formats.for_path("x.txt", (formats.CSV,)) is None
    assert formats.writing("tables") == (formats.CSV, formats.XLSX, formats.ZIP)
    assert formats.writing("page") == (formats.HTML, formats.PDF)
    assert [f.suffix for f in formats.offered(Output(data=dict))] == [".json"]
    assert formats.ZIP.with_media and not formats.XLSX.with_media


def test_only_csv_streams_and_it_writes_the_first_table():
    output = Output(tables=tables)
    streamed = b"".join(formats.CSV.chunks(output))
    assert streamed == write(formats.CSV, output) == "\ufeffa,n\r\nHoa,1\r\n'=x,2\r\n".encode()
    assert [f.name for f in formats.FORMATS.values() if f.streams] == ["csv"]
    with pytest.raises(TypeError, match="written to a file"):
        formats.XLSX.chunks(output)


def test_xlsx_and_zip_carry_every_table_and_zip_the_media():
    output = Output(tables=tables, media=lambda: [("ảnh.jpg", b"\xff\xd8")])
    book = openpyxl.load_workbook(io.BytesIO(write(formats.XLSX, output)))
    assert book.sheetnames == ["main", "main-rep"]
    archive = zipfile.ZipFile(io.BytesIO(write(formats.ZIP, output)))
    assert archive.namelist() == ["main.csv", "main-rep.csv", "media/ảnh.jpg"]
    bare = zipfile.ZipFile(io.BytesIO(write(formats.ZIP, Output(tables=tables))))
    assert bare.namelist() == ["main.csv", "main-rep.csv"]


def test_parts_are_made_only_when_a_format_asks():
    made = []

    def part(name, value):
        def make():
            made.append(name)
            return value

        return make

    output = Output(tables=part("tables", tables()), data=part("data", {"n": 1}))
    assert json.loads(write(formats.JSON, output)) == {"n": 1}
    assert made == ["data"]
    assert formats.JSON.accepts(output) and not formats.PDF.accepts(output)


def test_json_keeps_vietnamese_as_it_is():
    assert (
        write(formats.JSON, Output(data=lambda: {"tên": "Hòa"})) == '{\n "tên": "Hòa"\n}'.encode()
    )


def test_html_is_one_file_with_its_stylesheet_inlined(tmp_path):
    (tmp_path / "site.css").write_text("body { color: black }", encoding="utf-8")
    html = (
        '<html><head><link rel="stylesheet" href="/static/site.css">'
        '<link rel="stylesheet" href="/static/../secret.css">'
        '<link rel="stylesheet" href="https://cdn.example/x.css"></head></html>'
    )
    text = write(formats.HTML, Output(page=lambda: Page(html, tmp_path))).decode()
    assert "<style>body { color: black }</style>" in text
    assert 'href="/static/../secret.css"' in text  # outside the folder: left as a link
    assert 'href="https://cdn.example/x.css"' in text
