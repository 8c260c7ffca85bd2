"""OpenRosa authentication against a captured header, a spoofing client and a guessing one."""

from __future__ import annotations

import base64
import io

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import Submission
from tests.factories import OR, PASSWORD, DigestClient

SUBMIT = "/submission?deviceID=collect%3Aprobe"


def body(instance: str, name: str) -> dict:
    xml = (
        f'<data id="simple" version="1"><meta><instanceID>{instance}</instanceID></meta>'
        f"<name>{name}</name><age>30</age></data>"
    ).encode()
    return {"xml_submission_file": (io.BytesIO(xml), "submission.xml")}


@pytest.fixture
def alice(publish, make_user):
    publish("simple.md")
    return make_user("alice", role="collector", forms=("simple",))


def stored() -> list[str]:
    return list(db.session.execute(sa.select(Submission.instance_id)).scalars())


def test_a_captured_digest_header_cannot_carry_other_submissions(client, alice):
    digest = DigestClient(client)
    digest.take_challenge(client.get("/formList", headers=OR))
    header = digest.header("POST", SUBMIT)
    first = client.post(
        SUBMIT,
        data=body("uuid:one", "Thật"),
        headers={**OR, "Authorization": header},
        content_type="multipart/form-data",
    )
    assert first.status_code == 201
    for n, name in enumerate(["Giả 1", "Giả 2", "Giả 3"]):
        replay = client.post(
            SUBMIT,
            data=body(f"uuid:fake{n}", name),
            headers={**OR, "Authorization": header},
            content_type="multipart/form-data",
        )
        assert replay.status_code == 401
        assert "stale=true" in replay.headers["WWW-Authenticate"]
    assert stored() == ["uuid:one"]


def test_collect_keeps_reusing_a_nonce_with_a_rising_count(client, alice):
    digest = DigestClient(client)
    for n in range(4):
        response = digest.request(
            "POST", SUBMIT, data=body(f"uuid:{n}", "Lan"), content_type="multipart/form-data"
        )
        assert response.status_code == 201
    assert digest.nc == 4  # one challenge, four requests
    assert len(stored()) == 4


def test_rfc2069_digest_without_qop_is_refused(client, alice):
    from server.domain.digest import compute_ha1, md5_hex

    digest = DigestClient(client)
    digest.take_challenge(client.get("/formList", headers=OR))
    nonce, realm = digest.challenge["nonce"], digest.challenge["realm"]
    ha1 = compute_ha1("alice", realm, PASSWORD)
    response = md5_hex(f"{ha1}:{nonce}:{md5_hex('GET:/formList')}")
    header = (
        f'Digest username="alice", realm="{realm}", nonce="{nonce}", uri="/formList", '
        f'response="{response}"'
    )
    answer = client.get("/formList", headers={**OR, "Authorization": header})
    assert answer.status_code == 401
    assert "qop=auth" in answer.get_data(as_text=True)


def test_basic_over_http_is_refused_even_if_the_client_claims_https(client, alice):
    token = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    response = client.get(
        "/formList",
        headers={**OR, "Authorization": f"Basic {token}", "X-Forwarded-Proto": "https"},
    )
    assert response.status_code == 401
    assert [c.split()[0] for c in response.headers.getlist("WWW-Authenticate")] == ["Digest"]


@pytest.fixture
def strict(app_config):
    app_config.update(AUTH_MAX_FAILURES=3, AUTH_MAX_FAILURES_PER_ADDRESS=100)
    return app_config


def test_guessing_digest_passwords_is_throttled(strict, client, alice):
    guesser = DigestClient(client, password="doan-mo-1234")
    guesser.take_challenge(client.get("/formList", headers=OR))
    statuses = []
    for _ in range(4):
        header = guesser.header("GET", "/formList")
        statuses.append(client.get("/formList", headers={**OR, "Authorization": header}))
    assert [r.status_code for r in statuses] == [401, 401, 429, 429]
    locked = statuses[-1]
    assert int(locked.headers["Retry-After"]) > 0
    assert "<OpenRosaResponse" in locked.get_data(as_text=True)
    assert "429.1" in locked.get_data(as_text=True)
    # The real password waits too: the lock is on the account, not on the guesses.
    assert DigestClient(client).request("GET", "/formList").status_code == 429
