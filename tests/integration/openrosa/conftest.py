"""Fixtures of the OpenRosa tests: a user answering Digest challenges as Collect does."""

from __future__ import annotations

import pytest

from tests.factories import DigestClient


@pytest.fixture
def digest(client, make_user):
    make_user()
    return DigestClient(client)
