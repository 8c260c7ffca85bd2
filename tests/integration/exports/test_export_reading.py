"""Exports as a person reads them: dates, clock, day filters, register names, scores.

Real dates on one named clock, Vietnam-day filters, names beside picked register codes, and the
server's scores of tests.

One small test form picks a course, a trainee, a commune and an organisation from list files,
asks a date, records start/end/today, and has two keyed items.
"""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import Form
from server.services.answer_keys import import_answer_key
from tests.factories import NOW

FORM = """\
| survey |
| | type | name | label::Vietnamese (vi) | label::English (en) | calculation |
| | start | start | | | |
| | end | end | | | |
| | today | today | | | |
| | date | held_on | Ngày học | Date held | |
| | calculate | phase | | | 'post' |
| | select_one_from_file courses.csv | course_code | Khóa học | Course | |
| | select_one_from_file trainees.csv | trainee_id | Học viên | Trainee | |
| | select_one_from_file communes.csv | commune | Xã | Commune | |
| | select_one_from_file units.csv | unit_id | Đơn vị | Unit | |
| | select_one abc | q01 | Câu 1 | Question 1 | |
| | select_multiple abc | q02 | Câu 2 | Question 2 | |
| choices |
| | list_name | name | label::Vietnamese (vi) | label::English (en) |
| | abc | a | Ý a | Option a |
| | abc | b | Ý b | Option b |
| | abc | c | Ý c | Option c |
| settings |
| | form_id | version | default_language |
| | reading | 1 | Vietnamese (vi) |
""".encode()
MEDIA = {
    # Curated lists: the register knows neither "_notlisted" nor organisations.
    "trainees.csv": (
        "name,label,course_code\nGL001,Hoa – Phường Quy Nhơn,DSCB-2026-09\n"
        "_notlisted,Không có tên trong danh sách / Not on the list,*\n"
    ).encode(),
    "units.csv": "name,label\nu_ccds_52,Chi cục Dân số tỉnh Gia Lai\n".encode(),
}
UNITS = """level,code,name,parent_code,valid_from,valid_to
province,52,Tỉnh Gia Lai,,,
commune,21583,Xã Nhơn Bình,52,2008-01-01,2025-06-30
commune,21583,Phường Quy Nhơn,52,2025-07-01,
"""
ROSTER = (
    "Mã cán bộ,Họ và tên,Giới tính,Mã đơn vị hành chính,Tuyến,Loại hình,Nhóm đối tượng,"
    "Ngày bắt đầu\n"
    "GL001,Nguyễn Thị Hoa,Nữ,21583,Tuyến xã,Viên chức,vc_commune,01/08/2025\n"
)
KEY = b"item_id,qtype,key,points\nq01,single,a,1\nq02,multi,a b,1\n"


def answers(instance: str, **values: str) -> str:
    defaults = {
        "start": "2026-11-23T08:00:00.000Z",  # the device's clock in UTC: shown at 15:00
        "end": "2026-11-23T15:20:00.000+07:00",
        "today": "2026-11-23",
        "held_on": "2026-11-20",
        "phase": "post",
        "course_code": "DSCB-2026-09",
        "trainee_id": "GL001",
        "commune": "21583",
        "unit_id": "u_ccds_52",
        "q01": "a",
        "q02": "a b",
    }
    body = "".join(f"<{k}>{v}</{k}>" for k, v in {**defaults, **values}.items())
    return (
        f'<data id="reading" version="1">{body}'
        f"<meta><instanceID>{instance}</instanceID></meta></data>"
    )


def run(runner, *args):
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output


@pytest.fixture
def registry(runner, tmp_path):
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    run(runner, "units", "import", str(tmp_path / "units.csv"))
    run(runner, "roster", "import", str(tmp_path / "roster.csv"))
    run(runner, "courses", "create", "DSCB-2026-09", "--title", "Dân số cơ bản",
        "--type", "boi_duong", "--start", "2026-09-07", "--end", "2026-09-11",
        "--pass-mark", "70")  # fmt: skip


@pytest.fixture
def tests_in(registry, publish, submit):
    """Two keyed post-tests: one passed now, one sent late from March 2025 by someone unknown."""
    publish("reading.md", content=FORM, media=MEDIA)
    submit(answers("uuid:r1"), at=NOW)
    submit(
        answers(
            "uuid:r2",
            start="2025-03-10T09:40:00.000+07:00",
            end="2025-03-10T10:00:00.000+07:00",
            today="2025-03-10",
            course_code="KHONG-CO",
            trainee_id="_notlisted",
            q01="b",
            q02="a c",
        ),
        at=NOW + dt.timedelta(minutes=1),
    )
    form = db.session.execute(sa.select(Form).where(Form.form_id == "reading")).scalar_one()
    import_answer_key(form, "key.csv", KEY, session=db.session, now=NOW)
    db.session.commit()


VI_CSV = (
    "\ufeffstart (UTC+07:00),end (UTC+07:00),today,held_on,phase,course_code,course_code_label,"
    "trainee_id,trainee_id_label,commune,commune_label,unit_id,unit_id_label,q01,q02,q02/a,"
    "q02/b,q02/c,score_raw,score_max,score_percent,score_passed,score_key_version,instanceID,"
    "version,submitted_by,device_id,received_at (UTC+07:00),submitted_at (UTC+07:00),"
    "review_state\r\n"
    "2026-11-23T15:00:00+07:00,2026-11-23T15:20:00+07:00,2026-11-23,2026-11-20,post,"
    "DSCB-2026-09,Dân số cơ bản,GL001,Nguyễn Thị Hoa,21583,Phường Quy Nhơn,u_ccds_52,"
    "Chi cục Dân số tỉnh Gia Lai,Ý a,Ý a; Ý b,1,1,0,2.0,2.0,100.0,1,1,uuid:r1,1,collector-bot,"
    "collect:test,2026-11-23T16:30:00+07:00,2026-11-23T15:20:00+07:00,received\r\n"
    "2025-03-10T09:40:00+07:00,2025-03-10T10:00:00+07:00,2025-03-10,2026-11-20,post,KHONG-CO,,"
    "_notlisted,Không có tên trong danh sách / Not on the list,21583,Xã Nhơn Bình,u_ccds_52,"
    "Chi cục Dân số tỉnh Gia Lai,Ý b,Ý a; Ý c,1,0,1,0.0,2.0,0.0,,1,uuid:r2,1,collector-bot,"
    "collect:test,2026-11-23T16:31:00+07:00,2025-03-10T10:00:00+07:00,received\r\n"
)


def test_csv_with_labels_has_dates_names_and_scores(client, tests_in, token_for):
    response = client.get("/api/v1/forms/reading/submissions.csv?lang=vi", headers=token_for())
    assert response.status_code == 200
    assert response.get_data(as_text=True) == VI_CSV


def test_codes_export_has_scores_but_no_label_columns(client, tests_in, token_for):
    response = client.get("/api/v1/forms/reading/submissions.csv", headers=token_for())
    header, first = response.get_data(as_text=True).split("\r\n")[:2]
    assert "_label" not in header
    assert header.split(",")[5:8] == ["course_code", "trainee_id", "commune"]
    assert ",a,a b,1,1,0,2.0,2.0,100.0,1,1,uuid:r1," in first


def test_xlsx_agrees_with_the_csv(client, tests_in, token_for):
    response = client.get("/api/v1/forms/reading/submissions.xlsx?lang=vi", headers=token_for())
    sheet = openpyxl.load_workbook(io.BytesIO(response.data))["reading"]
    rows = list(sheet.iter_rows(values_only=True))
    csv_rows = [line.split(",") for line in VI_CSV.lstrip("\ufeff").split("\r\n")[:-1]]
    assert list(rows[0]) == csv_rows[0]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["start (UTC+07:00)"] == dt.datetime(2026, 11, 23, 15, 0)
    assert first["today"] == dt.datetime(2026, 11, 23)  # a real date, not the text "2026-11-23"
    assert first["held_on"] == dt.datetime(2026, 11, 20)
    assert first["received_at (UTC+07:00)"] == dt.datetime(2026, 11, 23, 16, 30)
    assert first["submitted_at (UTC+07:00)"] == dt.datetime(2026, 11, 23, 15, 20)
    assert first["course_code_label"] == "Dân số cơ bản"
    assert first["commune_label"] == "Phường Quy Nhơn"
    assert first["q02"] == "Ý a; Ý b"
    assert (first["score_raw"], first["score_percent"], first["score_passed"]) == (2, 100, 1)
    assert first["score_key_version"] == "1"
    second = dict(zip(rows[0], rows[2], strict=True))
    assert second["commune_label"] == "Xã Nhơn Bình"  # the unit's name on the day it was filled
    assert second["score_passed"] is None
    today, start = sheet["C2"], sheet["A2"]
    assert (today.data_type, today.number_format) == ("d", "dd/mm/yyyy")
    assert (start.data_type, start.number_format) == ("d", "dd/mm/yyyy hh:mm:ss")


def test_labels_and_scores_cost_no_query_per_row(app, client, tests_in, submit, token_for):
    admin = token_for()
    statements: list[str] = []

    def count(*_args):
        statements.append("q")

    def export() -> int:
        statements.clear()
        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            client.get("/api/v1/forms/reading/submissions.xlsx?lang=vi", headers=admin)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    before = export()
    for n in range(3, 9):
        submit(answers(f"uuid:r{n}"), at=NOW + dt.timedelta(minutes=n))
    assert export() == before


def ids(client, query: str, headers) -> list[str]:
    response = client.get(f"/api/v1/forms/simple/submissions.csv?{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return [line.split(",")[2] for line in response.get_data(as_text=True).split("\r\n")[1:-1]]


def simple_at(instance: str) -> str:
    return (
        f'<data id="simple" version="1"><name>x</name><age>1</age>'
        f"<meta><instanceID>{instance}</instanceID></meta></data>"
    )


def test_day_filters_are_vietnam_days(client, publish, submit, token_for):
    publish("simple.md")
    moments = {
        "late_30": dt.datetime(2026, 11, 30, 16, 59, tzinfo=dt.UTC),  # 23:59 on 30/11 in Vietnam
        "early_1": dt.datetime(2026, 11, 30, 17, 0, tzinfo=dt.UTC),  # 00:00 on 1/12
        "late_1": dt.datetime(2026, 12, 1, 16, 59, 59, tzinfo=dt.UTC),  # 23:59:59 on 1/12
        "early_2": dt.datetime(2026, 12, 1, 17, 0, tzinfo=dt.UTC),  # 00:00 on 2/12
    }
    for instance, at in moments.items():
        submit(simple_at(instance), at=at)
    admin = token_for()
    day = "received_from=2026-12-01&received_to=2026-12-01"
    assert ids(client, day, admin) == ["early_1", "late_1"]
    assert ids(client, "received_to=2026-11-30", admin) == ["late_30"]
    assert ids(client, "received_from=2026-12-02", admin) == ["early_2"]
    full = "received_from=2026-11-30T17:00:00%2B00:00&received_to=2026-12-01T17:00:00Z"
    assert ids(client, full, admin) == ["early_1", "late_1"]
    listed = client.get(f"/api/v1/forms/simple/submissions?{day}", headers=admin).get_json()
    assert [i["instance_id"] for i in listed["items"]] == ["late_1", "early_1"]


@pytest.mark.parametrize(
    "query",
    [
        "received_from=2026-12-32",
        "received_to=01/12/2026",
        "submitted_from=20261201",
        "submitted_to=2026-12-01T08:00:00",  # a time without its offset is ambiguous
    ],
)
def test_malformed_day_or_time_is_422_naming_the_parameter(client, publish, token_for, query):
    publish("simple.md")
    response = client.get(f"/api/v1/forms/simple/submissions.csv?{query}", headers=token_for())
    assert response.status_code == 422
    assert query.split("=")[0] in response.get_json()["error"]["details"]["fields"]


def test_an_unreadable_list_file_labels_nothing_but_the_export_works(
    client,
    publish,
    submit,
    token_for,
):
    publish("reading.md", content=FORM, media={"units.csv": b"name,label\nu_ccds_52,Ch\xe9\n"})
    submit(answers("uuid:r1"))
    response = client.get("/api/v1/forms/reading/submissions.csv?lang=vi", headers=token_for())
    header, first = (line.split(",") for line in response.get_data(as_text=True).split("\r\n")[:2])
    row = dict(zip(header, first, strict=True))
    assert (row["unit_id"], row["unit_id_label"]) == ("u_ccds_52", "")
    assert (row["course_code"], row["course_code_label"]) == ("DSCB-2026-09", "")
