"""First run: the console's one-time link creates the first administrator, then dies."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from server.extensions import db
from server.models import User
from server.services import accounts, first_run
from tests.factories import NOW
from tests.pages import post_form

PASSWORD = "mật-khẩu-quản-trị"


def issue() -> str:
    code = first_run.issue_code(db.session, now=dt.datetime.now(dt.UTC))
    db.session.commit()
    assert code
    return code


def create(client, code: str, **overrides):
    data = {
        "username": "quantri",
        "full_name": "Nguyễn Văn Quản",
        "password": PASSWORD,
        "password_again": PASSWORD,
        **overrides,
    }
    return post_form(client, f"/first-run/{code}", data)


def make_admin(app) -> None:
    accounts.create_user(
        "admin",
        role="admin",
        password=PASSWORD,
        realm=app.config["AUTH_REALM"],
        session=db.session,
        now=NOW,
    )
    db.session.commit()


def admins() -> list[str]:
    db.session.remove()
    return list(db.session.scalars(sa.select(User.username).where(User.role == "admin")))


def test_the_link_creates_the_first_administrator_and_signs_them_in(client):
    code = issue()
    page = client.get(f"/first-run/{code}")
    assert page.status_code == 200
    assert "Tạo tài khoản quản trị" in page.get_data(as_text=True)
    response = create(client, code)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200  # signed in
    assert admins() == ["quantri"]


def test_the_link_dies_once_used_and_every_other_printed_link_with_it(client):
    first, second = issue(), issue()
    assert create(client, first).status_code == 302
    for code in (first, second):
        again = client.get(f"/first-run/{code}")
        assert again.status_code == 403
        assert "không còn hiệu lực" in again.get_data(as_text=True)
    assert create(client, second, username="thu-hai").status_code == 403
    assert admins() == ["quantri"]


def test_no_link_is_issued_once_an_administrator_exists(app):
    make_admin(app)
    assert first_run.issue_code(db.session, now=NOW) is None


def test_a_wrong_or_expired_code_is_refused(client):
    assert client.get("/first-run/not-a-code").status_code == 403
    code = first_run.issue_code(db.session, now=NOW - dt.timedelta(days=8))
    db.session.commit()
    assert client.get(f"/first-run/{code}").status_code == 403


def test_bad_input_is_shown_and_nothing_is_made(client):
    code = issue()
    differ = create(client, code, password_again="something-else")
    assert differ.status_code == 400
    assert "Hai mật khẩu không giống nhau" in differ.get_data(as_text=True)
    short = create(client, code, password="ngan", password_again="ngan")
    assert short.status_code == 400
    assert admins() == []
    assert create(client, code).status_code == 302  # the code was not spent by the failures


def test_the_sign_in_page_says_how_to_get_in_until_an_administrator_exists(app, client):
    assert "Chưa có tài khoản quản trị" in client.get("/login").get_data(as_text=True)
    make_admin(app)
    assert "Chưa có tài khoản quản trị" not in client.get("/login").get_data(as_text=True)


def test_the_console_prints_the_link_only_while_there_is_no_administrator(app, runner):
    printed = runner.invoke(args=["users", "first-run-link", "--server-url", "http://may.chu"])
    assert printed.exit_code == 0, printed.output
    assert "http://may.chu/first-run/" in printed.output
    code = printed.output.split("/first-run/")[1].split()[0]
    db.session.remove()
    first_run.check_code(db.session, code, now=dt.datetime.now(dt.UTC))  # a live code
    make_admin(app)
    again = runner.invoke(args=["users", "first-run-link"])
    assert again.exit_code == 0
    assert again.output == ""
