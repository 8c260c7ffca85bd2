"""History across the 2025 reform: pre-reform units, their successors, filters and registers."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from server.models import AdminUnit, Form, FormVersion, Person, Posting, Submission, UnitSuccessor
from server.services.roster import people_in_post
from server.services.submission_queries import (
    SubmissionFilters,
    submission_query,
    unit_ids_under,
)

VN = dt.timezone(dt.timedelta(hours=7))
HEADER = (
    "Mã cán bộ,Họ và tên,Giới tính,Mã đơn vị hành chính,Tuyến,Loại hình,Nhóm đối tượng,"
    "Ngày bắt đầu,Ngày kết thúc\n"
)


@pytest.fixture
def history(runner):
    result = runner.invoke(args=["units", "load-official"])
    assert result.exit_code == 0, result.output
    return result


def unit(session, level, code, current):
    query = sa.select(AdminUnit).where(AdminUnit.level == level, AdminUnit.code == code)
    query = query.where(
        AdminUnit.valid_to.is_(None) if current else AdminUnit.valid_to.is_not(None)
    )
    return session.execute(query).scalar_one()


def test_load_official_brings_pre_reform_units_and_successors_idempotently(
    history, runner, session
):
    assert "14149 added" in history.output
    assert "successors: 11361 added" in history.output
    former = dict(
        session.execute(
            sa.select(AdminUnit.level, sa.func.count())
            .where(AdminUnit.valid_to == dt.date(2025, 6, 30))
            .group_by(AdminUnit.level)
        ).all()
    )
    assert former == {"province": 63, "district": 696, "commune": 10035}
    chu_pah = unit(session, "district", "627", current=False)
    assert (chu_pah.name, chu_pah.parent.code, chu_pah.parent.name) == (
        "Huyện Chư Păh",
        "64",
        "Tỉnh Gia Lai",
    )
    # The code 52 was Bình Định until the reform and is the merged Gia Lai since.
    assert unit(session, "province", "52", current=False).name == "Tỉnh Bình Định"
    new_gia_lai = unit(session, "province", "52", current=True)
    successors = set(
        session.scalars(
            sa.select(UnitSuccessor.successor_id).where(
                UnitSuccessor.predecessor_id.in_([chu_pah.id, chu_pah.parent.id])
            )
        )
    )
    assert successors == {new_gia_lai.id}
    # Every former commune has at least one successor; a divided one has exactly one primary.
    orphans = session.scalar(
        sa.select(sa.func.count())
        .select_from(AdminUnit)
        .where(
            AdminUnit.level == "commune",
            AdminUnit.valid_to.is_not(None),
            ~sa.exists().where(UnitSuccessor.predecessor_id == AdminUnit.id),
        )
    )
    assert orphans == 0
    again = runner.invoke(args=["units", "load-official"])
    assert "0 added, 0 updated, 14149 unchanged" in again.output
    assert "successors: 0 added, 0 updated, 0 removed" in again.output


def add_submission(session, form, version, code, day, n):
    session.add(
        Submission(
            form_pk=form.id,
            form_version_id=version.id,
            instance_id=f"uuid:{n}",
            xml=b"<x/>",
            md5="0" * 32,
            data={},
            unit_code=code,
            received_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
            submitted_at=dt.datetime.combine(day, dt.time(9), VN),
        )
    )


def test_filters_count_former_units_under_their_successors(history, session):
    form = Form(form_id="tna", title="TNA")
    session.add(form)
    session.flush()
    version = FormVersion(
        form_pk=form.id,
        version="1",
        title="TNA",
        xml=b"<x/>",
        md5="0" * 32,
        schema={},
        source=b"",
        source_filename="tna.xml",
        source_type="xml",
    )
    session.add(version)
    session.flush()
    cases = [
        ("627", dt.date(2026, 3, 1)),  # a former district named after the reform (the TNA form)
        ("627", dt.date(2024, 5, 1)),  # a baseline answer from before the reform
        ("23722", dt.date(2024, 5, 1)),  # a former commune of 627, before the reform
        ("23722", dt.date(2026, 3, 1)),  # the 2025 commune that reused its code
        ("52", dt.date(2023, 1, 1)),  # Bình Định before the reform
        ("01", dt.date(2026, 3, 1)),  # Hà Nội: elsewhere
    ]
    for n, (code, day) in enumerate(cases):
        add_submission(session, form, version, code, day, n)
    session.flush()

    def found(code):
        query = submission_query(session, form, SubmissionFilters(unit=code))
        rows = session.execute(query).scalars()
        return sorted(int(s.instance_id[5:]) for s in rows)

    # The merged Gia Lai covers former Gia Lai (64), its district 627 and former Bình Định.
    assert found("52") == [0, 1, 2, 3, 4]
    # Former Gia Lai covers its own units, up to the reform only.
    assert found("64") == [1, 2]
    assert found("627") == [1, 2]
    assert found("01") == [5]
    assert found("no-such-code") == []


def test_roster_filter_counts_a_posting_on_a_former_unit_by_day(history, runner, session, tmp_path):
    path = tmp_path / "dang_ky.csv"
    path.write_text(
        HEADER + "GL100,Ksor H'Lan,Nữ,627,Tuyến huyện,Viên chức,vc_district,01/03/2015,\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 0, result.output

    def codes(code, on):
        ids = unit_ids_under(session, code, on)
        people = people_in_post(session, on=on, unit_ids=ids, q=None, limit=10)
        return [p["person_code"] for p in people]

    assert codes("52", dt.date(2020, 1, 1)) == ["GL100"]
    assert codes("52", dt.date(2026, 1, 1)) == ["GL100"]
    assert codes("64", dt.date(2020, 1, 1)) == ["GL100"]
    assert codes("64", dt.date(2026, 1, 1)) == []  # after the reform: under the successor
    assert codes("01", dt.date(2020, 1, 1)) == []


def test_register_with_pre_reform_start_dates_imports(history, runner, session, tmp_path):
    rows = (
        # a pre-reform district and commune, with 2015–2024 starts
        "GL101,Nguyễn Văn An,Nam,627,Tuyến huyện,Viên chức,vc_district,01/03/2015,\n"
        "GL102,Rơ Châm Hyin,Nữ,23722,Tuyến xã,Viên chức,vc_commune,15/06/2019,31/12/2024\n"
        # today's code of the merged province, started before the reform (the code was
        # Bình Định's then: existed)
        "GL103,Trần Thị Bình,Nữ,52,Tuyến tỉnh,Công chức,cc_prov,01/03/2015,\n"
        # a 2025 commune whose code is new, started before the reform: mapped
        "GL104,Đinh Văn Nam,Nam,23728,Tuyến xã,Viên chức,vc_commune,01/09/2022,\n"
    )
    path = tmp_path / "dang_ky_cu.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    result = runner.invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "4 added" in result.output
    postings = {p.person.code: p for p in session.execute(sa.select(Posting)).scalars().unique()}
    assert postings["GL101"].unit.valid_to == dt.date(2025, 6, 30)  # former district 627
    assert postings["GL102"].unit.parent.code == "627"  # former commune 23722
    assert postings["GL103"].unit.valid_from == dt.date(2025, 7, 1)  # today's Gia Lai
    assert postings["GL103"].valid_from == dt.date(2015, 3, 1)
    assert postings["GL104"].unit.valid_from == dt.date(2025, 7, 1)
    again = runner.invoke(args=["roster", "import", str(path)])
    assert "0 added, 0 updated, 0 moved, 0 closed, 4 unchanged" in again.output, again.output
    assert "nothing changed" in again.output
    assert session.scalar(sa.select(sa.func.count(Person.id))) == 4


def test_register_row_on_a_unit_younger_than_the_position_is_refused_once(
    history, runner, tmp_path
):
    csv_units = tmp_path / "thon.csv"
    csv_units.write_text(
        "level,code,name,parent_code,valid_from\nhamlet,23722-99,Thôn Mới,23722,2025-07-01\n",
        encoding="utf-8",
    )
    assert runner.invoke(args=["units", "import", str(csv_units)]).exit_code == 0
    path = tmp_path / "sai.csv"
    path.write_text(
        HEADER + "GL105,A Sang,Nam,23722-99,Thôn (CTV),Cộng tác viên,ctv,01/01/2020,\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 1
    assert result.output.count("mã đơn vị 23722-99 chỉ có từ ngày 01/07/2025") == 1
