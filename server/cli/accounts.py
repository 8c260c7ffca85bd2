"""``flask --app wsgi users …`` and ``devices …``: who may connect ODK Collect.

A device token is the easy way onto a tablet: its URL (``…/key/<token>``) is the whole
configuration, so Collect needs no user name or password; ``devices create`` prints the URL, the
settings JSON that Collect's "Configure with QR code" reads, and the QR code itself.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import AppGroup

from server.cli.common import commit_or_fail, now
from server.domain.collect_settings import collect_settings, qr_payload
from server.extensions import db
from server.models.accounts import ROLES
from server.services import accounts, first_run, people
from server.services.page_sessions import end_all_sessions

users_cli = AppGroup("users", help="Create and manage user accounts.")
devices_cli = AppGroup("devices", help="Create, list and revoke device tokens for tablets.")


def _password() -> str:
    """TAPHUAN_PASSWORD if set (scripts), else a hidden prompt with confirmation."""
    return os.environ.get("TAPHUAN_PASSWORD") or click.prompt(
        "Mật khẩu / Password", hide_input=True, confirmation_prompt=True
    )


@users_cli.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the user may do.")
@click.option("--full-name", default="", help="The person's name, shown in pages.")
@click.option("--form", "form_ids", multiple=True, help="Assign a form (collectors); repeatable.")
def create_user_command(username: str, role: str, full_name: str, form_ids: tuple[str]) -> None:
    """Create a user; the password comes from TAPHUAN_PASSWORD or a prompt."""
    password = _password()
    user = commit_or_fail(
        lambda: people.create_with_password(
            db.session,
            None,
            username=username,
            role=role,
            password=password,
            realm=current_app.config["AUTH_REALM"],
            full_name=full_name,
            form_ids=form_ids,
            now=now(),
        )
    )
    click.echo(f"created user {user.username} ({user.role})")


@users_cli.command("set-password")
@click.argument("username")
def set_password_command(username: str) -> None:
    """Set a user's password (TAPHUAN_PASSWORD or a prompt)."""
    password = _password()

    def change():
        user = accounts.get_user(db.session, username)
        realm = current_app.config["AUTH_REALM"]
        return people.set_password(db.session, None, user, password, realm=realm, now=now())

    commit_or_fail(change)
    click.echo(f"password changed for {username}")


@users_cli.command("assign")
@click.argument("username")
@click.option("--form", "form_ids", multiple=True, help="Form id; repeatable.")
@click.option(
    "--unit",
    "unit_codes",
    multiple=True,
    help="Unit code whose register a planner reads; repeatable.",
)
def assign_command(username: str, form_ids: tuple[str], unit_codes: tuple[str]) -> None:
    """Assign forms (collectors, planners) and units (planners) to a user."""

    def assign():
        user = accounts.get_user(db.session, username)
        return people.set_assignments(
            db.session,
            None,
            user,
            form_ids=[f.form_id for f in user.forms] + list(form_ids),
            unit_codes=[*user.unit_codes, *unit_codes],
            now=now(),
        )

    user = commit_or_fail(assign)
    units = f"; units: {', '.join(user.unit_codes)}" if user.unit_codes else ""
    click.echo(f"{username}: {', '.join(f.form_id for f in user.forms)}{units}")


@users_cli.command("disable")
@click.argument("username")
def disable_command(username: str) -> None:
    """Disable a user: their credentials stop working at once."""

    def disable():
        return people.disable(db.session, None, accounts.get_user(db.session, username), now=now())

    commit_or_fail(disable)
    click.echo(f"disabled {username}")


@users_cli.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
def set_role_command(username: str, role: str) -> None:
    """Change a user's role; their page sessions end at once."""

    def change():
        user = accounts.get_user(db.session, username)
        return people.set_role(db.session, None, user, role, now=now())

    commit_or_fail(change)
    click.echo(f"{username}: {role}")


@users_cli.command("sign-out")
@click.argument("username")
def sign_out_command(username: str) -> None:
    """End every page session of a user (a lost laptop, a shared computer)."""

    def sign_out():
        user = accounts.get_user(db.session, username)
        end_all_sessions(db.session, user)
        return user

    commit_or_fail(sign_out)
    click.echo(f"signed out everywhere: {username}")


@users_cli.command("token")
@click.argument("username")
@click.option("--label", default="script", help="What the token is for (shown in listings).")
def token_command(username: str, label: str) -> None:
    """Issue an API token (Authorization: Bearer …) acting as this user; shown once."""

    def issue():
        user = accounts.get_user(db.session, username)
        return people.create_token(db.session, None, user, label=label, now=now())[1]

    token = commit_or_fail(issue)
    click.echo(token)


@users_cli.command("list")
def list_users_command() -> None:
    """List users with their role and assigned forms."""
    for user in accounts.list_users(db.session):
        forms = ", ".join(f.form_id for f in user.forms) or "-"
        state = "" if user.is_active else " (disabled)"
        click.echo(f"{user.username:<24} {user.role:<10} {forms}{state}")


@users_cli.command("first-run-link")
@click.option("--server-url", default=None, help="Public URL of this server (default BASE_URL).")
def first_run_link_command(server_url: str | None) -> None:
    """Print a one-time link that creates the first administrator (only while there is none).

    ``make run`` calls this before serving, so the console of a fresh installation says how to
    get in; with an administrator it prints nothing.
    """
    code = commit_or_fail(lambda: first_run.issue_code(db.session, now=now()))
    if code is None:
        return
    root, _source = public_root(server_url, current_app.config["BASE_URL"], os.environ)
    # Loopback: the link is opened on the server machine itself, where the console is.
    link = f"{root.replace('0.0.0.0', '127.0.0.1')}/first-run/{code}"  # noqa: S104
    click.echo(
        "\n  Chưa có tài khoản quản trị. Mở đường dẫn dùng một lần này để tạo tài khoản đầu tiên:\n"
        "  No administrator yet. Open this one-time link to create the first account:\n\n"
        f"    {link}\n\n"
        "  (chỉ in ở đây, có hiệu lực 7 ngày hoặc đến khi dùng / printed only here, valid for "
        "7 days or until used)\n"
    )


#: Hosts a server may listen on that no tablet can use as an address.
_UNREACHABLE_HOSTS = {"0.0.0.0", "::", "127.0.0.1", "localhost", "::1"}  # noqa: S104 (names only)


def public_root(option: str | None, base_url: str, environ: Mapping[str, str]) -> tuple[str, str]:
    """The server's public URL for device links, and where it came from (said on screen).

    The CLI runs beside the server, not inside it, so it cannot ask the server where it
    listens; it follows the same settings ``make run`` follows: ``--server-url``, then
    ``TAPHUAN_BASE_URL``, then ``HOST``/``PORT`` (their defaults are ``make run``'s).

    :param option: the ``--server-url`` value, if given.
    :param base_url: the ``BASE_URL`` setting ('' when unset).
    :param environ: the environment (``HOST``, ``PORT``).
    :return: (URL without a trailing slash, a phrase naming its source).
    """
    if option:
        return option.rstrip("/"), "--server-url"
    if base_url:
        return base_url.rstrip("/"), "TAPHUAN_BASE_URL"
    host = environ.get("HOST") or "127.0.0.1"
    port = environ.get("PORT") or "5000"
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}", f"HOST={host} PORT={port} (as make run serves)"


@devices_cli.command("create")
@click.argument("label")
@click.option("--form", "form_ids", multiple=True, required=True, help="Form id; repeatable.")
@click.option("--server-url", default=None, help="Public URL of this server (default BASE_URL).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (for scripts).")
def create_device_command(
    label: str, form_ids: tuple[str], server_url: str | None, as_json: bool
) -> None:
    """Create a device token for some forms and print how to configure Collect with it."""
    device, token = commit_or_fail(
        lambda: accounts.create_device(label, form_ids=form_ids, session=db.session, now=now())
    )
    root, source = public_root(server_url, current_app.config["BASE_URL"], os.environ)
    url = f"{root}/key/{token}"
    settings = collect_settings(url, label)
    payload = {
        "id": device.id,
        "label": device.label,
        "token": token,
        "url": url,
        "url_source": source,
        "forms": [f.form_id for f in device.forms],
        "collect_settings": settings,
        "qr_text": qr_payload(settings),
    }
    if as_json:
        click.echo(json.dumps(payload, ensure_ascii=False))
        return
    click.echo(f"device {device.id} «{device.label}»: {', '.join(payload['forms'])}")
    click.echo(f"Server URL for ODK Collect / KoBoCollect: {url}")
    click.echo(f"(địa chỉ lấy từ / address taken from {source})")
    if urlsplit(root).hostname in _UNREACHABLE_HOSTS:
        click.secho(
            f"cảnh báo / warning: {urlsplit(root).hostname} cannot be reached from a tablet; "
            "set TAPHUAN_BASE_URL (or --server-url) to this server's network address, "
            "e.g. http://192.168.1.10:5000",
            fg="yellow",
        )
    click.echo(f"(the token is shown only now; revoke with: devices revoke {device.id})")
    click.echo(f"Collect settings (QR payload JSON): {json.dumps(settings, ensure_ascii=False)}")
    _print_qr(payload["qr_text"])


def _print_qr(text: str) -> None:
    import qrcode

    code = qrcode.QRCode(border=2)
    code.add_data(text)
    code.make(fit=True)
    click.echo("Quét mã này trong Collect > Cấu hình bằng mã QR / scan in Collect:")
    code.print_ascii(out=sys.stdout, invert=True)


@devices_cli.command("list")
def list_devices_command() -> None:
    """List device tokens (the tokens themselves are never shown again)."""
    for device in accounts.list_devices(db.session):
        state = f"revoked {device.revoked_at:%d/%m/%Y}" if device.revoked_at else "active"
        forms = ", ".join(f.form_id for f in device.forms)
        click.echo(f"{device.id:>4}  {device.label:<30} {state:<18} {forms}")


@devices_cli.command("revoke")
@click.argument("device_id", type=int)
def revoke_command(device_id: int) -> None:
    """Revoke a device token: its URL stops working at once."""
    device = commit_or_fail(lambda: accounts.revoke_device(db.session, device_id, now=now()))
    click.echo(f"revoked device {device.id} «{device.label}»")
