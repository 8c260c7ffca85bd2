"""The courses service as the pages use it: idempotent creation and enrolment, edits, lists."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from server.errors import CourseExists, InvalidCourse
from server.extensions import db
from server.models import Course, Enrolment
from server.services import courses, enrolments
from tests.factories import WORKED_ROSTER_HEADER, WORKED_UNITS, cli_output

ROSTER = WORKED_ROSTER_HEADER + (
    "GL001,Nguyễn Thị Hoa,Nữ,21583,Tuyến xã,Viên chức,vc_commune,01/08/2025\n"
    "GL002,Trần Văn Nam,Nam,23584,Tuyến xã,Viên chức,vc_commune,01/08/2025\n"
)
VALUES = courses.CourseInput(
    code="C1", title="Khóa 1", course_type="tap_huan", start_date=dt.date(2026, 9, 7),
    end_date=dt.date(2026, 9, 9), topics=("TP01",), venue_unit_code="21583",
)  # fmt: skip


@pytest.fixture
def register(app, runner, tmp_path, make_user):
    (tmp_path / "units.csv").write_text(WORKED_UNITS, encoding="utf-8")
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    cli_output(runner.invoke(args=["units", "import", str(tmp_path / "units.csv")]))
    cli_output(runner.invoke(args=["roster", "import", str(tmp_path / "roster.csv")]))
    return make_user("gv", "trainer"), make_user("gv2", "trainer")


def test_the_same_course_asked_twice_by_its_owner_is_created_once(register):
    owner, other = register
    first = courses.create_course(db.session, VALUES, created_by=owner.id, repeat_ok=True)
    again = courses.create_course(db.session, VALUES, created_by=owner.id, repeat_ok=True)
    assert again is first
    with pytest.raises(CourseExists):
        courses.create_course(db.session, VALUES, created_by=owner.id)
    with pytest.raises(CourseExists):
        courses.create_course(db.session, VALUES, created_by=other.id, repeat_ok=True)
    changed = courses.CourseInput(**{**VALUES.__dict__, "title": "Khác"})
    with pytest.raises(CourseExists):
        courses.create_course(db.session, changed, created_by=owner.id, repeat_ok=True)
    assert db.session.scalar(sa.select(sa.func.count(Course.id))) == 1


def test_enrolling_twice_or_racing_enrols_once(register):
    course = courses.create_course(db.session, VALUES)
    result = enrolments.enrol(db.session, course, ["GL001", "GL001", " GL002 "])
    assert (result.enrolled, result.already) == (["GL001", "GL002"], [])
    assert result.warnings == []  # both are in post on the dates (anywhere)
    # a request that read the enrolments before another inserted them skips the pair quietly
    assert (
        enrolments._insert_enrolments(db.session, course, [course.enrolments[0].person_id]) == set()
    )
    again = enrolments.enrol(db.session, course, ["GL001"])
    assert (again.enrolled, again.already) == ([], ["GL001"])
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Enrolment.id))) == 2


def test_an_edit_is_checked_like_a_creation_and_keeps_the_code(register):
    course = courses.create_course(db.session, VALUES)
    with pytest.raises(InvalidCourse) as caught:
        courses.update_course(db.session, course, {"end_date": dt.date(2026, 1, 1), "code": "C2"})
    assert set(caught.value.details["fields"]) == {"end_date", "code"}
    assert "trước ngày bắt đầu" in caught.value.details["fields_vi"]["end_date"][0]
    with pytest.raises(InvalidCourse):
        courses.update_course(db.session, course, {"status": "maybe"})
    courses.update_course(db.session, course, {"status": "closed", "pass_mark": 80})
    assert (course.status, course.pass_mark, course.code) == ("closed", 80, "C1")


def test_page_form_values_that_do_not_parse_are_named(register):
    with pytest.raises(InvalidCourse) as caught:
        courses.course_input({"code": "C", "start_date": "07/09/2026", "pass_mark": "bảy"})
    assert set(caught.value.details["fields_vi"]) == {"start_date", "end_date", "pass_mark"}
    empty = courses.CourseInput(**{**VALUES.__dict__, "code": " ", "title": ""})
    with pytest.raises(InvalidCourse) as caught:
        courses.create_course(db.session, empty)
    assert caught.value.details["fields_vi"] == {
        "code": ["Bắt buộc nhập"],
        "title": ["Bắt buộc nhập"],
    }


def test_a_course_list_may_leave_out_the_course_code_but_not_name_another(register):
    course = courses.create_course(db.session, VALUES)
    courses.create_course(db.session, courses.CourseInput(**{**VALUES.__dict__, "code": "C2"}))
    with pytest.raises(InvalidCourse) as caught:
        enrolments.import_enrolments(
            db.session, "l.csv", "Mã khóa học,Mã cán bộ\nC2,GL001\n".encode(), course=course
        )
    assert caught.value.details["rows"][0]["error_vi"].startswith("khóa học C2 không phải")
    assert "dòng 2: khóa học C2" in caught.value.message_vi
    result = enrolments.import_enrolments(db.session, "l.csv", b"Ma can bo\nGL001\n", course=course)
    assert len(result.enrolled) == 1


def test_the_register_search_looks_in_the_venue_first(register):
    course = courses.create_course(db.session, VALUES)
    enrolments.enrol(db.session, course, ["GL001"])
    venue = enrolments.register_search(db.session, course, q="")
    assert [(p["person_code"], p["enrolled"]) for p in venue] == [("GL001", True)]
    everywhere = enrolments.register_search(db.session, course, q="nam", whole_register=True)
    assert [p["person_code"] for p in everywhere] == ["GL002"]
