"""Authentication as Collect does it: challenge first, Digest over http, Basic only over https."""

from __future__ import annotations

import base64
import time

import pytest

from server.domain.digest import make_nonce
from server.extensions import db
from tests.factories import OR, PASSWORD, DigestClient

URI = "/formList?deviceID=collect%3AAbC123xyz"


@pytest.fixture
def simple(publish):
    return publish("simple.md")


def challenges(response) -> list[str]:
    return response.headers.getlist("WWW-Authenticate")


def test_anonymous_request_gets_a_digest_challenge_only_over_http(simple, client):
    response = client.get(URI, headers=OR)
    assert response.status_code == 401
    (challenge,) = challenges(response)
    assert challenge.startswith('Digest realm="taphuan", qop="auth", algorithm=MD5, nonce="')
    assert b"<OpenRosaResponse" in response.data
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    text = response.data.decode()
    assert "Cần đăng nhập: hãy nhập tên đăng nhập và mật khẩu của bạn." in text
    assert text.count("Cần đăng nhập") == 1  # the heading once
    assert "không đúng" not in text  # nothing was wrong: nothing was sent


def test_basic_is_offered_and_accepted_over_https(simple, client, make_user):
    make_user()
    response = client.get(URI, headers=OR, base_url="https://localhost")
    assert [c.split()[0] for c in challenges(response)] == ["Digest", "Basic"]
    token = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    ok = client.get(
        URI, headers={**OR, "Authorization": f"Basic {token}"}, base_url="https://localhost"
    )
    assert ok.status_code == 200
    plain = client.get(URI, headers={**OR, "Authorization": f"Basic {token}"})
    assert plain.status_code == 401  # never over plain http


def test_digest_with_query_in_uri_and_nonce_reuse(simple, digest):
    """C6: nc=1 on HEAD, then the same nonce with nc=2 on the next request."""
    first = digest.request("GET", URI)
    assert first.status_code == 200
    assert b"<formID>simple</formID>" in first.data
    head = digest.request("HEAD", "/submission?deviceID=collect%3AAbC123xyz")
    assert head.status_code == 204
    assert digest.nc == 2


def test_digest_wrong_password_is_refused(simple, digest, client):
    digest.take_challenge(client.get(URI, headers=OR))
    response = client.get(
        URI, headers={**OR, "Authorization": digest.header("GET", URI, password="sai-mat-khau")}
    )
    assert response.status_code == 401
    assert "stale" not in challenges(response)[0]
    assert "Cần đăng nhập: tên đăng nhập hoặc mật khẩu không đúng." in response.data.decode()


def test_digest_uri_must_match_the_request_target(simple, digest, client):
    digest.take_challenge(client.get(URI, headers=OR))
    header = digest.header("GET", "/formList")  # query string left out
    assert client.get(URI, headers={**OR, "Authorization": header}).status_code == 401


def test_expired_nonce_is_answered_stale(simple, digest, client, app):
    digest.take_challenge(client.get(URI, headers=OR))
    digest.challenge["nonce"] = make_nonce(app.config["SECRET_KEY"], time.time() - 3600)
    response = client.get(URI, headers={**OR, "Authorization": digest.header("GET", URI)})
    assert response.status_code == 401
    assert "stale=true" in challenges(response)[0]


def test_forged_nonce_is_refused(simple, digest, client):
    digest.take_challenge(client.get(URI, headers=OR))
    digest.challenge["nonce"] = f"{int(time.time())}.{'0' * 32}"
    response = client.get(URI, headers={**OR, "Authorization": digest.header("GET", URI)})
    assert response.status_code == 401
    assert "stale" not in challenges(response)[0]


def test_disabled_user_is_refused(simple, digest, client, make_user):
    assert digest.request("GET", URI).status_code == 200
    from server.services.accounts import find_user

    find_user(db.session, "alice").is_active = False
    db.session.commit()
    assert digest.request("GET", URI).status_code == 401


def test_collectors_see_only_assigned_forms_and_planners_none(publish, client, make_user):
    publish("simple.md")
    publish("mini.md")
    make_user("thu", role="collector", forms=["mini"])
    make_user("lan", role="planner")
    collector = DigestClient(client, "thu")
    assert b"<formID>mini</formID>" in collector.request("GET", URI).data
    assert b"simple" not in collector.request("GET", URI).data
    assert collector.request("GET", "/forms/simple.xml").status_code == 403
    planner = DigestClient(client, "lan")
    assert b"<xform>" not in planner.request("GET", URI).data


def test_digest_known_answer_from_the_spec():
    """The verified example of the protocol spec §2.6 (alice / ODK / secret)."""
    from server.domain.digest import compute_ha1, expected_response

    ha1 = compute_ha1("alice", "ODK", "secret")
    assert ha1 == "4d7b43338f2c687cacd67fa35473a8d6"
    params = {
        "nonce": "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        "uri": "/submission?deviceID=collect%3AAbC123xyz",
        "cnonce": "0a4f113b",
        "qop": "auth",
        "nc": "00000001",
    }
    assert expected_response(ha1=ha1, method="HEAD", params=params) == (
        "1325a1c74f37038c8a76ff890334a415"
    )
    params["nc"] = "00000002"
    assert expected_response(ha1=ha1, method="POST", params=params) == (
        "03f63915a57cf145446ef8643585ea2a"
    )
