"""API fixtures: tokens as they were issued before collectors lost the API."""

from __future__ import annotations

import secrets

import pytest

from server.extensions import db
from server.models import ApiToken
from server.services import accounts
from tests.factories import NOW


@pytest.fixture
def legacy_token_for(app):
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
