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


#: A form the registry links (it names a course and a trainee), so every post is projected.
LINKED_FORM = b"""\
| survey |
| | type | name | label |
| | text | course_code | Course |
| | text | trainee_id | Trainee |
| settings |
| | form_id | version |
| | linked | 1 |
"""


def xml(n: int) -> bytes:
    return (
        f'<data id="linked" version="1"><meta><instanceID>race-{n}</instanceID></meta>'
        f"<course_code>KH-01</course_code><trainee_id>GL001</trainee_id></data>"
    ).encode()


def test_concurrent_identical_posts_store_once_and_log_no_error(app, publish, make_device, caplog):
    publish("linked.md", content=LINKED_FORM)
    _, token = make_device("linked")
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
