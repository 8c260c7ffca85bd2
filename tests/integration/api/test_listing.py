"""The submission listing's fast path: what marshmallow would dump, one statement per page."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from server.extensions import db
from server.models import Submission
from server.web.api.presenters import submission_data
from server.web.api.schemas import SubmissionSchema
from tests.factories import NOW


def photo_xml(instance: str, name: str, photo: str) -> str:
    return (
        f'<data id="export_demo" version="1"><name>{name}</name><age>34</age>'
        f"<topics>tp01</topics><ok>yes</ok><dob>1990-05-01</dob><photo>{photo}</photo>"
        f"<meta><instanceID>{instance}</instanceID></meta></data>"
    )


def listed(client, headers, query: str = "") -> list[dict]:
    items, cursor = [], None
    while True:
        url = f"/api/v1/forms/export_demo/submissions?limit=2{query}"
        response = client.get(url + (f"&cursor={cursor}" if cursor else ""), headers=headers)
        assert response.status_code == 200, response.get_json()
        assert response.headers["Content-Type"] == "application/json"
        page = json.loads(response.data)
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


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


def test_a_page_costs_three_statements_and_no_transaction_on_postgresql(
    client, publish, submit, token_for
):
    """The token with its user and forms, the form, the page; PostgreSQL gets no BEGIN."""
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
    assert len(statements) == 3, statements
    assert "api_tokens" in statements[0] and "user_forms" in statements[0]
    # PostgreSQL runs them without BEGIN/ROLLBACK; SQLite keeps its transaction (one snapshot,
    # no round trip).
    assert autocommit == [db.engine.dialect.name == "postgresql"] * 3


def test_a_revoked_or_disabled_token_is_refused_by_the_joined_lookup(
    client, publish, token_for, app
):
    from server.models import ApiToken, User

    publish("export_demo.md")
    admin = token_for()
    assert client.get("/api/v1/forms/export_demo/submissions", headers=admin).status_code == 200
    with app.app_context():
        db.session.execute(sa.update(ApiToken).values(revoked_at=NOW))
        db.session.commit()
    assert client.get("/api/v1/forms/export_demo/submissions", headers=admin).status_code == 401
    other = token_for("khac")
    with app.app_context():
        db.session.execute(sa.update(User).where(User.username == "khac").values(is_active=False))
        db.session.commit()
    assert client.get("/api/v1/forms/export_demo/submissions", headers=other).status_code == 401
