"""The staff register: import (all or nothing, dry run, history), export, template."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
import sqlalchemy as sa

from server.models import Person, PersonCertificate, Posting

UNITS = """level,code,name,parent_code,valid_from
province,52,Tỉnh Gia Lai,,2025-07-01
commune,21583,Phường Quy Nhơn,52,2025-07-01
commune,23584,Xã Ia Ka,52,2025-07-01
hamlet,23584-01,Làng Ia Ka,23584,2025-07-01
"""
HEADER = (
    "Mã cán bộ,Họ và tên,Giới tính,Năm sinh,Mã đơn vị hành chính,Tuyến,Loại hình,"
    "Nhóm đối tượng,Trình độ chuyên môn,Chứng chỉ,Vai trò CTV,Ngày bắt đầu,Ngày kết thúc\n"
)
ROWS = (
    "GL001,Nguyễn Thị Hoa,Nữ,1988,21583,Tuyến xã,Viên chức,vc_commune,Đại học,"
    "vc_std:2019; cdnn_iii:15/05/2022,,01/08/2025,\n"
    "GL002,Rơ Châm Blơi,Nam,1979,23584-01,Thôn (CTV),Cộng tác viên,Cộng tác viên dân số,,,"
    "Dân số; Gia đình,2025-08-01,\n"
)


@pytest.fixture
def units(runner, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text(UNITS, encoding="utf-8")
    assert runner.invoke(args=["units", "import", str(path)]).exit_code == 0


def write(tmp_path, text, name="roster.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def people(session):
    return {p.code: p for p in session.execute(sa.select(Person)).scalars()}


def test_import_csv_with_vietnamese_headers_and_labels(units, runner, session, tmp_path):
    result = runner.invoke(args=["roster", "import", write(tmp_path, HEADER + ROWS)])
    assert result.exit_code == 0, result.output
    assert "2 added, 0 updated, 0 moved, 0 closed, 0 unchanged, 2 certificate(s) added" in (
        result.output
    )
    found = people(session)
    hoa = found["GL001"]
    assert (hoa.full_name, hoa.sex, hoa.birth_year, hoa.education_level) == (
        "Nguyễn Thị Hoa",
        "f",
        1988,
        "university",
    )
    (posting,) = hoa.postings
    assert (posting.level, posting.employment_type, posting.job_category) == (
        "commune",
        "vien_chuc",
        "vc_commune",
    )
    assert posting.valid_from == dt.date(2025, 8, 1) and posting.valid_to is None
    assert posting.unit.name == "Phường Quy Nhơn"
    certs = {c.code: c.issued_on for c in hoa.certificates}
    assert certs == {"vc_std": dt.date(2019, 1, 1), "cdnn_iii": dt.date(2022, 5, 15)}
    ctv = found["GL002"].postings[0]
    assert (ctv.unit.level, ctv.ctv_roles) == ("hamlet", ["pop", "family"])


def test_dry_run_reports_and_stores_nothing(units, runner, session, tmp_path):
    result = runner.invoke(args=["roster", "import", "--dry-run", write(tmp_path, HEADER + ROWS)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("dry run, nothing stored: 2 added")
    assert "GL001 added" in result.output
    assert people(session) == {}


def test_move_and_leave_keep_history(units, runner, session, tmp_path):
    runner.invoke(args=["roster", "import", write(tmp_path, HEADER + ROWS)])
    moved = ROWS.replace("21583,Tuyến xã", "23584,Tuyến xã").replace("01/08/2025", "01/01/2026")
    moved = moved.replace("Dân số; Gia đình,2025-08-01,", "Dân số; Gia đình,2025-08-01,31/03/2026")
    result = runner.invoke(args=["roster", "import", write(tmp_path, HEADER + moved, "v2.csv")])
    assert "1 moved, 1 closed" in result.output, result.output
    session.expire_all()
    old, new = people(session)["GL001"].postings
    assert (old.unit.code, old.valid_to) == ("21583", dt.date(2025, 12, 31))
    assert (new.unit.code, new.valid_from, new.valid_to) == ("23584", dt.date(2026, 1, 1), None)
    assert people(session)["GL002"].postings[0].valid_to == dt.date(2026, 3, 31)
    # Who was in post on 31/12/2025: Hoa in her old unit.
    table = runner.invoke(
        args=["roster", "export", "--on", "2025-12-31", "--out", str(tmp_path / "then.csv")]
    )
    assert table.exit_code == 0
    then = (tmp_path / "then.csv").read_bytes().decode("utf-8-sig")
    assert "GL001,Nguyễn Thị Hoa,Nữ,1988,21583," in then


def test_export_round_trips_through_import(units, runner, session, tmp_path):
    runner.invoke(args=["roster", "import", write(tmp_path, HEADER + ROWS)])
    for name in ("export.csv", "export.xlsx"):
        out = tmp_path / name
        assert runner.invoke(args=["roster", "export", "--out", str(out)]).exit_code == 0
        again = runner.invoke(args=["roster", "import", str(out)])
        assert "0 added, 0 updated, 0 moved, 0 closed, 2 unchanged" in again.output, again.output


def test_xlsx_with_excel_dates_and_serials(units, runner, session, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(
        [
            "GL010",
            "Đinh Văn Tèo",
            "Nam",
            1990,
            "21583",
            "Tuyến xã",
            "Hợp đồng",
            "stat_it",
            None,
            None,
            None,
            dt.datetime(2025, 9, 1),
            None,
        ]
    )
    sheet.append(
        [
            "GL011",
            "Hà Thị Mai",
            "Nữ",
            None,
            "21583",
            "Tuyến xã",
            "Viên chức",
            "vc_commune",
            None,
            None,
            None,
            45931,
            None,
        ]
    )  # Excel serial of 2025-10-01
    path = tmp_path / "roster.xlsx"
    book.save(path)
    result = runner.invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 0, result.output
    found = people(session)
    assert found["GL010"].postings[0].valid_from == dt.date(2025, 9, 1)
    assert found["GL011"].postings[0].valid_from == dt.date(2025, 10, 1)


def test_merged_cells_are_refused(units, runner, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(["GL1", "A", "Nam", None, "21583", "Tuyến xã", "Hợp đồng", "other"])
    sheet.append(["GL2", "B", "Nam", None, None, "Tuyến xã", "Hợp đồng", "other"])
    sheet.merge_cells("E2:E3")
    path = tmp_path / "merged.xlsx"
    book.save(path)
    result = runner.invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 1
    assert "merged cells (E2:E3)" in result.output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HEADER.replace("Giới tính,", "") + "x\n", "missing column(s): Giới tính"),
        (HEADER + ROWS + ROWS.splitlines()[0] + "\n", "row 4: mã cán bộ GL001 trùng"),
        (HEADER + ROWS.replace("21583", "99999"), "row 2: mã đơn vị 99999 không có"),
        (HEADER + ROWS.replace("01/08/2025", "mùng 1 tháng 8"), "row 2: Ngày bắt đầu «mùng 1"),
        (HEADER + ROWS.replace("vc_std:2019", "bằng lái xe"), "chứng chỉ «bằng lái xe»"),
        (HEADER + ROWS.replace("Viên chức", "Nhân viên"), "Loại hình «Nhân viên»"),
    ],
    ids=[
        "missing-column",
        "duplicate-code",
        "unknown-unit",
        "bad-date",
        "unknown-cert",
        "unknown-employment",
    ],
)
def test_bad_rows_are_named_and_nothing_is_imported(
    units, runner, session, tmp_path, text, expected
):
    result = runner.invoke(args=["roster", "import", write(tmp_path, text)])
    assert result.exit_code == 1
    assert "400.15" in result.output
    assert expected in result.output
    assert people(session) == {}


def test_ten_thousand_rows_with_one_bad_row(units, runner, session, tmp_path):
    lines = [
        f"P{i:05d},Người {i},Nữ,1990,21583,Tuyến xã,Viên chức,vc_commune,,,,01/08/2025,"
        for i in range(10_000)
    ]
    lines[7_344] = lines[7_344].replace("1990", "1890")
    result = runner.invoke(args=["roster", "import", write(tmp_path, HEADER + "\n".join(lines))])
    assert result.exit_code == 1
    assert "1 bad row(s), nothing was imported" in result.output
    assert "row 7346: năm sinh «1890»" in result.output
    assert session.scalar(sa.select(sa.func.count(Person.id))) == 0
    assert session.scalar(sa.select(sa.func.count(Posting.id))) == 0
    assert session.scalar(sa.select(sa.func.count(PersonCertificate.id))) == 0


def test_template_has_headers_and_code_lists(runner, tmp_path):
    out = tmp_path / "mau.xlsx"
    assert runner.invoke(args=["roster", "template", "--out", str(out)]).exit_code == 0
    book = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))
    assert book.sheetnames == ["danh_sach_can_bo", "danh_muc"]
    headers = next(book["danh_sach_can_bo"].iter_rows(values_only=True))
    assert headers[:3] == ("Mã cán bộ", "Họ và tên", "Giới tính")
    codes = {row[1] for row in book["danh_muc"].iter_rows(min_row=2, values_only=True)}
    assert {"vien_chuc", "ctv_dual", "cdnn_iii", "village"} <= codes


LEAVER = "GL003,Lê Văn Tư,Nam,1975,23584,Tuyến xã,Hợp đồng,other,,,,01/08/2025,31/10/2025\n"


def test_reimporting_an_unchanged_register_with_a_leaver_changes_nothing(
    units, runner, session, tmp_path
):
    path = write(tmp_path, HEADER + ROWS + LEAVER)
    first = runner.invoke(args=["roster", "import", path])
    assert "3 added" in first.output, first.output
    again = runner.invoke(args=["roster", "import", path])
    assert again.exit_code == 0, again.output
    assert "0 added, 0 updated, 0 moved, 0 closed, 3 unchanged" in again.output
    assert "không có thay đổi / nothing changed" in again.output
    assert session.scalar(sa.select(sa.func.count(Posting.id))) == 3


def test_reimporting_a_corrected_register_changes_exactly_the_corrections(
    units, runner, session, tmp_path
):
    runner.invoke(args=["roster", "import", write(tmp_path, HEADER + ROWS + LEAVER)])
    corrected = (ROWS + LEAVER).replace("31/10/2025", "30/11/2025")  # the leaver's end date
    corrected = corrected.replace("Nguyễn Thị Hoa", "Nguyễn Thị Hòa")  # a name
    corrected = corrected.replace("Dân số; Gia đình,2025-08-01", "Dân số,2025-08-01")  # roles
    result = runner.invoke(args=["roster", "import", write(tmp_path, HEADER + corrected, "v2.csv")])
    assert result.exit_code == 0, result.output
    assert "0 added, 1 updated, 1 moved, 1 closed, 0 unchanged" in result.output
    session.expire_all()
    found = people(session)
    assert found["GL001"].full_name == "Nguyễn Thị Hòa"
    (ctv,) = found["GL002"].postings  # corrected in place, no second position
    assert ctv.ctv_roles == ["pop"]
    (leaver,) = found["GL003"].postings
    assert leaver.valid_to == dt.date(2025, 11, 30)
    assert session.scalar(sa.select(sa.func.count(Posting.id))) == 3
