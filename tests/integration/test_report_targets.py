"""KPI targets and report settings as data: CLI, API, inheritance, validation, permissions."""

from __future__ import annotations

import datetime as dt

import pytest

from server.extensions import db
from server.services import accounts, report_targets
from tests.factories import NOW

UNITS = """level,code,name,parent_code,valid_from
province,52,Tỉnh Gia Lai,,2025-07-01
province,91,Tỉnh An Giang,,2025-07-01
"""


def ok(result):
    assert result.exit_code == 0, result.output
    return result.output


def fails(result, code: str = "422.1"):
    assert result.exit_code == 1, result.output
    assert code in result.output
    return result.output


@pytest.fixture
def provinces(runner, tmp_path):
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    ok(runner.invoke(args=["units", "import", str(tmp_path / "units.csv")]))


@pytest.fixture
def tokens(app, provinces):
    """A bearer token per role that may use the API."""
    headers = {}
    for role in ("admin", "trainer", "planner"):
        user = accounts.create_user(
            f"u-{role}",
            role=role,
            password="mat-khau-du-dai",
            realm=app.config["AUTH_REALM"],
            session=db.session,
            now=NOW,
        )
        token = accounts.create_api_token(user, label="t", session=db.session, now=NOW)
        headers[role] = {"Authorization": f"Bearer {token}"}
    db.session.commit()
    return headers


def test_the_plan_is_seeded_and_listed(runner, provinces):
    out = ok(runner.invoke(args=["targets", "list"]))
    assert "KPI-03  2022–2025  target    70 %" in out
    assert "KPI-04  2026–2030  target    90 %" in out
    assert len(out.splitlines()) == 14
    out = ok(runner.invoke(args=["targets", "list", "--province", "52"]))
    assert out.count("mặc định / default") == 14  # nothing of its own yet


def test_a_province_target_replaces_the_default_and_inherits_the_rest(runner, session, provinces):
    ok(
        runner.invoke(
            args=[
                "targets", "set", "KPI-03", "--period", "2022-2025", "--target", "70",
                "--baseline", "7.3", "--baseline-date", "2022-12-31",
            ]
        )
    )  # fmt: skip
    out = ok(
        runner.invoke(args=["targets", "set", "KPI-03", "--period", "2022-2025", "--target", "75",
                            "--province", "52"])
    )  # fmt: skip
    assert "KPI-03 2022–2025 (52): target 75 %, baseline 7,3 %" in out
    gia_lai = report_targets.list_targets(session, province="52")
    kpi03 = [t for t in gia_lai if t.kpi == "KPI-03"]
    assert [(t.period_start.year, t.target_pct, t.inherited) for t in kpi03] == [
        (2022, 75.0, False),
        (2026, 100.0, True),
    ]
    # The province's first target of a period starts from the default's baseline and source.
    assert (kpi03[0].baseline_pct, kpi03[0].baseline_date) == (7.3, dt.date(2022, 12, 31))
    assert kpi03[0].source == "KH Gia Lai 2022–2030 §IV.2 (T2)"
    an_giang = report_targets.list_targets(session, province="91")
    assert [t.target_pct for t in an_giang if t.kpi == "KPI-03"] == [70.0, 100.0]
    target = report_targets.target_for(session, "KPI-03", on=dt.date(2024, 12, 31), province="52")
    assert target.target_pct == 75.0
    assert report_targets.target_for(session, "KPI-03", on=dt.date(2031, 1, 1)) is None
    # Setting it again with the same start updates it; other fields stay.
    ok(runner.invoke(args=["targets", "set", "KPI-03", "--period", "2022-2025", "--baseline",
                           "8", "--province", "52"]))  # fmt: skip
    again = report_targets.target_for(session, "KPI-03", on=dt.date(2024, 1, 1), province="52")
    assert (again.target_pct, again.baseline_pct) == (75.0, 8.0)
    assert len(list(report_targets.list_targets(session, province="52"))) == 14


def test_a_province_period_of_its_own_hides_the_overlapping_default(session, provinces):
    report_targets.set_target(
        session, "KPI-06", period="2024-2025", target_pct=35, province="52", now=NOW
    )
    kpi06 = report_targets.list_targets(session, province="52", kpi="KPI-06")
    assert [(t.period_start.year, t.period_end.year, t.inherited) for t in kpi06] == [
        (2024, 2025, False),
        (2026, 2030, True),
    ]


def test_targets_are_checked(runner, provinces):
    assert "unknown KPI" in fails(
        runner.invoke(args=["targets", "set", "KPI-99", "--period", "2022-2025", "--target", "5"])
    )
    assert "period" in fails(
        runner.invoke(args=["targets", "set", "KPI-01", "--period", "2025-2022", "--target", "5"])
    )
    assert "period" in fails(
        runner.invoke(args=["targets", "set", "KPI-01", "--period", "soon", "--target", "5"])
    )
    assert "target_pct" in fails(
        runner.invoke(args=["targets", "set", "KPI-01", "--period", "2022-2025", "--target", "120"])
    )
    assert "required for a new target" in fails(
        runner.invoke(args=["targets", "set", "KPI-09", "--period", "2026-2030"])
    )
    assert "overlaps" in fails(
        runner.invoke(args=["targets", "set", "KPI-01", "--period", "2024-2027", "--target", "5"])
    )
    assert "no province" in fails(
        runner.invoke(args=["targets", "set", "KPI-01", "--period", "2022-2025", "--target", "5",
                            "--province", "99"])
    )  # fmt: skip
    assert "baseline" in fails(
        runner.invoke(args=["targets", "set", "KPI-01", "--period", "2022-2025",
                            "--baseline-date", "2026-01-01"])
    )  # fmt: skip


def test_settings_inherit_and_are_checked(runner, session, provinces):
    defaults = report_targets.settings_for(session)
    assert defaults == {
        "kpi03_counts_vc_standard": None,
        "stock_or_flow": "stock",
        "kpi04_requires_pass": True,
        "ctv_denominator": "dec31",
        "class_size_ctv": 40,
        "class_size_other": 30,
        "min_cell": 5,
        "response_rate_caution": 60,
        "tna_form_id": "tna_dskhhgd",
    }
    ok(runner.invoke(args=["report-settings", "set", "min_cell", "10"]))
    ok(runner.invoke(args=["report-settings", "set", "kpi03_counts_vc_standard", "true",
                           "--province", "52"]))  # fmt: skip
    ok(runner.invoke(args=["report-settings", "set", "stock_or_flow", "flow", "--province", "52"]))
    gia_lai = report_targets.settings_for(session, province="52")
    assert gia_lai["min_cell"] == 10  # the changed default
    assert gia_lai["kpi03_counts_vc_standard"] is True
    assert gia_lai["stock_or_flow"] == "flow"
    assert report_targets.settings_for(session, province="91")["stock_or_flow"] == "stock"
    listed = ok(runner.invoke(args=["report-settings", "list", "--province", "52"]))
    assert "stock_or_flow" in listed and "province" in listed
    ok(runner.invoke(args=["report-settings", "unset", "stock_or_flow", "--province", "52"]))
    assert report_targets.settings_for(session, province="52")["stock_or_flow"] == "stock"
    for key, value in (
        ("min_cell", "0"),
        ("min_cell", "2.5"),
        ("class_size_ctv", "many"),
        ("stock_or_flow", "both"),
        ("ctv_denominator", "june"),
        ("kpi04_requires_pass", "maybe"),
        ("response_rate_caution", "101"),
        ("nonsense", "1"),
    ):
        assert key in fails(runner.invoke(args=["report-settings", "set", key, value]))
    assert report_targets.settings_for(session)["min_cell"] == 10  # nothing changed


def test_the_api_reads_and_changes_targets(client, tokens):
    listed = client.get("/api/v1/reports/targets?province=52", headers=tokens["planner"])
    assert listed.status_code == 200
    first = listed.get_json()[0]
    assert (first["kpi"], first["target_pct"], first["inherited"]) == ("KPI-01", 100.0, True)
    body = {
        "period": "2022-2025",
        "target_pct": 80,
        "baseline_pct": 7.3,
        "baseline_date": "2022-12-31",
        "province": "52",
    }
    put = client.put("/api/v1/reports/targets/KPI-03", json=body, headers=tokens["admin"])
    assert put.status_code == 200, put.get_json()
    assert put.get_json()["target_pct"] == 80.0 and put.get_json()["inherited"] is False
    again = client.get("/api/v1/reports/targets?province=52", headers=tokens["trainer"])
    kpi03 = [t for t in again.get_json() if t["kpi"] == "KPI-03"]
    assert [(t["period_start"], t["target_pct"]) for t in kpi03] == [
        ("2022-01-01", 80.0),
        ("2026-01-01", 100.0),
    ]
    defaults = client.get("/api/v1/reports/targets", headers=tokens["trainer"]).get_json()
    assert [t["target_pct"] for t in defaults if t["kpi"] == "KPI-03"] == [70.0, 100.0]
    bad = client.put(
        "/api/v1/reports/targets/KPI-03", json={"period": "x"}, headers=tokens["admin"]
    )
    assert bad.status_code == 422
    assert bad.get_json()["error"]["code"] == "422.1"
    assert "period" in bad.get_json()["error"]["details"]["fields"]
    unknown = client.put("/api/v1/reports/targets/KPI-10", json=body, headers=tokens["admin"])
    assert unknown.status_code == 422 and "kpi" in unknown.get_json()["error"]["details"]["fields"]
    for role in ("planner", "trainer"):
        refused = client.put("/api/v1/reports/targets/KPI-03", json=body, headers=tokens[role])
        assert refused.status_code == 403
    assert client.get("/api/v1/reports/targets").status_code == 401


def test_the_api_reads_and_changes_settings(client, tokens):
    read = client.get("/api/v1/reports/settings?province=52", headers=tokens["planner"])
    assert read.status_code == 200
    assert read.get_json()["values"]["min_cell"] == 5
    assert read.get_json()["sources"]["min_cell"] == "all"
    patched = client.patch(
        "/api/v1/reports/settings?province=52",
        json={"min_cell": 8, "kpi03_counts_vc_standard": False},
        headers=tokens["admin"],
    )
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["values"]["min_cell"] == 8
    assert patched.get_json()["sources"]["min_cell"] == "province"
    assert patched.get_json()["values"]["kpi03_counts_vc_standard"] is False
    # All or nothing: one bad value changes nothing.
    bad = client.patch(
        "/api/v1/reports/settings?province=52",
        json={"min_cell": 9, "stock_or_flow": "both", "class_size_ctv": True},
        headers=tokens["admin"],
    )
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["details"]["fields"]) == {"stock_or_flow", "class_size_ctv"}
    unknown = client.patch("/api/v1/reports/settings", json={"nope": 1}, headers=tokens["admin"])
    assert unknown.status_code == 422
    after = client.get("/api/v1/reports/settings?province=52", headers=tokens["trainer"])
    assert after.get_json()["values"]["min_cell"] == 8
    default = client.get("/api/v1/reports/settings", headers=tokens["trainer"]).get_json()
    assert (default["province"], default["values"]["min_cell"]) == ("", 5)
    refused = client.patch(
        "/api/v1/reports/settings", json={"min_cell": 6}, headers=tokens["planner"]
    )
    assert refused.status_code == 403
    nowhere = client.get("/api/v1/reports/settings?province=99", headers=tokens["admin"])
    assert nowhere.status_code == 422
