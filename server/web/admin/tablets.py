"""Tablets: device tokens for ODK Collect and KoBoCollect, set up by scanning a QR code.

An administrator picks a name and the forms, and the page shows — once — the QR code Collect
scans (*Add project → Configure with QR code*), the URL to type instead, and the token's forms.
The list shows every tablet with what it sent and when it was last heard from; revoking stops
its URL at once on every server process (the set-up generation, ``services/setup_cache``).
"""

from __future__ import annotations

import base64
import datetime as dt
from urllib.parse import urlsplit

from flask import current_app, g, redirect, render_template, request, url_for

from exports.qr import qr_png
from server.domain.collect_settings import collect_settings, qr_payload
from server.domain.policy import Action
from server.errors import InvalidRequest, ServiceError
from server.extensions import db
from server.services import accounts
from server.services.forms import list_forms
from server.services.permissions import require
from server.web.admin import bp

#: Addresses a server may answer on that no tablet can reach.
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}  # noqa: S104 (names only)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _server_root() -> str:
    return (current_app.config["BASE_URL"] or request.host_url).rstrip("/")


def _page(**context):
    devices = accounts.list_devices(db.session)
    return render_template(
        "admin/tablets.html",
        devices=devices,
        activity=accounts.device_activity(db.session),
        forms=[f for f in list_forms(db.session) if f.state != "closed"],
        loopback=urlsplit(_server_root()).hostname in _LOOPBACK,
        **context,
    )


@bp.get("/admin/tablets")
def tablets():
    """Every tablet (device token) with its forms, submissions and last contact."""
    require(g.user, Action.DEVICE_MANAGE)
    return _page(error=None, chosen=set(), label="")


@bp.post("/admin/tablets")
def create_tablet():
    """Create a device token and show its QR code, once (the token is never shown again)."""
    require(g.user, Action.DEVICE_MANAGE)
    label = request.form.get("label", "").strip()[:255]
    chosen = request.form.getlist("form")
    try:
        if not label or not chosen:
            missing = {"label": ["required"]} if not label else {"form": ["required"]}
            raise InvalidRequest(reason="tablet_name_and_forms", fields=missing)
        device, token = accounts.create_device(
            label, form_ids=chosen, session=db.session, now=_now()
        )
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        error = f"{exc.message_vi or exc.title_vi} / {exc.message}"
        return _page(error=error, chosen=set(chosen), label=label), 400
    url = f"{_server_root()}/key/{token}"
    png = qr_png(qr_payload(collect_settings(url, label)))
    response = current_app.make_response(
        render_template(
            "admin/tablet_created.html",
            device=device,
            url=url,
            qr=base64.b64encode(png).decode("ascii"),
            loopback=urlsplit(url).hostname in _LOOPBACK,
        )
    )
    response.headers["Cache-Control"] = "no-store"  # the token must not stay in a cache
    return response


@bp.post("/admin/tablets/<int:device_id>/revoke")
def revoke_tablet(device_id: int):
    """Revoke a tablet's token: its URL stops working at once."""
    require(g.user, Action.DEVICE_MANAGE)
    accounts.revoke_device(db.session, device_id, now=_now())
    db.session.commit()
    return redirect(url_for("admin.tablets"))
