"""Courses, enrolments, answer keys, server-side scoring and the tablets' picker lists."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest
import sqlalchemy as sa

from harness import ROOT
from server.models import Enrolment, ExamScore, Form, FormMedia, FormVersion, SubmissionLink

KEY_FILE = ROOT / "forms" / "answer-keys" / "DSCOBAN-2026.1.csv"
KEY = {
    row["item_id"]: row["key"].split()
    for row in csv.DictReader(io.StringIO(KEY_FILE.read_text(encoding="utf-8")))
}
UNITS = """level,code,name,parent_code,valid_from
province,52,Tỉnh Gia Lai,,2025-07-01
commune,21583,Phường Quy Nhơn,52,2025-07-01
"""
ROSTER = (
    "Mã cán bộ,Họ và tên,Giới tính,Mã đơn vị hành chính,Tuyến,Loại hình,Nhóm đối tượng,"
    "Ngày bắt đầu,Ngày kết thúc\n"
    "GL001,Nguyễn Thị Hoa,Nữ,21583,Tuyến xã,Viên chức,vc_commune,01/08/2025,\n"
    "GL002,Trần Văn Nam,Nam,21583,Tuyến xã,Viên chức,vc_commune,01/08/2025,\n"
    "GL003,Lê Thị Cũ,Nữ,21583,Tuyến xã,Viên chức,vc_commune,01/08/2025,31/08/2025\n"
)
OR = {"X-OpenRosa-Version": "1.0"}


def ok(result):
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def programme(runner, tmp_path):
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    ok(runner.invoke(args=["units", "import", str(tmp_path / "units.csv")]))
    ok(runner.invoke(args=["roster", "import", str(tmp_path / "roster.csv")]))
    ok(runner.invoke(args=["forms", "publish", str(ROOT / "forms" / "kt_dscoban_post.xlsx")]))
    ok(
        runner.invoke(
            args=[
                "courses",
                "create",
                "DSCB-2026-09",
                "--title",
                "Dân số cơ bản",
                "--type",
                "boi_duong",
                "--start",
                "2026-09-07",
                "--end",
                "2026-09-11",
                "--pass-mark",
                "70",
                "--topic",
                "TP01",
                "--post-form",
                "kt_dscoban_post",
                "--trainer",
                "GL002",
            ]
        )
    )
    return tmp_path


def post_test(client, token, trainee, answers, instance="uuid:t1", course="DSCB-2026-09"):
    version = (
        client.get(f"/key/{token}/formList", headers=OR)
        .data.decode()
        .split("<version>")[1]
        .split("</version>")[0]
    )
    parts = "".join(f"<{item}>{' '.join(value)}</{item}>" for item, value in answers.items())
    xml = (
        f'<data id="kt_dscoban_post" version="{version}"><phase>post</phase>'
        f"<course_code>{course}</course_code><trainee_id>{trainee}</trainee_id>{parts}"
        f"<meta><instanceID>{instance}</instanceID></meta></data>"
    ).encode()
    response = client.post(
        f"/key/{token}/submission",
        headers=OR,
        content_type="multipart/form-data",
        data={"xml_submission_file": (io.BytesIO(xml), "s.xml")},
    )
    assert response.status_code == 201, response.data
    return response


@pytest.fixture
def token(programme, runner):
    out = ok(
        runner.invoke(args=["devices", "create", "lop", "--form", "kt_dscoban_post", "--json"])
    )
    return json.loads(out)["token"]


def test_course_validation(programme, runner):
    reversed_dates = runner.invoke(
        args=[
            "courses",
            "create",
            "X1",
            "--title",
            "t",
            "--start",
            "2026-09-11",
            "--end",
            "2026-09-07",
        ]
    )
    assert reversed_dates.exit_code == 1
    assert "400.17" in reversed_dates.output and "end_date" in reversed_dates.output
    unknown_form = runner.invoke(
        args=[
            "courses",
            "create",
            "X2",
            "--title",
            "t",
            "--start",
            "2026-09-07",
            "--end",
            "2026-09-08",
            "--post-form",
            "nope",
        ]
    )
    assert "no form 'nope'" in unknown_form.output
    duplicate = runner.invoke(
        args=[
            "courses",
            "create",
            "DSCB-2026-09",
            "--title",
            "t",
            "--start",
            "2026-09-07",
            "--end",
            "2026-09-08",
        ]
    )
    assert "409.8" in duplicate.output


def test_enrol_warns_about_people_not_in_post(programme, runner, session):
    out = ok(runner.invoke(args=["courses", "enrol", "DSCB-2026-09", "GL001", "GL003"]))
    assert "2 enrolled" in out
    assert "GL003 (Lê Thị Cũ) không đương nhiệm" in out
    again = ok(runner.invoke(args=["courses", "enrol", "DSCB-2026-09", "GL001"]))
    assert "0 enrolled, 1 already enrolled" in again
    missing = runner.invoke(args=["courses", "enrol", "DSCB-2026-09", "GL999"])
    assert "404.6" in missing.output
    assert session.scalar(sa.select(sa.func.count(Enrolment.id))) == 2


def test_picker_lists_follow_the_registry(programme, runner, session, client, token):
    def media(name):
        session.expire_all()
        version = (
            session.execute(sa.select(FormVersion).order_by(FormVersion.id.desc()))
            .scalars()
            .first()
        )
        return next(m for m in version.media if m.filename == name)

    courses = media("courses.csv").content.decode()
    assert "DSCB-2026-09,DSCB-2026-09 – Dân số cơ bản,open,kt_dscoban_post" in courses
    before = media("trainees.csv").md5
    out = ok(runner.invoke(args=["courses", "enrol", "DSCB-2026-09", "GL001"]))
    assert "pickers: kt_dscoban_post: trainees.csv updated" in out
    trainees = media("trainees.csv")
    assert trainees.md5 != before
    assert trainees.md5 == hashlib.md5(trainees.content).hexdigest()
    assert "GL001,Nguyễn Thị Hoa – Phường Quy Nhơn,DSCB-2026-09" in trainees.content.decode()
    assert (
        trainees.content.decode()
        .rstrip()
        .endswith("_notlisted,Không có tên trong danh sách / Not on the list,*")
    )
    manifest = client.get(f"/key/{token}/forms/kt_dscoban_post/manifest", headers=OR).data.decode()
    assert f"md5:{trainees.md5}" in manifest
    ok(runner.invoke(args=["courses", "close", "DSCB-2026-09"]))
    assert "GL001" not in media("trainees.csv").content.decode()
    assert ",closed," in media("courses.csv").content.decode()
    assert session.scalar(sa.select(sa.func.count(FormMedia.id))) >= 2


def test_publishing_again_never_replaces_the_registry_lists(programme, runner, session):
    """``make run`` re-publishes forms/ on every start; the sample CSVs there must not win."""
    ok(runner.invoke(args=["courses", "enrol", "DSCB-2026-09", "GL001"]))
    sample = (ROOT / "forms" / "kt_dscoban_post-media" / "trainees.csv").read_bytes()

    def trainees():
        session.expire_all()
        return session.execute(
            sa.select(FormMedia).where(FormMedia.filename == "trainees.csv")
        ).scalar_one()

    made = trainees().content
    assert made != sample
    assert b"GL001" in made
    out = ok(runner.invoke(args=["forms", "publish", str(ROOT / "forms" / "kt_dscoban_post.xlsx")]))
    assert out.startswith("unchanged ")
    assert "media_updated" not in out
    assert trainees().content == made


def test_a_new_version_starts_with_the_registry_lists(programme, runner, session, tmp_path):
    """A new form version published from files gets the registry's lists, not the samples."""
    ok(runner.invoke(args=["courses", "enrol", "DSCB-2026-09", "GL001"]))
    rows = session.execute(
        sa.select(FormVersion.id, FormMedia.filename, FormMedia.md5).join(FormVersion.media)
    ).all()
    assert {r.filename for r in rows} >= {"courses.csv", "trainees.csv"}
    media = {r.filename: r.md5 for r in rows}
    ok(runner.invoke(args=["forms", "publish", str(ROOT / "forms" / "kt_dscoban_pre.xlsx")]))
    pre = session.execute(
        sa.select(FormMedia.filename, FormMedia.md5)
        .join(FormVersion)
        .join(Form, Form.id == FormVersion.form_pk)
        .where(Form.form_id == "kt_dscoban_pre")
    ).all()
    assert dict(pre) == media


def test_key_import_rejects_items_the_form_lacks(programme, runner, tmp_path):
    bad = KEY_FILE.read_text(encoding="utf-8") + "DSCOBAN,2026.1,q99,single,a,1,TP01,C19,x\n"
    (tmp_path / "bad.csv").write_text(bad, encoding="utf-8")
    result = runner.invoke(args=["keys", "import", "kt_dscoban_post", str(tmp_path / "bad.csv")])
    assert result.exit_code == 1
    assert "400.16" in result.output and "item 'q99' is not in the form" in result.output
    wrong_choice = KEY_FILE.read_text(encoding="utf-8").replace(",q01,single,a,", ",q01,single,z,")
    (tmp_path / "wrong.csv").write_text(wrong_choice, encoding="utf-8")
    result = runner.invoke(args=["keys", "import", "kt_dscoban_post", str(tmp_path / "wrong.csv")])
    assert "q01: choice(s) ['z'] not in the question" in result.output


def test_post_test_is_scored_on_the_server_and_rescored_when_the_key_changes(
    programme, runner, session, client, token, tmp_path
):
    ok(runner.invoke(args=["courses", "enrol", "DSCB-2026-09", "GL001"]))
    out = ok(runner.invoke(args=["keys", "import", "kt_dscoban_post", str(KEY_FILE)]))
    assert f"{len(KEY)} items keyed, 0 submission(s) scored" in out
    post_test(client, token, "GL001", KEY)
    score = session.execute(sa.select(ExamScore)).scalar_one()
    assert (score.raw, score.maximum, score.percent, score.passed) == (
        len(KEY),
        len(KEY),
        100.0,
        True,
    )
    assert score.phase == "post"
    link = session.execute(sa.select(SubmissionLink)).scalar_one()
    assert (link.course_code, link.person_code, link.unknown_person) == (
        "DSCB-2026-09",
        "GL001",
        False,
    )
    assert link.person_id is not None and link.course_id is not None
    enrolment = session.execute(sa.select(Enrolment)).scalar_one()
    assert (enrolment.completion, enrolment.source) == ("completed", "post_test")
    changed = KEY_FILE.read_text(encoding="utf-8").replace(
        f",q01,single,{KEY['q01'][0]},",
        ",q01,single,{},".format(next(c for c in "abcd" if c != KEY["q01"][0])),
    )
    (tmp_path / "fixed.csv").write_text(changed, encoding="utf-8")
    out = ok(runner.invoke(args=["keys", "import", "kt_dscoban_post", str(tmp_path / "fixed.csv")]))
    assert "1 submission(s) scored" in out
    session.expire_all()
    rescored = session.execute(sa.select(ExamScore)).scalar_one()
    assert rescored.raw == len(KEY) - 1
    assert rescored.marks["q01"] == 0.0


def test_unknown_codes_are_kept_and_flagged(programme, runner, session, client, token):
    post_test(client, token, "GL404", {"q01": ["a"]}, instance="uuid:u1", course="KHONG-CO")
    link = session.execute(sa.select(SubmissionLink)).scalar_one()
    assert (link.course_code, link.person_code) == ("KHONG-CO", "GL404")
    assert link.unknown_course and link.unknown_person
    assert link.course_id is None and link.person_id is None
    assert ok(runner.invoke(args=["scores", "rebuild"])).startswith("1 submission(s) projected")


def test_answer_key_may_be_an_xlsx_workbook(programme, runner, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    rows = list(csv.reader(io.StringIO(KEY_FILE.read_text(encoding="utf-8"))))
    for row in rows:
        sheet.append(row)
    path = tmp_path / "key.xlsx"
    book.save(path)
    out = ok(runner.invoke(args=["keys", "import", "kt_dscoban_post", str(path)]))
    assert f"{len(KEY)} items keyed" in out


def test_unit_pickers_come_from_the_registry(programme, runner, session):
    ok(runner.invoke(args=["forms", "publish", str(ROOT / "forms" / "tna_dskhhgd.xlsx")]))
    ok(runner.invoke(args=["pickers", "refresh"]))
    version = session.execute(
        sa.select(FormVersion)
        .join(FormVersion.form)
        .where(sa.text("forms.form_id = 'tna_dskhhgd'"))
    ).scalar_one()
    media = {m.filename: m.content.decode() for m in version.media}
    assert media["provinces.csv"].splitlines() == ["name,label", "52,Tỉnh Gia Lai"]


def test_enrolments_and_completion_by_import(programme, runner, session, tmp_path):
    path = tmp_path / "hoc_vien.csv"
    path.write_text(
        "Mã khóa học,Mã cán bộ,Điểm danh,Hoàn thành\n"
        "DSCB-2026-09,GL001,Có mặt,Đạt\nDSCB-2026-09,GL002,Vắng,\n",
        encoding="utf-8",
    )
    assert "2 enrolled, 0 updated" in ok(
        runner.invoke(args=["courses", "import-enrolments", str(path)])
    )
    found = {
        (e.attendance, e.completion, e.source)
        for e in session.execute(sa.select(Enrolment)).scalars()
    }
    assert found == {("attended", "completed", "import"), ("absent", "in_progress", None)}
    path.write_text("Mã khóa học,Mã cán bộ\nDSCB-2026-09,GL404\nNOPE,GL001\n", encoding="utf-8")
    bad = runner.invoke(args=["courses", "import-enrolments", str(path)])
    assert bad.exit_code == 1
    assert "row 2: unknown person" in bad.output and "row 3: unknown course" in bad.output
