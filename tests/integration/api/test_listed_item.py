"""The item PostgreSQL writes for each submission (migration 0026) is the item Python renders.

The listing hands that stored text on as it is, so each test compares it with the schema's dump
of the row as the ORM loads it (``submission_data``), after whatever may change what it shows:
awkward strings and times, a review, a delete, a file arriving, a user's or a version's new
name, another session's time zone. On SQLite the column stays empty and the same pages are
rendered in Python: those tests run there too and hold the pages to the same dump.
"""

from __future__ import annotations

import datetime as dt
import json

import orjson
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from server import MIGRATIONS_DIR
from server.extensions import db
from server.models import Form, FormVersion, Submission, User
from server.web.api.presenters import submission_data
from server.web.api.schemas import SubmissionSchema
from tests.factories import NOW, listed, photo_xml, post_submission

#: Strings whose JSON escapes differ between writers, and times orjson writes its own way.
AWKWARD = [
    ('Trần "An" \\ \n\t\r', dt.datetime(2026, 1, 2, 3, 4, 5, 123400, tzinfo=dt.UTC)),
    ("\x01\x1f\x7f \u2028\u2029 😀 ươ", dt.datetime(999, 12, 31, 23, 59, 59, 1, tzinfo=dt.UTC)),
    (
        "</script><b>&amp;",
        dt.datetime(2026, 6, 30, 17, 0, tzinfo=dt.timezone(dt.timedelta(hours=7))),
    ),
    ("", None),
]


def postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def expected(row: Submission) -> dict:
    return json.loads(orjson.dumps(SubmissionSchema().dump(submission_data(row))))


def stored(row_id: int) -> dict | None:
    text = db.session.scalar(sa.select(Submission.listed_item).where(Submission.id == row_id))
    return None if text is None else json.loads(text)


def assert_items_current(client, headers):
    """Every row's stored item (PostgreSQL) and every listed item are the row's dump."""
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Submission).order_by(Submission.id.desc())).all()
    dumps = [expected(r) for r in rows]
    for row, dump in zip(rows, dumps, strict=True):
        assert stored(row.id) == (dump if postgresql() else None)
    assert listed(client, headers, "&include_deleted=true") == dumps
    shown = [(r, d) for r, d in zip(rows, dumps, strict=True) if r.deleted_at is None]
    assert listed(client, headers) == [d for _, d in shown]
    with_data = listed(client, headers, "&data=true")
    assert [{k: v for k, v in i.items() if k != "data"} for i in with_data] == [d for _, d in shown]
    assert [i["data"] for i in with_data] == [r.data for r, _ in shown]


def test_awkward_strings_and_times_are_written_as_python_writes_them(
    client, publish, submit, token_for
):
    publish("export_demo.md")
    for n, (name, submitted) in enumerate(AWKWARD):
        row = submit(photo_xml(f"uuid:{n}", "x", ""), at=NOW + dt.timedelta(seconds=n))
        row.instance_name, row.submitted_at = name or None, submitted
        row.unit_code = name[:32] or None
        row.device_id = name or None
    db.session.commit()
    assert_items_current(client, token_for())


def test_a_review_a_delete_a_restore_and_a_file_arriving_rewrite_the_item(
    client, publish, submit, token_for
):
    publish("export_demo.md")
    first = submit(photo_xml("uuid:a", "Hoa", "ảnh.jpg"), at=NOW)
    submit(photo_xml("uuid:b", "Bình", ""), at=NOW + dt.timedelta(minutes=1))
    admin = token_for()
    assert_items_current(client, admin)
    review = {"review_state": "has_issues", "comment": "thiếu ảnh"}
    assert (
        client.patch(
            f"/api/v1/submissions/{first.id}/review", json=review, headers=admin
        ).status_code
        == 200
    )
    assert_items_current(client, admin)
    assert client.delete(f"/api/v1/submissions/{first.id}", headers=admin).status_code == 204
    assert_items_current(client, admin)
    deleted = client.get(
        "/api/v1/forms/export_demo/submissions?include_deleted=true", headers=admin
    ).get_json()["items"]
    assert [i["is_deleted"] for i in deleted] == [False, True]
    assert client.post(f"/api/v1/submissions/{first.id}/restore", headers=admin).status_code == 200
    assert_items_current(client, admin)
    # the photo arrives in a second request, as Collect splits a large upload
    submit(photo_xml("uuid:a", "Hoa", "ảnh.jpg"), files={"ảnh.jpg": b"\xff\xd8"})
    assert_items_current(client, admin)
    assert listed(client, admin)[-1]["attachments_present"] == 1


def test_a_new_user_name_a_version_name_and_a_form_id_reach_the_items_that_show_them(
    client, publish, submit, token_for, make_device
):
    publish("export_demo.md")
    submit(photo_xml("uuid:a", "Hoa", ""), at=NOW)
    _, tablet = make_device("export_demo")
    xml = photo_xml("uuid:b", "Bình", "").encode()
    post_submission(client, tablet, xml)
    admin = token_for()
    db.session.execute(
        sa.update(User).where(User.username == "collector-bot").values(username="thu-thap")
    )
    db.session.execute(sa.update(FormVersion).values(version="1-sửa"))
    db.session.commit()
    items = listed(client, admin)
    assert {i["submitter"] for i in items} >= {"thu-thap"}
    assert {i["version"] for i in items} == {"1-sửa"}
    assert_items_current(client, admin)
    if postgresql():  # the API names forms by id, so this one is only read back from storage
        db.session.execute(sa.update(Form).values(form_id="export_demo2"))
        db.session.commit()
        assert {stored(i["id"])["form_id"] for i in items} == {"export_demo2"}


def test_a_session_in_another_time_zone_writes_the_same_times(client, publish, submit, token_for):
    publish("export_demo.md")
    row = submit(photo_xml("uuid:a", "Hoa", ""), at=NOW)
    if postgresql():
        db.session.execute(sa.text("SET LOCAL TIME ZONE 'Asia/Ho_Chi_Minh'"))
    db.session.execute(sa.update(Submission).where(Submission.id == row.id).values(unit_code="x"))
    db.session.commit()
    assert listed(client, token_for())[0]["received_at"] == "2026-11-23T09:30:00+00:00"
    assert_items_current(client, token_for("other"))


def test_a_page_mixes_stored_items_with_rows_rendered_in_python(client, publish, submit, token_for):
    """Rows without an item (SQLite's, or any left without one) are listed the same."""
    publish("export_demo.md")
    for n in range(5):
        submit(photo_xml(f"uuid:{n}", f'Người "{n}"', ""), at=NOW + dt.timedelta(minutes=n))
    admin = token_for()
    before = client.get("/api/v1/forms/export_demo/submissions?data=true", headers=admin).data
    if postgresql():
        db.session.execute(
            sa.text("ALTER TABLE submissions DISABLE TRIGGER submissions_listed_item")
        )
        db.session.execute(
            sa.update(Submission).where(Submission.id % 2 == 0).values(listed_item=None)
        )
        db.session.execute(
            sa.text("ALTER TABLE submissions ENABLE TRIGGER submissions_listed_item")
        )
        db.session.commit()
        assert (
            db.session.scalar(sa.select(sa.func.count()).where(Submission.listed_item.is_(None)))
            == 2
        )
    after = client.get("/api/v1/forms/export_demo/submissions?data=true", headers=admin).data
    assert json.loads(after) == json.loads(before)


def test_the_upgrade_writes_the_items_of_rows_stored_before_it(
    app, client, publish, submit, token_for
):
    publish("export_demo.md")
    for n in range(3):
        submit(photo_xml(f"uuid:{n}", "Hoa", ""), at=NOW + dt.timedelta(minutes=n))
    db.session.commit()
    db.session.remove()
    with app.app_context():
        downgrade(directory=str(MIGRATIONS_DIR), revision="0025")
        upgrade(directory=str(MIGRATIONS_DIR))
    assert_items_current(client, token_for())


def test_the_intake_s_own_item_is_the_one_the_database_would_write(
    client, publish, submit, token_for, make_device
):
    """A new row's item is rendered by the intake (but for its id): a user's and a device's."""
    publish("export_demo.md")
    name = 'Trần "An" \\ \t ươ </script>'
    xml = (
        photo_xml("uuid:a", "x", "")
        .replace("<meta>", "<end>2026-11-23T16:30:00.123456+07:00</end><meta>")
        .replace("</instanceID>", f"</instanceID><instanceName>{name}</instanceName>")
    )
    row = submit(xml.replace("</script>", "&lt;/script&gt;"), at=NOW.replace(microsecond=7))
    _, tablet = make_device("export_demo")
    body = photo_xml("uuid:b", "Bình", "").encode()
    post_submission(client, tablet, body)
    admin = token_for()
    assert_items_current(client, admin)
    first = listed(client, admin)[-1]
    assert first["id"] == row.id and first["instance_name"] == name
    assert first["received_at"] == "2026-11-23T09:30:00.000007+00:00"
    assert first["submitted_at"] == "2026-11-23T09:30:00.123456+00:00"


def test_rows_copied_with_their_items_get_them_written_again(client, publish, submit, token_for):
    """An INSERT that brings a complete item (rows copied from a dump) is not trusted."""
    publish("export_demo.md")
    submit(photo_xml("uuid:a", "Hoa", ""), at=NOW)
    if postgresql():
        columns = [c.name for c in Submission.__table__.columns if c.name not in ("id",)]
        names = ", ".join(columns)
        copied = ", ".join("instance_id || '-copy'" if c == "instance_id" else c for c in columns)
        copy = f"INSERT INTO submissions ({names}) SELECT {copied} FROM submissions"  # noqa: S608
        db.session.execute(sa.text(copy))
        db.session.commit()
    assert_items_current(client, token_for())


def test_a_filtered_page_with_data_sends_the_stored_items_too(client, publish, submit, token_for):
    """A filter builds its statement per page; its items come as stored, with the answers."""
    publish("export_demo.md")
    for n in range(3):
        submit(photo_xml(f"uuid:{n}", f"Người {n}", ""), at=NOW + dt.timedelta(minutes=n))
    admin = token_for()
    items = listed(client, admin, "&data=true&review_state=received")
    rows = db.session.scalars(sa.select(Submission).order_by(Submission.id.desc())).all()
    assert len(items) == 3
    assert [{k: v for k, v in i.items() if k != "data"} for i in items] == [
        expected(r) for r in rows
    ]
    assert [i["data"] for i in items] == [r.data for r in rows]
