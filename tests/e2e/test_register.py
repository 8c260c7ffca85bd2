"""The register in Chromium, as an administrator does it.

A bad file (every row listed, nothing applied), a good file's diff, applying it with the
progress bar, finding and editing a person, downloading the register as of a day.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

from server import create_app

DESKTOP, TABLET = (1366, 900), (800, 1280)
UNITS = """level,code,name,parent_code,valid_from
province,52,Tỉnh Gia Lai,,2025-07-01
commune,21583,Phường Quy Nhơn,52,2025-07-01
commune,23584,Xã Ia Ka,52,2025-07-01
"""
HEADER = (
    "Mã cán bộ,Họ và tên,Giới tính,Năm sinh,Mã đơn vị hành chính,Tuyến,Loại hình,"
    "Nhóm đối tượng,Chứng chỉ,Ngày bắt đầu,Ngày kết thúc\n"
)
#: People beside the three the test follows: enough for the bar to have something to show.
FILLER = 4000


def good_file(prefix: str) -> str:
    rows = [
        f"{prefix}001,Nguyễn Thị Hoa,Nữ,1988,21583,Tuyến xã,Viên chức,vc_commune,vc_std:2019,"
        "01/08/2025,",
        f"{prefix}002,Rơ Châm Blơi,Nam,1979,23584,Tuyến xã,Viên chức,vc_commune,,01/08/2025,",
        f"{prefix}003,Lê Thị Mai,Nữ,1990,23584,Tuyến xã,Viên chức,vc_commune,,01/08/2025,"
        "31/12/2025",
    ]
    rows += [
        f"{prefix}F{n:05d},Cộng tác viên {n},Nữ,1990,21583,Tuyến xã,Viên chức,vc_commune,,"
        "01/09/2025,"
        for n in range(FILLER)
    ]
    return HEADER + "\n".join(rows) + "\n"


def bad_file(prefix: str) -> str:
    return HEADER + (
        f"{prefix}001,Nguyễn Thị Hoa,Nữ,1988,21583,Tuyến xã,Viên chức,vc_commune,,01/08/2025,\n"
        f"{prefix}002,Rơ Châm Blơi,Nam,1879,23584,Tuyến xã,Viên chức,vc_commune,,01/08/2025,\n"
        f"{prefix}003,Lê Thị Mai,Nữ,1990,99999,Tuyến xã,Viên chức,vc_commune,,01/08/2025,\n"
    )


@pytest.fixture(scope="module")
def units(live_server, tmp_path_factory):
    folder = tmp_path_factory.mktemp("register-units")
    (folder / "units.csv").write_text(UNITS, encoding="utf-8")
    app = create_app(live_server.app_config())
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["units", "import", str(folder / "units.csv")])
    assert result.exit_code == 0, result.output


def upload(page, name: str, text: str) -> None:
    page.locator("input[name=file]").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": text.encode()}
    )
    with page.expect_navigation():
        page.locator("#upload button[type=submit]").click()


@pytest.mark.parametrize(("name", "viewport", "lang"), [
    ("desktop", DESKTOP, "vi"), ("tablet", TABLET, "en"),
])  # fmt: skip
def test_check_apply_find_edit_and_download_the_register(open_page, units, name, viewport, lang):
    prefix = "RGD" if name == "desktop" else "RGT"
    en = lang == "en"
    tab = open_page(viewport)
    tab.sign_in(path="/admin/register")
    page = tab.page
    if en:
        with page.expect_navigation():
            page.locator("form.lang button").click()
        assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == ("Staff register" if en else "Danh sách cán bộ")
    tab.screenshot(f"register-{name}-{lang}")

    # A file with bad rows: every one listed with why, nothing applied.
    upload(page, "sai.csv", bad_file(prefix))
    page.locator(".job-progress[data-state=failed]").wait_for(timeout=30_000)
    assert "400.15" in page.locator(".job-progress").inner_text()
    rows = page.locator("table.bad-rows tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).locator("td").first.inner_text() == "3"
    assert "1879" in rows.nth(0).inner_text() and "99999" in rows.nth(1).inner_text()
    assert page.locator("form[action$='/apply']").count() == 0
    tab.screenshot(f"register-bad-rows-{name}-{lang}")
    tab.goto(f"/admin/register?q={prefix}001")
    assert page.locator("table.people").count() == 0  # nothing was applied

    # A good file: the diff, then apply with the progress bar.
    upload(page, "tot.csv", good_file(prefix))
    apply = page.locator("form[action$='/apply'] button")
    apply.wait_for(timeout=60_000)
    assert page.locator("[data-count=added]").inner_text() == f"{FILLER + 3:,}".replace(",", ".")
    assert page.locator("table.diff tbody tr").count() == 1000
    tab.screenshot(f"register-diff-{name}-{lang}", full_page=False)
    with page.expect_navigation():
        apply.click()
    bar = page.locator(".job-progress progress")
    assert bar.count() == 1
    tab.screenshot(f"register-applying-{name}-{lang}", full_page=False)
    # Watch the bar: the script swaps in each new state until the page reloads when done.
    states, deadline = [], time.monotonic() + 120
    while time.monotonic() < deadline:
        box = page.locator(".job-progress")
        try:
            state = box.get_attribute("data-state", timeout=1000)
            value = box.locator("progress").get_attribute("value", timeout=1000)
        except PlaywrightError:  # the page is reloading
            continue
        if state == "running" and value and "running" not in states:
            tab.screenshot(f"register-progress-{name}-{lang}", full_page=False)
        states.append(state)
        if state == "done":
            break
        time.sleep(0.1)
    assert states[-1] == "done", states
    done = page.locator(".job-progress progress")
    assert done.get_attribute("value") == done.get_attribute("max")
    assert "4.003" in page.locator("table.summary").inner_text()
    tab.screenshot(f"register-applied-{name}-{lang}")

    # Find a person and edit them.
    tab.goto("/admin/register")
    page.locator("input[name=q]").fill(f"{prefix}002")
    with page.expect_navigation():
        page.locator("form[role=search] button").click()
    row = page.locator("table.people tbody tr")
    assert row.count() == 1 and "Rơ Châm Blơi" in row.inner_text()
    with page.expect_navigation():
        row.locator("a").click()
    assert "Xã Ia Ka" in page.locator("table.postings").inner_text()
    page.locator("input[name=phone]").fill("0905 123 456")
    page.locator("input[name=birth_year]").fill("1800")
    with page.expect_navigation():
        page.locator("form.person-form button[type=submit]").click()
    assert "422.1" in page.locator("p.err[role=alert]").inner_text()
    assert "1800" in page.locator("#e-birth_year").inner_text()
    tab.screenshot(f"register-person-error-{name}-{lang}")
    page.locator("input[name=birth_year]").fill("1980")
    with page.expect_navigation():
        page.locator("form.person-form button[type=submit]").click()
    assert page.locator("p.ok[role=status]").is_visible()
    assert page.locator("input[name=phone]").input_value() == "0905 123 456"
    tab.screenshot(f"register-person-{name}-{lang}")

    # Download the register as of a day: GL003 left on 31/12/2025, so not in June 2026.
    tab.goto("/admin/register")
    export = page.locator("form[action$='/admin/register/export']")
    export.locator("input[name=on]").fill("2026-06-01")
    export.locator("select[name=format]").select_option("csv")
    with page.expect_navigation():
        export.locator("button").click()
    link = page.locator("a.result-link")
    link.wait_for(timeout=60_000)
    with page.expect_download() as download:
        link.click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert f"{prefix}001" in text and f"{prefix}002" in text and f"{prefix}003," not in text
    assert "0905 123 456" in text
    tab.screenshot(f"register-export-{name}-{lang}")
    # The one error the browser logs is the 422 of the wrong birth year, shown on the page.
    refused = "Failed to load resource: the server responded with a status of 422"
    assert [p for p in tab.problems() if refused not in p] == []
    assert len(tab.problems()) == 1


PLANNER, PLANNER_PASSWORD = "kehoach-ialy", "mat-khau-ke-hoach"


@pytest.fixture(scope="module")
def planner_world(live_server, units, tmp_path_factory):
    """A planner of commune 21583, and people in 21583 and 23584 (loaded through the CLI)."""
    folder = tmp_path_factory.mktemp("register-planner")
    rows = (
        "RGP001,Đinh Thị Xuân,Nữ,1985,21583,Tuyến xã,Viên chức,vc_commune,vc_std:2020,01/08/2025,\n"
        "RGP002,Ksor H'Hen,Nữ,1992,23584,Tuyến xã,Viên chức,vc_commune,,01/08/2025,\n"
    )
    (folder / "roster.csv").write_text(HEADER + rows, encoding="utf-8")
    app = create_app(live_server.app_config())
    runner = app.test_cli_runner()
    with app.app_context():
        for args, env in (
            (["roster", "import", str(folder / "roster.csv")], {}),
            (["users", "create", PLANNER, "--role", "planner"],
             {"TAPHUAN_PASSWORD": PLANNER_PASSWORD}),
            (["users", "assign", PLANNER, "--unit", "21583"], {}),
        ):  # fmt: skip
            result = runner.invoke(args=args, env=env)
            assert result.exit_code == 0, (args, result.output)


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("tablet", TABLET)])
def test_a_planner_reads_the_register_of_their_units_only(open_page, planner_world, name, viewport):
    tab = open_page(viewport)
    tab.sign_in(PLANNER, PLANNER_PASSWORD, path="/admin/register")
    page = tab.page
    assert page.locator("#upload").count() == 0  # read-only: no upload, no export
    assert page.locator("form[action$='/admin/register/export']").count() == 0
    page.locator("input[name=q]").fill("RGP")
    with page.expect_navigation():
        page.locator("form[role=search] button").click()
    codes = page.locator("table.people tbody tr td:first-child").all_inner_texts()
    assert codes == ["RGP001"]  # RGP002 is in another commune
    tab.screenshot(f"register-planner-{name}-vi")
    with page.expect_navigation():
        page.locator("table.people a").first.click()
    assert page.locator("form.person-form").count() == 0  # no edit form
    assert "vc_std" in page.locator("main").inner_text()
    tab.screenshot(f"register-planner-person-{name}-vi")
    assert tab.goto("/admin/register/people/RGP002").status == 403
    assert tab.problems() == [
        "error: Failed to load resource: the server responded with a status of 403 (FORBIDDEN)"
    ]
