"""The command line: forms publish/check/list, units load-official/import/export."""

import shutil

import pytest
import sqlalchemy as sa

from harness import ROOT
from server.models import AdminUnit, Form, FormVersion
from tests.factories import DATA

# Pre-2025 Gia Lai (code 64) and one of its districts, communes and villages: the 2025 merger
# gave the new Gia Lai the code 52, and commune code 23584 now belongs to another ward.
UNITS_CSV = """level,code,name,kind,parent_code,valid_from,valid_to
province,64,Tỉnh Gia Lai (trước 2025),tỉnh,,1991-08-12,2025-06-30
district,622,Huyện Chư Păh,huyện,64,2008-01-01,2025-06-30
commune,23584,Xã Ia Ka,xã,622,2008-01-01,2025-06-30
hamlet,23584-01,Làng Ia Ka,làng,23584,,2025-06-30
"""


@pytest.fixture
def official(runner):
    # The 2025 list only: these tests import their own pre-reform units from CSV.
    result = runner.invoke(args=["units", "load-official", "--no-history"])
    assert result.exit_code == 0, result.output
    return result


def test_units_load_official_loads_34_provinces_and_3321_communes(official, runner, session):
    assert "3355 added" in official.output
    counts = dict(
        session.execute(sa.select(AdminUnit.level, sa.func.count()).group_by(AdminUnit.level)).all()
    )
    assert counts == {"province": 34, "commune": 3321}
    gia_lai = session.execute(
        sa.select(AdminUnit).where(AdminUnit.level == "province", AdminUnit.code == "52")
    ).scalar_one()
    assert gia_lai.name == "Gia Lai"
    orphans = session.scalar(
        sa.select(sa.func.count()).where(
            AdminUnit.level == "commune", AdminUnit.parent_id.is_(None)
        )
    )
    assert orphans == 0
    again = runner.invoke(args=["units", "load-official", "--no-history"])
    assert "0 added, 0 updated, 3355 unchanged" in again.output


def test_units_import_adds_historical_units_under_official_province(
    official, runner, session, tmp_path
):
    path = tmp_path / "gia_lai_cu.csv"
    path.write_text(UNITS_CSV, encoding="utf-8")
    result = runner.invoke(args=["units", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "4 added, 0 updated, 0 unchanged" in result.output
    hamlet = session.execute(sa.select(AdminUnit).where(AdminUnit.code == "23584-01")).scalar_one()
    assert hamlet.parent.name == "Xã Ia Ka"
    assert hamlet.parent.parent.name == "Huyện Chư Păh"
    assert hamlet.parent.parent.parent.code == "64"
    new_ward = session.execute(
        sa.select(AdminUnit).where(AdminUnit.code == "23584", AdminUnit.valid_to.is_(None))
    ).scalar_one()
    assert new_ward.name == "Phường Thống Nhất"  # the official unit with the reused code
    assert str(hamlet.valid_from) == "1900-01-01"
    # Re-import with a corrected name updates in place.
    path.write_text(UNITS_CSV.replace("Làng Ia Ka", "Làng Ia Ka Mới"), encoding="utf-8")
    result = runner.invoke(args=["units", "import", str(path)])
    assert "0 added, 1 updated, 3 unchanged" in result.output


def test_units_import_is_all_or_nothing_with_row_numbers(official, runner, session, tmp_path):
    bad = UNITS_CSV + (
        "commune,99999,Xã Ma,xã,777,2008-01-01,\n"
        "district,623,Huyện Sai,huyện,64,31/12/2020,01/01/2020\n"
        "hamlet,x1,Thôn X,,23584,không rõ,\n"
    )
    path = tmp_path / "bad.csv"
    path.write_text(bad, encoding="utf-8")
    before = session.scalar(sa.select(sa.func.count(AdminUnit.id)))
    result = runner.invoke(args=["units", "import", str(path)])
    assert result.exit_code == 1
    assert "400.10" in result.output
    assert "row 6: parent_code '777'" in result.output
    assert "row 7: valid_to 01/01/2020 is before valid_from 31/12/2020" in result.output
    assert "row 8: valid_from 'không rõ' is not a date" in result.output
    assert session.scalar(sa.select(sa.func.count(AdminUnit.id))) == before


def test_units_import_refuses_overlapping_periods_and_bad_header(official, runner, tmp_path):
    path = tmp_path / "overlap.csv"
    path.write_text(
        "level,code,name,parent_code,valid_from\ncommune,23584,Xã Ia Ka,52,2020-01-01\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["units", "import", str(path)])
    assert result.exit_code == 1
    assert "overlaps the unit with the same code valid 01/07/2025–now" in result.output
    path.write_text("cap,ma,abc\nxã,1,x\n", encoding="utf-8")
    result = runner.invoke(args=["units", "import", str(path)])
    assert "row 1 (header): missing column(s): name; unknown column(s): abc" in result.output


def test_units_import_accepts_vietnamese_headers_semicolons_and_bom(
    official, runner, session, tmp_path
):
    path = tmp_path / "vi.csv"
    path.write_bytes("\ufeffcấp;mã;tên;mã cấp trên\nhuyện;624;Huyện Ia Grai;52\n".encode())
    result = runner.invoke(args=["units", "import", str(path)])
    assert result.exit_code == 0, result.output
    unit = session.execute(sa.select(AdminUnit).where(AdminUnit.code == "624")).scalar_one()
    assert (unit.level, unit.name, unit.parent.code) == ("district", "Huyện Ia Grai", "52")


@pytest.mark.parametrize("content", [b"", b"level,code,name\n"])
def test_units_import_refuses_empty_files(runner, tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    result = runner.invoke(args=["units", "import", str(path)])
    assert result.exit_code == 1
    assert "400.8" in result.output


def test_units_export_round_trips(official, runner, session, tmp_path):
    path = tmp_path / "old.csv"
    path.write_text(UNITS_CSV, encoding="utf-8")
    runner.invoke(args=["units", "import", str(path)])
    exported = runner.invoke(args=["units", "export"]).output
    assert exported.splitlines()[0] == (
        "level,code,name,kind,parent_code,parent_level,valid_from,valid_to"
    )
    out = tmp_path / "export.csv"
    out.write_text(exported, encoding="utf-8")
    result = runner.invoke(args=["units", "import", str(out)])
    assert "0 added, 0 updated, 3359 unchanged" in result.output


def test_forms_publish_directory_with_media(runner, session, tmp_path):
    folder = tmp_path / "forms"
    folder.mkdir()
    shutil.copy(DATA / "forms" / "mini.md", folder / "mini.md")
    (folder / "README.md").write_text("# not a form\n")
    result = runner.invoke(args=["forms", "publish", str(folder)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("published     mini v2026010101 md5:")
    assert "README" not in result.output
    result = runner.invoke(args=["forms", "publish", str(folder / "mini.md")])
    assert result.output.startswith("unchanged     mini")
    listing = runner.invoke(args=["forms", "list"]).output
    assert "mini" in listing
    assert "Mẫu nhỏ" in listing


def test_forms_publish_reports_each_failure_and_keeps_the_good_ones(runner, session, tmp_path):
    (tmp_path / "a_broken.xlsx").write_bytes(b"not a workbook")
    shutil.copy(DATA / "forms" / "mini.md", tmp_path / "b_mini.md")
    result = runner.invoke(args=["forms", "publish", str(tmp_path)])
    assert result.exit_code == 1
    assert "a_broken.xlsx: not an Excel .xlsx workbook" in result.output
    assert "published     mini" in result.output
    assert session.scalar(sa.select(sa.func.count(Form.id))) == 1


def test_forms_check_validates_without_storing(runner, session, tmp_path):
    result = runner.invoke(args=["forms", "check", str(DATA / "forms" / "mini.md")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok mini v2026010101")
    assert session.scalar(sa.select(sa.func.count(FormVersion.id))) == 0
    bad = tmp_path / "bad.md"
    bad.write_text((DATA / "forms" / "mini.md").read_text().replace("integer", "intgr"))
    result = runner.invoke(args=["forms", "check", str(bad)])
    assert result.exit_code == 1
    assert "Unknown question type 'intgr'" in result.output


def test_forms_list_when_empty(runner):
    assert "no forms published" in runner.invoke(args=["forms", "list"]).output


@pytest.mark.slow
def test_standard_forms_publish_from_the_forms_directory(runner, session):
    result = runner.invoke(args=["forms", "publish", str(ROOT / "forms")])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    ids = session.execute(sa.select(Form.form_id).order_by(Form.form_id)).scalars().all()
    assert ids == ["danhgia_khoahoc", "kt_dscoban_post", "kt_dscoban_pre", "tna_dskhhgd"]
