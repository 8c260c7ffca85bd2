"""A trainer runs a course in Chromium, from creating it to the scored post-test and its report.

The live server gets units, a register and the standard pre- and post-test forms through the
CLI. In the browser the trainer creates a course, enrols people by a register search and by an
uploaded list (a bad row is listed and nothing is applied), uploads an answer key with a
problem and then a good one, and marks attendance; tests are then posted over OpenRosa as
Collect sends them, the trainer re-scores, sees the scores and follows the link to the
evaluation report. Another trainer is refused the course. Desktop in Vietnamese, tablet in
English; screenshots are kept as test artefacts.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import requests

from harness import ROOT
from server import create_app
from server.extensions import db
from server.services import accounts
from tests.factories import (
    STANDARD_KEY,
    STANDARD_KEY_CSV,
    WORKED_ROSTER_HEADER,
    WORKED_UNITS,
    attempt_xml,
    worked_key,
)

pytestmark = pytest.mark.slow

DESKTOP, TABLET = (1366, 900), (800, 1280)
OR = {"X-OpenRosa-Version": "1.0"}
TRAINER, OTHER, PASSWORD = "gv.courses", "gv.other", "mat-khau-giang-vien"
FORMS = ("kt_dscoban_pre", "kt_dscoban_post")
ROSTER = WORKED_ROSTER_HEADER + (
    "KH001,Nguyễn Thị Hoa,Nữ,21583,Tuyến xã,Viên chức,vc_commune,01/08/2025\n"
    "KH002,Trần Văn Nam,Nam,21583,Tuyến xã,Viên chức,vc_commune,01/08/2025\n"
    "KH003,Lê Thị Mai,Nữ,21583,Tuyến xã,Viên chức,vc_commune,01/08/2025\n"
    "KH004,Rơ Châm Blơi,Nam,23584,Tuyến xã,Viên chức,vc_commune,01/08/2025\n"
)
KEY = worked_key(STANDARD_KEY_CSV)
#: (person, pre-test %, post-test %) of the three trainees.
RESULTS = (("KH001", 50, 80), ("KH002", 40, 60), ("KH003", 55, 75))


@pytest.fixture
def page_server(own_server):
    """Pages of this module's own server (see ``own_server``)."""
    return own_server


@pytest.fixture(scope="module")
def world(own_server, tmp_path_factory):
    """Units, register, the test forms, two trainers and a device token for the tests."""
    folder = tmp_path_factory.mktemp("courses-world")
    (folder / "units.csv").write_text(WORKED_UNITS, encoding="utf-8")
    (folder / "roster.csv").write_text(ROSTER, encoding="utf-8")
    app = create_app(own_server.app_config())
    runner = app.test_cli_runner()
    with app.app_context():
        steps = [
            ["units", "import", str(folder / "units.csv")],
            ["roster", "import", str(folder / "roster.csv")],
            *[["forms", "publish", str(ROOT / "forms" / f"{f}.xlsx")] for f in FORMS],
        ]
        for args in steps:
            result = runner.invoke(args=args)
            assert result.exit_code == 0, (args, result.output)
        for name in (TRAINER, OTHER):
            accounts.create_user(
                name, role="trainer", password=PASSWORD, realm=app.config["AUTH_REALM"],
                session=db.session, now=dt.datetime.now(dt.UTC),
            )  # fmt: skip
        db.session.commit()
        device = json.loads(
            runner.invoke(
                args=["devices", "create", "lop-khoa-hoc",
                      *[a for f in FORMS for a in ("--form", f)], "--json"]
            ).output
        )  # fmt: skip
        db.session.remove()
        db.engine.dispose()
    listing = requests.get(
        f"{own_server.url}/key/{device['token']}/formList", headers=OR, timeout=10
    ).text
    versions = {
        f: re.search(rf"<formID>{f}</formID>.*?<version>([^<]+)</version>", listing, re.S)[1]
        for f in FORMS
    }
    return own_server, device["token"], versions


def _submit(page, button_selector: str):
    with page.expect_navigation():
        page.locator(button_selector).click()


def _upload(page, input_selector: str, name: str, content: str):
    page.locator(input_selector).set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": content.encode("utf-8")}
    )


@pytest.mark.parametrize(("name", "viewport", "lang"), [
    ("desktop", DESKTOP, "vi"), ("tablet", TABLET, "en"),
])  # fmt: skip
def test_a_trainer_runs_a_course_to_its_scored_post_test(world, open_page, name, viewport, lang):
    live, token, versions = world
    code = f"KH-{name.upper()}"
    tab = open_page(viewport)
    tab.sign_in(TRAINER, PASSWORD, path="/admin/courses")
    page = tab.page
    if lang == "en":
        _submit(page, "form.lang button")
        assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("nav.site-nav a[aria-current=page]").count() == 1

    # create the course
    with page.expect_navigation():
        page.locator(".actions a[href='/admin/courses/new']").click()
    page.locator("#code").fill(code)
    page.locator("#title").fill("Dân số cơ bản cho cán bộ xã")
    # a workshop: the programme roll-up's refresher-course row stays the worked example's
    page.locator("#course_type").select_option("tap_huan")
    page.locator("#start_date").fill("2026-09-07")
    page.locator("#end_date").fill("2026-09-09")
    page.locator("#venue_unit_code").fill("21583")
    page.locator("#pre_form_id").select_option("kt_dscoban_pre")
    page.locator("#post_form_id").select_option("kt_dscoban_post")
    page.locator("input[name=topics][value=TP01]").check()
    tab.screenshot(f"courses-new-{name}-{lang}")
    # reversed dates: the form comes back with the problem beside the field, values kept
    page.locator("#end_date").fill("2026-09-01")
    _submit(page, "form.course-form button[type=submit]")
    assert page.locator("#err-end_date").is_visible()
    assert page.locator("#end_date").get_attribute("aria-invalid") == "true"
    assert page.locator("#code").input_value() == code
    tab.screenshot(f"courses-new-error-{name}-{lang}")
    page.locator("#end_date").fill("2026-09-09")
    with page.expect_navigation():  # a double click sends the form once (data-once)
        page.locator("form.course-form button[type=submit]").dblclick()
    assert page.url.endswith(f"/admin/courses/{code}")
    assert page.locator("h1 code").inner_text() == code

    # enrol by a register search
    page.locator("#q").fill("Hoa")
    _submit(page, "form.search-form button[type=submit]")
    page.locator("input[name=person_code][value=KH001]").check()
    tab.screenshot(f"courses-search-{name}-{lang}")
    with page.expect_navigation():
        page.locator("form.enrol-form button[type=submit]").dblclick()
    assert page.locator("table.people tbody tr").count() == 1

    # enrol by a list: a bad row first (nothing applied), then the good list
    _upload(page, "#enrol-file", "hoc-vien.csv", "Mã cán bộ\nKH002\nKH999\nKH003\n")
    _submit(page, "form.upload-form button[type=submit]")
    problem = page.locator("#problem-upload")
    assert problem.is_visible()
    assert problem.locator("table.problems tbody tr").count() == 1
    assert problem.locator("table.problems td.num").inner_text() == "3"
    assert page.locator("table.people tbody tr").count() == 1
    tab.screenshot(f"courses-upload-error-{name}-{lang}")
    _upload(page, "#enrol-file", "hoc-vien.csv", "Mã cán bộ\nKH002\nKH003\n")
    _submit(page, "form.upload-form button[type=submit]")
    assert page.locator("table.people tbody tr").count() == 3

    # the answer keys: one with a problem, then good ones for both tests
    broken = KEY.replace(",q02,", ",q99,")
    page.locator("#key-form-id").select_option("kt_dscoban_post")
    _upload(page, "#key-file", "dap-an.csv", broken)
    _submit(page, "form.key-form button[type=submit]")
    assert "q99" in page.locator("#problem-key table.problems").inner_text()
    tab.screenshot(f"courses-key-error-{name}-{lang}")
    for form_id in FORMS:
        page.locator("#key-form-id").select_option(form_id)
        _upload(page, "#key-file", "dap-an.csv", KEY)
        _submit(page, "form.key-form button[type=submit]")
        assert page.locator("#problem-key").count() == 0
    assert page.locator(".key-state .warn").count() == 0

    # attendance
    for row in range(3):
        page.locator("table.people tbody tr").nth(row).locator("select").first.select_option(
            "attended"
        )
    _submit(page, "form.attendance-form button[type=submit]")
    assert page.locator("p.ok.flash").count() == 1

    # the tests arrive over OpenRosa as Collect sends them
    for person, pre, post in RESULTS:
        for phase, percent in (("pre", pre), ("post", post)):
            form = f"kt_dscoban_{phase}"
            xml = attempt_xml(
                form, versions[form], phase=phase, course=code, trainee=person,
                correct_items=percent * 20 // 100, key=STANDARD_KEY,
                instance=f"uuid:{code}-{phase}-{person}",
            )  # fmt: skip
            response = requests.post(
                f"{live.url}/key/{token}/submission",
                files={"xml_submission_file": ("submission.xml", xml, "text/xml")},
                headers=OR,
                timeout=30,
            )
            assert response.status_code == 201, response.text

    # re-score and read the scores
    # a background job with a progress bar; its page reloads itself when the job is done
    _submit(page, "form.rescore-form button[type=submit]")
    assert "/admin/jobs/" in page.url
    done = page.locator("p.rescored")
    done.wait_for(timeout=60_000)
    # every test of the two forms is re-scored (the other viewport's course uses them too)
    assert int(re.search(r"\d+", done.inner_text())[0]) >= 6
    tab.screenshot(f"courses-rescore-job-{name}-{lang}")
    _submit(page, "a.back")
    first = page.locator("table.people tbody tr").first.inner_text()
    assert "50,0 %" in first and "80,0 %" in first
    assert page.locator("table.people tbody tr").nth(1).locator(".err").count() == 1  # 60 < 70
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport[0]
    tab.screenshot(f"courses-course-{name}-{lang}")

    # the evaluation report, from the course page
    with page.expect_navigation():
        page.locator("#scores a[href$='/reports/courses/" + code + "']").click()
    assert page.url.endswith(f"/reports/courses/{code}")
    assert page.locator("#T1 tbody tr").count() == 3
    tab.screenshot(f"courses-report-{name}-{lang}", full_page=False)
    # the refused course and uploads were answered 400, which Chromium logs; nothing else
    refused = "the server responded with a status of 400"
    assert [p for p in tab.problems() if refused not in p] == []
    assert len(tab.problems()) == 3

    tab.goto("/admin/courses")
    assert tab.page.locator("table.course-list a", has_text=code).count() == 1

    other = open_page(DESKTOP)
    other.sign_in(OTHER, PASSWORD)
    assert other.goto(f"/admin/courses/{code}").status == 403
    assert code not in other.goto("/admin/courses").text()
