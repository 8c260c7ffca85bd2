"""The forms pages: publishing by upload with errors by row, preview, state, files, refusals."""

from __future__ import annotations

import io

import sqlalchemy as sa

from server.extensions import db
from server.models import Form, FormVersion
from tests.factories import DATA, PASSWORD
from tests.pages import form_token, post_form, sign_in

BROKEN = """| survey |
|        | type    | name | label::Vietnamese (vi) | label::English (en) | relevant     |
|        | text    | name | Họ tên                 | Name                |              |
|        | integer | age  | Tuổi                   | Age                 | bar(${name}) |
| settings |
|          | form_id | version | form_title | default_language |
|          | thu_loi | 1       | Thử lỗi    | Vietnamese (vi)  |
"""
FIXED = BROKEN.replace("bar(${name})", "${name} != ''")
WITH_MEDIA = """| survey |
|        | type                     | name  | label::Vietnamese (vi) | label::English (en) | required |
|        | select_one_from_file x.csv | pick | Chọn                   | Pick                | yes      |
|        | begin_group              | g     | Nhóm                   | Group               |          |
|        | select_one yn            | ok    | Đồng ý                 | Agree               |          |
|        | end_group                | g     |                        |                     |          |
| choices |
|         | list_name | name | label::Vietnamese (vi) | label::English (en) |
|         | yn        | yes  | Có                     | Yes                 |
|         | yn        | no   | Không                  | No                  |
| settings |
|          | form_id   | version | form_title | default_language |
|          | co_tep    | 3       | Có tệp     | Vietnamese (vi)  |
"""
CSV = b"name,label\na,A\nb,B\n"


def signed_in(client, make_user, role="admin", forms=()):
    make_user("nguoidung", role=role, forms=forms)
    assert sign_in(client, "nguoidung", PASSWORD).status_code == 302
    return client


def upload(client, name: str, content: bytes, media=()):
    token = form_token(client, "/")
    data = {"csrf_token": token, "file": (io.BytesIO(content), name)}
    if media:
        data["media"] = [(io.BytesIO(body), filename) for filename, body in media]
    return client.post("/admin/forms", data=data, content_type="multipart/form-data")


def forms_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(FormVersion))


def test_a_form_with_errors_shows_them_by_row_and_publishes_nothing(app, client, make_user):
    signed_in(client, make_user)
    response = upload(client, "thu_loi.md", BROKEN.encode())
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "400.6" in html and 'id="publish-errors"' in html
    assert '<td class="num">3</td>' in html  # the row of the spreadsheet
    assert "bar" in html
    assert forms_count() == 0
    # fixed, it publishes and the form page says so
    response = upload(client, "thu_loi.md", FIXED.encode())
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/forms/thu_loi?done=published")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã xuất bản phiên bản mới." in page
    assert forms_count() == 1


def test_pyxform_and_lint_errors_show_on_the_page(app, client, make_user):
    signed_in(client, make_user)
    typo = BROKEN.replace("| relevant     |", "| relevnt      |").replace(
        "bar(${name})", "            "
    )
    html = upload(client, "thu_loi.md", typo.encode()).get_data(as_text=True)
    assert "400.9" in html and "relevnt" in html
    bad_type = FIXED.replace("| integer |", "| integr  |")
    response = upload(client, "thu_loi.md", bad_type.encode())
    assert response.status_code == 400 and "integr" in response.get_data(as_text=True)
    not_a_form = upload(client, "thu_loi.docx", b"PK\x03\x04 not a form")
    assert not_a_form.status_code == 400 and "400.7" in not_a_form.get_data(as_text=True)
    assert forms_count() == 0


def test_the_english_page_shows_the_english_messages(app, client, make_user):
    signed_in(client, make_user)
    client.post("/lang", data={"lang": "en", "csrf_token": form_token(client, "/"), "next": "/"})
    html = upload(client, "thu_loi.md", BROKEN.encode()).get_data(as_text=True)
    assert "the condition expression fails" in html and "Nothing was published" in html


def test_media_preview_versions_and_downloads(app, client, make_user):
    signed_in(client, make_user)
    response = upload(client, "co_tep.md", WITH_MEDIA.encode(), media=[("x.csv", CSV)])
    assert response.status_code == 302
    page = client.get("/admin/forms/co_tep").get_data(as_text=True)
    assert "Đồng ý" in page and "Không" in page and "Nhóm" in page  # Vietnamese labels
    assert "x.csv" in page and "thiếu" not in page
    source = client.get("/admin/forms/co_tep/versions/3/source")
    assert source.status_code == 200 and source.data == WITH_MEDIA.encode()
    assert "co_tep.md" in source.headers["Content-Disposition"]
    xform = client.get("/admin/forms/co_tep/versions/3/xform")
    assert xform.status_code == 200 and b"<h:html" in xform.data
    media = client.get("/admin/forms/co_tep/versions/3/media/x.csv")
    assert media.status_code == 200 and media.data == CSV
    assert client.get("/admin/forms/co_tep/versions/9/xform").status_code == 404
    assert client.get("/admin/forms/co_tep/versions/3/media/y.csv").status_code == 404
    # the preview in English
    client.post("/lang", data={"lang": "en", "csrf_token": form_token(client, "/"), "next": "/"})
    english = client.get("/admin/forms/co_tep").get_data(as_text=True)
    assert "Agree" in english and "Group" in english and "Đồng ý" not in english


def test_a_missing_media_file_is_a_warning_on_the_version(app, client, make_user):
    signed_in(client, make_user)
    assert upload(client, "co_tep.md", WITH_MEDIA.encode()).status_code == 302
    page = client.get("/admin/forms/co_tep").get_data(as_text=True)
    assert "references x.csv but no such media file was supplied" in page
    assert "thiếu" in page


def test_state_changes_open_closing_closed(app, client, make_user, publish):
    publish("simple.md")
    signed_in(client, make_user)
    for state in ("closing", "closed", "open"):
        response = post_form(
            client, "/admin/forms/simple/state", {"state": state}, page="/admin/forms/simple"
        )
        assert response.status_code == 302
        assert db.session.scalar(sa.select(Form.state).where(Form.form_id == "simple")) == state
    bad = post_form(
        client, "/admin/forms/simple/state", {"state": "gone"}, page="/admin/forms/simple"
    )
    assert bad.status_code == 422 and "422.1" in bad.get_data(as_text=True)
    assert db.session.scalar(sa.select(Form.state).where(Form.form_id == "simple")) == "open"


def test_other_roles_read_the_list_but_may_not_publish_or_change_state(
    app, client, make_user, publish
):
    publish("simple.md")
    signed_in(client, make_user, role="trainer")
    index = client.get("/admin/forms").get_data(as_text=True)
    assert "simple" in index and 'action="/admin/forms"' not in index
    page = client.get("/admin/forms/simple").get_data(as_text=True)
    assert "Đổi trạng thái" not in page
    response = upload(client, "thu_loi.md", FIXED.encode())
    assert response.status_code == 403 and "403.4" in response.get_data(as_text=True)
    state = post_form(client, "/admin/forms/simple/state", {"state": "closed"}, page="/admin/forms")
    assert state.status_code == 403
    assert forms_count() == 1


def test_a_planner_sees_only_assigned_forms(app, client, make_user, publish):
    publish("simple.md")
    publish("mini.md")
    signed_in(client, make_user, role="planner", forms=("simple",))
    index = client.get("/admin/forms").get_data(as_text=True)
    assert "/admin/forms/simple" in index and "/admin/forms/mini" not in index
    assert client.get("/admin/forms/mini").status_code == 403
    assert client.get("/admin/forms/mini/versions/1/source").status_code == 403


def test_an_upload_without_a_file_or_csrf_token_is_refused(app, client, make_user):
    signed_in(client, make_user)
    token = form_token(client, "/")
    empty = client.post(
        "/admin/forms",
        data={"csrf_token": token, "file": (io.BytesIO(b""), "")},
        content_type="multipart/form-data",
    )
    assert empty.status_code == 422 and "422.1" in empty.get_data(as_text=True)
    forged = client.post(
        "/admin/forms",
        data={"file": (io.BytesIO(FIXED.encode()), "thu_loi.md")},
        content_type="multipart/form-data",
    )
    assert forged.status_code == 403 and "403.5" in forged.get_data(as_text=True)
    assert forms_count() == 0


def test_an_upload_over_the_limit_is_refused_before_it_is_read(app, client, make_user):
    signed_in(client, make_user)
    app.config["FORMS_MAX_UPLOAD_BYTES"] = 2000
    token = form_token(client, "/")
    big = FIXED.encode() + b" " * 5000
    response = client.post(
        "/admin/forms",
        data={"csrf_token": token, "file": (io.BytesIO(big), "thu_loi.md")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413 and "413.3" in response.get_data(as_text=True)
    assert "TAPHUAN_FORMS_MAX_UPLOAD_BYTES" in response.get_data(as_text=True)
    assert forms_count() == 0


def test_the_api_refuses_an_upload_over_the_limit_too(app, client, token_for):
    headers = token_for()
    app.config["FORMS_MAX_UPLOAD_BYTES"] = 2000
    body = (DATA / "forms" / "simple.md").read_bytes() + b" " * 5000
    response = client.post(
        "/api/v1/forms",
        headers=headers,
        data={"file": (io.BytesIO(body), "simple.md")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "413.3"
