"""Accessibility: axe-core over every main page in Chromium, no serious or critical violation.

axe-core comes from npm (``tests/webforms/package.json``, installed by ``make test`` through
``scripts/webforms-deps``); it is only ever loaded into the test browser, never served. The
pages keep their strict CSP, so the script is handed to the page through Playwright's
evaluate (the DevTools protocol), not a script tag.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import ROOT
from server import create_app
from tests.factories import DATA

pytestmark = pytest.mark.slow

AXE = ROOT / "tests" / "webforms" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP, TABLET = (1366, 900), (800, 1280)
#: Every main page an administrator reaches from the navigation (and the sign-in page).
PAGES = [
    "/",
    "/admin/forms",
    "/admin/forms/simple",
    "/admin/forms/simple/submissions",
    "/admin/tablets",
    "/admin/people",
    "/admin/audit",
    "/admin/units",
    "/admin/register",
    "/admin/courses",
    "/reports/needs",
    "/reports/courses",
    "/reports/programme",
]


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run scripts/webforms-deps (make test does)")
    return Path(AXE).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def published(live_server):
    app = create_app(live_server.app_config())
    result = app.test_cli_runner().invoke(
        args=["forms", "publish", str(DATA / "forms" / "simple.md")]
    )
    assert result.exit_code == 0, result.output


def serious(page, axe_source: str) -> list[str]:
    """The serious and critical violations axe finds on the page, one line each."""
    page.evaluate(axe_source)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize(("name", "viewport", "lang"), [
    ("desktop", DESKTOP, "vi"), ("tablet", TABLET, "en"),
])  # fmt: skip
def test_no_serious_violation_on_any_main_page(
    open_page, published, axe_source, name, viewport, lang
):
    tab = open_page(viewport)
    tab.goto("/login")
    found = {"/login": serious(tab.page, axe_source)}
    tab.sign_in()
    if lang == "en":
        with tab.page.expect_navigation():
            tab.page.locator("form.lang button").click()
    for path in PAGES:
        response = tab.goto(path)
        assert response.status == 200, path
        found[path] = serious(tab.page, axe_source)
    assert {path: lines for path, lines in found.items() if lines} == {}


def test_the_check_finds_a_violation_when_there_is_one(open_page, axe_source):
    """The instrument works: an image without a text alternative is critical for axe."""
    tab = open_page(DESKTOP)
    tab.page.set_content('<html lang="vi"><body><main><img src="x.png"></main></body></html>')
    assert any(line.startswith("image-alt (critical)") for line in serious(tab.page, axe_source))
