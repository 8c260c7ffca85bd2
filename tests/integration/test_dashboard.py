"""The overview page: activity per form in Vietnam days and weeks, quiet tablets, problems."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import ProjectionFailure, SubmissionLink
from server.services import accounts, dashboard
from server.web.admin import dashboard as dashboard_page
from tests.factories import NOW, simple
from tests.pages import sign_in

PASSWORD = "mật-khẩu-tổng-quan"
UTC = dt.UTC
#: Wednesday 2 December 2026, 10:00 in Vietnam.
WEDNESDAY = dt.datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def user(app, name, role, unit_codes=(), **kwargs):
    made = accounts.create_user(
        name,
        role=role,
        password=PASSWORD,
        realm=app.config["AUTH_REALM"],
        session=db.session,
        now=NOW,
        **kwargs,
    )
    made.unit_codes = list(unit_codes)
    db.session.commit()
    return made


def signed_in(app, client, name="quantri", role="admin", **kwargs):
    user(app, name, role, **kwargs)
    assert sign_in(client, name, PASSWORD).status_code == 302
    return client


@pytest.fixture
def fixed_now(monkeypatch):
    monkeypatch.setattr(dashboard_page, "_now", lambda: WEDNESDAY)
    return WEDNESDAY


def row_of(html: str, text: str) -> list[str]:
    """The cells of the first table row holding ``text``, tags stripped."""
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", html, re.S) if text in r)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    return [re.sub(r"<[^>]+>|\s+", " ", c).strip() for c in cells]


def test_days_and_weeks_are_vietnams(publish, submit):
    publish("simple.md")
    moments = [
        dt.datetime(2026, 12, 2, 1, 0, tzinfo=UTC),  # 08:00 today
        dt.datetime(2026, 12, 1, 18, 0, tzinfo=UTC),  # 01:00 today in Vietnam, yesterday in UTC
        dt.datetime(2026, 11, 30, 2, 0, tzinfo=UTC),  # Monday 09:00
        dt.datetime(2026, 11, 29, 20, 0, tzinfo=UTC),  # Monday 03:00 in Vietnam
        dt.datetime(2026, 11, 29, 16, 30, tzinfo=UTC),  # Sunday 23:30: last week
        dt.datetime(2026, 10, 1, 2, 0, tzinfo=UTC),
    ]
    for n, at in enumerate(moments):
        submit(simple(f"uuid:d{n}"), at=at)
    activity = dashboard.form_activity(db.session, now=WEDNESDAY)
    (only,) = activity.values()
    assert (only.today, only.week, only.total) == (2, 4, 6)
    assert only.last_received == moments[0]
    assert dashboard.day_starts(WEDNESDAY) == (
        dt.datetime(2026, 12, 1, 17, 0, tzinfo=UTC),
        dt.datetime(2026, 11, 29, 17, 0, tzinfo=UTC),
    )


def test_the_page_shows_each_forms_activity(app, client, publish, submit, fixed_now):
    publish("simple.md")
    for n, hours in enumerate((1, 30, 24 * 40)):
        submit(simple(f"uuid:p{n}"), at=WEDNESDAY - dt.timedelta(hours=hours))
    signed_in(app, client)
    html = client.get("/").get_data(as_text=True)
    cells = row_of(html, "<code>simple</code>")
    assert cells[2:5] == ["1", "2", "3"]
    assert "Việc cần xử lý" not in html and "Không có việc nào đang chờ xử lý" in html


def test_quiet_tablets_are_listed_quietest_first(app, publish, make_device):
    publish("simple.md")
    old = WEDNESDAY - dt.timedelta(days=20)
    quiet, _ = accounts.create_device("Máy xã A", form_ids=["simple"], session=db.session, now=old)
    busy, _ = accounts.create_device("Máy xã B", form_ids=["simple"], session=db.session, now=old)
    _never, _ = accounts.create_device(
        "Máy xã C", form_ids=["simple"], session=db.session, now=WEDNESDAY - dt.timedelta(days=9)
    )
    _new, _ = accounts.create_device(
        "Máy mới", form_ids=["simple"], session=db.session, now=WEDNESDAY
    )
    gone, _ = accounts.create_device("Máy cũ", form_ids=["simple"], session=db.session, now=old)
    accounts.revoke_device(db.session, gone.id, now=old)
    db.session.commit()
    from server.services.attachment_store import AttachmentStore
    from server.services.submissions import Origin, receive_submission

    for device, days, n in ((quiet, 10, 1), (busy, 1, 2)):
        receive_submission(
            simple(f"uuid:q{n}").encode(),
            [],
            origin=Origin(actor=accounts.Actor(device=device), device_id="collect:x"),
            session=db.session,
            store=AttachmentStore(app.config["STORAGE_DIR"]),
            now=WEDNESDAY - dt.timedelta(days=days),
        )
        db.session.commit()
    listed = dashboard.quiet_devices(db.session, now=WEDNESDAY, days=7)
    assert [(d.label, d.days) for d in listed] == [("Máy xã C", None), ("Máy xã A", 10)]


def test_problems_waiting_count_unknown_codes_and_failed_projections(
    app, client, publish, submit, fixed_now
):
    publish("simple.md")
    first = submit(simple("uuid:x1"), at=WEDNESDAY - dt.timedelta(days=1))
    second = submit(simple("uuid:x2"), at=WEDNESDAY - dt.timedelta(hours=2))
    for row, course in ((first, "KHONG-CO"), (second, None)):
        db.session.add(
            SubmissionLink(
                submission_id=row.id,
                course_code=course,
                person_code="GL404",
                unknown_course=course is not None,
                unknown_person=True,
            )
        )
    db.session.add(
        ProjectionFailure(
            submission_id=second.id, projection="needs ratings", error="E", failed_at=WEDNESDAY
        )
    )
    db.session.commit()
    found = dashboard.problems(db.session)
    assert [(p.kind, p.form_id, p.count) for p in found] == [
        ("unknown_person", "simple", 2),
        ("projection_failed", "simple", 1),
        ("unknown_course", "simple", 1),
    ]
    assert dashboard.problems(db.session, form_pks=frozenset()) == []
    signed_in(app, client)
    html = client.get("/").get_data(as_text=True)
    assert "Việc cần xử lý" in html
    assert row_of(html, "Mã học viên không có trong sổ")[2] == "2"
    # a deleted submission's problems are no longer waiting
    db.session.execute(
        sa.update(type(second)).where(type(second).id == second.id).values(deleted_at=WEDNESDAY)
    )
    db.session.commit()
    assert [(p.kind, p.count) for p in dashboard.problems(db.session)] == [
        ("unknown_course", 1),
        ("unknown_person", 1),
    ]


def test_sections_follow_the_policy(app, client, publish, fixed_now):
    publish("simple.md")
    signed_in(app, client, "giangvien", role="trainer", form_ids=["simple"])
    html = client.get("/").get_data(as_text=True)
    assert "<code>simple</code>" in html
    assert "Không có việc nào đang chờ xử lý" in html  # a trainer resolves unknown codes
    for hidden in ("Máy tính bảng lâu không gửi", "Chỉ số đào tạo", "Kết nối ODK Collect"):
        assert hidden not in html


def test_a_planner_sees_the_scorecard_of_their_unit(app, client, publish, fixed_now):
    from server.services.units import load_official_units

    load_official_units(session=db.session, now=NOW)
    db.session.commit()
    signed_in(app, client, "kehoach", role="planner", unit_codes=["52"])
    html = client.get("/").get_data(as_text=True)
    assert "Chỉ số đào tạo" in html
    assert "KPI-01" in html
    assert 'href="/reports/needs?unit=52"' in html
    assert "Máy tính bảng lâu không gửi" not in html


def test_the_admin_gets_the_lone_provinces_scorecard_and_quiet_tablets(
    app, client, publish, fixed_now
):
    signed_in(app, client)
    html = client.get("/").get_data(as_text=True)
    assert "Máy tính bảng lâu không gửi" in html and "Mọi máy tính bảng đều đã gửi" in html
    assert "Chỉ số đào tạo" not in html  # no province loaded: nothing to pick
