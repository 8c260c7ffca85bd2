"""Identical submissions posted at once: one row, one projection, and no false alarm in the log."""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa

from server.extensions import db
from server.models import Submission, SubmissionLink
from tests.factories import OR, parts

ROUNDS = 6
AT_ONCE = 4


def xml(n: int) -> bytes:
    return (
        f'<data id="simple" version="1"><meta><instanceID>race-{n}</instanceID></meta>'
        f"<name>Lan</name><age>30</age></data>"
    ).encode()


def test_concurrent_identical_posts_store_once_and_log_no_error(app, publish, make_device, caplog):
    publish("simple.md")
    _, token = make_device("simple")
    url = f"/key/{token}/submission"
    caplog.set_level(logging.INFO)
    statuses: list[int] = []

    def send(body: bytes, barrier: threading.Barrier) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(
            url, data=parts(body), headers=OR, content_type="multipart/form-data"
        )
        statuses.append(response.status_code)

    for n in range(ROUNDS):
        barrier = threading.Barrier(AT_ONCE)
        threads = [threading.Thread(target=send, args=(xml(n), barrier)) for _ in range(AT_ONCE)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert statuses == [201] * (ROUNDS * AT_ONCE)
    alarms = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert alarms == [], [r.getMessage() for r in alarms]
    db.session.remove()
    assert db.session.execute(sa.select(sa.func.count()).select_from(Submission)).scalar() == ROUNDS
    links = db.session.execute(sa.select(sa.func.count()).select_from(SubmissionLink)).scalar()
    assert links == ROUNDS
