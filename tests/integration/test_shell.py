"""The page shell through the test client: language cookie, navigation, PDF of a page."""

from __future__ import annotations

import io

from flask import g
from pypdf import PdfReader

from server.extensions import db
from server.services.accounts import create_user
from server.web import shell
from tests import pages
from tests.factories import NOW


def test_vietnamese_by_default_and_english_by_choice(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert ">English</button>" in html
    response = pages.post_form(client, "/lang", {"lang": "en", "next": "/login"}, page="/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("taphuan_lang=en;") and "HttpOnly" in cookie
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert ">Tiếng Việt</button>" in html
    assert "Skip to main content" in html


def test_the_language_form_needs_its_token_and_stays_on_this_site(client):
    assert client.post("/lang", data={"lang": "en"}).status_code == 403
    response = pages.post_form(
        client, "/lang", {"lang": "en", "next": "//evil.example/"}, page="/login"
    )
    assert response.headers["Location"] == "/"
    unknown = pages.post_form(client, "/lang", {"lang": "xx", "next": "/login"}, page="/login")
    assert (
        "Set-Cookie" not in unknown.headers or "taphuan_lang" not in unknown.headers["Set-Cookie"]
    )


def test_navigation_in_both_languages(client, app):
    create_user(
        "quantri",
        role="admin",
        password="mat-khau-dai",
        realm=app.config["AUTH_REALM"],
        session=db.session,
        now=NOW,
    )
    db.session.commit()
    assert pages.sign_in(client, "quantri", "mat-khau-dai").status_code == 302
    html = client.get("/").get_data(as_text=True)
    assert '<a href="/" aria-current="page">Tổng quan</a>' in html
    assert '<a href="/reports/needs">Báo cáo nhu cầu</a>' in html
    assert '<a class="skip-link" href="#main">' in html and '<main id="main"' in html
    pages.post_form(client, "/lang", {"lang": "en", "next": "/"}, page="/")
    html = client.get("/").get_data(as_text=True)
    assert '<a href="/" aria-current="page">Overview</a>' in html
    assert ">Sign out</button>" in html


def test_render_page_gives_the_same_page_as_a_pdf(app):
    context = {
        "title_vi": "Báo cáo thử",
        "title_en": "Test report",
        "message_vi": "Độ bao phủ đạt 92,3 %",
        "message": "Coverage 92.3 %",
        "code": "000",
        "status": 200,
    }
    with app.test_request_context("/x"):
        g.lang = "vi"
        html = shell.render_page("errors/error.html", pdf_name="bao-cao.pdf", **context)
        assert isinstance(html, str) and "taphuan.js" in html
    with app.test_request_context("/x?format=pdf"):
        g.lang = "vi"
        response = shell.render_page("errors/error.html", pdf_name="bao-cao.pdf", **context)
        assert response.mimetype == "application/pdf"
        assert response.headers["Content-Disposition"] == 'inline; filename="bao-cao.pdf"'
        text = PdfReader(io.BytesIO(response.get_data())).pages[0].extract_text()
    assert "Báo cáo thử" in text and "Độ bao phủ đạt 92,3 %" in text
    assert "In ngày" in text  # the print header
    assert "Đăng xuất" not in text and "English" not in text  # no buttons on paper
