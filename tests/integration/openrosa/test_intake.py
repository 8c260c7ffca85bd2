"""The intake pipeline: its round trips, its caches' invalidation, its projections' isolation."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import ExportLine, ProjectionFailure, SetupGeneration, Submission
from server.services import projections
from server.services.projections import Projection
from tests.factories import NOW, OR, elsewhere, parts

FORM_ONE = b'<data id="simple" version="1"><meta><instanceID>i-%d</instanceID></meta><name>A</name><age>3</age></data>'


@pytest.fixture
def token(publish, make_device):
    publish("simple.md")
    _, token = make_device("simple")
    return token


def post(client, token, n: int):
    return client.post(
        f"/key/{token}/submission",
        data=parts(FORM_ONE % n),
        headers=OR,
        content_type="multipart/form-data",
    )


class Statements:
    """Counts the statements the app's engine sends while active."""

    def __init__(self):
        self.seen: list[str] = []
        self.inserted: list[str] = []

    def __enter__(self):
        sa.event.listen(db.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc):
        sa.event.remove(db.engine, "before_cursor_execute", self._record)

    def _record(self, _conn, _cursor, statement, *_args):
        words = statement.split()
        self.seen.append(words[0].upper())
        if words[0].upper() == "INSERT":
            self.inserted.append(words[2].strip('"'))


def generation() -> int:
    db.session.rollback()
    return db.session.execute(sa.select(SetupGeneration.value)).scalar_one()


def test_a_new_submission_costs_the_generation_read_and_two_inserts(client, token):
    assert post(client, token, 1).status_code == 201  # warms the caches
    db.session.remove()
    with Statements() as statements:
        assert post(client, token, 2).status_code == 201
    if db.engine.dialect.name == "postgresql":  # both INSERTs in one statement (a CTE)
        assert statements.seen == ["SELECT", "WITH"]
    else:
        assert statements.seen == ["SELECT", "INSERT", "INSERT"]
        assert statements.inserted == ["submissions", "export_lines"]  # the row, its CSV cells
    kept = db.session.execute(
        sa.select(Submission.instance_id).join(ExportLine).order_by(Submission.id)
    ).scalars()
    assert list(kept) == ["i-1", "i-2"]


def test_a_failure_after_the_insert_rolls_the_whole_submission_back(client, token, monkeypatch):
    """The INSERT and whatever fails after it are one transaction: a late error leaves no row."""
    from server.services.intake import Intake

    assert post(client, token, 1).status_code == 201
    db.session.remove()

    def store_then_fail(self, xml, files, origin, now, *, project):
        self.store(xml, files, origin, now=now)
        self.session.flush()
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(Intake, "_commit", store_then_fail)
    with pytest.raises(RuntimeError):
        post(client, token, 2)
    db.session.remove()
    kept = db.session.execute(sa.select(Submission.instance_id)).scalars().all()
    assert kept == ["i-1"]


def test_a_resubmission_adds_no_row_and_no_line(client, token):
    assert post(client, token, 1).status_code == 201
    db.session.remove()
    assert post(client, token, 1).status_code == 201
    db.session.rollback()
    assert db.session.execute(sa.select(sa.func.count(Submission.id))).scalar_one() == 1
    assert db.session.execute(sa.select(sa.func.count()).select_from(ExportLine)).scalar_one() == 1


def test_a_revoked_token_is_refused_at_once_across_processes(app, client, token):
    assert post(client, token, 1).status_code == 201
    elsewhere(app, "UPDATE devices SET revoked_at = CURRENT_TIMESTAMP")
    db.session.remove()
    response = post(client, token, 2)
    assert response.status_code == 403
    assert db.session.execute(sa.select(sa.func.count(Submission.id))).scalar_one() == 1


def test_a_form_closed_elsewhere_refuses_at_once(app, client, token):
    assert post(client, token, 1).status_code == 201
    elsewhere(app, "UPDATE forms SET state = 'closed'")
    db.session.remove()
    assert post(client, token, 2).status_code == 409


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE devices SET label = 'x'",
        "DELETE FROM device_forms",
        "UPDATE forms SET title = 'x'",
        "UPDATE form_versions SET title = 'x'",
        "INSERT INTO answer_keys (form_version_id, item, qtype, correct, points, status) "
        "SELECT id, 'q1', 'single', '[\"a\"]', 1, 'active' FROM form_versions",
    ],
)
def test_every_change_to_a_cached_table_moves_the_generation(app, token, statement):
    before = generation()
    elsewhere(app, statement)
    assert generation() > before


def test_the_form_list_is_rendered_once_per_generation(app, client, token, publish):
    url = f"/key/{token}/formList"
    first = client.get(url, headers=OR)
    assert b"simple" in first.data
    db.session.remove()
    with Statements() as statements:
        again = client.get(url, headers=OR)
    assert again.data == first.data
    assert statements.seen == ["SELECT"]
    elsewhere(app, "UPDATE forms SET state = 'closed'")
    db.session.remove()
    assert b"simple" not in client.get(url, headers=OR).data


def test_a_failing_projection_never_changes_the_answer(client, token, monkeypatch, caplog):
    ran = []

    def broken(*_args):
        raise RuntimeError("a bug in a projection")

    def fine(_session, row, _facts, _now):
        ran.append(row.id)

    monkeypatch.setattr(
        projections,
        "PROJECTIONS",
        (
            Projection("broken", applies=lambda facts: True, run=broken),
            Projection("fine", applies=lambda facts: True, run=fine),
        ),
    )
    with caplog.at_level(logging.ERROR, logger="server.services.intake"):
        response = post(client, token, 1)
    assert response.status_code == 201
    stored = db.session.execute(sa.select(Submission.id)).scalar_one()
    # tried together, then each alone: the working one still ran for the stored row
    assert ran[-1] == stored
    assert "projection 'broken' failed" in caplog.text
    # kept for the dashboard: the broken one only, with what it raised
    kept = db.session.execute(sa.select(ProjectionFailure)).scalars().all()
    assert [(f.submission_id, f.projection, f.error) for f in kept] == [
        (stored, "broken", "RuntimeError: a bug in a projection")
    ]
    # a retry from Collect (the same instance) is a duplicate: nothing projected, nothing added
    assert post(client, token, 1).status_code in (201, 202)
    assert db.session.scalar(sa.select(sa.func.count(ProjectionFailure.id))) == 1
    # once fixed, a rebuild clears it
    monkeypatch.setattr(projections, "PROJECTIONS", ())
    projections.rebuild(db.session, now=NOW)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(ProjectionFailure.id))) == 0


def test_a_plain_survey_runs_no_projection(client, token, monkeypatch):
    def never(*_args):
        raise AssertionError("projected a form with nothing to project")

    monkeypatch.setattr(
        projections,
        "PROJECTIONS",
        tuple(Projection(p.name, p.applies, never) for p in projections.PROJECTIONS),
    )
    assert post(client, token, 1).status_code == 201


@pytest.mark.parametrize("path", ["formList", "submission"])
def test_the_form_list_and_the_preflight_run_without_a_transaction_on_postgresql(
    client, token, path
):
    """Their reads stand alone (the set-up generation, then the cached document)."""
    url = f"/key/{token}/{path}"
    assert client.get(url, headers=OR).status_code in (200, 204)
    autocommit: list[bool] = []

    def seen(conn, *_args):
        autocommit.append(getattr(conn.connection.dbapi_connection, "autocommit", False))

    db.session.rollback()  # a served request starts with a fresh session
    sa.event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert client.get(url, headers=OR).status_code in (200, 204)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)
        db.session.rollback()
    assert autocommit and set(autocommit) == {db.engine.dialect.name == "postgresql"}


def test_projections_share_the_submissions_commit(client, token, monkeypatch):
    """One transaction per submission: the projections run before its only commit."""
    seen = []

    def project(session, row, _facts, _now):
        seen.append(row.id)

    monkeypatch.setattr(
        projections,
        "PROJECTIONS",
        (Projection("recorder", applies=lambda facts: True, run=project),),
    )
    commits = []
    listener = lambda _conn: commits.append(1)  # noqa: E731
    sa.event.listen(db.engine, "commit", listener)
    try:
        assert post(client, token, 1).status_code == 201
    finally:
        sa.event.remove(db.engine, "commit", listener)
    stored = db.session.execute(sa.select(Submission.id)).scalar_one()
    assert seen == [stored]
    assert len(commits) == 1  # the projection ran before it, not after
