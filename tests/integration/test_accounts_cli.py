"""users and devices commands: accounts for ODK Collect."""

from __future__ import annotations

import base64
import json
import zlib

import pytest
import sqlalchemy as sa

from server.models import Device, User
from tests.factories import DATA


@pytest.fixture
def published(runner):
    result = runner.invoke(
        args=[
            "forms",
            "publish",
            str(DATA / "forms" / "mini.md"),
            str(DATA / "forms" / "simple.md"),
        ]
    )
    assert result.exit_code == 0, result.output


def test_users_create_with_password_from_environment(published, runner, session, monkeypatch):
    monkeypatch.setenv("TAPHUAN_PASSWORD", "mật-khẩu-dài")
    result = runner.invoke(
        args=[
            "users",
            "create",
            "thu.nguyen",
            "--role",
            "collector",
            "--full-name",
            "Nguyễn Thị Thu",
            "--form",
            "mini",
        ]
    )
    assert result.exit_code == 0, result.output
    user = session.execute(sa.select(User)).scalar_one()
    assert (user.username, user.role, user.full_name) == (
        "thu.nguyen",
        "collector",
        "Nguyễn Thị Thu",
    )
    assert [f.form_id for f in user.forms] == ["mini"]
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))
    assert len(user.digest_ha1) == 32
    assert "mật-khẩu-dài" not in user.password_hash
    listing = runner.invoke(args=["users", "list"]).output
    assert "thu.nguyen" in listing
    assert "mini" in listing


def test_users_create_prompts_for_password(published, runner, session, monkeypatch):
    monkeypatch.delenv("TAPHUAN_PASSWORD", raising=False)
    result = runner.invoke(
        args=["users", "create", "admin", "--role", "admin"], input="mot-mat-khau\nmot-mat-khau\n"
    )
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("args", "password", "code"),
    [
        (["users", "create", "a:b", "--role", "admin"], "long-enough", "400.14"),
        (["users", "create", "x", "--role", "admin"], "short", "400.14"),
        (["users", "create", "x", "--role", "collector", "--form", "nope"], "long-enough", "404.1"),
    ],
)
def test_users_create_refuses_bad_input(published, runner, monkeypatch, args, password, code):
    monkeypatch.setenv("TAPHUAN_PASSWORD", password)
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert code in result.output


def test_users_duplicate_assign_disable_and_password(published, runner, session, monkeypatch):
    monkeypatch.setenv("TAPHUAN_PASSWORD", "long-enough")
    runner.invoke(args=["users", "create", "lan", "--role", "collector"])
    again = runner.invoke(args=["users", "create", "lan", "--role", "collector"])
    assert "409.7" in again.output
    assert (
        "lan: mini, simple"
        in runner.invoke(
            args=["users", "assign", "lan", "--form", "mini", "--form", "simple"]
        ).output
    )
    old = session.execute(sa.select(User.digest_ha1)).scalar_one()
    monkeypatch.setenv("TAPHUAN_PASSWORD", "another-long-one")
    assert runner.invoke(args=["users", "set-password", "lan"]).exit_code == 0
    session.expire_all()
    assert session.execute(sa.select(User.digest_ha1)).scalar_one() != old
    assert runner.invoke(args=["users", "disable", "lan"]).exit_code == 0
    assert "(disabled)" in runner.invoke(args=["users", "list"]).output
    ghost = runner.invoke(args=["users", "disable", "ghost"]).output
    assert "404.4 Không tìm thấy tài khoản / Account not found" in ghost
    assert ghost.index("Không có tài khoản 'ghost'.") < ghost.index("no user 'ghost'")


def test_devices_create_prints_url_settings_and_qr(published, runner, session, app):
    result = runner.invoke(
        args=[
            "devices",
            "create",
            "Xã Ia Ka",
            "--form",
            "mini",
            "--json",
            "--server-url",
            "https://taphuan.example.vn",
        ]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["url"] == f"https://taphuan.example.vn/key/{payload['token']}"
    assert payload["forms"] == ["mini"]
    settings = payload["collect_settings"]
    assert settings["general"]["server_url"] == payload["url"]
    assert settings["project"]["name"] == "Xã Ia Ka"
    decoded = json.loads(zlib.decompress(base64.b64decode(payload["qr_text"])))
    assert decoded == settings
    device = session.execute(sa.select(Device)).scalar_one()
    assert payload["token"] not in device.token_sha256  # only the hash is stored
    human = runner.invoke(args=["devices", "create", "Xã khác", "--form", "simple"]).output
    assert "Server URL for ODK Collect / KoBoCollect: http://127.0.0.1:5000/key/" in human
    assert "█" in human or "▀" in human or "▄" in human  # the QR code itself


def test_devices_create_follows_the_server_address(published, runner, app, monkeypatch):
    """Without --server-url: TAPHUAN_BASE_URL, else make run's HOST/PORT, said on screen."""
    monkeypatch.setenv("HOST", "10.0.0.5")
    monkeypatch.setenv("PORT", "8080")
    out = runner.invoke(args=["devices", "create", "a", "--form", "mini"]).output
    assert "Server URL for ODK Collect / KoBoCollect: http://10.0.0.5:8080/key/" in out
    assert "HOST=10.0.0.5 PORT=8080" in out
    assert "warning" not in out
    monkeypatch.setenv("HOST", "0.0.0.0")  # noqa: S104 (a setting, nothing binds)
    out = runner.invoke(args=["devices", "create", "b", "--form", "mini"]).output
    assert "http://0.0.0.0:8080/key/" in out
    assert "0.0.0.0 cannot be reached from a tablet; set TAPHUAN_BASE_URL" in out
    app.config["BASE_URL"] = "https://taphuan.syt.example.vn/"
    payload = json.loads(
        runner.invoke(args=["devices", "create", "c", "--form", "mini", "--json"]).output
    )
    assert payload["url"] == f"https://taphuan.syt.example.vn/key/{payload['token']}"
    assert payload["url_source"] == "TAPHUAN_BASE_URL"


def test_devices_revoke_stops_the_token(published, runner, client):
    payload = json.loads(
        runner.invoke(args=["devices", "create", "t", "--form", "mini", "--json"]).output
    )
    url = f"/key/{payload['token']}/formList"
    assert client.get(url, headers={"X-OpenRosa-Version": "1.0"}).status_code == 200
    assert runner.invoke(args=["devices", "revoke", str(payload["id"])]).exit_code == 0
    assert client.get(url, headers={"X-OpenRosa-Version": "1.0"}).status_code == 403
    assert "revoked" in runner.invoke(args=["devices", "list"]).output


def test_devices_need_a_form(published, runner):
    result = runner.invoke(args=["devices", "create", "t", "--form", "nope"])
    assert "404.1" in result.output
