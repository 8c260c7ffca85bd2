"""The submission listing's fast path: what marshmallow would dump, one statement per page."""

from __future__ import annotations

import datetime as dt
import json

import orjson
import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import Submission
from server.web.api.presenters import submission_data
from server.web.api.schemas import SubmissionSchema
from tests.factories import NOW, elsewhere, listed, photo_xml, post_submission


def test_listing_items_are_what_the_schema_dumps(client, publish, submit, token_for):
    publish("export_demo.md")
    submit(photo_xml("uuid:a", "Hoa", "ảnh.jpg"), files={"ảnh.jpg": b"\xff\xd8"}, at=NOW)
    submit(photo_xml("uuid:b", "Bình", "thiếu.jpg"), at=NOW + dt.timedelta(minutes=1))
    submit(photo_xml("uuid:c", "Chi", ""), at=NOW + dt.timedelta(minutes=2))
    admin = token_for()
    items = listed(client, admin)
    rows = db.session.scalars(sa.select(Submission).order_by(Submission.id.desc())).all()
    expected = [json.loads(json.dumps(SubmissionSchema().dump(submission_data(r)))) for r in rows]
    assert items == expected
    assert [(i["attachments_expected"], i["attachments_present"]) for i in items] == [
        (0, 0),
        (1, 0),
        (1, 1),
    ]
    assert items[0]["submitter"] == "collector-bot"


def test_listing_with_data_carries_the_detail_data(client, publish, submit, token_for):
    publish("export_demo.md")
    for n in range(3):
        submit(photo_xml(f"uuid:{n}", f"Người {n}", ""), at=NOW + dt.timedelta(minutes=n))
    admin = token_for()
    items = listed(client, admin, "&data=true")
    assert len(items) == 3
    for item in items:
        detail = client.get(f"/api/v1/submissions/{item['id']}", headers=admin).get_json()
        assert item["data"] == detail["data"]
        assert {k: v for k, v in item.items() if k != "data"} == {
            k: detail[k] for k in item if k != "data"
        }
    assert "data" not in listed(client, admin)[0]


def test_the_data_flag_may_change_between_pages(client, publish, submit, token_for):
    publish("export_demo.md")
    for n in range(3):
        submit(photo_xml(f"uuid:{n}", "x", ""), at=NOW + dt.timedelta(minutes=n))
    admin = token_for()
    first = client.get("/api/v1/forms/export_demo/submissions?limit=2", headers=admin).get_json()
    rest = client.get(
        f"/api/v1/forms/export_demo/submissions?limit=2&data=true&cursor={first['next_cursor']}",
        headers=admin,
    )
    assert rest.status_code == 200
    assert [i["instance_id"] for i in rest.get_json()["items"]] == ["uuid:0"]


def test_a_page_is_one_statement_whatever_its_size(client, publish, submit, token_for):
    publish("export_demo.md")
    admin = token_for()
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    def reads_of_submissions(query: str) -> int:
        statements.clear()
        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            response = client.get(f"/api/v1/forms/export_demo/submissions?{query}", headers=admin)
            assert response.status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        return sum("FROM submissions" in s for s in statements)

    submit(photo_xml("uuid:first", "x", "a.jpg"), files={"a.jpg": b"1"}, at=NOW)
    assert reads_of_submissions("limit=1000&data=true") == 1
    for n in range(12):
        files = {f"{n}.jpg": b"2"} if n % 2 else None
        at = NOW + dt.timedelta(minutes=n + 1)
        submit(photo_xml(f"uuid:{n}", f"n{n}", f"{n}.jpg"), files=files, at=at)
    assert reads_of_submissions("limit=1000&data=true") == 1
    assert reads_of_submissions("limit=1000") == 1


def test_a_page_costs_the_set_up_generation_and_the_page_and_no_transaction_on_postgresql(
    client, publish, submit, token_for
):
    """The caller and the form come from the set-up cache; PostgreSQL gets no BEGIN."""
    publish("export_demo.md")
    admin = token_for()
    for n in range(3):
        submit(photo_xml(f"uuid:{n}", f"n{n}", ""), at=NOW + dt.timedelta(minutes=n))
    statements: list[str] = []
    autocommit: list[bool] = []

    def count(conn, _cursor, statement, *_args):
        statements.append(statement)
        autocommit.append(getattr(conn.connection.dbapi_connection, "autocommit", False))

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get("/api/v1/forms/export_demo/submissions?limit=2", headers=admin)
        assert response.status_code == 200
        cursor = response.get_json()["next_cursor"]
        statements.clear()
        autocommit.clear()
        # A served request starts with a fresh session; the tests' app context keeps one.
        db.session.rollback()
        url = f"/api/v1/forms/export_demo/submissions?limit=2&cursor={cursor}"
        assert [i["instance_id"] for i in client.get(url, headers=admin).get_json()["items"]] == [
            "uuid:0"
        ]
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
        db.session.rollback()
    assert len(statements) == 2, statements
    assert "setup_generation" in statements[0] and "FROM submissions" in statements[1]
    # PostgreSQL runs them without BEGIN/ROLLBACK; SQLite keeps its transaction (one snapshot,
    # no round trip).
    assert autocommit == [db.engine.dialect.name == "postgresql"] * 2


def test_a_revoked_or_disabled_token_is_refused_at_once(client, publish, token_for, app):
    from server.models import ApiToken, User

    publish("export_demo.md")
    admin = token_for()
    assert _status(client, admin) == 200
    with app.app_context():
        db.session.execute(sa.update(ApiToken).values(revoked_at=NOW))
        db.session.commit()
    assert _status(client, admin) == 401
    other = token_for("khac")
    assert _status(client, other) == 200
    with app.app_context():
        db.session.execute(sa.update(User).where(User.username == "khac").values(is_active=False))
        db.session.commit()
    assert _status(client, other) == 401


def _status(client, headers) -> int:
    db.session.remove()  # a served request starts with a fresh session
    return client.get("/api/v1/forms/export_demo/submissions", headers=headers).status_code


@pytest.mark.parametrize(
    ("statement", "status"),
    [
        ("UPDATE api_tokens SET revoked_at = CURRENT_TIMESTAMP", 401),
        ("DELETE FROM api_tokens", 401),
        ("UPDATE users SET is_active = false", 401),
        ("UPDATE users SET role = 'collector'", 403),
        ("DELETE FROM user_forms", 403),
    ],
)
def test_the_cached_caller_follows_changes_made_by_another_process(
    app, client, publish, token_for, statement, status
):
    """Tokens, users and their forms move the set-up generation, whoever changes them."""
    publish("export_demo.md")
    planner = token_for("ke-hoach", role="planner", forms=("export_demo",))
    assert _status(client, planner) == 200
    assert _status(client, planner) == 200  # from the cache now
    elsewhere(app, statement)
    assert _status(client, planner) == status


def test_a_planner_s_units_changed_elsewhere_narrow_the_next_page(
    app, client, publish, submit, token_for
):
    publish("export_demo.md")
    submit(photo_xml("uuid:a", "Hoa", ""), at=NOW)
    planner = token_for("ke-hoach", role="planner", forms=("export_demo",))
    url = "/api/v1/forms/export_demo/submissions"
    assert len(client.get(url, headers=planner).get_json()["items"]) == 1
    elsewhere(app, """UPDATE users SET unit_codes = '["99999"]' WHERE username = 'ke-hoach'""")
    db.session.remove()
    assert client.get(url, headers=planner).get_json()["items"] == []


def test_a_form_assigned_elsewhere_is_readable_at_once(app, client, publish, token_for):
    publish("export_demo.md")
    planner = token_for("ke-hoach", role="planner")
    assert _status(client, planner) == 403
    elsewhere(
        app,
        "INSERT INTO user_forms (user_id, form_pk) SELECT users.id, forms.id FROM users, forms "
        "WHERE users.username = 'ke-hoach'",
    )
    assert _status(client, planner) == 200


def test_an_unknown_token_is_refused_and_not_kept(app, client, publish, token_for):
    from server.services.setup_cache import setup_cache

    publish("export_demo.md")
    assert _status(client, {"Authorization": "Bearer no-such-token"}) == 401
    assert _status(client, {"Authorization": "Bearer " + "x" * 500}) == 401
    assert _status(client, {"Authorization": "Basic abc"}) == 401
    with app.app_context():
        cache = setup_cache(db.session)
        cache.sync(db.session)
        assert cache._current.api_callers == {}


def test_a_page_is_byte_for_byte_the_schema_s_dump(client, publish, submit, token_for, make_device):
    """Booleans stay booleans on SQLite too; a device's submission names the device."""
    publish("export_demo.md")
    submit(photo_xml("uuid:a", "Hoa", "ảnh.jpg"), files={"ảnh.jpg": b"\xff\xd8"}, at=NOW)
    _, tablet = make_device("export_demo")
    xml = photo_xml("uuid:b", "Bình", "").encode()
    post_submission(client, tablet, xml)
    admin = token_for()
    response = client.get("/api/v1/forms/export_demo/submissions", headers=admin)
    rows = db.session.scalars(sa.select(Submission).order_by(Submission.id.desc())).all()
    expected = [SubmissionSchema().dump(submission_data(r)) for r in rows]
    assert expected[0]["submitter"].startswith("device:")
    assert response.data == orjson.dumps({"items": expected, "next_cursor": None})
    assert b'"is_encrypted":false' in response.data
