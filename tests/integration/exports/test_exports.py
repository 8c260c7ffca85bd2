"""Exports against exact expected output.

The data has Vietnamese text, a repeat, a select_multiple, an attachment, an edited submission
and a formula-injection string; labels are checked in both languages.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pytest

from tests.factories import NOW

FIRST = (
    '<data id="export_demo" version="1"><name>Nguyễn Thị Hoa</name><age>34</age>'
    "<topics>tp01 tp05</topics><ok>yes</ok><dob>1990-05-01</dob><photo>ảnh 1.jpg</photo>"
    "<tr><tr_name>Trần Văn An</tr_name><score>8</score></tr>"
    "<tr><tr_name>=cmd|' /C calc'!A0</tr_name><score>9</score></tr>"
    "<meta><instanceID>uuid:e1</instanceID></meta></data>"
)
SECOND = (
    '<data id="export_demo" version="1"><name>Lê Văn Bình</name><age>41</age>'
    "<topics>tp05</topics><ok>no</ok><dob/><photo/><meta><instanceID>uuid:e2</instanceID>"
    "</meta></data>"
)
EDITED = SECOND.replace("Lê Văn Bình", "Lê Văn Bình (sửa)").replace(
    "<instanceID>uuid:e2</instanceID>",
    "<instanceID>uuid:e2b</instanceID><deprecatedID>uuid:e2</deprecatedID>",
)

MAIN_CSV = (
    "\ufeffname,age,topics,topics/tp01,topics/tp05,ok,dob,photo,instanceID,version,"
    "submitted_by,device_id,received_at (UTC+07:00),submitted_at (UTC+07:00),review_state\r\n"
    "Nguyễn Thị Hoa,34,tp01 tp05,1,1,yes,1990-05-01,ảnh 1.jpg,uuid:e1,1,collector-bot,"
    "collect:test,2026-11-23T16:30:00+07:00,,received\r\n"
    "Lê Văn Bình (sửa),41,tp05,0,1,no,,,uuid:e2b,1,collector-bot,collect:test,"
    "2026-11-23T16:32:00+07:00,,edited\r\n"
)
REPEAT_CSV = (
    "\ufeffPARENT_KEY,KEY,tr/tr_name,tr/score\r\n"
    "uuid:e1,uuid:e1/tr[1],Trần Văn An,8\r\n"
    "uuid:e1,uuid:e1/tr[2],'=cmd|' /C calc'!A0,9\r\n"
)


@pytest.fixture
def exported(publish, submit):
    publish("export_demo.md")
    submit(FIRST, files={"ảnh 1.jpg": b"\xff\xd8 photo"}, at=NOW)
    submit(SECOND, at=NOW + dt.timedelta(minutes=1))
    submit(EDITED, at=NOW + dt.timedelta(minutes=2))


def test_csv_is_exactly_as_expected(client, exported, token_for):
    response = client.get("/api/v1/forms/export_demo/submissions.csv", headers=token_for())
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "filename*=UTF-8''export_demo.csv" in response.headers["Content-Disposition"]
    assert response.get_data(as_text=True) == MAIN_CSV


def test_csv_with_vietnamese_and_english_labels(client, exported, token_for):
    admin = token_for()
    vi = client.get("/api/v1/forms/export_demo/submissions.csv?lang=vi", headers=admin)
    lines = vi.get_data(as_text=True).split("\r\n")
    # Labels hold spaces, so several are joined by "; " (codes stay space-separated, as ODK has them)
    assert lines[1].startswith("Nguyễn Thị Hoa,34,Dân số cơ bản; Truyền thông,1,1,Có,")
    en = client.get("/api/v1/forms/export_demo/submissions.csv?lang=en", headers=admin)
    assert (
        en.get_data(as_text=True)
        .split("\r\n")[2]
        .startswith("Lê Văn Bình (sửa),41,Communication,0,1,No,")
    )


def test_labels_in_a_language_the_form_lacks_fall_back_to_codes(client, publish, submit, token_for):
    only_vi = (
        "| survey |\n| | type | name | label::Vietnamese (vi) |\n"
        "| | select_one yn | ok | Đồng ý |\n| choices |\n"
        "| | list_name | name | label::Vietnamese (vi) |\n| | yn | yes | Có |\n"
        "| settings |\n| | form_id | version |\n| | chi_vi | 1 |\n"
    ).encode()
    publish("chi_vi.md", content=only_vi)
    submit(
        '<data id="chi_vi" version="1"><ok>yes</ok><meta><instanceID>a</instanceID></meta></data>'
    )
    response = client.get("/api/v1/forms/chi_vi/submissions.csv?lang=en", headers=token_for())
    assert response.status_code == 200
    assert "no en labels" in response.headers["X-Export-Warning"]
    assert response.get_data(as_text=True).split("\r\n")[1].startswith("yes,a,1,")


def test_zip_has_a_csv_per_table_and_the_media(client, exported, token_for):
    response = client.get("/api/v1/forms/export_demo/submissions.zip", headers=token_for())
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert sorted(archive.namelist()) == [
        "export_demo-tr.csv",
        "export_demo.csv",
        "media/ảnh 1.jpg",
    ]
    assert archive.read("export_demo.csv").decode() == MAIN_CSV
    assert archive.read("export_demo-tr.csv").decode() == REPEAT_CSV
    assert archive.read("media/ảnh 1.jpg") == b"\xff\xd8 photo"


def test_xlsx_has_native_types_and_a_sheet_per_repeat(client, exported, token_for):
    response = client.get("/api/v1/forms/export_demo/submissions.xlsx", headers=token_for())
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["export_demo", "export_demo-tr"]
    main = list(book["export_demo"].iter_rows(values_only=True))
    assert main[0][:8] == (
        "name",
        "age",
        "topics",
        "topics/tp01",
        "topics/tp05",
        "ok",
        "dob",
        "photo",
    )
    assert main[1][:8] == (
        "Nguyễn Thị Hoa",
        34,
        "tp01 tp05",
        1,
        1,
        "yes",
        dt.datetime(1990, 5, 1),
        "ảnh 1.jpg",
    )
    assert main[1][12] == dt.datetime(2026, 11, 23, 16, 30)  # received, Vietnam time
    repeat = list(book["export_demo-tr"].iter_rows(values_only=True))
    assert repeat[2] == ("uuid:e1", "uuid:e1/tr[2]", "=cmd|' /C calc'!A0", 9)
    cell = book["export_demo-tr"]["C3"]
    assert cell.data_type == "s"  # text, never a formula


def test_export_of_a_form_without_submissions_has_headers_only(client, publish, token_for):
    publish("simple.md")
    response = client.get("/api/v1/forms/simple/submissions.csv", headers=token_for())
    assert response.get_data(as_text=True) == (
        "\ufeffname,age,instanceID,version,submitted_by,device_id,received_at (UTC+07:00),"
        "submitted_at (UTC+07:00),review_state\r\n"
    )
    book = openpyxl.load_workbook(
        io.BytesIO(client.get("/api/v1/forms/simple/submissions.xlsx", headers=token_for("b")).data)
    )
    assert next(book.active.iter_rows(values_only=True))[0] == "name"


def test_export_filters_and_permissions(client, exported, token_for):
    admin = token_for()
    none = client.get(
        "/api/v1/forms/export_demo/submissions.csv?review_state=approved", headers=admin
    )
    assert none.get_data(as_text=True).count("\r\n") == 1
    assert (
        client.get("/api/v1/forms/export_demo/submissions.csv?bogus=1", headers=admin).status_code
        == 422
    )
    planner = token_for("lan", role="planner")
    assert (
        client.get("/api/v1/forms/export_demo/submissions.csv", headers=planner).status_code == 403
    )


def test_encrypted_form_export_needs_the_key(client, publish, token_for):
    publish("encrypted.md")
    response = client.get("/api/v1/forms/encrypted/submissions.csv", headers=token_for())
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "422.3"


def test_cli_export_writes_the_same_files(runner, exported, tmp_path):
    out = tmp_path / "out.csv"
    result = runner.invoke(args=["export", "export_demo", "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().decode() == MAIN_CSV
    archive = tmp_path / "out.zip"
    runner.invoke(args=["export", "export_demo", "--format", "zip", "--out", str(archive)])
    assert "media/ảnh 1.jpg" in zipfile.ZipFile(archive).namelist()
    missing = runner.invoke(args=["export", "nope", "--out", str(out)])
    assert missing.exit_code == 1
    assert "404.1" in missing.output


def test_columns_are_the_union_of_all_versions_in_form_order(client, publish, submit, token_for):
    v1 = (
        b"| survey |\n| | type | name | label |\n| | text | a | A |\n| | text | c | C |\n"
        b"| settings |\n| | form_id | version |\n| | evolving | 1 |\n"
    )
    v2 = (
        b"| survey |\n| | type | name | label |\n| | text | a | A |\n| | text | b | B |\n"
        b"| | text | c | C |\n| settings |\n| | form_id | version |\n| | evolving | 2 |\n"
    )
    publish("evolving.md", content=v1)
    submit(
        '<data id="evolving" version="1"><a>1a</a><c>1c</c>'
        "<meta><instanceID>x1</instanceID></meta></data>",
        at=NOW,
    )
    publish("evolving.md", content=v2)
    submit(
        '<data id="evolving" version="2"><a>2a</a><b>2b</b><c>2c</c>'
        "<meta><instanceID>x2</instanceID></meta></data>",
        at=NOW + dt.timedelta(minutes=1),
    )
    text = client.get("/api/v1/forms/evolving/submissions.csv", headers=token_for()).get_data(
        as_text=True
    )
    rows = [line.split(",")[:5] for line in text.split("\r\n")[:3]]
    assert rows == [
        ["\ufeffa", "b", "c", "instanceID", "version"],
        ["1a", "", "1c", "x1", "1"],
        ["2a", "2b", "2c", "x2", "2"],
    ]
