"""The overview pages, and errors rendered for people (HTML) and programs (JSON)."""

import shutil

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.services.accounts import create_user
from tests import pages
from tests.factories import DATA, NOW


def sign_in(client, app, username="admin", role="admin"):
    create_user(
        username,
        role=role,
        password="mat-khau-dai",
        realm=app.config["AUTH_REALM"],
        session=db.session,
        now=NOW,
    )
    db.session.commit()
    return pages.sign_in(client, username, "mat-khau-dai")


@pytest.fixture
def signed_in(client, app):
    assert sign_in(client, app).status_code == 302
    return client


def test_index_lists_published_forms_and_units(signed_in, client, runner, tmp_path):
    shutil.copy(DATA / "forms" / "mini.md", tmp_path / "mini.md")
    runner.invoke(args=["forms", "publish", str(tmp_path / "mini.md")])
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Tổng quan" in html and "Tuần này" in html
    assert "Mẫu nhỏ" in html
    assert "http://localhost/" in html
    detail = client.get("/admin/forms/mini").get_data(as_text=True)
    assert "2026010101" in detail
    assert "/data/age" in detail
    assert "integer" in detail


def test_index_without_forms_explains_how_to_publish(signed_in, client):
    html = client.get("/").get_data(as_text=True)
    assert "Chưa có biểu mẫu nào" in html


def test_unknown_form_page_is_a_404_catalogue_page(signed_in, client):
    response = client.get("/admin/forms/khong-co")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Không tìm thấy biểu mẫu" in html
    assert "404.1" in html
    # The Vietnamese message first, then the English one.
    vietnamese = html.index("Không có biểu mẫu &#39;khong-co&#39;.")
    assert vietnamese < html.index("no form &#39;khong-co&#39;")


def test_routing_errors_speak_json_under_api(client):
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert error["code"] == "404"
    assert error["message_vi"] == "Không có trang này; hãy kiểm tra lại địa chỉ."
    assert error["message"]
    page = client.get("/nothing")
    assert page.mimetype == "text/html"
    assert "Không có trang này" in page.get_data(as_text=True)


def test_method_not_allowed_is_rendered(signed_in, client):
    response = client.post("/")
    assert response.status_code == 405
    assert "Phương thức không được phép" in response.get_data(as_text=True)


def test_index_counts_current_submissions(signed_in, client, runner, tmp_path):
    import io
    import json

    runner.invoke(args=["forms", "publish", str(DATA / "forms" / "simple.md")])
    token = json.loads(
        runner.invoke(args=["devices", "create", "t", "--form", "simple", "--json"]).output
    )["token"]
    for n in ("a", "b"):
        xml = f'<data id="simple" version="1"><meta><instanceID>{n}</instanceID></meta></data>'
        client.post(
            f"/key/{token}/submission",
            headers={"X-OpenRosa-Version": "1.0"},
            data={"xml_submission_file": (io.BytesIO(xml.encode()), "s.xml")},
            content_type="multipart/form-data",
        )
    html = client.get("/").get_data(as_text=True)
    assert '<td class="num">2</td>' in html


def test_pages_need_a_signed_in_user(client, app):
    response = client.get("/admin/forms/mini")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login?next=/admin/forms/mini")
    assert client.get("/login").status_code == 200
    wrong = pages.sign_in(client, "admin", "sai")
    assert wrong.status_code == 401
    assert "Sai tên đăng nhập" in wrong.get_data(as_text=True)


def test_sign_in_goes_back_only_to_local_pages_and_sign_out_ends_it(client, app):
    create_user(
        "gv",
        role="trainer",
        password="mat-khau-dai",
        realm=app.config["AUTH_REALM"],
        session=db.session,
        now=NOW,
    )
    db.session.commit()
    response = pages.sign_in(client, "gv", "mat-khau-dai", next_url="https://evil.example/")
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    pages.post_form(client, "/logout", {}, page="/")
    assert client.get("/").status_code == 302


def test_collectors_do_not_use_the_pages(client, app):
    assert sign_in(client, app, "thu", role="collector").status_code == 401


def test_a_form_sent_after_the_session_ended_returns_to_its_page_after_signing_in(
    signed_in, client, app
):
    from server.models import User

    token = pages.form_token(client, "/admin/tablets")
    # the session ends elsewhere (sign out everywhere, a password change …)
    db.session.execute(sa.update(User).values(session_version=User.session_version + 1))
    db.session.commit()
    sent = client.post(
        "/admin/tablets",
        data={"csrf_token": token, "label": "x", "form": "simple"},
        headers={"Referer": "http://localhost/admin/tablets?tab=1"},
    )
    assert sent.status_code == 302
    assert sent.headers["Location"].endswith("/login?next=/admin/tablets?tab%3D1")
    # without a page to go back to, the overview
    other = client.post("/admin/tablets/1/revoke", data={"csrf_token": token})
    assert other.headers["Location"].endswith("/login?next=/")
