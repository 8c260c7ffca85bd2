"""The trainers' evaluation report through the API, from submissions received over OpenRosa.

The course is the reports spec's worked example (§3.11): ten trainees whose pre- and post-tests
score exactly the example's percentages on a 20-item key, posted as Collect would post them.
The figures read back through ``/api/v1/reports/courses/<code>/evaluation`` must be the
spec's (computed there with scipy 1.17.1), and the same again through the workbook.
"""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from server import MIGRATIONS_DIR
from server.extensions import db
from server.models import AnswerKey, AnswerKeyChange, ExamScore, ItemMarks
from tests.factories import STANDARD_KEY as KEY
from tests.factories import WORKED_COURSE as COURSE
from tests.factories import attempt_xml, form_version, post_submission
from tests.factories import cli_output as ok


def report(client, headers, code=COURSE):
    response = client.get(f"/api/v1/reports/courses/{code}/evaluation", headers=headers)
    assert response.status_code == 200, response.data
    return response.get_json()


def table(body, table_id):
    return next(t for s in body["sections"] for t in s["tables"] if t["id"] == table_id)


def row(tab, key, value):
    return next(r for r in tab["rows"] if r.get(key) == value)


def test_worked_example_through_the_api(client, course):
    body = report(client, course)
    enrolment = table(body, "S1")
    assert row(enrolment, "key", "enrolled")["n"] == 10
    assert row(enrolment, "key", "matched")["n"] == 10
    scores = table(body, "S2")["rows"]
    assert scores[0]["mean"] == pytest.approx(56.0)
    assert scores[0]["sd"] == pytest.approx(13.90, abs=0.005)
    assert scores[1]["mean"] == pytest.approx(72.5)
    assert scores[1]["sd"] == pytest.approx(12.30, abs=0.005)
    gain = {r["key"]: r for r in table(body, "S3")["rows"]}
    assert gain["mean_gain"]["value"] == pytest.approx(16.5)
    assert gain["sd_gain"]["value"] == pytest.approx(8.835, abs=5e-4)
    assert gain["mean_gain"]["low"] == pytest.approx(10.18, abs=0.005)
    assert gain["mean_gain"]["high"] == pytest.approx(22.82, abs=0.005)
    assert gain["paired_t"]["value"] == pytest.approx(5.906, abs=5e-4)
    assert gain["paired_t"]["p"] == pytest.approx(0.00023, abs=5e-6)
    assert gain["wilcoxon"]["value"] == 0
    assert gain["wilcoxon"]["p"] == pytest.approx(0.0039, abs=5e-5)
    assert gain["median_gain"]["value"] == pytest.approx(17.5)
    assert (gain["median_gain"]["low"], gain["median_gain"]["high"]) == (15, 20)
    assert gain["d_z"]["value"] == pytest.approx(1.868, abs=5e-4)
    assert gain["d_av"]["value"] == pytest.approx(1.259, abs=5e-4)
    assert gain["class_gain"]["value"] == pytest.approx(0.375, abs=5e-4)
    assert gain["individual_gain"]["value"] == pytest.approx(0.379, abs=5e-4)
    assert gain["class_gain"]["band"] == "medium"
    passes = {r["key"]: r for r in table(body, "S4")["rows"]}
    assert (passes["pre"]["k"], passes["pre"]["n"]) == (2, 10)
    assert passes["pre"]["ci_low"] == pytest.approx(5.7, abs=0.05)
    assert passes["pre"]["ci_high"] == pytest.approx(51.0, abs=0.05)
    assert (passes["post"]["k"], passes["post"]["share"]) == (6, 60.0)
    assert passes["post"]["ci_low"] == pytest.approx(31.3, abs=0.05)
    assert passes["post"]["ci_high"] == pytest.approx(83.2, abs=0.05)
    assert passes["mcnemar"]["p"] == pytest.approx(0.125)
    assert any("significant" in line for line in body["findings_en"])


def test_trainee_table_scores_and_certificates(client, course):
    rows = table(report(client, course), "T1")["rows"]
    assert [r["trainee_id"] for r in rows] == sorted(r["trainee_id"] for r in rows) or rows
    first = row(table(report(client, course), "T1"), "trainee_id", "GL000")
    assert (first["pre_pct"], first["post_pct"], first["gain_pp"]) == (40, 70, 30)
    assert first["score10"] == 7.0
    assert first["pass_post"] == "Đạt"
    # attendance was never recorded: the certificate cannot be decided yet
    assert first["certificate"] is None
    audit = table(report(client, course), "T2")["rows"]
    assert len(audit) == 20 and audit[0]["responses"].startswith("q01=")


def test_item_analysis_and_distractors_from_the_item_projection(client, course, session):
    # one row per attempt (10 trainees × pre and post): the key's 20 items in its order
    kept = session.execute(sa.select(ItemMarks)).scalars().all()
    assert len(kept) == 20
    for marks in kept:
        keyed = session.scalars(
            sa.select(AnswerKey.item)
            .where(AnswerKey.form_version_id == marks.form_version_id)
            .order_by(AnswerKey.id)
        ).all()
        assert marks.items == keyed and len(keyed) == 20
        assert len(marks.marks) == len(marks.max_marks) == len(marks.responses) == 20
    body = report(client, course)
    items = table(body, "I-pre-course-DSCOBAN")
    assert items["n"] == 10 and len(items["rows"]) == 20
    q01 = row(items, "item_id", "q01")
    # everyone answered q01 right on the pre-test (the first 7 items are right for all)
    assert q01["facility_pct"] == 100 and q01["discrimination_index"] is None
    test_stats = table(body, "IT-pre-course-DSCOBAN")["rows"]
    assert test_stats[0]["value"] == 10
    comparison = table(body, "D1-DSCOBAN")["rows"]
    assert len(comparison) == 20
    distractors = table(body, "D2-DSCOBAN")["rows"]
    assert {r["option"] for r in distractors if r["item_id"] == "q01"} >= {"a", "b", "c", "d"}
    keyed = [r["option"] for r in distractors if r["item_id"] == "q01" and r.get("is_key") == "✓"]
    assert keyed == [KEY["q01"]]
    assert "E1-pre" in body["charts"] and "E1-post" in body["charts"]


def test_satisfaction_and_comments(client, course):
    body = report(client, course)
    likert = table(body, "L1")
    assert likert["n"] == 8
    assert all(r["label"] for r in likert["rows"])  # no table-list header row
    assert [r["item"] for r in likert["rows"]][:10] == [f"sat_{n:02d}" for n in range(1, 11)]
    overall = next(r for r in likert["rows"] if r["item"] == "overall")
    assert overall["n"] == 8 and overall["mean"] == pytest.approx(4.0)
    trainers = table(body, "L3")["rows"]
    assert trainers[0]["trainer"] == "Lý Thị Giảng" and trainers[0]["n"] == 8
    themes = table(body, "C1")
    assert all(r["pct"] is None or 0 <= r["pct"] <= 100 for r in themes["rows"])
    quotes = " ".join(r["quotes"] for r in themes["rows"])
    assert "0905123456" not in quotes and "Hoa" not in quotes
    assert table(body, "L5")["rows"][0]["n"] == 3
    line = table(body, "S5")["rows"]
    assert line[1]["value"] == pytest.approx(75.0)


def test_recoding_a_comment_is_kept(client, course):
    body = report(client, course)
    verbatim = table(body, "C2")["rows"][0]
    url = (
        f"/api/v1/reports/courses/{COURSE}/comments/{verbatim['submission_id']}/"
        f"{verbatim['question_name']}"
    )
    response = client.put(url, json={"codes": [4, 9]}, headers=course)
    assert response.status_code == 200, response.data
    assert response.get_json()["codes"] == [4, 9]
    again = row(table(report(client, course), "C2"), "submission_id", verbatim["submission_id"])
    assert again["codes"] == "4, 9"
    bad = client.put(url, json={"codes": [77]}, headers=course)
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "422.1"
    elsewhere = client.put(
        f"/api/v1/reports/courses/{COURSE}/comments/999999/improve",
        json={"codes": [1]},
        headers=course,
    )
    assert elsewhere.status_code == 404


def test_dropping_an_item_rescored_with_an_audit_row(client, course, session):
    response = client.post(
        "/api/v1/forms/kt_dscoban_pre/answer-key/items/q20",
        json={"status": "dropped", "reason": "hai đáp án đúng"},
        headers=course,
    )
    assert response.status_code == 200, response.data
    assert response.get_json()["rescored"] == 10
    assert session.scalar(sa.select(ExamScore.maximum).limit(1)) in (19.0, 20.0)
    changes = session.execute(sa.select(AnswerKeyChange)).scalars().all()
    assert [(c.item, c.change) for c in changes] == [("q20", "dropped")]
    body = report(client, course)
    k1 = table(body, "K1")["rows"]
    assert k1[0]["item"] == "q20" and k1[0]["rescored"] == 10
    items = [r["item_id"] for r in table(body, "I-pre-course-DSCOBAN")["rows"]]
    assert "q20" not in items
    no_reason = client.post(
        "/api/v1/forms/kt_dscoban_pre/answer-key/items/q19",
        json={"status": "dropped", "reason": ""},
        headers=course,
    )
    assert no_reason.status_code == 422


def test_workbook_has_every_table(client, course):
    response = client.get(f"/api/v1/reports/courses/{COURSE}/evaluation.xlsx", headers=course)
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    body = report(client, course)
    ids = [t["id"] for s in body["sections"] for t in s["tables"]]
    assert len(book.sheetnames) == len(ids) + 1


def test_access_rows_and_scope(client, course, token_for, runner, session):
    trainer = token_for("gv", role="trainer")
    assert (
        client.get(f"/api/v1/reports/courses/{COURSE}/evaluation", headers=trainer).status_code
        == 403
    )
    planner = token_for("lan", role="planner")
    ok(runner.invoke(args=["users", "assign", "lan", "--unit", "52"]))
    body = report(client, planner)
    ids = {t["id"] for s in body["sections"] for t in s["tables"]}
    assert "T1" not in ids and "C2" not in ids and "S2" in ids
    outsider = token_for("xa", role="planner")
    ok(runner.invoke(args=["users", "assign", "xa", "--unit", "23584"]))
    assert (
        client.get(f"/api/v1/reports/courses/{COURSE}/evaluation", headers=outsider).status_code
        == 403
    )
    assert client.get("/api/v1/reports/courses/NOPE/evaluation", headers=course).status_code == 404


def test_course_without_tests_shows_reasons(client, course, runner):
    ok(
        runner.invoke(
            args=["courses", "create", "EMPTY-1", "--title", "Trống", "--start", "2026-10-01",
                  "--end", "2026-10-02", "--satisfaction-form", "danhgia_khoahoc"]
        )
    )  # fmt: skip
    body = report(client, course, "EMPTY-1")
    gain = {r["key"]: r for r in table(body, "S3")["rows"]}
    assert gain["mean_gain"]["value"] is None and gain["mean_gain"]["note"]
    assert table(body, "I0")["rows"] == []


def test_pooled_item_analysis_of_the_bank(client, course):
    response = client.get("/api/v1/reports/banks/DSCOBAN/2026.1", headers=course)
    assert response.status_code == 200, response.data
    body = response.get_json()
    assert body["parameters"]["courses"] == 1
    pooled = table(body, "I-pre-pooled-DSCOBAN")
    course_level = table(report(client, course), "I-pre-course-DSCOBAN")
    assert [r["facility_pct"] for r in pooled["rows"]] == [
        r["facility_pct"] for r in course_level["rows"]
    ]
    missing = client.get("/api/v1/reports/banks/NONE/1", headers=course)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "404.7"


def test_a_test_sent_under_a_name_not_on_the_roster_is_held_then_linked(
    client, course, runner, session
):
    ok(runner.invoke(args=["courses", "enrol", COURSE, "GL099"]))
    device = json.loads(
        ok(runner.invoke(args=["devices", "create", "lop2", "--form", "kt_dscoban_post", "--json"]))
    )
    version = form_version(client, device["token"], "kt_dscoban_post")
    xml = attempt_xml(
        "kt_dscoban_post", version, phase="post", course=COURSE, trainee="_notlisted",
        correct_items=15, key=KEY, instance="uuid:fallback-1",
    ).replace(b"</trainee_id>", "</trainee_id><fb_name>Y Niê K.</fb_name>".encode())  # fmt: skip
    post_submission(client, device["token"], xml)
    body = report(client, course)
    waiting = table(body, "T3")["rows"]
    assert [(r["fb_name"], r["percent"]) for r in waiting] == [("Y Niê K.", 75.0)]
    assert row(table(body, "S1"), "key", "fallback")["n"] == 1
    assert row(table(body, "S1"), "key", "matched")["n"] == 10
    url = f"/api/v1/reports/courses/{COURSE}/identities/{waiting[0]['submission_id']}"
    refused = client.put(url, json={"person_code": "GV001"}, headers=course)
    assert refused.status_code == 422  # not enrolled
    linked = client.put(url, json={"person_code": "GL099"}, headers=course)
    assert linked.status_code == 200, linked.data
    body = report(client, course)
    assert table(body, "T3")["rows"] == []
    assert row(table(body, "T1"), "trainee_id", "GL099")["post_pct"] == 75.0
    ok(runner.invoke(args=["scores", "rebuild"]))
    again = report(client, course)
    assert row(table(again, "T1"), "trainee_id", "GL099")["post_pct"] == 75.0
    assert client.put(url, json={"person_code": "GL099"}, headers=course).status_code == 404


def test_item_marks_survive_the_move_to_one_row_per_attempt_and_back(app, client, course):
    """Migration 0027 folds the per-item rows into one per attempt, and unfolds them going down."""

    def matrix() -> dict:
        db.session.rollback()
        found = db.session.execute(sa.select(ItemMarks)).scalars().all()
        return {
            m.submission_id: (
                m.form_version_id,
                dict(zip(m.items, zip(m.marks, m.max_marks, m.responses, strict=True),
                         strict=True)),
            )
            for m in found
        }  # fmt: skip

    blank = db.session.execute(sa.select(ItemMarks).limit(1)).scalar_one()
    blank.responses = [None, *blank.responses[1:]]  # a blank answer: NULL inside the list
    db.session.commit()
    before, report_before = matrix(), report(client, course)
    assert len(before) == 20
    db.session.remove()
    with app.app_context():
        downgrade(directory=str(MIGRATIONS_DIR), revision="0026")
        per_item = db.session.execute(
            sa.text("SELECT count(*), count(response) FROM test_item_marks")
        ).one()
        db.session.commit()
        upgrade(directory=str(MIGRATIONS_DIR))
    blanks = sum(r is None for _, m in before.values() for *_, r in m.values())
    assert tuple(per_item) == (20 * 20, 20 * 20 - blanks)
    assert matrix() == before
    after = report(client, course)
    assert after["sections"] == report_before["sections"]
