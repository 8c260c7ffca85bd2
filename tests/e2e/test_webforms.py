"""ODK Collect's conversation with the real server, form by form, on both databases.

``tests/webforms/collect.mjs`` plays the device: it lists the forms, downloads each XForm and its
media (checking every md5), fills the form with the ODK Web Forms engine (the engine evaluates
relevance, cascades from the CSV media, constraints and repeats), then HEADs and POSTs the
submission exactly as Collect does, twice, the second time as a retry. The test then reads the
database to check that the XML was kept byte for byte and the answers were parsed with their
types.

Needs Node 20 and ``npm ci`` in ``tests/webforms`` (``node_modules`` is not committed).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from harness import ROOT
from harness.cli import app_env, flask
from harness.gunicorn import Gunicorn, free_port
from tests.factories import DATA, make_config

WEBFORMS = ROOT / "tests" / "webforms"
COLLECT = WEBFORMS / "collect.mjs"
FORM_IDS = ("tna_dskhhgd", "kt_dscoban_pre", "kt_dscoban_post", "danhgia_khoahoc", "mini")

# A tiny but valid JPEG: SOI, a JFIF APP0 segment, a comment, EOI.
JPEG = (
    b"\xff\xd8"
    + b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + b"\xff\xfe\x01\x02"
    + "Ảnh thẻ – tập huấn dân số, Gia Lai. ".encode() * 7
    + b"\xff\xd9"
)


def _missing_tooling() -> str | None:
    if shutil.which("node") is None:
        return "node is not on PATH (Node 20 is needed for tests/webforms)"
    if not (WEBFORMS / "node_modules" / "@getodk" / "xforms-engine").is_dir():
        return (
            "tests/webforms/node_modules missing: run `npm ci` in tests/webforms (make test does)"
        )
    return None


# --- Answers, as a person fills each form in Collect (codes from the forms and sample CSVs) ---

# Competencies a commune population officer (staff_cat vc_commune, level commune) is asked about.
TNA_COMPETENCIES = (1, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19)


def tna_answers() -> dict:
    answers = {
        "/data/consent": "yes",
        "/data/g_unit/level": "commune",
        "/data/g_unit/province": "52",  # Gia Lai
        "/data/g_unit/district": "627",  # former Chư Păh district
        "/data/g_unit/commune": "23722",  # Xã Chư Păh
        "/data/g_unit/unit_id": "u_tyt_23722",
        "/data/g_person/staff_id": "p0007",  # Ksor H'Nhi
        "/data/g_person/staff_cat": "vc_commune",
        "/data/g_person/job_position": "pop_specialist",
        "/data/g_person/sex": "f",
        "/data/g_person/birth_year": "1988",
        "/data/g_person/ethnic_minority": "yes",
        "/data/g_person/years_pop": "9",
        "/data/g_person/edu_level": "college",
        "/data/g_person/edu_field": "medpharm",
        "/data/g_person/cdnn_rank": "ds_iv",
        "/data/g_train/certs": ["vc_std", "basic_2m"],
        "/data/g_train/yr_vc_std": "2015",
        "/data/g_train/topics_24m": ["tp01", "tp04"],
        "/data/g_train/days_12m": "6",
    }
    for n in TNA_COMPETENCIES:
        c = f"c{n:02d}"
        if n == 18:  # "not applicable": the performance question disappears
            answers[f"/data/g_{c}/imp_{c}"] = "na"
            continue
        answers[f"/data/g_{c}/imp_{c}"] = str(1 + n % 5)
        answers[f"/data/g_{c}/perf_{c}"] = str(1 + (n * 3) % 5)
    answers.update(
        {
            "/data/g_wants/topics_wanted": ["tp02", "tp06", "tp09"],
            "/data/g_wants/topic_top1": "tp06",
            "/data/g_wants/pref_format": "blended",
            "/data/g_wants/pref_duration": "d2_3",
            "/data/g_wants/pref_place": "district",
            "/data/g_wants/barriers": ["workload", "distance"],
            "/data/g_wants/device_access": ["smartphone", "internet"],
            "/data/g_wants/other_needs": "Cần tài liệu hướng dẫn tư vấn bằng tiếng Gia Rai",
            "/data/g_wants/comments": "Mong được tập huấn vào mùa khô, tránh mùa thu hoạch cà phê.",
        }
    )
    return answers


def kt_answers(course: str, trainee: str, picks: dict[str, str | list[str]]) -> dict:
    answers: dict = {"/data/course_code": course, "/data/trainee_id": trainee}
    if trainee == "_notlisted":
        answers.update(
            {
                "/data/fb_name": "Y Bhiăm Niê",
                "/data/fb_birth_year": "1979",
                "/data/fb_phone": "0905123456",
                "/data/fb_unit": "Trạm Y tế xã Ia Ly",
            }
        )
    answers.update({f"/data/{q}": v for q, v in picks.items()})
    return answers


PRE_PICKS = {f"q{n:02d}": "a" for n in range(1, 26)} | {
    "q02": "b",
    "q05": ["a", "b", "d"],
    "q09": "true",
    "q11": ["b", "e"],
    "q15": ["a", "c"],
    "q20": "true",
    "q21": "d",
}
POST_PICKS = {
    "q01": "a",
    "q02": "c",
    "q03": "b",
    "q04": "d",
    "q05": ["a", "b", "d"],
    "q06": "b",
    "q07": "c",
    "q08": "a",
    "q09": "true",
    "q10": "d",
    "q11": ["a", "c", "d"],
    "q12": "b",
    "q13": "d",
    "q14": "a",
    "q15": ["a", "b", "c"],
    "q16": "c",
    "q17": "a",
    "q18": "b",
    "q19": "d",
    "q20": "false",
    "q21": "c",
    "q22": "a",
    "q23": "a",
    "q24": "c",
    "q25": "b",
}


def satisfaction_answers() -> dict:
    answers: dict = {"/data/course_code": "DSCB-2026-01", "/data/resp_level": "commune"}
    answers.update({f"/data/g_sat/sat_{n:02d}": str(4 + n % 2) for n in range(1, 11)})
    answers["/data/g_sat/sat_07"] = "na"
    answers["/data/overall"] = "4"
    # One entry per trainer: the second one is added as with "Add group" in Collect.
    for i, (trainer, scores) in enumerate((("gv01", "545"), ("gv02", "434")), start=1):
        answers[f"/data/tr[{i}]/trainer_id"] = trainer
        for part, score in zip(("tr_clear", "tr_engage", "tr_time"), scores, strict=True):
            answers[f"/data/tr[{i}]/{part}"] = score
    for o in (1, 2, 3):
        answers[f"/data/g_conf/conf_before_o{o}"] = str(o)
        answers[f"/data/g_conf/conf_after_o{o}"] = str(o + 2)
    answers.update(
        {
            "/data/intent_apply": "5",
            "/data/apply_barriers": ["workload", "distance"],
            "/data/most_useful": "Thực hành ghi chép Sổ A0 và phiếu thu tin P0/CTV",
            "/data/improve": "Thêm thời gian thảo luận nhóm, tài liệu in màu",
            "/data/next_topics": ["tp06", "tp07"],
            "/data/other_comments": "Cảm ơn ban tổ chức và giảng viên nhiệt tình.",
        }
    )
    return answers


MINI_ANSWERS = {
    "/data/full_name": "Nguyễn Thị Hoa",
    "/data/age": "34",
    "/data/ok": "yes",
    "/data/photo": "photo.jpg",
}


# --- What the server must have stored, form by form -------------------------------------------


def check_tna(data: dict, attachments: dict) -> None:
    assert data["consent"] == "yes"
    assert data["g_unit"]["province"] == "52"
    assert data["g_unit"]["commune"] == "23722"  # a code: stays a string
    assert data["g_person"]["birth_year"] == 1988
    assert data["g_person"]["years_pop"] == 9
    assert sorted(data["g_train"]["certs"]) == ["basic_2m", "vc_std"]
    assert data["g_train"]["yr_vc_std"] == 2015
    assert sorted(data["g_wants"]["topics_wanted"]) == ["tp02", "tp06", "tp09"]
    assert data["g_wants"]["other_needs"] == "Cần tài liệu hướng dẫn tư vấn bằng tiếng Gia Rai"
    assert data["g_c18"]["imp_c18"] == "na"
    assert "perf_c18" not in data["g_c18"]  # not relevant, so not submitted
    assert "g_c02" not in data  # leaders only
    assert data["deviceid"] == "collect:e2etest000000001"
    assert attachments == {}


def check_pre(data: dict, attachments: dict) -> None:
    assert data["phase"] == "pre"
    assert data["bank_id"] == "DSCOBAN"
    assert data["course_code"] == "DSCB-2026-02"
    assert data["trainee_id"] == "_notlisted"
    assert data["fb_name"] == "Y Bhiăm Niê"
    assert data["fb_birth_year"] == 1979
    assert data["fb_phone"] == "0905123456"  # a string field: the leading zero survives
    assert sorted(data["q05"]) == ["a", "b", "d"]  # a select_multiple: a list
    assert sorted(data["q11"]) == ["b", "e"]
    assert data["q09"] == "true"
    assert attachments == {}


def check_post(data: dict, attachments: dict) -> None:
    assert data["phase"] == "post"
    assert data["trainee_id"] == "p0003"
    assert "fb_name" not in data
    assert sorted(data["q15"]) == ["a", "b", "c"]
    assert data["q20"] == "false"
    assert attachments == {}


def check_satisfaction(data: dict, attachments: dict) -> None:
    assert data["course_code"] == "DSCB-2026-01"
    assert data["g_sat"]["sat_07"] == "na"
    assert [t["trainer_id"] for t in data["tr"]] == ["gv01", "gv02"]
    assert data["tr"][1]["tr_engage"] == "3"
    assert data["g_conf"]["conf_after_o3"] == "5"
    assert sorted(data["apply_barriers"]) == ["distance", "workload"]
    assert sorted(data["next_topics"]) == ["tp06", "tp07"]
    assert data["most_useful"] == "Thực hành ghi chép Sổ A0 và phiếu thu tin P0/CTV"
    assert attachments == {}


def check_mini(data: dict, attachments: dict) -> None:
    assert data["full_name"] == "Nguyễn Thị Hoa"
    assert data["age"] == 34
    assert data["ok"] == "yes"
    assert data["photo"] == "photo.jpg"
    assert attachments == {"photo.jpg": hashlib.sha256(JPEG).hexdigest()}


CASES = {
    "tna_dskhhgd": (tna_answers(), check_tna),
    "kt_dscoban_pre": (kt_answers("DSCB-2026-02", "_notlisted", PRE_PICKS), check_pre),
    "kt_dscoban_post": (kt_answers("DSCB-2026-01", "p0003", POST_PICKS), check_post),
    "danhgia_khoahoc": (satisfaction_answers(), check_satisfaction),
    "mini": (MINI_ANSWERS, check_mini),
}


# --- Plumbing ----------------------------------------------------------------------------------


def collect(server_url: str, form_id: str, answers: dict, workdir: Path, attach: dict) -> dict:
    """Run collect.mjs for one form; return its JSON report (asserting it succeeded)."""
    answers_file = workdir / f"{form_id}.answers.json"
    answers_file.write_text(json.dumps(answers, ensure_ascii=False), encoding="utf-8")
    command = [
        "node",
        str(COLLECT),
        "--server",
        server_url,
        "--form",
        form_id,
        "--answers",
        str(answers_file),
        "--repeat-post",
    ]
    for name, path in attach.items():
        command += ["--attach", f"{name}={path}"]
    result = subprocess.run(
        command, cwd=WEBFORMS, capture_output=True, text=True, timeout=180, check=False
    )
    lines = result.stdout.strip().splitlines()
    report = json.loads(lines[-1]) if lines else {}
    assert result.returncode == 0, (
        f"collect.mjs {form_id} exited {result.returncode}\n"
        f"POST statuses {report.get('status')}/{report.get('repeatStatus')}\n"
        f"body: {report.get('body')}\nrepeat body: {report.get('repeatBody')}\n"
        f"stderr:\n{result.stderr}"
    )
    assert report["status"] == 201
    assert report["repeatStatus"] == 201  # an identical resubmission is an idempotent success
    assert report["formID"] == form_id
    return report


def stored_submission(database_url: str, storage_dir: Path, form_id: str, instance_id: str) -> dict:
    """What the server stored for one instanceID, as plain values (the only model-aware code)."""
    from server import create_app
    from server.extensions import db
    from server.models import ExamScore, Form, Submission, SubmissionLink

    app = create_app(make_config(database_url, storage_dir))
    with app.app_context():
        try:
            rows = db.session.scalars(
                sa.select(Submission)
                .join(Submission.form)
                .where(Form.form_id == form_id, Submission.instance_id == instance_id)
            ).all()
            assert len(rows) == 1, f"{len(rows)} rows stored for {form_id} {instance_id}"
            row = rows[0]
            return {
                "form_id": row.form.form_id,
                "instance_id": row.instance_id,
                "xml": bytes(row.xml),
                "data": row.data,
                "attachments": {a.name: a.sha256 for a in row.attachments},
                "score": _plain(db.session.get(ExamScore, row.id), ("raw", "maximum", "phase")),
                "link": _plain(
                    db.session.get(SubmissionLink, row.id),
                    ("course_id", "person_id", "unknown_course", "unknown_person"),
                ),
            }
        finally:
            db.session.remove()
            db.engine.dispose()


def _plain(row, names: tuple[str, ...]) -> dict | None:
    return None if row is None else {name: getattr(row, name) for name in names}


REGISTRY_UNITS = """level,code,name,parent_code,valid_from
province,52,Tỉnh Gia Lai,,2025-07-01
commune,21583,Phường Quy Nhơn,52,2025-07-01
"""
REGISTRY_ROSTER = (
    "Mã cán bộ,Họ và tên,Giới tính,Mã đơn vị hành chính,Tuyến,Loại hình,Nhóm đối tượng,"
    "Ngày bắt đầu\n"
    "p0003,Lê Thị Hồng Nhung,Nữ,21583,Tuyến xã,Viên chức,vc_commune,01/08/2025\n"
    "gv01,Nguyễn Thị Thu Hà,Nữ,52,Tuyến tỉnh,Công chức,trainer,01/08/2025\n"
    "gv02,Hoàng Văn Nam,Nam,52,Tuyến tỉnh,Viên chức,trainer,01/08/2025\n"
    "gv03,Trần Văn Minh,Nam,52,Tuyến tỉnh,Công chức,trainer,01/08/2025\n"
)
OBJECTIVES = (
    "Trình bày được chủ trương của Nghị quyết 21-NQ/TW về công tác dân số trong tình hình mới",
    "Thực hiện được ghi chép ban đầu (Sổ A0, A0/CTV, P0/CTV) theo Thông tư 01/2022/TT-BYT",
    "Tư vấn được về sàng lọc trước sinh, sơ sinh và kiểm soát mất cân bằng giới tính khi sinh",
)


def set_up_registry(env: dict, tmp_path: Path) -> None:
    """Register the courses, people and keys the answers pick.

    The tablets' lists then come from the server (pickers regenerate on every change) and the
    tests get scored against the key.
    """
    (tmp_path / "units.csv").write_text(REGISTRY_UNITS, encoding="utf-8")
    (tmp_path / "roster.csv").write_text(REGISTRY_ROSTER, encoding="utf-8")
    flask(["units", "import", str(tmp_path / "units.csv")], env)
    flask(["roster", "import", str(tmp_path / "roster.csv")], env)
    forms = (
        "--pre-form",
        "kt_dscoban_pre",
        "--post-form",
        "kt_dscoban_post",
        "--satisfaction-form",
        "danhgia_khoahoc",
    )
    objectives = [arg for text in OBJECTIVES for arg in ("--objective", text)]
    flask(
        [
            "courses",
            "create",
            "DSCB-2026-01",
            "--title",
            "Kiến thức dân số cơ bản",
            "--start",
            "2026-11-12",
            "--end",
            "2026-11-14",
            "--trainer",
            "gv01",
            "--trainer",
            "gv02",
            *forms,
            *objectives,
        ],
        env,
    )
    flask(
        [
            "courses",
            "create",
            "DSCB-2026-02",
            "--title",
            "Kiến thức dân số cơ bản",
            "--start",
            "2026-12-01",
            "--end",
            "2026-12-03",
            "--trainer",
            "gv03",
            "--trainer",
            "gv01",
            *forms,
            "--objective",
            OBJECTIVES[0],
        ],
        env,
    )
    flask(["courses", "enrol", "DSCB-2026-01", "p0003"], env)
    key = str(ROOT / "forms" / "answer-keys" / "DSCOBAN-2026.1.csv")
    flask(["keys", "import", "kt_dscoban_pre", key], env)
    flask(["keys", "import", "kt_dscoban_post", key], env)


def check_scored(stored: dict) -> None:
    """Both tests are scored on the server against the key; the post-test's trainee resolves."""
    assert stored["score"] is not None
    assert stored["score"]["maximum"] == 25
    assert stored["link"]["course_id"] is not None
    if stored["form_id"] == "kt_dscoban_post":
        assert stored["score"]["phase"] == "post"
        assert stored["link"]["person_id"] is not None
        assert not stored["link"]["unknown_person"]


# --- The test ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_collect_fills_and_submits_every_standard_form(databases, backend, tmp_path):
    if reason := _missing_tooling():
        # make test installs Node packages itself, so there a missing tool is a failure.
        if os.environ.get("TAPHUAN_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    url = databases.empty(backend)
    port = free_port()
    env = app_env(url, tmp_path / "storage", secret_key="e2e", BASE_URL=f"http://127.0.0.1:{port}")
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(JPEG)
    try:
        flask(["db", "upgrade"], env)
        flask(["forms", "publish", "forms", str(DATA / "forms" / "mini.md")], env)
        set_up_registry(env, tmp_path)
        forms = [arg for form_id in FORM_IDS for arg in ("--form", form_id)]
        device = json.loads(flask(["devices", "create", "e2e-tablet", *forms, "--json"], env))
        server_url = device["url"]
        assert server_url.startswith(f"http://127.0.0.1:{port}/")
        log = tmp_path / "gunicorn.log"
        with Gunicorn(
            env, log, workers=2, worker_class="sync", threads=0, port=port, ready_path="/"
        ):
            for form_id in FORM_IDS:
                answers, check = CASES[form_id]
                attach = {"photo.jpg": photo} if form_id == "mini" else {}
                report = collect(server_url, form_id, answers, tmp_path, attach)
                stored = stored_submission(url, tmp_path / "storage", form_id, report["instanceID"])
                assert stored["form_id"] == form_id
                assert stored["xml"] == report["xml"].encode("utf-8")
                check(stored["data"], stored["attachments"])
                if form_id.startswith("kt_"):
                    check_scored(stored)
    finally:
        databases.drop(url)
