"""Tablets in Chromium: an administrator creates a token, sees the QR code, revokes it."""

from __future__ import annotations

import pytest
import requests

from server import create_app
from tests.factories import DATA

DESKTOP, TABLET = (1366, 900), (800, 1280)
OR = {"X-OpenRosa-Version": "1.0"}


@pytest.fixture(scope="module")
def published(live_server):
    app = create_app(live_server.app_config())
    result = app.test_cli_runner().invoke(
        args=["forms", "publish", str(DATA / "forms" / "simple.md")]
    )
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("name", "viewport", "lang"), [
    ("desktop", DESKTOP, "vi"), ("tablet", TABLET, "en"),
])  # fmt: skip
def test_create_a_tablet_scan_its_qr_code_and_revoke_it(open_page, published, name, viewport, lang):
    tab = open_page(viewport)
    tab.sign_in(path="/admin/tablets")
    page = tab.page
    if lang == "en":
        with page.expect_navigation():
            page.locator("form.lang button").click()
        assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text().startswith("Máy tính bảng")
    label = f"Máy xã Ia Ka ({name})"
    page.locator("input[name=label]").fill(label)
    page.locator("input[name=form][value=simple]").check()
    tab.screenshot(f"tablets-form-{name}-{lang}")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    image = page.locator("img.qr")
    assert image.is_visible()
    assert image.evaluate("img => img.naturalWidth") >= 200  # the PNG decoded
    url = page.locator("code.url").inner_text()
    assert requests.get(url + "/formList", headers=OR, timeout=10).status_code == 200
    tab.screenshot(f"tablets-qr-{name}-{lang}")

    tab.goto("/admin/tablets")
    row = page.locator("tr", has_text=label)
    with page.expect_navigation():
        row.locator("button").click()
    assert "Đã thu hồi" in page.locator("tr", has_text=label).inner_text()
    assert requests.get(url + "/formList", headers=OR, timeout=10).status_code == 403
    assert tab.problems() == []
