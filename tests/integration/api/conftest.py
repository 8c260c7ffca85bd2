"""API fixtures: users with bearer tokens, a published form with submissions."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest

from server.extensions import db
from server.models import ApiToken
from server.services import accounts
from server.services.attachment_store import AttachmentStore
from server.services.submissions import IncomingFile, Origin, receive_submission
from tests.conftest import NOW
from tests.integration.openrosa.conftest import make_user, publish  # noqa: F401 (fixtures)


@pytest.fixture
def token_for(app, make_user):  # noqa: F811
    def _token(username="admin", role="admin", forms=()):
        user = accounts.create_user(
            username,
            role=role,
            password="long-enough-pass",
            realm=app.config["AUTH_REALM"],
            session=db.session,
            form_ids=forms,
            now=NOW,
        )
        token = accounts.create_api_token(user, label="test", session=db.session, now=NOW)
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    return _token


@pytest.fixture
def legacy_token_for(app, make_user):  # noqa: F811
    """A token for any role, as ``users token`` issued them before collectors lost the API."""

    def _token(username="thu", role="collector"):
        user = accounts.create_user(
            username,
            role=role,
            password="long-enough-pass",
            realm=app.config["AUTH_REALM"],
            session=db.session,
            now=NOW,
        )
        token = secrets.token_urlsafe(32)
        db.session.add(
            ApiToken(
                user_id=user.id,
                label="old",
                token_sha256=accounts.hash_token(token),
                created_at=NOW,
            )
        )
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    return _token


@pytest.fixture
def submit(app):
    """Store a submission through the real service, as an admin device would."""
    admin = None

    def _submit(xml: str, *, files: dict[str, bytes] | None = None, at: dt.datetime = NOW):
        nonlocal admin
        if admin is None:
            admin = accounts.create_user(
                "collector-bot",
                role="admin",
                password="long-enough-pass",
                realm=app.config["AUTH_REALM"],
                session=db.session,
                now=NOW,
            )
        receipt = receive_submission(
            xml.encode(),
            [IncomingFile(n, c) for n, c in (files or {}).items()],
            origin=Origin(actor=accounts.Actor(user=admin), device_id="collect:test"),
            session=db.session,
            store=AttachmentStore(app.config["STORAGE_DIR"]),
            now=at,
        )
        db.session.commit()
        return receipt.submission

    return _submit


def simple(instance_id: str, name: str = "Lan", age: int = 30, version: str = "1") -> str:
    return (
        f'<data id="simple" version="{version}"><meta><instanceID>{instance_id}</instanceID>'
        f"<instanceName>{name}</instanceName></meta><name>{name}</name><age>{age}</age>"
        "</data>"
    )
