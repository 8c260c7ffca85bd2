"""The planners' needs report in a real browser, with answers sent the way Collect sends them.

The live server gets the Gia Lai 2022 register and the standard TNA form through the CLI;
twelve needs assessments are posted over OpenRosa to it (its own projection turns them into
rows); then a planner reads the report in Chromium: every section, the charts, English, the
tablet width, print media and the downloads. Screenshots are kept as test artefacts (and are
the README's pictures).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import requests

from harness import ROOT
from server import create_app
from server.extensions import db
from server.services import accounts
from tests.factories import GIA_LAI_UNITS, gia_lai_2022_roster, tna_submission

pytestmark = pytest.mark.slow

TABLET = (800, 1280)
DESKTOP = (1366, 900)
PLANNER, PASSWORD = "lan.ke.hoach", "mat-khau-ke-hoach"
QUERY = "unit=64&as_of=2022-12-31&period_from=2022-01-01&period_to=2022-12-31"


def _answers(version: str) -> list[bytes]:
    """Twelve assessments: commune officers rating C19/C15/C11 with clear gaps, varied."""
    submissions = []
    for n in range(12):
        ratings = {
            "C19": (5, 2 + n % 3),
            "C15": (5, 2 + n % 2),
            "C11": (4, 3 + n % 2),
            "C04": (4, 4 - n % 2),
            "C01": (3 + n % 3, 3),
        }
        submissions.append(
            tna_submission(
                f"uuid:tna-{n}",
                version,
                staff=f"X{n:03d}",
                commune="23590" if n % 2 else "23740",
                district="622" if n % 2 else "627",
                ratings=ratings,
                topics="tp01 tp06 tp05" if n % 3 else "tp06",
                top1="tp06",
                barriers="workload distance" if n % 2 else "no_cover",
            )
        )
    return submissions


@pytest.fixture(scope="module")
def needs_world(live_server, tmp_path_factory):
    """Register, TNA form, a planner of Gia Lai, and answers posted over OpenRosa."""
    folder = tmp_path_factory.mktemp("needs-world")
    (folder / "units.csv").write_text(GIA_LAI_UNITS, encoding="utf-8")
    (folder / "roster.csv").write_text(gia_lai_2022_roster(), encoding="utf-8")
    app = create_app(live_server.app_config())
    runner = app.test_cli_runner()
    with app.app_context():
        for args in (
            ["units", "import", str(folder / "units.csv")],
            ["roster", "import", str(folder / "roster.csv")],
            ["forms", "publish", str(ROOT / "forms" / "tna_dskhhgd.xlsx")],
        ):
            result = runner.invoke(args=args)
            assert result.exit_code == 0, result.output
        accounts.create_user(
            PLANNER, role="planner", password=PASSWORD, realm=app.config["AUTH_REALM"],
            session=db.session, now=dt.datetime.now(dt.UTC),
        )  # fmt: skip
        db.session.commit()
        assert runner.invoke(args=["users", "assign", PLANNER, "--unit", "64"]).exit_code == 0
        device = json.loads(
            runner.invoke(
                args=["devices", "create", "xa", "--form", "tna_dskhhgd", "--json"]
            ).output
        )
        version = runner.invoke(args=["forms", "list"]).output.split("tna_dskhhgd")[1].split()[2]
        db.session.remove()
        db.engine.dispose()
    for xml in _answers(version):
        response = requests.post(
            f"{live_server.url}/key/{device['token']}/submission",
            files={"xml_submission_file": ("submission.xml", xml, "text/xml")},
            headers={"X-OpenRosa-Version": "1.0"},
            timeout=30,
        )
        assert response.status_code == 201, response.text
    return live_server


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("tablet", TABLET)])
def test_a_planner_reads_the_needs_report(needs_world, open_page, name, viewport):
    tab = open_page(viewport)
    tab.sign_in(PLANNER, PASSWORD)
    tab.goto(f"/reports/needs?{QUERY}")
    page = tab.page
    assert page.locator("h1").inner_text().startswith("Báo cáo đánh giá nhu cầu đào tạo")
    sections = page.locator("section.report-section h2").all_inner_texts()
    assert [s.split(".")[0] for s in sections] == list("ABCDEFGHI")
    scorecard = page.locator("#A-scorecard tbody tr").first.inner_text()
    assert "KPI-01" in scorecard
    kpi03 = page.locator("#A-scorecard tbody tr", has_text="chỉ CDNN").inner_text()
    assert "7,3 %" in kpi03 and "163" in kpi03
    assert page.locator("figure.chart svg").count() >= 5
    gaps = page.locator("#E1-commune tbody tr").first.inner_text()
    assert "C19" in gaps or "C15" in gaps  # the largest gaps rank first
    assert page.locator("#F1 tbody tr", has_text="TP06").count() >= 1
    assert tab.problems() == []
    tab.screenshot(f"needs-report-{name}")


def test_the_report_in_english_and_printed(needs_world, open_page):
    tab = open_page(DESKTOP)
    tab.sign_in(PLANNER, PASSWORD)
    tab.goto(f"/reports/needs?{QUERY}")
    tab.page.locator("form.lang button").click()
    tab.page.wait_for_load_state()
    assert tab.page.locator("h1").inner_text().startswith("Training needs assessment report")
    assert "On track" in tab.page.content() or "Off track" in tab.page.content()
    tab.screenshot("needs-report-english")
    tab.page.emulate_media(media="print")
    assert not tab.page.locator("form.report-form").is_visible()
    assert not tab.page.locator("nav.site-nav").is_visible()
    tab.screenshot("needs-report-print")
    assert tab.problems() == []


def test_downloads_from_the_page(needs_world, open_page):
    tab = open_page(DESKTOP)
    tab.sign_in(PLANNER, PASSWORD)
    tab.goto(f"/reports/needs?{QUERY}")
    cookies = {c["name"]: c["value"] for c in tab.page.context.cookies()}
    for link, kind in (
        ("Tải PDF", "application/pdf"),
        ("Tải XLSX", "spreadsheetml"),
        ("Danh sách cần đào tạo", "spreadsheetml"),
    ):
        href = tab.page.locator(".actions a", has_text=link).get_attribute("href")
        response = requests.get(needs_world.url + href, cookies=cookies, timeout=60)
        assert response.status_code == 200, (link, response.text[:300])
        assert kind in response.headers["Content-Type"]
        assert len(response.content) > 1000


def test_a_planner_outside_the_unit_is_refused(needs_world, open_page):
    tab = open_page(DESKTOP)
    tab.sign_in(PLANNER, PASSWORD)
    response = tab.goto("/reports/needs?unit=01&as_of=2022-12-31")
    assert response.status == 403


def test_an_unknown_unit_is_an_inline_message(needs_world, open_page):
    tab = open_page(DESKTOP)
    tab.sign_in()
    response = tab.goto("/reports/needs?unit=9999")
    assert response.status == 422
    assert "9999" in tab.page.locator("p.err").inner_text()
