"""The set-up cache keeps only what the database holds: made-up keys never fill the memory.

Device tokens and form ids arrive from the network (``/key/<token>/…``, a submission's form
id, an API path). A cache that also kept every "no such thing" answer would grow with every
request an attacker invents; these tests send many and look at what the cache holds.
"""

from __future__ import annotations

from server.extensions import db
from server.services.setup_cache import setup_cache
from tests.factories import OR


def test_made_up_device_tokens_and_form_ids_are_not_kept(client, publish, make_device):
    publish("simple.md")
    _, token = make_device("simple")
    for n in range(50):
        assert client.get(f"/key/made-up-{n}/formList", headers=OR).status_code == 403
    assert client.get(f"/key/{token}/formList", headers=OR).status_code == 200
    cache = setup_cache(db.session)
    generation = cache._at(db.session)
    assert len(generation.devices) == 1  # the real token only
    cache.form(db.session, "simple")
    for n in range(50):
        assert cache.form(db.session, f"nothing-{n}") is None
    assert list(generation.forms) == ["simple"]
    assert cache.form(db.session, "simple").form_id == "simple"  # a real form stays cached
