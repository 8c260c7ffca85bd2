"""The programme roll-up (spec §3.8) through the API, from the worked-example course.

The course's ten trainees posted their pre- and post-tests over OpenRosa (fixture ``course``
of ``test_evaluation_report``), so the roll-up's figures are the worked example's: mean post
72.5 %, mean gain 16.5 pp, ⟨g⟩ = 16.5 / 44 = 0.375, 6 of 10 passed at 70 %, and 6 of the 8
evaluations answered "overall" 4 or 5. The six passed post-tests completed their enrolments,
and the needs report's KPI-02 numerator counts exactly those six.
"""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import User
from tests.factories import WORKED_COURSE as COURSE
from tests.factories import cli_output as ok

API = "/api/v1/reports/programme"


def tables(body: dict) -> dict:
    return {t["id"]: t for s in body["sections"] for t in s["tables"]}


def get(client, headers, **query):
    response = client.get(API, headers=headers, query_string=query)
    assert response.status_code == 200, response.data
    return tables(response.get_json())


def test_roll_up_of_the_worked_example(client, course):
    t = get(client, course)
    total = next(r for r in t["R1"]["rows"] if r["total"])
    assert (total["courses"], total["person_times"], total["unique"]) == (1, 10, 10)
    assert total["class_days"] == 5 and total["trainer_days"] == 5  # 7–11/9, one trainer
    assert total["completed"] == 6  # the passed post-tests completed their enrolments
    year = t["R1"]["rows"][0]
    assert (year["period"], year["type_code"]) == ("2026", "boi_duong")
    outcome = next(r for r in t["R3"]["rows"] if r["kind_code"] == "type")
    assert outcome["n_post"] == 10 and outcome["n_pairs"] == 10
    assert outcome["mean_post"] == pytest.approx(72.5)
    assert outcome["mean_gain"] == pytest.approx(16.5)
    assert outcome["gain_low"] == pytest.approx(10.18, abs=0.005)  # as the course report
    assert outcome["gain_high"] == pytest.approx(22.82, abs=0.005)
    assert outcome["class_gain"] == pytest.approx(16.5 / 44)
    assert outcome["pass_pct"] == pytest.approx(60) and outcome["pass_n"] == 10
    assert outcome["pass_low"] == pytest.approx(31.27, abs=0.01)  # Wilson, 6 of 10
    assert outcome["pass_high"] == pytest.approx(83.18, abs=0.01)
    assert (outcome["sat_n"], outcome["sat_top2"]) == (8, pytest.approx(75))
    topic = next(r for r in t["R3"]["rows"] if r["kind_code"] == "topic")
    assert topic["group_code"] == "TP01" and topic["mean_post"] == pytest.approx(72.5)
    per_course = t["R4"]["rows"]
    assert [r["code"] for r in per_course] == [COURSE]
    assert (per_course[0]["enrolled"], per_course[0]["completed"]) == (10, 6)
    by = {(r["dimension_code"], r["value_en"]): r for r in t["R2"]["rows"]}
    assert by[("sex", "Female")]["person_times"] == 5 and by[("sex", "Male")]["unique"] == 5
    assert by[("unit", "Phường Quy Nhơn")]["person_times"] == 5
    assert by[("level", "Commune level")]["completed"] == 6


def test_passed_completions_feed_the_kpi_numerators(client, course):
    response = client.get(
        "/api/v1/reports/needs", headers=course, query_string={"unit": "52", "as_of": "2026-12-01"}
    )
    assert response.status_code == 200, response.data
    kpi02 = tables(response.get_json())["D-KPI-02"]["rows"][0]
    assert kpi02["numerator"] == 6  # TP01 completed, recorded by the passed post-tests
    assert kpi02["denominator"] == 11  # the ten trainees and GL099, not on the course


def test_filters_periods_and_bad_values(client, course):
    assert get(client, course, start="2027-01-01")["R1"]["rows"] == []
    assert get(client, course, course_type="tap_huan")["R4"]["rows"] == []
    assert get(client, course, topic="TP05")["R4"]["rows"] == []
    quarter = get(client, course, period="quarter")["R1"]["rows"][0]
    assert quarter["period"] == "2026-Q3"
    response = client.get(API, headers=course, query_string={"period": "week"})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "422.1"
    response = client.get(
        API, headers=course, query_string={"start": "2026-12-01", "end": "2026-01-01"}
    )
    assert response.status_code == 422


def test_planners_see_courses_held_in_their_units(client, course, token_for):
    planner = token_for("lan", role="planner")
    user = db.session.scalar(sa.select(User).where(User.username == "lan"))
    user.unit_codes = ["23584"]  # not the venue (21583)
    db.session.commit()
    assert get(client, planner)["R4"]["rows"] == []
    user.unit_codes = ["52"]  # the province holds every unit
    db.session.commit()
    assert [r["code"] for r in get(client, planner)["R4"]["rows"]] == [COURSE]
    trainer = token_for("gv", role="trainer")
    assert client.get(API, headers=trainer).status_code == 403


def test_workbook_page_and_cli(client, course, runner, tmp_path):
    response = client.get(API + ".xlsx", headers=course)
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames[-4:] == ["R1", "R2", "R3", "R4"]
    out = tmp_path / "programme.json"
    ok(runner.invoke(args=["report", "programme", "--out", str(out), "--period", "quarter"]))
    body = json.loads(out.read_text(encoding="utf-8"))
    assert tables(body)["R1"]["rows"][0]["period"] == "2026-Q3"
    result = runner.invoke(args=["report", "programme", "--out", str(tmp_path / "x.txt")])
    assert result.exit_code != 0
