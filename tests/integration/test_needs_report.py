"""The needs-assessment report through the API, against the spec's golden figures.

The Gia Lai 2022 baseline (reports spec §1.3–§1.4, §2.6) is rebuilt as a register — 10
province staff, 52 district and 208 commune population officers, their certificates — on
pre-reform units, and read back through ``GET /api/v1/reports/needs``: KPI-03 is 19/260 =
7.3 % on the CDNN reading (163 persons, 6 classes of 30, 41 a year with four years left) and
248/260 = 95.4 % when the older standard certificate counts.
"""

from __future__ import annotations

import io
import json

import openpyxl
import pypdf
import pytest

from harness import ROOT
from tests.factories import GIA_LAI_UNITS, gia_lai_2022_roster, tna_submission


@pytest.fixture
def gia_lai(runner, tmp_path, token_for):
    (tmp_path / "units.csv").write_text(GIA_LAI_UNITS, encoding="utf-8")
    (tmp_path / "roster.csv").write_text(gia_lai_2022_roster(), encoding="utf-8")
    result = runner.invoke(args=["units", "import", str(tmp_path / "units.csv")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["roster", "import", str(tmp_path / "roster.csv")])
    assert result.exit_code == 0, result.output
    return token_for()


def get_report(client, headers, **params):
    query = {"as_of": "2022-12-31", "period_from": "2022-01-01", "period_to": "2022-12-31"}
    query.update(params)
    return client.get("/api/v1/reports/needs", query_string=query, headers=headers)


def scorecard(body) -> dict[str, dict]:
    table = next(t for s in body["sections"] for t in s["tables"] if t["id"] == "A-scorecard")
    return {row["kpi"]: row for row in table["rows"]}


def test_gia_lai_2022_baseline_through_the_api(client, gia_lai):
    response = get_report(client, gia_lai, unit="64")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["unit_code"] == "64"
    rows = scorecard(body)
    cdnn, either = rows["KPI-03"], rows["KPI-03b"]
    assert cdnn["n"] == 260
    assert cdnn["coverage"] == pytest.approx(19 / 260 * 100)
    assert round(cdnn["coverage"], 1) == 7.3
    assert (cdnn["persons_to_target"], cdnn["classes"], cdnn["per_year"]) == (163, 6, 41)
    assert round(either["coverage"], 1) == 95.4
    assert either["persons_to_target"] == 0
    assert rows["KPI-01"]["n"] == 10
    tables = {t["id"]: t for s in body["sections"] for t in s["tables"]}
    kpi03 = tables["D-KPI-03"]
    assert kpi03["rows"][0]["denominator"] == 260
    by_unit = {r["unit"]: r for r in kpi03["rows"][1:]}
    assert set(by_unit) == {"Thành phố Pleiku", "Huyện Chư Păh"}
    assert sum(r["denominator"] for r in by_unit.values()) == 260
    profile = tables["C2"]
    vc = next(r for r in profile["rows"] if r["certificate"].startswith("Chứng chỉ bồi dưỡng đạt"))
    assert (vc["n_district"], vc["n_commune"]) == (48, 200)
    assert round(vc["pct_district"], 1) == 92.3
    assert round(vc["pct_commune"], 1) == 96.2


def test_the_report_follows_the_reading_setting(client, gia_lai, app):
    from server.extensions import db
    from server.models import ReportSetting

    setting = db.session.get(ReportSetting, ("", "kpi03_counts_vc_standard"))
    setting.value = True
    db.session.commit()
    rows = scorecard(get_report(client, gia_lai, unit="64").get_json())
    assert "KPI-03b" in rows and "KPI-03" not in rows
    assert round(rows["KPI-03b"]["coverage"], 1) == 95.4


def test_a_district_is_a_unit_of_its_own(client, gia_lai):
    rows = scorecard(get_report(client, gia_lai, unit="627").get_json())
    assert rows["KPI-02"]["n"] == 26 + 104  # the district's officers and its commune's


def test_an_empty_unit_reports_no_data_without_crashing(client, gia_lai):
    body = get_report(client, gia_lai, unit="01").get_json()
    assert body["empty_reason_en"].startswith("No data")
    rows = scorecard(body)
    assert rows["KPI-03"]["coverage"] is None
    assert rows["KPI-03"]["reason"] == "zero_denominator"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"unit": "9999"}, "unit"),
        ({"unit": "64", "period_from": "2022-12-01", "period_to": "2022-01-01"}, "period_from"),
        ({"unit": "64", "as_of": "31/12/2022"}, "as_of"),
        ({"unit": "64", "level": "nowhere"}, "level"),
        ({}, "unit"),
    ],
)
def test_bad_parameters_are_422_naming_them(client, gia_lai, params, field):
    query = {"as_of": "2022-12-31", **params}
    response = client.get("/api/v1/reports/needs", query_string=query, headers=gia_lai)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "422.1"
    assert field in error["message"]


def test_planners_read_only_their_units(client, gia_lai, token_for, runner):
    planner = token_for("lan", role="planner")
    runner.invoke(args=["users", "assign", "lan", "--unit", "627"])
    assert get_report(client, planner, unit="627").status_code == 200
    refused = get_report(client, planner, unit="64")
    assert refused.status_code == 403
    trainer = token_for("gv", role="trainer")
    assert get_report(client, trainer, unit="627").status_code == 403


def test_workbook_has_a_sheet_per_table_with_numbers(client, gia_lai):
    response = client.get(
        "/api/v1/reports/needs.xlsx",
        query_string={"as_of": "2022-12-31", "unit": "64"},
        headers=gia_lai,
    )
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    assert "A-scorecard" in book.sheetnames and "D-KPI-03" in book.sheetnames
    sheet = book["D-KPI-03"]
    header, total = next(sheet.iter_rows(min_row=1, max_row=2, values_only=True)), None
    rows = list(sheet.iter_rows(min_row=2, max_row=2, values_only=True))
    total = dict(zip(header, rows[0], strict=True))
    assert header[1] == "Mẫu số (người)"
    assert total["Mẫu số (người)"] == 260
    assert isinstance(total["Tỷ lệ %"], float)
    book.close()


def test_working_list_names_who_still_needs_training(client, gia_lai):
    response = client.get(
        "/api/v1/reports/needs/working-list.xlsx",
        query_string={"as_of": "2022-12-31", "unit": "64"},
        headers=gia_lai,
    )
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    sheet = next(name for name in book.sheetnames if name.startswith("KPI-03 "))
    rows = list(book[sheet].iter_rows(min_row=2, values_only=True))
    assert len(rows) == 260 - 19
    assert {row[5][0] for row in rows} == {"H", "X"}
    book.close()


def test_report_date_defaults(client, gia_lai):
    """Without as_of and a period the report is of today, from 1 January."""
    response = client.get("/api/v1/reports/needs?unit=64", headers=gia_lai)
    body = response.get_json()
    assert body["parameters"]["period_from"].endswith("-01-01")
    assert body["as_of"] == body["parameters"]["period_to"]


@pytest.mark.parametrize("suffix", [".json", ".xlsx", ".pdf"])
def test_the_cli_writes_the_report(runner, gia_lai, tmp_path, suffix):
    out = tmp_path / f"needs{suffix}"
    result = runner.invoke(
        args=["report", "needs", "--unit", "64", "--as-of", "2022-12-31", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    if suffix == ".json":
        body = json.loads(data)
        assert round(scorecard(body)["KPI-03"]["coverage"], 1) == 7.3
    elif suffix == ".xlsx":
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        assert "D-KPI-03" in book.sheetnames
        book.close()
    else:
        assert data.startswith(b"%PDF")
        text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
        assert "Báo cáo đánh giá nhu cầu đào tạo" in text
        assert "7,3 %" in text


def test_the_cli_refuses_an_unknown_unit_and_a_bad_file_type(runner, gia_lai, tmp_path):
    result = runner.invoke(
        args=["report", "needs", "--unit", "9999", "--out", str(tmp_path / "a.json")]
    )
    assert result.exit_code == 1
    assert "422.1" in result.output
    result = runner.invoke(
        args=["report", "needs", "--unit", "64", "--out", str(tmp_path / "a.doc")]
    )
    assert result.exit_code == 2


def test_answers_received_from_collect_feed_every_section(client, runner, gia_lai, tmp_path):
    """TNA answers posted over OpenRosa: gaps, topics, and a self-reported TP01 course."""
    result = runner.invoke(args=["forms", "publish", str(ROOT / "forms" / "tna_dskhhgd.xlsx")])
    assert result.exit_code == 0, result.output
    version = result.output.split()[2].lstrip("v")
    device = json.loads(
        runner.invoke(args=["devices", "create", "xa", "--form", "tna_dskhhgd", "--json"]).output
    )
    ratings = {"C19": (5, 2), "C15": (4, 3), "C11": (3, 3)}
    for n in range(6):
        xml = tna_submission(
            f"uuid:{n}", version, staff=f"X{n:03d}", district="627", commune="23740",
            ratings=ratings, trained="tp01" if n == 0 else "tp05",
        )  # fmt: skip
        response = client.post(
            f"/key/{device['token']}/submission",
            data={"xml_submission_file": (io.BytesIO(xml), "submission.xml")},
            headers={"X-OpenRosa-Version": "1.0"},
            content_type="multipart/form-data",
        )
        assert response.status_code == 201, response.data
    body = get_report(client, gia_lai, unit="64").get_json()
    tables = {t["id"]: t for s in body["sections"] for t in s["tables"]}
    kpi02 = tables["D-KPI-02"]["rows"][0]
    assert (kpi02["numerator"], kpi02["self_reported"]) == (1, 1)  # said "tp01", no record
    gaps = {row["item"]: row for row in tables["E1-commune"]["rows"]}
    assert gaps["C19"]["n"] == 6
    assert gaps["C19"]["mwds"] == pytest.approx(3 * 5)  # D̄ = 3, Ī = 5
    assert gaps["C19"]["rank"] == 1
    topics = {row["topic"].split()[0]: row for row in tables["F1"]["rows"]}
    assert topics["TP06"]["n_selected"] == 6
    coverage = tables["B1"]["rows"][0]
    assert (coverage["respondents"], coverage["matched"]) == (6, 6)


def test_the_flow_reading_counts_only_the_period(client, gia_lai, app):
    from server.extensions import db
    from server.models import ReportSetting

    db.session.get(ReportSetting, ("", "stock_or_flow")).value = "flow"
    db.session.get(ReportSetting, ("", "kpi03_counts_vc_standard")).value = False
    db.session.commit()
    rows = scorecard(get_report(client, gia_lai, unit="64").get_json())
    assert rows["KPI-03"]["coverage"] == 0  # every CDNN certificate predates 2022
    stock = scorecard(get_report(client, gia_lai, unit="64", as_of="2019-12-31").get_json())
    assert stock["KPI-03"]["n"] == 260
