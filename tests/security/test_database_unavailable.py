"""A busy or unreachable database is a 503 with Retry-After on every surface, never a 500."""

from __future__ import annotations

import contextlib
import io
import sqlite3

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from harness.gunicorn import free_port
from server.extensions import db
from server.models import Submission, SubmissionAttachment
from tests.factories import OR, make_config, parts

XML = (
    b'<data id="binary_type" version="1"><file1>photo.jpg</file1>'
    b"<meta><instanceID>busy</instanceID></meta></data>"
)


@pytest.fixture
def app_config(database_url, backend, tmp_path):
    """A short wait for locks: SQLite's busy timeout, PostgreSQL's lock_timeout."""
    if backend == "postgresql":
        url = make_url(database_url).update_query_dict({"options": "-c lock_timeout=200"})
        database_url = url.render_as_string(hide_password=False)
    return make_config(database_url, tmp_path / "storage", SQLITE_BUSY_TIMEOUT_MS=200)


@pytest.fixture
def url(publish, make_device):
    publish("binary.md")
    _, token = make_device("binary_type")
    return f"/key/{token}/submission"


@contextlib.contextmanager
def locked(backend: str, database_url: str):
    """Another process's transaction holding the submissions table until the block ends."""
    if backend == "sqlite":
        conn = sqlite3.connect(make_url(database_url).database, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")  # no other writer until it ends (WAL readers go on)
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    libpq = make_url(database_url).set(drivername="postgresql", query={})
    with psycopg.connect(libpq.render_as_string(hide_password=False)) as conn:
        conn.execute("LOCK TABLE submissions IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            conn.rollback()


def post(client, url):
    data = parts(XML)
    data["photo.jpg"] = (io.BytesIO(b"jpeg bytes"), "photo.jpg", "image/jpeg")
    return client.post(url, data=data, headers=OR, content_type="multipart/form-data")


def test_a_lock_held_past_the_timeout_is_503_and_nothing_is_stored(
    client, url, backend, database_url
):
    with locked(backend, database_url):
        response = post(client, url)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    text = response.get_data(as_text=True)
    assert "[503.2]" in text
    assert "Cơ sở dữ liệu đang bận" in text
    db.session.rollback()
    assert db.session.execute(sa.select(sa.func.count()).select_from(Submission)).scalar() == 0
    count = sa.select(sa.func.count()).select_from(SubmissionAttachment)
    assert db.session.execute(count).scalar() == 0
    retried = post(client, url)  # what Collect does after Retry-After
    assert retried.status_code == 201
    assert "still missing" not in retried.get_data(as_text=True)


def test_a_locked_api_write_is_503_json(client, url, backend, database_url, token_for):
    assert post(client, url).status_code == 201
    submission_id = db.session.execute(sa.select(Submission.id)).scalar_one()
    admin = token_for()
    db.session.remove()
    with locked(backend, database_url):
        response = client.patch(
            f"/api/v1/submissions/{submission_id}/review",
            headers=admin,
            json={"review_state": "approved"},
        )
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "5"
    assert response.get_json()["error"]["code"] == "503.2"
    assert response.get_json()["error"]["details"] == {"retry_after": 5}


@pytest.fixture
def down_url(backend, database_url, tmp_path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'no-such-folder' / 'taphuan.sqlite3'}"
    # A port that was free a moment ago: nothing listens there.
    url = make_url(database_url).set(host="127.0.0.1", port=free_port())
    return url.render_as_string(hide_password=False)


def test_a_database_that_is_down_is_503_on_api_and_openrosa(down_url, tmp_path):
    from server import create_app

    app = create_app(make_config(down_url, tmp_path / "storage"))
    client = app.test_client()
    api = client.get("/api/v1/forms", headers={"Authorization": "Bearer x"})
    assert api.status_code == 503
    assert api.headers["Retry-After"] == "5"
    assert api.get_json()["error"]["code"] == "503.2"
    openrosa = client.post(
        "/key/some-token/submission",
        data=parts(XML),
        headers=OR,
        content_type="multipart/form-data",
    )
    assert openrosa.status_code == 503
    assert "[503.2]" in openrosa.get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()


def test_an_error_a_retry_would_not_cure_is_still_a_500(app, client, token_for):
    """Only busy or unreachable databases are 503: a missing table is a bug, not a wait."""
    admin = token_for()
    db.session.execute(sa.text("DROP TABLE audit_events"))
    db.session.commit()
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/api/v1/audit", headers=admin)
    assert response.status_code == 500
    assert "Retry-After" not in response.headers
