"""The trainers' evaluation report in a real browser, from tests sent the way Collect sends them.

The live server gets a register, the standard pre-test, post-test and course evaluation forms
and a 20-item key through the CLI; ten trainees' pre- and post-tests (the reports spec's worked
example, §3.11) and eight evaluations are posted over OpenRosa; then the course's trainer reads
the report in Chromium (desktop and tablet, English, print), downloads the PDF, the workbook and
the scorecards, recodes a comment; a planner of the unit sees aggregates only; another trainer
is refused. Screenshots are kept as test artefacts (and are the README's pictures).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import requests
import sqlalchemy as sa

from harness import ROOT
from server import create_app
from server.extensions import db
from server.models import Course
from server.services import accounts
from tests.factories import (
    WORKED_ITEMS,
    WORKED_POST,
    WORKED_PRE,
    attempt_xml,
    key_answers,
    satisfaction_xml,
    worked_key,
)

pytestmark = pytest.mark.slow

TABLET = (800, 1280)
DESKTOP = (1366, 900)
TRAINER, OTHER, PLANNER, PASSWORD = "gv.ha", "gv.nam", "kh.lan", "mat-khau-giang-vien"
COURSE = "EVAL-2026-01"
KEY_CSV = (ROOT / "forms" / "answer-keys" / "DSCOBAN-2026.1.csv").read_text(encoding="utf-8")
UNITS = """level,code,name,parent_code,valid_from
province,52,Tỉnh Gia Lai,,2025-07-01
commune,21583,Phường Quy Nhơn,52,2025-07-01
"""
NAMES = (
    "Nguyễn Thị Hoa", "Trần Văn Nam", "Lê Thị Mai", "Phạm Văn Đức", "Hoàng Thị Lan",
    "Vũ Văn Hùng", "Đặng Thị Thu", "Bùi Văn Long", "Đỗ Thị Hằng", "Ngô Văn Tâm",
)  # fmt: skip
COMMENTS = (
    ("Cần thêm thời gian thực hành phần mềm", "Thảo luận nhóm rất bổ ích"),
    ("Tài liệu nên phát trước một tuần", ""),
    ("", "Nội dung thiết thực với công việc ở xã"),
    ("Nên có thêm bài tập tình huống", "Giảng viên nói rõ ràng"),
)


def _roster() -> str:
    header = (
        "Mã cán bộ,Họ và tên,Giới tính,Mã đơn vị hành chính,Tuyến,Loại hình,Nhóm đối tượng,"
        "Ngày bắt đầu\n"
    )
    rows = [
        f"EV{n:03d},{name},{'Nữ' if n % 2 == 0 else 'Nam'},21583,Tuyến xã,Viên chức,"
        f"vc_commune,01/08/2025"
        for n, name in enumerate(NAMES)
    ]
    rows.append("EVGV1,Lý Thị Giảng,Nữ,52,Tuyến tỉnh,Công chức,cc_prov,01/08/2025")
    return header + "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def course_world(live_server, tmp_path_factory):
    """Register, forms, key, the course and its trainer, tests and evaluations over OpenRosa."""
    folder = tmp_path_factory.mktemp("evaluation-world")
    (folder / "units.csv").write_text(UNITS, encoding="utf-8")
    (folder / "roster.csv").write_text(_roster(), encoding="utf-8")
    (folder / "key.csv").write_text(worked_key(KEY_CSV), encoding="utf-8")
    app = create_app(live_server.app_config())
    runner = app.test_cli_runner()
    forms = ("kt_dscoban_pre", "kt_dscoban_post", "danhgia_khoahoc")
    with app.app_context():
        steps = [
            ["units", "import", str(folder / "units.csv")],
            ["roster", "import", str(folder / "roster.csv")],
            *[["forms", "publish", str(ROOT / "forms" / f"{f}.xlsx")] for f in forms],
            ["keys", "import", "kt_dscoban_pre", str(folder / "key.csv")],
            ["keys", "import", "kt_dscoban_post", str(folder / "key.csv")],
            ["courses", "create", COURSE, "--title", "Dân số cơ bản cho cán bộ xã",
             "--type", "boi_duong", "--start", "2026-09-07", "--end", "2026-09-11",
             "--topic", "TP01", "--trainer", "EVGV1", "--venue", "21583",
             "--pre-form", "kt_dscoban_pre", "--post-form", "kt_dscoban_post",
             "--satisfaction-form", "danhgia_khoahoc"],
            ["courses", "enrol", COURSE, *[f"EV{n:03d}" for n in range(10)]],
        ]  # fmt: skip
        for args in steps:
            result = runner.invoke(args=args)
            assert result.exit_code == 0, (args, result.output)
        now = dt.datetime.now(dt.UTC)
        users = {}
        for name, role in ((TRAINER, "trainer"), (OTHER, "trainer"), (PLANNER, "planner")):
            users[name] = accounts.create_user(
                name, role=role, password=PASSWORD, realm=app.config["AUTH_REALM"],
                session=db.session, now=now,
            )  # fmt: skip
        db.session.flush()
        course = db.session.execute(sa.select(Course).where(Course.code == COURSE)).scalar_one()
        course.created_by_user_id = users[TRAINER].id
        db.session.commit()
        assert runner.invoke(args=["users", "assign", PLANNER, "--unit", "52"]).exit_code == 0
        device = json.loads(
            runner.invoke(
                args=["devices", "create", "lop-eval",
                      *[arg for f in forms for arg in ("--form", f)], "--json"]
            ).output
        )  # fmt: skip
        listing = runner.invoke(args=["forms", "list"]).output
        versions = {f: listing.split(f)[1].split()[2] for f in forms}
        db.session.remove()
        db.engine.dispose()
    key = key_answers(KEY_CSV)
    posts = []
    for n in range(10):
        for phase, pct in (("pre", WORKED_PRE[n]), ("post", WORKED_POST[n])):
            form = f"kt_dscoban_{phase}"
            posts.append(
                attempt_xml(
                    form, versions[form], phase=phase, course=COURSE, trainee=f"EV{n:03d}",
                    correct_items=pct * len(WORKED_ITEMS) // 100, key=key,
                    instance=f"uuid:eval-{phase}-{n}",
                )
            )  # fmt: skip
    for n in range(8):
        improve, useful = COMMENTS[n % 4]
        posts.append(
            satisfaction_xml(
                versions["danhgia_khoahoc"], course=COURSE, instance=f"uuid:eval-sat-{n}",
                ratings=(5, 4, 4, 3, 5, 4, 2, 5, 4, 4) if n % 2 else (4, 5, 4, 4, 5, 4, 3, 5, 4, 5),
                overall=(5, 4, 4, 3, 5, 4, 2, 5)[n], trainer="EVGV1", improve=improve,
                most_useful=useful, topics="tp05" if n < 3 else "",
            )
        )  # fmt: skip
    for xml in posts:
        response = requests.post(
            f"{live_server.url}/key/{device['token']}/submission",
            files={"xml_submission_file": ("submission.xml", xml, "text/xml")},
            headers={"X-OpenRosa-Version": "1.0"},
            timeout=30,
        )
        assert response.status_code == 201, response.text
    return live_server


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("tablet", TABLET)])
def test_the_trainer_reads_the_course_report(course_world, open_page, name, viewport):
    tab = open_page(viewport)
    tab.sign_in(TRAINER, PASSWORD)
    tab.goto("/reports/courses")
    tab.page.locator("a", has_text=COURSE).click()
    tab.page.wait_for_load_state()
    page = tab.page
    assert page.locator("h1").inner_text() == "Báo cáo đánh giá kết quả học tập"
    titles = page.locator("section.report-section h2").all_inner_texts()
    assert titles[:2] == ["Tóm tắt khóa học", "Kết quả từng học viên"]
    gain = page.locator("#S3 tbody tr").first.inner_text()
    assert "16,50" in gain and "10,18" in gain and "22,82" in gain
    assert "60,0 %" in page.locator("#S4 tbody tr").nth(1).inner_text()
    assert page.locator("#T1 tbody tr").count() == 10
    assert page.locator("figure.chart svg").count() >= 4
    assert "0905" not in page.locator("#C1").inner_text()
    assert tab.problems() == []
    tab.screenshot(f"course-report-{name}")
    page.locator("#section-I").scroll_into_view_if_needed()
    tab.screenshot(f"course-report-items-{name}", full_page=False)
    page.locator("#section-L").scroll_into_view_if_needed()
    tab.screenshot(f"course-report-satisfaction-{name}", full_page=False)
    page.locator("#section-C").scroll_into_view_if_needed()
    tab.screenshot(f"course-report-comments-{name}", full_page=False)


def test_the_report_in_english_and_printed(course_world, open_page):
    tab = open_page(DESKTOP)
    tab.sign_in(TRAINER, PASSWORD)
    tab.goto(f"/reports/courses/{COURSE}")
    tab.page.locator("form.lang button").click()
    tab.page.wait_for_load_state()
    assert tab.page.locator("h1").inner_text() == "Trainee evaluation report"
    assert "Mean gain (pp)" in tab.page.locator("#S3").inner_text()
    tab.screenshot("course-report-english")
    tab.page.emulate_media(media="print")
    assert not tab.page.locator("nav.site-nav").is_visible()
    assert tab.problems() == []


def test_downloads_and_scorecards(course_world, open_page):
    tab = open_page(DESKTOP)
    tab.sign_in(TRAINER, PASSWORD)
    tab.goto(f"/reports/courses/{COURSE}")
    cookies = {c["name"]: c["value"] for c in tab.page.context.cookies()}
    for link, kind in (
        ("Tải PDF", "application/pdf"),
        ("Tải XLSX", "spreadsheetml"),
        ("Phiếu điểm", "application/pdf"),
    ):
        href = tab.page.locator(".actions a", has_text=link).get_attribute("href")
        response = requests.get(course_world.url + href, cookies=cookies, timeout=120)
        assert response.status_code == 200, (link, response.text[:300])
        assert kind in response.headers["Content-Type"]
        assert len(response.content) > 1000


def test_the_trainer_recodes_a_comment(course_world, open_page):
    tab = open_page(DESKTOP)
    tab.sign_in(TRAINER, PASSWORD)
    tab.goto(f"/reports/courses/{COURSE}")
    form = tab.page.locator("form.recode").first
    form.locator("select").select_option(["4", "8"])
    form.locator("button").click()
    tab.page.wait_for_load_state()
    assert "Đã lưu mã" in tab.page.locator("p.ok").inner_text()
    codes = tab.page.locator("form.recode").first.locator("option:checked").all_inner_texts()
    assert [c.split(" · ")[0] for c in codes] == ["4", "8"]
    assert tab.problems() == []


def test_a_planner_sees_aggregates_and_another_trainer_is_refused(course_world, open_page):
    tab = open_page(DESKTOP)
    tab.sign_in(PLANNER, PASSWORD)
    tab.goto(f"/reports/courses/{COURSE}")
    assert tab.page.locator("#T1").count() == 0
    assert tab.page.locator("#S3").count() == 1
    assert tab.page.locator("form.recode").count() == 0
    tab.screenshot("course-report-planner")
    other = open_page(DESKTOP)
    other.sign_in(OTHER, PASSWORD)
    assert other.goto(f"/reports/courses/{COURSE}").status == 403
    assert other.goto("/reports/courses/NO-SUCH").status == 404


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("tablet", TABLET)])
def test_a_planner_reads_the_programme_roll_up(course_world, open_page, name, viewport):
    tab = open_page(viewport)
    tab.sign_in(PLANNER, PASSWORD)
    with tab.page.expect_navigation():
        tab.page.locator("nav.site-nav a", has_text="Tổng hợp chương trình").click()
    page = tab.page
    assert page.url.endswith("/reports/programme")
    for table in ("R1", "R2", "R3", "R4"):
        assert page.locator(f"#{table}").count() == 1
    outcome = page.locator("#R3 tbody tr").first.inner_text()
    assert "72,5" in outcome and "16,5" in outcome and "60,0" in outcome  # the worked example
    assert page.locator("figure.chart svg").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport[0]
    tab.screenshot(f"programme-{name}")
    page.locator("select[name=period]").select_option("quarter")
    with page.expect_navigation():
        page.locator("form.report-form button").click()
    assert "2026-Q3" in page.locator("#R1 tbody").inner_text()
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    for link, kind in (("Tải PDF", "application/pdf"), ("Tải XLSX", "spreadsheetml")):
        href = page.locator(".actions a", has_text=link).get_attribute("href")
        response = requests.get(course_world.url + href, cookies=cookies, timeout=120)
        assert response.status_code == 200 and kind in response.headers["Content-Type"]
    assert tab.problems() == []
    trainer = open_page(DESKTOP)
    trainer.sign_in(TRAINER, PASSWORD)
    assert trainer.goto("/reports/programme").status == 403
    assert trainer.page.locator("nav.site-nav a", has_text="Tổng hợp chương trình").count() == 0
