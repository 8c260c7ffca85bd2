"""The courses pages: create and edit, enrol (search and list), attendance, keys, re-score, close."""

from __future__ import annotations

import io
import json
import re

import pytest
import sqlalchemy as sa

from harness import ROOT
from server import worker
from server.extensions import db
from server.models import AnswerKey, Course, Enrolment, ExamScore
from tests.factories import (
    PASSWORD,
    STANDARD_KEY,
    STANDARD_KEY_CSV,
    WORKED_ROSTER_HEADER,
    WORKED_UNITS,
    attempt_xml,
    cli_output,
    form_version,
    post_submission,
    worked_key,
)
from tests.pages import form_token, post_form, sign_in

ROSTER = WORKED_ROSTER_HEADER + (
    "GL001,Nguyễn Thị Hoa,Nữ,21583,Tuyến xã,Viên chức,vc_commune,01/08/2025\n"
    "GL002,Trần Văn Nam,Nam,21583,Tuyến xã,Viên chức,vc_commune,01/08/2025\n"
    "GL003,Rơ Châm Blơi,Nam,23584,Tuyến xã,Viên chức,vc_commune,01/08/2025\n"
)
COURSE = {
    "code": "TH-2026-01",
    "title": "Tập huấn dân số cơ bản",
    "course_type": "tap_huan",
    "start_date": "2026-09-07",
    "end_date": "2026-09-09",
    "pass_mark": "70",
    "venue_unit_code": "21583",
    "topics": ["TP01"],
    "trainers": "GL002",
}


@pytest.fixture
def desk(app, runner, tmp_path, make_user):
    """Units, a three-person register, two trainers, a planner; the first trainer signed in."""
    (tmp_path / "units.csv").write_text(WORKED_UNITS, encoding="utf-8")
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    cli_output(runner.invoke(args=["units", "import", str(tmp_path / "units.csv")]))
    cli_output(runner.invoke(args=["roster", "import", str(tmp_path / "roster.csv")]))
    users = {name: make_user(name, role) for name, role in
             (("gv.ha", "trainer"), ("gv.nam", "trainer"), ("kh.lan", "planner"),
              ("quantri", "admin"))}  # fmt: skip
    client = app.test_client()
    assert sign_in(client, "gv.ha", PASSWORD).status_code == 302
    return client, users


def _client(app, name: str):
    client = app.test_client()
    assert sign_in(client, name, PASSWORD).status_code == 302
    return client


def _create(client, **changes):
    return post_form(client, "/admin/courses", {**COURSE, **changes}, page="/admin/courses/new")


def _course(code: str = COURSE["code"]) -> Course:
    db.session.expire_all()
    return db.session.execute(sa.select(Course).where(Course.code == code)).scalar_one()


def _enrolled(code: str = COURSE["code"]) -> dict[str, Enrolment]:
    return {e.person.code: e for e in _course(code).enrolments}


def test_a_trainer_creates_a_course_and_lists_only_their_own(app, desk):
    client, users = desk
    response = _create(client)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/courses/TH-2026-01")
    course = _course()
    assert course.created_by_user_id == users["gv.ha"].id
    assert (course.topics, course.trainers, course.pass_mark) == (["TP01"], ["GL002"], 70)
    page = client.get("/admin/courses/TH-2026-01").get_data(as_text=True)
    assert "Đã tạo khóa học TH-2026-01" in page
    assert "TH-2026-01" in client.get("/admin/courses").get_data(as_text=True)
    other = _client(app, "gv.nam")
    assert "TH-2026-01" not in other.get("/admin/courses").get_data(as_text=True)
    assert other.get("/admin/courses/TH-2026-01").status_code == 403
    assert _client(app, "quantri").get("/admin/courses/TH-2026-01").status_code == 200
    planner = _client(app, "kh.lan")
    assert planner.get("/admin/courses").status_code == 403
    assert "/admin/courses" not in planner.get("/").get_data(as_text=True)


def test_a_course_form_sent_twice_creates_one_course(desk):
    client, _ = desk
    token = form_token(client, "/admin/courses/new")
    first = client.post("/admin/courses", data={**COURSE, "csrf_token": token})
    second = client.post("/admin/courses", data={**COURSE, "csrf_token": token})
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count(Course.id))) == 1


def test_bad_course_values_are_shown_by_field_and_nothing_is_stored(app, desk):
    client, _ = desk
    response = _create(client, end_date="2026-09-01", topics=["TP01", "TP99"], pass_mark="120")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "400.17" in html
    assert 'id="err-end_date"' in html and "trước ngày bắt đầu 07/09/2026" in html
    assert 'id="err-topics"' in html and "TP99" in html
    assert 'id="err-pass_mark"' in html
    assert 'value="Tập huấn dân số cơ bản"' in html  # what was typed is kept
    assert db.session.scalar(sa.select(sa.func.count(Course.id))) == 0
    bad_date = _create(client, start_date="07/09/2026")
    assert bad_date.status_code == 400 and 'id="err-start_date"' in bad_date.get_data(as_text=True)
    assert _create(client).status_code == 302
    taken = post_form(_client(app, "gv.nam"), "/admin/courses", COURSE, page="/admin/courses/new")
    assert taken.status_code == 409
    assert 'id="err-code"' in taken.get_data(as_text=True)


def test_a_form_without_its_csrf_token_is_refused(desk):
    client, _ = desk
    response = client.post("/admin/courses", data=COURSE)
    assert response.status_code == 403
    assert "403.5" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Course.id))) == 0


def test_editing_keeps_the_code_and_checks_like_creation(desk):
    client, _ = desk
    _create(client)
    page = client.get("/admin/courses/TH-2026-01/edit").get_data(as_text=True)
    assert 'value="Tập huấn dân số cơ bản"' in page and "readonly" in page
    edit = "/admin/courses/TH-2026-01/edit"
    bad = post_form(client, edit, {**COURSE, "end_date": "2026-01-01"})
    assert bad.status_code == 400 and 'id="err-end_date"' in bad.get_data(as_text=True)
    saved = post_form(client, edit, {**COURSE, "title": "Khóa mới", "code": "KHAC"})
    assert saved.status_code == 302
    assert (_course().title, _course().code) == ("Khóa mới", "TH-2026-01")


def test_enrol_by_search_twice_enrols_once(desk):
    client, _ = desk
    _create(client)
    found = client.get("/admin/courses/TH-2026-01?q=hoa").get_data(as_text=True)
    assert "Nguyễn Thị Hoa" in found and 'value="GL001"' in found
    # the venue's units by default: GL003 works in another commune
    assert "GL003" not in client.get("/admin/courses/TH-2026-01?q=").get_data(as_text=True)
    assert "GL003" in client.get("/admin/courses/TH-2026-01?q=&whole=1").get_data(as_text=True)
    path = "/admin/courses/TH-2026-01/enrolments"
    token = form_token(client, "/admin/courses/TH-2026-01")
    for _ in range(2):
        sent = client.post(path, data={"person_code": ["GL001", "GL003"], "csrf_token": token})
        assert sent.status_code == 302
    assert sorted(_enrolled()) == ["GL001", "GL003"]
    page = client.get("/admin/courses/TH-2026-01").get_data(as_text=True)
    assert "0 người; 2 người đã có trong khóa" in page
    nobody = post_form(client, path, {}, page="/admin/courses/TH-2026-01")
    assert nobody.status_code == 422 and "422.1" in nobody.get_data(as_text=True)
    unknown = post_form(client, path, {"person_code": "GL999"}, page="/admin/courses/TH-2026-01")
    assert unknown.status_code == 404 and "GL999" in unknown.get_data(as_text=True)


def _upload(client, path: str, content: str, name: str = "list.csv"):
    token = form_token(client, "/admin/courses/TH-2026-01")
    return client.post(
        path,
        data={"csrf_token": token, "file": (io.BytesIO(content.encode()), name)},
        content_type="multipart/form-data",
    )


def test_an_uploaded_list_with_a_bad_row_lists_it_and_enrols_nobody(desk):
    client, _ = desk
    _create(client)
    _create(client, code="KHAC-01")
    path = "/admin/courses/TH-2026-01/enrolments/upload"
    bad = _upload(
        client, path, "Mã cán bộ,Điểm danh\nGL001,có mặt\nGL999,có mặt\nGL002,ngủ\n"
        "Mã khóa học,Mã cán bộ\n",
    )  # fmt: skip
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert "không có cán bộ này" in html and "điểm danh không hợp lệ" in html
    assert html.count('<td class="num">') >= 2
    other = _upload(client, path, "Mã khóa học,Mã cán bộ\nKHAC-01,GL001\n")
    assert other.status_code == 400 and "không phải khóa này" in other.get_data(as_text=True)
    assert _enrolled() == {} and _enrolled("KHAC-01") == {}
    good = _upload(client, path, "Mã cán bộ,Điểm danh\nGL001,có mặt\nGL002,vắng\n")
    assert good.status_code == 302
    assert {c: e.attendance for c, e in _enrolled().items()} == {
        "GL001": "attended",
        "GL002": "absent",
    }
    missing = post_form(client, path, {}, page="/admin/courses/TH-2026-01")
    assert missing.status_code == 422


def test_attendance_and_completion_are_saved_and_checked(desk):
    client, _ = desk
    _create(client)
    post_form(client, "/admin/courses/TH-2026-01/enrolments", {"person_code": ["GL001", "GL002"]},
              page="/admin/courses/TH-2026-01")  # fmt: skip
    path = "/admin/courses/TH-2026-01/attendance"
    page = "/admin/courses/TH-2026-01"
    saved = post_form(
        client, path,
        {"attendance:GL001": "attended", "completion:GL001": "completed",
         "attendance:GL002": "enrolled", "completion:GL002": "in_progress"}, page=page,
    )  # fmt: skip
    assert saved.status_code == 302
    assert "Đã lưu 1 thay đổi" in client.get(page).get_data(as_text=True)
    enrolled = _enrolled()
    assert (enrolled["GL001"].attendance, enrolled["GL001"].completion) == ("attended", "completed")
    assert enrolled["GL002"].attendance == "enrolled"
    bad = post_form(client, path, {"attendance:GL001": "ngủ"}, page=page)
    assert bad.status_code == 422 and "422.1" in bad.get_data(as_text=True)
    stranger = post_form(client, path, {"attendance:GL003": "attended"}, page=page)
    assert stranger.status_code == 404
    assert _enrolled()["GL001"].attendance == "attended"


def test_another_trainer_can_do_nothing_on_the_course(app, desk):
    client, _ = desk
    _create(client)
    other = _client(app, "gv.nam")
    page = "/admin/courses"
    for path, data in (
        ("/admin/courses/TH-2026-01/edit", COURSE),
        ("/admin/courses/TH-2026-01/enrolments", {"person_code": "GL001"}),
        ("/admin/courses/TH-2026-01/attendance", {}),
        ("/admin/courses/TH-2026-01/key", {"form_id": "x"}),
        ("/admin/courses/TH-2026-01/rescore", {}),
        ("/admin/courses/TH-2026-01/status", {"status": "closed"}),
    ):
        assert post_form(other, path, data, page=page).status_code == 403, path
    assert other.get("/admin/courses/TH-2026-01/edit").status_code == 403
    assert _enrolled() == {} and _course().status == "open"


def test_closing_and_reopening(desk):
    client, _ = desk
    _create(client)
    path, page = "/admin/courses/TH-2026-01/status", "/admin/courses/TH-2026-01"
    assert post_form(client, path, {"status": "closed"}, page=page).status_code == 302
    assert _course().status == "closed"
    assert "Mở lại khóa học" in client.get(page).get_data(as_text=True)
    assert post_form(client, path, {"status": "nonsense"}, page=page).status_code == 400
    assert post_form(client, path, {"status": "open"}, page=page).status_code == 302
    assert _course().status == "open"


def test_keys_with_problems_then_a_good_key_then_scores_and_a_rescore(app, desk, runner):
    client, _ = desk
    for form in ("kt_dscoban_pre", "kt_dscoban_post"):
        cli_output(runner.invoke(args=["forms", "publish", str(ROOT / "forms" / f"{form}.xlsx")]))
    _create(client, pre_form_id="kt_dscoban_pre", post_form_id="kt_dscoban_post")
    post_form(client, "/admin/courses/TH-2026-01/enrolments", {"person_code": ["GL001", "GL002"]},
              page="/admin/courses/TH-2026-01")  # fmt: skip
    page = client.get("/admin/courses/TH-2026-01").get_data(as_text=True)
    assert "Chưa có đáp án" in page
    path = "/admin/courses/TH-2026-01/key"
    token = form_token(client, "/admin/courses/TH-2026-01")

    def upload(form_id: str, content: str):
        return client.post(
            path,
            data={"csrf_token": token, "form_id": form_id,
                  "file": (io.BytesIO(content.encode()), "key.csv")},
            content_type="multipart/form-data",
        )  # fmt: skip

    key = worked_key(STANDARD_KEY_CSV)
    broken = key.replace(",q01,single,", ",q01,multi,").replace(",q02,", ",q99,")
    bad = upload("kt_dscoban_post", broken)
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert "400.16" in html and "q99" in html and "không có trong đề" in html
    assert db.session.scalar(sa.select(sa.func.count(AnswerKey.id))) == 0
    assert upload("other_form", key).status_code == 422
    for form_id in ("kt_dscoban_pre", "kt_dscoban_post"):
        assert upload(form_id, key).status_code == 302
    page = client.get("/admin/courses/TH-2026-01").get_data(as_text=True)
    assert "Đáp án kt_dscoban_post: 20 câu" in page and "Chưa có đáp án" not in page
    # key review: drop an item (a reason is required), then restore it
    review, on = "/admin/courses/TH-2026-01/key-items", "/admin/courses/TH-2026-01"
    item = {"form_id": "kt_dscoban_post", "item": "q01", "change": "dropped"}
    no_reason = post_form(client, review, item, page=on)
    assert no_reason.status_code == 422 and "422.1" in no_reason.get_data(as_text=True)
    unknown = post_form(client, review, {**item, "item": "q99", "reason": "x"}, page=on)
    assert unknown.status_code == 400 and "400.16" in unknown.get_data(as_text=True)
    dropped = post_form(client, review, {**item, "reason": "Hai đáp án đúng"}, page=on)
    assert dropped.status_code == 302
    assert "đã bỏ q01" in client.get(on).get_data(as_text=True)
    restore = {**item, "change": "restored", "reason": "Đã sửa đề"}
    assert post_form(client, review, restore, page=on).status_code == 302
    statuses = set(db.session.scalars(sa.select(AnswerKey.status).where(AnswerKey.item == "q01")))
    assert statuses == {"active"}
    # two tests arrive over OpenRosa; the page shows the scores
    device = json.loads(cli_output(runner.invoke(
        args=["devices", "create", "lop", "--form", "kt_dscoban_pre", "--form", "kt_dscoban_post",
              "--json"])))  # fmt: skip
    for phase, correct in (("pre", 10), ("post", 16)):
        form = f"kt_dscoban_{phase}"
        xml = attempt_xml(
            form, form_version(client, device["token"], form), phase=phase,
            course="TH-2026-01", trainee="GL001", correct_items=correct, key=STANDARD_KEY,
            instance=f"uuid:{phase}-1",
        )  # fmt: skip
        post_submission(client, device["token"], xml)
    page = client.get("/admin/courses/TH-2026-01").get_data(as_text=True)
    assert "50,0 %" in page and "80,0 %" in page
    assert _enrolled()["GL001"].completion == "completed"
    # a trainee missing from the tablet's list typed a name: the trainer says who it was
    unlisted = attempt_xml(
        "kt_dscoban_post",
        form_version(client, device["token"], "kt_dscoban_post"),
        phase="post",
        course="TH-2026-01",
        trainee="_notlisted",
        correct_items=15,
        key=STANDARD_KEY,
        instance="uuid:post-unlisted",
    ).replace(b"<meta>", b"<fb_name>Nam Tran</fb_name><fb_birth_year>1990</fb_birth_year><meta>")
    post_submission(client, device["token"], unlisted)
    page = client.get("/admin/courses/TH-2026-01").get_data(as_text=True)
    assert "Nam Tran" in page and "1990" in page
    waiting = re.search(r"/admin/courses/TH-2026-01/identities/(\d+)", page)[1]
    link = f"/admin/courses/TH-2026-01/identities/{waiting}"
    stranger = post_form(client, link, {"person_code": "GL003"}, page="/admin/courses/TH-2026-01")
    assert stranger.status_code == 422  # not enrolled on the course
    linked = post_form(client, link, {"person_code": "GL002"}, page="/admin/courses/TH-2026-01")
    assert linked.status_code == 302
    page = client.get("/admin/courses/TH-2026-01").get_data(as_text=True)
    assert "Nam Tran" not in page and "75,0 %" in page
    db.session.execute(sa.delete(ExamScore))
    db.session.commit()
    rescored = post_form(client, "/admin/courses/TH-2026-01/rescore", {},
                         page="/admin/courses/TH-2026-01")  # fmt: skip
    assert rescored.status_code == 303  # a background job, with its progress page
    job_page = rescored.headers["Location"]
    assert "/admin/jobs/" in job_page
    while worker.work_once(app) is not None:
        pass
    done = client.get(job_page).get_data(as_text=True)
    assert "Đã chấm lại 3 bài làm của kt_dscoban_pre, kt_dscoban_post" in done
    assert 'href="/admin/courses/TH-2026-01"' in done
    page = client.get("/admin/courses/TH-2026-01").get_data(as_text=True)
    assert "80,0 %" in page
    assert 'href="/reports/courses/TH-2026-01"' in page


def test_values_longer_than_their_columns_are_refused_by_field(desk):
    client, _ = desk
    response = _create(client, venue_unit_code="9" * 40, organiser="x" * 300)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="err-venue_unit_code"' in html and "Tối đa 32 ký tự" in html
    assert 'id="err-organiser"' in html
    assert db.session.scalar(sa.select(sa.func.count(Course.id))) == 0


def test_editing_keeps_what_the_form_does_not_change(desk):
    client, _ = desk
    _create(client, audience_level="commune", objectives=["Hiểu chính sách", "Lập kế hoạch"])
    course = _course()
    assert course.audience_level == "commune"
    page = client.get("/admin/courses/TH-2026-01/edit").get_data(as_text=True)
    assert 'value="commune" selected' in page and 'value="Lập kế hoạch"' in page
    values = {**COURSE, "audience_level": "commune",
              "objectives": ["Hiểu chính sách", "Lập kế hoạch"], "pass_mark": "80"}  # fmt: skip
    assert post_form(client, "/admin/courses/TH-2026-01/edit", values).status_code == 302
    course = _course()
    assert (course.pass_mark, course.audience_level) == (80, "commune")
    assert course.objectives == ["Hiểu chính sách", "Lập kế hoạch"]


def test_an_administrator_lists_and_manages_every_course(app, desk):
    client, _ = desk
    _create(client)
    admin = _client(app, "quantri")
    assert "TH-2026-01" in admin.get("/admin/courses").get_data(as_text=True)
    path, page = "/admin/courses/TH-2026-01/status", "/admin/courses/TH-2026-01"
    assert post_form(admin, path, {"status": "closed"}, page=page).status_code == 302
    assert _course().status == "closed"


def test_lists_and_keys_over_the_limit_are_refused_before_they_are_read(app, desk):
    client, _ = desk
    _create(client)
    app.config["PAGE_UPLOAD_MAX_BYTES"] = 200
    big = "Mã cán bộ\n" + "GL001\n" * 100
    for path in ("enrolments/upload", "key"):
        response = _upload(client, f"/admin/courses/TH-2026-01/{path}", big)
        assert response.status_code == 413, path
        assert "413.3" in response.get_data(as_text=True)
    assert _enrolled() == {}
