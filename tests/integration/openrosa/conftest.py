"""Fixtures for OpenRosa tests: published test forms, users, device tokens, a Digest client."""

from __future__ import annotations

import io
import secrets

import pytest

from server.domain.digest import compute_ha1, md5_hex, parse_authorization
from server.extensions import db
from server.services import accounts
from server.services.forms import MediaFile, ValidationSettings, publish_form
from tests.conftest import DATA, NOW

OR = {"X-OpenRosa-Version": "1.0"}
PASSWORD = "mật-khẩu-đủ-dài"


@pytest.fixture
def publish(app):
    """Publish a test form from tests/data/forms by file name (with optional media)."""

    def _publish(
        filename: str, media: dict[str, bytes] | None = None, content: bytes | None = None
    ):
        result = publish_form(
            filename,
            content if content is not None else (DATA / "forms" / filename).read_bytes(),
            session=db.session,
            settings=ValidationSettings(max_bytes=10_000_000),
            media=[MediaFile(n, c) for n, c in (media or {}).items()],
            now=NOW,
        )
        db.session.commit()
        return result.form_version

    return _publish


@pytest.fixture
def make_user(app):
    def _make(username="alice", role="admin", forms=()):
        user = accounts.create_user(
            username,
            role=role,
            password=PASSWORD,
            realm=app.config["AUTH_REALM"],
            session=db.session,
            form_ids=forms,
            now=NOW,
        )
        db.session.commit()
        return user

    return _make


@pytest.fixture
def make_device(app):
    def _make(*forms, label="Máy tính bảng xã Ia Ka"):
        device, token = accounts.create_device(label, form_ids=forms, session=db.session, now=NOW)
        db.session.commit()
        return device, token

    return _make


class DigestClient:
    """Answers Digest challenges the way okhttp-digest (inside Collect) does."""

    def __init__(self, client, username="alice", password=PASSWORD):
        self.client, self.username, self.password = client, username, password
        self.challenge: dict[str, str] | None = None
        self.nc = 0

    def header(self, method: str, uri: str, *, password: str | None = None) -> str:
        self.nc += 1
        params = self.challenge
        cnonce = secrets.token_hex(8)
        ha1 = compute_ha1(self.username, params["realm"], password or self.password)
        ha2 = md5_hex(f"{method}:{uri}")
        nc = f"{self.nc:08x}"
        response = md5_hex(f"{ha1}:{params['nonce']}:{nc}:{cnonce}:auth:{ha2}")
        return (
            f'Digest username="{self.username}", realm="{params["realm"]}", '
            f'nonce="{params["nonce"]}", uri="{uri}", response="{response}", qop=auth, '
            f'nc={nc}, cnonce="{cnonce}", algorithm=MD5, opaque="{params.get("opaque", "")}"'
        )

    def request(self, method: str, uri: str, **kwargs):
        """Send without credentials first (as Collect does), then answer the challenge."""
        headers = {**OR, **kwargs.pop("headers", {})}
        if self.challenge is None:
            first = self.client.open(uri, method=method, headers=headers, **_rewind(kwargs))
            if first.status_code != 401:
                return first
            self.take_challenge(first)
        headers["Authorization"] = self.header(method, uri)
        return self.client.open(uri, method=method, headers=headers, **_rewind(kwargs))

    def take_challenge(self, response) -> None:
        digest = [h for h in response.headers.getlist("WWW-Authenticate") if h.startswith("Digest")]
        assert digest, response.headers
        self.challenge = parse_authorization(digest[0])[1]
        self.nc = 0


def _rewind(kwargs: dict) -> dict:
    """Multipart file objects are consumed by a request; give each attempt fresh ones."""
    data = kwargs.get("data")
    if isinstance(data, dict):
        fresh = {}
        for key, value in data.items():
            if isinstance(value, tuple) and isinstance(value[0], io.BytesIO):
                fresh[key] = (io.BytesIO(value[0].getvalue()), *value[1:])
            else:
                fresh[key] = value
        kwargs = {**kwargs, "data": fresh}
    return kwargs


@pytest.fixture
def digest(client, make_user):
    make_user()
    return DigestClient(client)


def parts(xml: bytes, **files: bytes) -> dict:
    """A Collect-style multipart body: xml_submission_file plus one part per attachment."""
    data = {"xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml")}
    for name, content in files.items():
        data[name] = (io.BytesIO(content), name)
    return data
