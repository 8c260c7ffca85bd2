"""The overview in Chromium: today's submission counted, a quiet tablet listed, both languages."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import requests

from server import create_app
from server.extensions import db
from server.services import accounts
from tests.factories import DATA, OR, simple

pytestmark = pytest.mark.slow

DESKTOP, TABLET = (1366, 900), (800, 1280)


@pytest.fixture(scope="module")
def activity(live_server):
    """A published form, a tablet that sent one submission now, one silent for ten days."""
    app = create_app(live_server.app_config())
    result = app.test_cli_runner().invoke(
        args=["forms", "publish", str(DATA / "forms" / "simple.md")]
    )
    assert result.exit_code == 0, result.output
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        _, token = accounts.create_device(
            "Máy gửi hôm nay", form_ids=["simple"], session=db.session, now=now
        )
        accounts.create_device(
            "Máy xã Ia Grai (im lặng)",
            form_ids=["simple"],
            session=db.session,
            now=now - dt.timedelta(days=10),
        )
        db.session.commit()
    xml = simple(f"uuid:{uuid.uuid4()}").encode()
    sent = requests.post(
        f"{live_server.url}/key/{token}/submission",
        files={"xml_submission_file": ("submission.xml", xml, "text/xml")},
        headers=OR,
        timeout=30,
    )
    assert sent.status_code == 201, sent.text


@pytest.mark.parametrize(("name", "viewport", "lang"), [
    ("desktop", DESKTOP, "vi"), ("tablet", TABLET, "en"),
])  # fmt: skip
def test_the_overview_shows_todays_work_and_quiet_tablets(
    open_page, activity, name, viewport, lang
):
    tab = open_page(viewport)
    tab.sign_in()
    page = tab.page
    if lang == "en":
        with page.expect_navigation():
            page.locator("form.lang button").click()
    row = page.locator("table.activity tr", has=page.locator("code", has_text="simple"))
    today = int(row.locator("td").nth(2).inner_text())
    week = int(row.locator("td").nth(3).inner_text().replace(".", ""))
    assert today >= 1 and week >= today
    quiet = page.locator("section[aria-labelledby=quiet]")
    assert "Máy xã Ia Grai (im lặng)" in quiet.inner_text()
    assert "Máy gửi hôm nay" not in quiet.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport[0]
    if lang == "en":
        assert "Quiet tablets" in quiet.inner_text()
    tab.screenshot(f"dashboard-{name}-{lang}")
    assert tab.problems() == []
