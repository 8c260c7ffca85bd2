"""Forms and submissions in Chromium: publish (errors first), preview, close; review a submission.

An administrator uploads an XLSForm with an error and sees the row's message with nothing
published, fixes it and publishes, previews the questions and closes the form. A submission
posted by a tablet through OpenRosa (``requests``) is found with the filters, opened with its
photo, reviewed with a comment, deleted and restored. A planner sees only their units' rows and
a trainer reviews but cannot delete. Desktop in Vietnamese, tablet in English.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
import requests
from PIL import Image

from server import create_app
from server.extensions import db
from server.models import User
from server.services import accounts
from tests.e2e.browser import PASSWORD

pytestmark = pytest.mark.slow

DESKTOP, TABLET = (1366, 900), (800, 1280)
VIEWS = [("desktop", DESKTOP, "vi"), ("tablet", TABLET, "en")]
OR = {"X-OpenRosa-Version": "1.0"}

FORM = """| survey |
|        | type          | name    | label::Vietnamese (vi) | label::English (en) | relevant     | required |
|        | text          | hoten   | Họ tên chủ hộ          | Head of household   |              | yes      |
|        | text          | commune | Mã xã                  | Commune code        |              |          |
|        | image         | anh     | Ảnh nhà                | Photo of the house  |              |          |
|        | begin_group   | g       | Ý kiến                 | Opinions            |              |          |
|        | select_one yn | ok      | Hài lòng với dịch vụ   | Satisfied with the service | bar(${{hoten}}) |  |
|        | end_group     | g       |                        |                     |              |          |
|        | begin_repeat  | con     | Con                    | Child               |              |          |
|        | integer       | tuoi    | Tuổi con               | Child's age         |              |          |
|        | end_repeat    | con     |                        |                     |              |          |
| choices |
|         | list_name | name | label::Vietnamese (vi) | label::English (en) |
|         | yn        | yes  | Có                     | Yes                 |
|         | yn        | no   | Không                  | No                  |
| settings |
|          | form_id  | version | form_title      | default_language |
|          | {form_id} | 1      | Khảo sát hộ gia đình | Vietnamese (vi) |
"""
SURVEY = "ho_gia_dinh"


def broken(form_id: str) -> str:
    return FORM.format(form_id=form_id)


def fixed(form_id: str) -> str:
    return FORM.replace("bar(${{hoten}})", "${{hoten}} != ''").format(form_id=form_id)


def switch_to_english(page) -> None:
    with page.expect_navigation():
        page.locator("form.lang button").click()
    assert page.locator("html").get_attribute("lang") == "en"


@pytest.mark.parametrize(("name", "viewport", "lang"), VIEWS)
def test_publish_a_form_with_an_error_then_fixed_preview_and_close_it(
    open_page, live_server, tmp_path, name, viewport, lang
):
    form_id = f"thu_{name}"
    source = tmp_path / f"{form_id}.md"
    source.write_text(broken(form_id), encoding="utf-8")
    tab = open_page(viewport)
    tab.sign_in(path="/admin/forms")
    page = tab.page
    if lang == "en":
        switch_to_english(page)
    page.locator("input[name=file]").set_input_files(str(source))
    with page.expect_navigation():
        page.locator("form[action='/admin/forms'] button[type=submit]").click()
    errors = page.locator("#publish-errors")
    assert errors.is_visible()
    assert errors.locator("tbody td.num").first.inner_text() == "6"  # the spreadsheet's row
    assert "bar" in errors.inner_text()
    nothing = "Nothing was published" if lang == "en" else "Chưa xuất bản gì"
    assert nothing in errors.inner_text()
    tab.screenshot(f"forms-error-{name}-{lang}")
    assert page.locator(f"a[href='/admin/forms/{form_id}']").count() == 0  # nothing published

    source.write_text(fixed(form_id), encoding="utf-8")
    page.locator("input[name=file]").set_input_files(str(source))
    with page.expect_navigation():
        page.locator("form[action='/admin/forms'] button[type=submit]").click()
    assert page.url.endswith(f"/admin/forms/{form_id}?done=published")
    assert page.locator("#publish-done").is_visible()
    preview = page.locator("table.preview").inner_text()
    if lang == "en":
        assert "Satisfied with the service" in preview and "Child's age" in preview
    else:
        assert "Hài lòng với dịch vụ" in preview and "Tuổi con" in preview
    tab.screenshot(f"forms-preview-{name}-{lang}")

    page.locator("select[name=state]").select_option("closed")
    with page.expect_navigation():
        page.locator("form.state-form button[type=submit]").click()
    assert page.locator("#form-state").inner_text() == ("Closed" if lang == "en" else "Đã đóng")
    download = page.locator("a", has_text="XForm").first.get_attribute("href")
    assert download == f"/admin/forms/{form_id}/versions/1/xform"
    tab.screenshot(f"forms-closed-{name}-{lang}")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport[0]
    # The refused upload's page came with its 400, which Chromium logs; nothing else.
    refused = "the server responded with a status of 400 (BAD REQUEST)"
    assert [p for p in tab.problems() if refused not in p] == []
    assert len(tab.problems()) == 1


def photo() -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", (320, 240), (40, 110, 160))
    for x in range(100, 220):
        for y in range(80, 200):
            image.putpixel((x, y), (240, 200, 60))
    image.save(buffer, "JPEG")
    return buffer.getvalue()


def survey_xml(uuid: str, name: str, commune: str) -> bytes:
    return (
        f'<data id="{SURVEY}" version="1"><hoten>{name}</hoten><commune>{commune}</commune>'
        f"<anh>nha.jpg</anh><g><ok>yes</ok></g><con><tuoi>4</tuoi></con><con><tuoi>9</tuoi></con>"
        f"<meta><instanceID>uuid:{uuid}</instanceID><instanceName>{name}</instanceName></meta>"
        "</data>"
    ).encode()


@pytest.fixture(scope="module")
def survey(live_server, tmp_path_factory):
    """The survey form published, a tablet's token, and people of three roles."""
    folder = tmp_path_factory.mktemp("survey")
    source = folder / f"{SURVEY}.md"
    source.write_text(fixed(SURVEY), encoding="utf-8")
    app = create_app(live_server.app_config())
    runner = app.test_cli_runner()
    result = runner.invoke(args=["forms", "publish", str(source)])
    assert result.exit_code == 0, result.output
    created = runner.invoke(args=["devices", "create", "Máy xã Ia Ka", "--form", SURVEY, "--json"])
    assert created.exit_code == 0, created.output
    token = json.loads(created.output)["token"]
    with app.app_context():
        now = dt.datetime.now(dt.UTC)
        for username, role in (("kehoach", "planner"), ("giangvien", "trainer")):
            user = accounts.create_user(
                username, role=role, password=PASSWORD, realm=app.config["AUTH_REALM"],
                session=db.session, form_ids=[SURVEY], now=now,
            )  # fmt: skip
            if role == "planner":
                db.session.get(User, user.id).unit_codes = ["21583"]
        db.session.commit()
        db.engine.dispose()
    return token


def post_submission(live_server, token: str, uuid: str, name: str, commune: str) -> None:
    response = requests.post(
        f"{live_server.url}/key/{token}/submission",
        headers=OR,
        files={
            "xml_submission_file": ("submission.xml", survey_xml(uuid, name, commune), "text/xml"),
            "nha.jpg": ("nha.jpg", photo(), "image/jpeg"),
        },
        timeout=30,
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(("name", "viewport", "lang"), VIEWS)
def test_a_submission_is_found_opened_with_its_photo_reviewed_deleted_and_restored(
    open_page, live_server, survey, name, viewport, lang
):
    household = f"Hộ Y Niê {name}"
    number = 1 if name == "desktop" else 2
    post_submission(
        live_server, survey, f"7d0c6f2e-1111-4aaa-8bbb-{number:012d}", household, "21583"
    )
    tab = open_page(viewport)
    tab.sign_in(path=f"/admin/forms/{SURVEY}/submissions")
    page = tab.page
    if lang == "en":
        switch_to_english(page)
    page.locator("input[name=q]").fill(household)
    with page.expect_navigation():
        page.locator("form.filters button[type=submit]").click()
    rows = page.locator("table.submissions tbody tr")
    assert rows.count() == 1 and household in rows.inner_text()
    tab.screenshot(f"submissions-list-{name}-{lang}")
    with page.expect_navigation():
        rows.locator("a").first.click()
    image = page.locator("img.photo")
    assert image.is_visible()
    assert image.evaluate("img => img.naturalWidth") == 320  # the photo decoded
    answers = page.locator("dl.answers").first.inner_text()
    assert ("Satisfied with the service" if lang == "en" else "Hài lòng với dịch vụ") in answers
    assert ("Child #2" if lang == "en" else "Con #2") in answers
    tab.screenshot(f"submission-detail-{name}-{lang}")

    page.locator("select[name=review_state]").select_option("has_issues")
    page.locator("textarea[name=comment]").fill("Ảnh nhà bị mờ, đề nghị chụp lại")
    with page.expect_navigation():
        page.locator("form.review-form button[type=submit]").click()
    assert page.locator("#review-comment").inner_text() == "Ảnh nhà bị mờ, đề nghị chụp lại"
    assert page.locator("#review-state").inner_text() == (
        "Has issues" if lang == "en" else "Có vấn đề"
    )
    assert "Ảnh nhà bị mờ" in page.locator("table.events").inner_text()
    tab.screenshot(f"submission-reviewed-{name}-{lang}")

    with page.expect_navigation():
        page.locator("#delete").click()
    assert page.locator("#deleted-note").is_visible()
    tab.screenshot(f"submission-deleted-{name}-{lang}")
    with page.expect_navigation():
        page.locator("#restore").click()
    assert page.locator("#deleted-note").count() == 0
    tab.goto(f"/admin/forms/{SURVEY}/submissions?q={household}")
    assert household in page.locator("table.submissions").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport[0]
    assert tab.problems() == []


@pytest.mark.parametrize(("name", "viewport", "lang"), VIEWS)
def test_a_planner_sees_only_their_units_and_a_trainer_cannot_delete(
    open_page, live_server, survey, name, viewport, lang
):
    number = 10 if name == "desktop" else 20
    inside, outside = f"Hộ trong xã {name}", f"Hộ ngoài xã {name}"
    post_submission(live_server, survey, f"7d0c6f2e-2222-4aaa-8bbb-{number:012d}", inside, "21583")
    post_submission(
        live_server, survey, f"7d0c6f2e-2222-4aaa-8bbb-{number + 1:012d}", outside, "64001"
    )
    tab = open_page(viewport)
    tab.sign_in("kehoach", path=f"/admin/forms/{SURVEY}/submissions")
    page = tab.page
    if lang == "en":
        switch_to_english(page)
    listing = page.locator("table.submissions").inner_text()
    assert inside in listing and outside not in listing
    assert page.locator("input[name=include_deleted]").count() == 0
    tab.screenshot(f"submissions-planner-{name}-{lang}")
    with page.expect_navigation():
        page.locator("table.submissions a", has_text=inside).click()
    assert page.locator("form.review-form").count() == 0 and page.locator("#delete").count() == 0

    trainer = open_page(viewport)
    trainer.sign_in("giangvien", path=f"/admin/forms/{SURVEY}/submissions?q={outside}")
    with trainer.page.expect_navigation():
        trainer.page.locator("table.submissions a", has_text=outside).click()
    assert trainer.page.locator("form.review-form").count() == 1
    assert trainer.page.locator("#delete").count() == 0
    trainer.screenshot(f"submission-trainer-{name}-vi")
    assert tab.problems() == [] and trainer.problems() == []
