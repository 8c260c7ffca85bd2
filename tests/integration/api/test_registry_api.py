"""The registry over the API, with its role checks."""

from __future__ import annotations

import io

import pytest

from harness import ROOT
from server.extensions import db
from server.services.accounts import find_user

UNITS = """level,code,name,parent_code,valid_from
province,52,Tỉnh Gia Lai,,2025-07-01
commune,21583,Phường Quy Nhơn,52,2025-07-01
commune,23584,Xã Ia Ka,52,2025-07-01
"""
ROSTER = (
    "Mã cán bộ,Họ và tên,Giới tính,Mã đơn vị hành chính,Tuyến,Loại hình,Nhóm đối tượng,"
    "Ngày bắt đầu\n"
    "GL001,Nguyễn Thị Hoa,Nữ,21583,Tuyến xã,Viên chức,vc_commune,01/08/2025\n"
    "GL002,Rơ Châm Blơi,Nam,23584,Tuyến xã,Viên chức,vc_commune,01/08/2025\n"
)
COURSE = {
    "code": "C-01",
    "title": "Dân số cơ bản",
    "course_type": "tap_huan",
    "start_date": "2026-09-07",
    "end_date": "2026-09-09",
}


@pytest.fixture
def registry(runner, client, tmp_path, token_for):
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    assert runner.invoke(args=["units", "import", str(tmp_path / "units.csv")]).exit_code == 0
    admin = token_for()
    upload = {"file": (io.BytesIO(ROSTER.encode()), "roster.csv")}
    response = client.post(
        "/api/v1/roster/import", headers=admin, data=upload, content_type="multipart/form-data"
    )
    assert response.status_code == 200, response.data
    assert response.get_json()["added"] == 2
    return admin


def test_dry_run_import_over_the_api(registry, client):
    upload = {
        "file": (
            io.BytesIO(ROSTER.replace("Nguyễn Thị Hoa", "Nguyễn Thị Hoà").encode()),
            "roster.csv",
        ),
        "dry_run": "true",
    }
    result = client.post(
        "/api/v1/roster/import", headers=registry, data=upload, content_type="multipart/form-data"
    ).get_json()
    assert (result["dry_run"], result["updated"], result["unchanged"]) == (True, 1, 1)
    people = client.get("/api/v1/roster", headers=registry).get_json()
    assert {p["full_name"] for p in people} == {"Nguyễn Thị Hoa", "Rơ Châm Blơi"}


def test_planners_read_only_their_units_and_collectors_nothing(
    registry,
    client,
    token_for,
    legacy_token_for,
    runner,
):
    planner = token_for("lan", role="planner")
    assert client.get("/api/v1/roster", headers=planner).get_json() == []
    runner.invoke(args=["users", "assign", "lan", "--unit", "23584"])
    db.session.expire_all()
    people = client.get("/api/v1/roster", headers=planner).get_json()
    assert [p["person_code"] for p in people] == ["GL002"]
    assert people[0]["unit_name"] == "Xã Ia Ka"
    collector = legacy_token_for("thu", role="collector")
    assert client.get("/api/v1/roster", headers=collector).status_code == 403
    assert client.post("/api/v1/roster/import", headers=planner).status_code == 403
    everyone = client.get("/api/v1/roster?unit=52", headers=registry).get_json()
    assert len(everyone) == 2
    assert client.get("/api/v1/roster?on=someday", headers=registry).status_code == 422


def test_trainers_manage_their_own_courses(registry, client, token_for):
    trainer = token_for("gv", role="trainer")
    other = token_for("gv2", role="trainer")
    created = client.post("/api/v1/courses", headers=trainer, json=COURSE)
    assert created.status_code == 201, created.data
    enrol = client.post(
        "/api/v1/courses/C-01/enrolments",
        headers=trainer,
        json={"person_codes": ["GL001", "GL002"]},
    )
    assert enrol.get_json()["enrolled"] == ["GL001", "GL002"], enrol.data
    assert (
        client.post(
            "/api/v1/courses/C-01/enrolments", headers=other, json={"person_codes": ["GL001"]}
        ).status_code
        == 403
    )
    updated = client.patch(
        "/api/v1/courses/C-01/enrolments/GL001",
        headers=trainer,
        json={"attendance": "attended", "completion": "completed"},
    )
    row = next(e for e in updated.get_json()["enrolments"] if e["person_code"] == "GL001")
    assert (row["attendance"], row["completion"], row["source"]) == ("attended", "completed", "api")
    closed = client.patch("/api/v1/courses/C-01", headers=trainer, json={"status": "closed"})
    assert closed.get_json()["status"] == "closed"
    planner = token_for("lan", role="planner")
    assert client.post("/api/v1/courses", headers=planner, json=COURSE).status_code == 403


def test_course_and_enrolment_bad_input(registry, client):
    reversed_dates = client.post(
        "/api/v1/courses", headers=registry, json={**COURSE, "end_date": "2026-09-01"}
    )
    assert reversed_dates.status_code == 400
    assert "end_date" in reversed_dates.get_json()["error"]["details"]["fields"]
    missing = client.post("/api/v1/courses", headers=registry, json={"code": "X"})
    assert missing.status_code == 422
    client.post("/api/v1/courses", headers=registry, json=COURSE)
    assert client.post("/api/v1/courses", headers=registry, json=COURSE).status_code == 409
    ghost = client.post(
        "/api/v1/courses/C-01/enrolments", headers=registry, json={"person_codes": ["GL404"]}
    )
    assert ghost.get_json()["error"]["code"] == "404.6"
    assert client.get("/api/v1/courses/NONE", headers=registry).status_code == 404


def test_answer_key_upload_and_scores(registry, client, runner):
    runner.invoke(args=["forms", "publish", str(ROOT / "forms" / "kt_dscoban_post.xlsx")])
    key = (ROOT / "forms" / "answer-keys" / "DSCOBAN-2026.1.csv").read_bytes()
    result = client.post(
        "/api/v1/forms/kt_dscoban_post/answer-key",
        headers=registry,
        data={"file": (io.BytesIO(key), "key.csv")},
        content_type="multipart/form-data",
    )
    assert result.status_code == 200, result.data
    assert result.get_json() == {"items": 25, "rescored": 0}
    bad = key + b"DSCOBAN,2026.1,q99,single,a,1,TP01,C19,x\n"
    refused = client.post(
        "/api/v1/forms/kt_dscoban_post/answer-key",
        headers=registry,
        data={"file": (io.BytesIO(bad), "key.csv")},
        content_type="multipart/form-data",
    )
    assert refused.get_json()["error"]["code"] == "400.16"
    assert client.get("/api/v1/forms/kt_dscoban_post/scores", headers=registry).get_json() == []
    assert find_user(db.session, "admin").role == "admin"


def test_roster_template_and_export_downloads(registry, client):
    import openpyxl

    template = client.get("/api/v1/roster/template.xlsx", headers=registry)
    assert openpyxl.load_workbook(io.BytesIO(template.data)).sheetnames == [
        "danh_sach_can_bo",
        "danh_muc",
    ]
    export = client.get("/api/v1/roster/export.xlsx", headers=registry)
    rows = list(openpyxl.load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["GL001", "GL002"]
