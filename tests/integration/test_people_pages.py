"""The People page: accounts with set-password links, roles, assignments, disable, API tokens."""

from __future__ import annotations

import re
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.errors import LastAdministrator
from server.extensions import db
from server.models import ApiToken, AuditEvent, PasswordLink, User
from server.services import accounts, people
from tests import pages
from tests.factories import NOW, PASSWORD

UNITS = """level,code,name,parent_code,valid_from
province,52,Tỉnh Gia Lai,,2025-07-01
commune,21583,Xã Ia Grai,52,2025-07-01
"""


@pytest.fixture
def admin(make_user, publish):
    publish("simple.md")
    return make_user("quantri", role="admin")


def signed_in(client, name="quantri", password=PASSWORD):
    assert pages.sign_in(client, name, password).status_code == 302
    return client


def post(client, path: str, data: dict):
    """POST a page form with the session's token (taken from the overview, which all may see)."""
    return pages.post_form(client, path, data, page="/")


def create(client, **fields):
    data = {"username": "lan", "full_name": "Nguyễn Thị Lan", "role": "planner", **fields}
    return post(client, "/admin/people", data)


def link_code(response) -> str:
    html = response.get_data(as_text=True)
    return re.search(
        r'id="link" class="copy" readonly value="[^"]*/set-password/([^"]+)"', html
    ).group(1)


def test_an_account_is_created_with_a_one_time_link_the_person_uses(
    app, client, admin, runner, tmp_path
):
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    assert runner.invoke(args=["units", "import", str(tmp_path / "units.csv")]).exit_code == 0
    signed_in(client)
    response = create(client, form=["simple"], units="21583")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    code = link_code(response)
    lan = db.session.execute(sa.select(User).where(User.username == "lan")).scalar_one()
    assert (lan.role, [f.form_id for f in lan.forms], lan.unit_codes) == (
        "planner",
        ["simple"],
        ["21583"],
    )
    listing = client.get("/admin/people").get_data(as_text=True)
    assert "Chờ đặt mật khẩu" in listing and "Nguyễn Thị Lan" in listing
    # the person cannot sign in before choosing a password
    stranger = app.test_client()
    assert pages.sign_in(stranger, "lan", "whatever-they-guess").status_code == 401

    form = stranger.get(f"/set-password/{code}")
    assert form.status_code == 200 and form.headers["Cache-Control"] == "no-store"
    differ = pages.post_form(stranger, f"/set-password/{code}",
                             {"password": "mật-khẩu-của-lan", "password_again": "khác-hẳn-đi"})  # fmt: skip
    assert differ.status_code == 400
    assert "Hai mật khẩu không giống nhau" in differ.get_data(as_text=True)
    done = pages.post_form(stranger, f"/set-password/{code}",
                           {"password": "mật-khẩu-của-lan", "password_again": "mật-khẩu-của-lan"})  # fmt: skip
    assert done.status_code == 200 and "Đã đặt mật khẩu" in done.get_data(as_text=True)
    assert pages.sign_in(stranger, "lan", "mật-khẩu-của-lan").status_code == 302
    # spent: the same link again is refused, and says so
    again = app.test_client().get(f"/set-password/{code}")
    assert again.status_code == 403 and "403.8" not in again.get_data(as_text=True)
    assert "không còn hiệu lực" in again.get_data(as_text=True)
    actions = db.session.execute(sa.select(AuditEvent.action).order_by(AuditEvent.id)).scalars()
    assert list(actions) == ["units.import", "user.create", "user.password_set"]


def test_bad_new_accounts_show_the_catalogue_message_and_store_nothing(client, admin):
    signed_in(client)
    bad_name = create(client, username="a:b")
    assert bad_name.status_code == 400
    assert "Tên đăng nhập" in bad_name.get_data(as_text=True)
    assert "400.14" in bad_name.get_data(as_text=True)
    unknown_unit = create(client, units="99999")
    assert unknown_unit.status_code == 400
    assert "Không có đơn vị hành chính mã 99999" in unknown_unit.get_data(as_text=True)
    assert create(client, role="chief").status_code == 400
    assert create(client, username="quantri").status_code == 409
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(PasswordLink.id))) == 0


def test_role_assignments_disable_and_enable(app, client, admin, make_user):
    lan = make_user("lan", role="collector")
    other = app.test_client()
    signed_in(client)
    page = client.get(f"/admin/people/{lan.id}")
    assert page.status_code == 200 and "Điều tra viên" in page.get_data(as_text=True)
    assigned = post(client, f"/admin/people/{lan.id}/assignments", {"form": ["simple"]})
    assert assigned.status_code == 302 and assigned.headers["Location"].endswith("done=assign")
    role = post(client, f"/admin/people/{lan.id}/role", {"role": "trainer"})
    assert role.status_code == 302
    assert "Đã đổi vai trò" in client.get(role.headers["Location"]).get_data(as_text=True)
    signed_in(other, "lan")
    disabled = post(client, f"/admin/people/{lan.id}/disable", {})
    assert disabled.status_code == 302
    assert other.get("/").status_code == 302  # their session ended at once
    assert pages.sign_in(app.test_client(), "lan", PASSWORD).status_code == 401
    assert "Đã khóa" in client.get("/admin/people").get_data(as_text=True)
    assert post(client, f"/admin/people/{lan.id}/enable", {}).status_code == 302
    assert pages.sign_in(app.test_client(), "lan", PASSWORD).status_code == 302
    db.session.expire_all()
    assert (lan.role, [f.form_id for f in lan.forms]) == ("trainer", ["simple"])
    actions = list(
        db.session.execute(sa.select(AuditEvent.action).order_by(AuditEvent.id)).scalars()
    )
    assert actions == ["user.assign", "user.role", "user.disable", "user.enable"]
    assert client.get("/admin/people/999").status_code == 404
    unknown = post(client, f"/admin/people/{lan.id}/assignments", {"form": ["nope"]})
    assert unknown.status_code == 404 and "nope" in unknown.get_data(as_text=True)


def test_reset_password_ends_the_old_one_and_every_session(app, client, admin, make_user):
    lan = make_user("lan", role="trainer")
    other = signed_in(app.test_client(), "lan")
    signed_in(client)
    reset = post(client, f"/admin/people/{lan.id}/reset-password", {})  # fmt: skip
    assert reset.status_code == 200 and reset.headers["Cache-Control"] == "no-store"
    code = link_code(reset)
    assert other.get("/").status_code == 302
    assert pages.sign_in(app.test_client(), "lan", PASSWORD).status_code == 401
    # a second reset kills the first link
    second = link_code(post(client, f"/admin/people/{lan.id}/reset-password", {}))  # fmt: skip
    assert app.test_client().get(f"/set-password/{code}").status_code == 403
    fresh = app.test_client()
    ok = pages.post_form(fresh, f"/set-password/{second}",
                         {"password": "mật-khẩu-mới-đủ", "password_again": "mật-khẩu-mới-đủ"})  # fmt: skip
    assert ok.status_code == 200
    assert pages.sign_in(fresh, "lan", "mật-khẩu-mới-đủ").status_code == 302


def test_the_last_administrator_cannot_disable_or_demote_themselves(app, client, admin, make_user):
    signed_in(client)
    me = admin.id
    demote = post(client, f"/admin/people/{me}/role", {"role": "trainer"})  # fmt: skip
    assert demote.status_code == 409
    assert "quản trị cuối cùng" in demote.get_data(as_text=True)
    assert "409.9" in demote.get_data(as_text=True)
    disable = post(client, f"/admin/people/{me}/disable", {})
    assert disable.status_code == 409
    db.session.expire_all()
    assert (admin.role, admin.is_active) == ("admin", True)
    # with a second administrator, stepping down is allowed (and signs one out)
    make_user("thu", role="admin")
    stepped = post(client, f"/admin/people/{me}/role", {"role": "trainer"})  # fmt: skip
    assert stepped.status_code == 302 and stepped.headers["Location"].startswith("/login")
    thu = signed_in(app.test_client(), "thu")
    thu_id = db.session.execute(sa.select(User.id).where(User.username == "thu")).scalar_one()
    refused = post(thu, f"/admin/people/{thu_id}/disable", {})  # fmt: skip
    assert refused.status_code == 409


def test_api_tokens_are_shown_once_listed_and_revoked(app, client, admin, make_user):
    lan = make_user("lan", role="planner")
    thu = make_user("thu", role="collector")
    signed_in(client)
    made = post(client, f"/admin/people/{lan.id}/tokens", {"label": "Power Query"})  # fmt: skip
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    token = re.search(
        r'id="token" class="copy" readonly value="([^"]+)"', made.get_data(as_text=True)
    ).group(1)
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/forms", headers=bearer).status_code == 200
    page = client.get(f"/admin/people/{lan.id}").get_data(as_text=True)
    assert "Power Query" in page and token not in page
    row = db.session.execute(sa.select(ApiToken)).scalar_one()
    revoked = post(client, f"/admin/people/{lan.id}/tokens/{row.id}/revoke", {})  # fmt: skip
    assert revoked.status_code == 302
    assert app.test_client().get("/api/v1/forms", headers=bearer).status_code == 401
    assert "Đã thu hồi" in client.get(f"/admin/people/{lan.id}").get_data(as_text=True)
    # another user's token id, a missing label and a collector (no API) are refused
    wrong = post(client, f"/admin/people/{thu.id}/tokens/{row.id}/revoke", {})  # fmt: skip
    assert wrong.status_code == 404
    no_label = post(client, f"/admin/people/{lan.id}/tokens", {"label": " "})  # fmt: skip
    assert no_label.status_code == 400 and "400.14" in no_label.get_data(as_text=True)
    collector = post(client, f"/admin/people/{thu.id}/tokens", {"label": "x"})  # fmt: skip
    assert collector.status_code == 403 and "403.4" in collector.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 1


@pytest.mark.parametrize("role", ["trainer", "planner"])
def test_trainers_and_planners_get_403_on_people_and_audit(app, client, make_user, role):
    target = make_user("quantri", role="admin")
    make_user("gv", role=role)
    signed_in(client, "gv")
    for path in ("/admin/people", f"/admin/people/{target.id}", "/admin/audit", "/admin/audit.csv"):
        assert client.get(path).status_code == 403, path
    for path in ("/admin/people", f"/admin/people/{target.id}/role",
                 f"/admin/people/{target.id}/disable", f"/admin/people/{target.id}/reset-password",
                 f"/admin/people/{target.id}/tokens"):  # fmt: skip
        response = post(client, path, {"role": "planner", "username": "x",
                                                   "label": "x"})  # fmt: skip
        assert response.status_code == 403, path
    assert "/admin/people" not in client.get("/").get_data(as_text=True)
    db.session.expire_all()
    assert (target.role, target.is_active) == ("admin", True)
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0


def test_forms_without_the_csrf_token_are_refused(client, admin, make_user):
    lan = make_user("lan", role="trainer")
    signed_in(client)
    for path, data in (
        ("/admin/people", {"username": "x", "role": "trainer"}),
        (f"/admin/people/{lan.id}/role", {"role": "admin"}),
        (f"/admin/people/{lan.id}/disable", {}),
        (f"/admin/people/{lan.id}/tokens", {"label": "x"}),
    ):
        response = client.post(path, data=data)
        assert response.status_code == 403, path
        assert "403.5" in response.get_data(as_text=True) or "tải lại trang" in response.get_data(
            as_text=True
        )
    db.session.expire_all()
    assert (lan.role, lan.is_active) == ("trainer", True)
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 2


def test_an_expired_link_is_refused(app, client, admin, make_user):
    lan = make_user("lan", role="trainer")
    code = people.issue_link(db.session, None, lan, purpose="reset", now=NOW)
    db.session.commit()
    # NOW is in the past of the real clock by more than the lifetime only if the suite runs late;
    # make it certain by ageing the row.
    db.session.execute(sa.update(PasswordLink).values(expires_at=NOW))
    db.session.commit()
    assert client.get(f"/set-password/{code}").status_code == 403
    assert client.get("/set-password/made-up").status_code == 403
    assert accounts.check_basic(db.session, "lan", PASSWORD) is not None  # nothing changed


def test_the_cli_goes_through_the_same_service_and_is_audited(
    app, runner, admin, make_user, monkeypatch
):
    monkeypatch.setenv("TAPHUAN_PASSWORD", "mật-khẩu-dòng-lệnh")
    assert runner.invoke(args=["users", "create", "thu", "--role", "collector"]).exit_code == 0
    assert runner.invoke(args=["users", "set-password", "thu"]).exit_code == 0
    actions = db.session.execute(sa.select(AuditEvent.action, AuditEvent.actor_user_id)).all()
    assert actions == [("user.create", None), ("user.password_set", None)]
    db.session.execute(sa.delete(AuditEvent))
    db.session.commit()
    make_user("lan", role="planner")
    result = runner.invoke(args=["users", "assign", "lan", "--form", "simple"])
    assert result.exit_code == 0, result.output
    unknown = runner.invoke(args=["users", "assign", "lan", "--unit", "99999"])
    assert "400.14" in unknown.output
    event = db.session.execute(sa.select(AuditEvent)).scalar_one()
    assert (event.action, event.actor_user_id, event.details["forms"]) == (
        "user.assign",
        None,
        ["simple"],
    )


def test_two_administrators_disabling_each_other_at_once_leave_one(app, make_user):
    """The second decision waits for the first and counts what it committed."""
    a, b = make_user("a", role="admin"), make_user("b", role="admin")
    first, second = Session(db.engine), Session(db.engine)
    outcome: list[str] = []

    def the_other_one() -> None:
        try:
            people.disable(second, second.get(User, b.id), second.get(User, a.id), now=NOW)
            second.commit()
            outcome.append("disabled")
        except LastAdministrator:
            second.rollback()
            outcome.append("refused")

    try:
        people.disable(first, first.get(User, a.id), first.get(User, b.id), now=NOW)
        thread = threading.Thread(target=the_other_one)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive()  # waiting for the first administrator's decision
        first.commit()
        thread.join(30)
    finally:
        first.close()
        second.close()
    assert outcome == ["refused"]
    db.session.expire_all()
    active = db.session.execute(sa.select(User.username).where(User.is_active.is_(True)))
    assert list(active.scalars()) == ["a"]
