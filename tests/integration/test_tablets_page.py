"""The tablets page: a device token with its QR code, the list with activity, revoking."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
import zlib

import sqlalchemy as sa
from PIL import Image

from server.extensions import db
from server.models import Device
from server.services import accounts
from server.services.forms import ValidationSettings, publish_form
from tests.factories import DATA, NOW
from tests.pages import post_form, sign_in

PASSWORD = "mật-khẩu-quản-trị"
OR = {"X-OpenRosa-Version": "1.0"}


def admin_client(app, client, role="admin"):
    accounts.create_user(
        "quantri",
        role=role,
        password=PASSWORD,
        realm=app.config["AUTH_REALM"],
        session=db.session,
        now=NOW,
    )
    publish_form(
        "simple.md",
        (DATA / "forms" / "simple.md").read_bytes(),
        session=db.session,
        settings=ValidationSettings(max_bytes=10_000_000),
        media=[],
        now=NOW,
    )
    db.session.commit()
    assert sign_in(client, "quantri", PASSWORD).status_code == 302
    return client


def create(client, label="Máy xã Ia Ka", forms=("simple",)):
    return post_form(client, "/admin/tablets", {"label": label, "form": list(forms)})


def test_a_new_tablet_shows_a_scannable_qr_code_once(app, client):
    admin_client(app, client)
    response = create(client)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    url = re.search(r'<code class="url">([^<]+)</code>', html).group(1)
    assert "/key/" in url
    png = base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1))
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size[0] >= 200
    # the URL works for Collect: the form list holds the chosen form
    path = url.split("localhost", 1)[-1]
    listed = client.get(f"{path}/formList", headers=OR)
    assert listed.status_code == 200 and b"<formID>simple</formID>" in listed.data


def test_the_qr_payload_is_collects_settings(app, client):
    from server.domain.collect_settings import collect_settings, qr_payload

    text = qr_payload(collect_settings("http://may.chu/key/abc", "Máy A"))
    settings = json.loads(zlib.decompress(base64.b64decode(text)))
    assert settings["general"]["server_url"] == "http://may.chu/key/abc"
    assert settings["project"]["name"] == "Máy A"
    assert settings["admin"]["change_server"] is False


def test_a_tablet_needs_a_name_and_a_form(app, client):
    admin_client(app, client)
    assert create(client, label="").status_code == 400
    response = create(client, forms=())
    assert response.status_code == 400
    assert "chọn ít nhất một biểu mẫu" in response.get_data(as_text=True)
    assert "pick at least one form" in response.get_data(as_text=True)
    unknown = create(client, forms=("khong-co",))
    assert unknown.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Device.id))) == 0


def test_the_list_shows_activity_and_revoking_stops_the_token_at_once(app, client):
    admin_client(app, client)
    html = create(client).get_data(as_text=True)
    path = re.search(r'<code class="url">[^<]*?(/key/[^<]+)</code>', html).group(1)
    xml = b'<data id="simple" version="1"><meta><instanceID>t1</instanceID></meta><name>A</name></data>'
    sent = client.post(
        f"{path}/submission",
        data={"xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml")},
        headers=OR,
        content_type="multipart/form-data",
    )
    assert sent.status_code == 201
    page = client.get("/admin/tablets").get_data(as_text=True)
    assert "Máy xã Ia Ka" in page
    assert re.search(r'<td class="num">1</td>', page)
    device = db.session.scalars(sa.select(Device)).one()
    activity = accounts.device_activity(db.session)[device.id]
    assert activity.submissions == 1
    assert activity.last_seen.tzinfo is not None
    assert activity.last_seen > dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    revoked = post_form(client, f"/admin/tablets/{device.id}/revoke", {}, page="/admin/tablets")
    assert revoked.status_code == 302
    assert client.get(f"{path}/formList", headers=OR).status_code == 403
    assert "Đã thu hồi" in client.get("/admin/tablets").get_data(as_text=True)


def test_trainers_and_planners_do_not_manage_tablets(app, client):
    admin_client(app, client, role="trainer")
    assert client.get("/admin/tablets").status_code == 403
    assert "Máy tính bảng" not in client.get("/").get_data(as_text=True)
