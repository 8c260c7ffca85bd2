"""An edit (deprecatedID) must come from whoever sent the submission, or an administrator."""

from __future__ import annotations

import io

import sqlalchemy as sa

from server.extensions import db
from server.models import Submission
from tests.factories import OR, DigestClient


def xml(instance: str, name: str, deprecated: str | None = None) -> bytes:
    meta = f"<instanceID>{instance}</instanceID>"
    if deprecated:
        meta += f"<deprecatedID>{deprecated}</deprecatedID>"
    return (
        f'<data id="simple" version="1"><meta>{meta}</meta><name>{name}</name><age>30</age></data>'
    ).encode()


def post(client, url: str, body: bytes):
    return client.post(
        url,
        data={"xml_submission_file": (io.BytesIO(body), "submission.xml")},
        headers=OR,
        content_type="multipart/form-data",
    )


def current_names() -> list[str]:
    rows = db.session.execute(
        sa.select(Submission.data).where(Submission.is_current.is_(True))
    ).scalars()
    return sorted(row["name"] for row in rows)


def test_another_device_cannot_supersede_a_submission(client, publish, make_device):
    publish("simple.md")
    _, mine = make_device("simple", label="A")
    _, theirs = make_device("simple", label="B")
    assert post(client, f"/key/{mine}/submission", xml("uuid:1", "Hoa")).status_code == 201
    hijack = post(client, f"/key/{theirs}/submission", xml("uuid:2", "Giả", "uuid:1"))
    assert hijack.status_code == 403
    assert "403.6" in hijack.get_data(as_text=True)
    assert current_names() == ["Hoa"]
    own = post(client, f"/key/{mine}/submission", xml("uuid:3", "Hoa sửa", "uuid:1"))
    assert own.status_code == 201
    assert current_names() == ["Hoa sửa"]


def test_users_edit_their_own_and_admins_anyone(client, publish, make_device, make_user):
    publish("simple.md")
    _, device = make_device("simple")
    make_user("thu", role="collector", forms=("simple",))
    make_user("lan", role="collector", forms=("simple",))
    make_user("quantri", role="admin")
    assert post(client, f"/key/{device}/submission", xml("uuid:1", "Hoa")).status_code == 201

    def digest_post(username: str, body: bytes):
        return DigestClient(client, username).request(
            "POST",
            "/submission",
            data={"xml_submission_file": (io.BytesIO(body), "s.xml")},
            content_type="multipart/form-data",
        )

    assert digest_post("thu", xml("uuid:2", "Thu", "uuid:1")).status_code == 403
    assert digest_post("quantri", xml("uuid:3", "Quản trị sửa", "uuid:1")).status_code == 201
    # The device that sent the first version may still edit the record after the admin did.
    assert (
        post(client, f"/key/{device}/submission", xml("uuid:4", "Lại", "uuid:3")).status_code == 201
    )
    assert digest_post("lan", xml("uuid:5", "Lan", "uuid:4")).status_code == 403
    assert current_names() == ["Lại"]
