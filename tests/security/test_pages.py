"""The pages against a hostile network: CSRF, redirects, sessions that really end, headers, limits."""

from __future__ import annotations

import pytest
from werkzeug import security as werkzeug_security

from server.extensions import db
from server.services import accounts
from tests import pages
from tests.factories import PASSWORD


@pytest.fixture
def admin(make_user):
    return make_user("quantri", role="admin")


def signed_in(client) -> None:
    assert pages.sign_in(client, "quantri", PASSWORD).status_code == 302


def cookie(client) -> str:
    return client.get_cookie("session").value


def test_login_without_a_csrf_token_is_refused(client, admin):
    response = client.post("/login", data={"username": "quantri", "password": PASSWORD})
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "403.5" in html
    assert "hãy tải lại trang rồi gửi lại" in html
    assert client.get("/").status_code == 302  # not signed in


def test_logout_without_a_csrf_token_is_refused(client, admin):
    signed_in(client)
    assert client.post("/logout").status_code == 403
    assert client.get("/").status_code == 200  # still signed in


def test_a_form_from_another_site_is_refused(client, admin):
    token = pages.form_token(client)
    response = client.post(
        "/login",
        data={"username": "quantri", "password": PASSWORD, "csrf_token": token},
        headers={"Origin": "http://evil.example"},
    )
    assert response.status_code == 403
    assert "403.5" in response.get_data(as_text=True)
    same = client.post(
        "/login",
        data={"username": "quantri", "password": PASSWORD, "csrf_token": token},
        headers={"Origin": "http://localhost"},
    )
    assert same.status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        "/%09/evil.example",
        "/\t/evil.example",
        "/%0a/x",
        "/\n/x",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "/\x7f/x",
    ],
)
def test_sign_in_never_redirects_off_site(client, admin, target):
    response = pages.sign_in(client, "quantri", PASSWORD, next_url=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location == "/" or (location.startswith("/") and not location.startswith("//"))
    assert "evil" not in location


def test_sign_in_goes_back_to_a_local_page(client, admin):
    response = pages.sign_in(client, "quantri", PASSWORD, next_url="/admin/forms/mini")
    assert response.headers["Location"] == "/admin/forms/mini"


def test_sign_out_ends_a_copied_session(client, app, admin):
    signed_in(client)
    stolen = cookie(client)
    pages.post_form(client, "/logout", {}, page="/")
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/").status_code == 302


@pytest.mark.parametrize("change", ["password", "disable", "role", "everywhere"])
def test_account_changes_end_every_session(client, app, runner, admin, change, monkeypatch):
    signed_in(client)
    other = app.test_client()
    assert pages.sign_in(other, "quantri", PASSWORD).status_code == 302
    if change == "password":
        monkeypatch.setenv("TAPHUAN_PASSWORD", "mat-khau-moi-dai")
        result = runner.invoke(args=["users", "set-password", "quantri"])
    elif change == "disable":
        result = runner.invoke(args=["users", "disable", "quantri"])
    elif change == "role":
        result = runner.invoke(args=["users", "set-role", "quantri", "planner"])
    else:
        result = runner.invoke(args=["users", "sign-out", "quantri"])
    assert result.exit_code == 0, result.output
    assert client.get("/").status_code == 302
    assert other.get("/").status_code == 302


def test_sign_out_everywhere_from_the_page(client, app, admin):
    signed_in(client)
    other = app.test_client()
    assert pages.sign_in(other, "quantri", PASSWORD).status_code == 302
    response = pages.post_form(client, "/logout-everywhere", {}, page="/")
    assert response.status_code == 302
    assert other.get("/").status_code == 302


def test_the_cookie_is_secure_over_https_only(client, admin):
    token = pages.form_token(client)
    plain = client.post(
        "/login", data={"username": "quantri", "password": PASSWORD, "csrf_token": token}
    )
    assert "Secure" not in plain.headers["Set-Cookie"]
    assert "HttpOnly" in plain.headers["Set-Cookie"]
    secure_client = client.application.test_client()
    token = pages.form_token(secure_client, base_url="https://localhost")
    secure = secure_client.post(
        "/login",
        data={"username": "quantri", "password": PASSWORD, "csrf_token": token},
        base_url="https://localhost",
    )
    assert secure.status_code == 302
    assert "; Secure" in secure.headers["Set-Cookie"]


@pytest.mark.parametrize("path", ["/login", "/api/v1/forms", "/formList", "/nope"])
def test_security_headers_on_every_answer(client, path):
    response = client.get(path, headers={"X-OpenRosa-Version": "1.0"})
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in response.headers
    secure = client.get(path, base_url="https://localhost", headers={"X-OpenRosa-Version": "1.0"})
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_pages_use_no_inline_style_or_script(client, admin):
    signed_in(client)
    for path in ("/login", "/"):
        html = client.get(path).get_data(as_text=True)
        assert "<style" not in html and "style=" not in html and "<script>" not in html
    css = client.get("/static/taphuan.css")
    assert css.status_code == 200
    css.close()


@pytest.fixture
def strict(app_config):
    app_config.update(AUTH_MAX_FAILURES=3, AUTH_MAX_FAILURES_PER_ADDRESS=5, AUTH_LOCK_SECONDS=600)
    return app_config


def test_wrong_passwords_lock_the_account(strict, client, admin):
    for _ in range(2):
        assert pages.sign_in(client, "quantri", "sai-mat-khau").status_code == 401
    locked = pages.sign_in(client, "quantri", "sai-mat-khau")
    assert locked.status_code == 429
    assert 0 < int(locked.headers["Retry-After"]) <= 600
    assert "Quá nhiều lần đăng nhập sai" in locked.get_data(as_text=True)
    # While locked, even the right password is refused: guessing cannot continue.
    assert pages.sign_in(client, "quantri", PASSWORD).status_code == 429


def test_wrong_passwords_lock_the_address_across_accounts(strict, client, make_user):
    for name in ("a1", "a2", "a3", "a4"):
        assert pages.sign_in(client, name, "sai-mat-khau").status_code == 401
    assert pages.sign_in(client, "a5", "sai-mat-khau").status_code == 429
    make_user("khac", role="admin")
    assert pages.sign_in(client, "khac", PASSWORD).status_code == 429


def test_a_right_password_clears_the_account_count(strict, client, admin):
    for _ in range(2):
        pages.sign_in(client, "quantri", "sai-mat-khau")
    assert pages.sign_in(client, "quantri", PASSWORD).status_code == 302
    fresh = client.application.test_client()
    for _ in range(2):
        assert pages.sign_in(fresh, "quantri", "sai-mat-khau").status_code == 401


def test_unknown_user_names_cost_a_password_check(client, admin, monkeypatch):
    """An unknown name must take as long as a known one: the same hash check runs."""
    checked = []
    real = werkzeug_security.check_password_hash

    def spy(stored, password):
        checked.append(stored.split("$")[0])
        return real(stored, password)

    monkeypatch.setattr(accounts, "check_password_hash", spy)
    pages.sign_in(client, "khong-co-ai", "sai-mat-khau")
    pages.sign_in(client, "quantri", "sai-mat-khau")
    known = db.session.get(type(admin), admin.id).password_hash.split("$")[0]
    assert checked == [known, known]
