"""The audit log page (filters, pages, CSV) and the administrative units page (tree, import)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import AdminUnit, AuditEvent, User
from server.services import audit
from tests import pages
from tests.factories import NOW, PASSWORD

UNITS = """level,code,name,parent_code,valid_from,valid_to
province,64,Tỉnh Gia Lai (cũ),,,2025-06-30
district,627,Huyện Ia Grai,64,,2025-06-30
commune,24043,Xã Ia Khai,627,,2025-06-30
province,52,Tỉnh Gia Lai,,2025-07-01,
commune,21583,Xã Ia Grai,52,2025-07-01,
"""
BAD_UNITS = """level,code,name,parent_code,valid_from
province,70,Tỉnh Mới,,2025-07-01
commune,,Xã Không Mã,70,2025-07-01
commune,70001,Xã Mồ Côi,99,2025-07-01
xóm,70002,Thôn Lạ,70,2025-07-01
"""


@pytest.fixture
def admin(make_user):
    return make_user("quantri", role="admin")


def signed_in(client, name="quantri"):
    assert pages.sign_in(client, name, PASSWORD).status_code == 302
    return client


def post(client, path: str, data: dict, **kwargs):
    return pages.post_form(client, path, data, page="/", **kwargs)


def events(admin: User, n: int, *, start: dt.datetime = NOW) -> None:
    """Make n events, one a day ending at ``start``: alternating two actions, the console every third."""
    for i in range(n):
        audit.record(db.session, user=None if i % 3 == 0 else admin,
                     action="user.role" if i % 2 else "form.state", target=admin,
                     details={"from": "a", "to": f"b{i}"},
                     now=start - dt.timedelta(days=n - 1 - i))  # fmt: skip
    db.session.commit()


def test_the_log_pages_newest_first_with_newer_and_older_links(client, admin):
    events(admin, 120)
    signed_in(client)
    first = client.get("/admin/audit").get_data(as_text=True)
    assert first.index("to: b119<") < first.index("to: b118<")  # newest first
    assert "to: b69</td>" not in first and "to: b70</td>" in first  # one page of 50
    assert "23/11/2026 16:30" in first  # the newest event, 09:30 UTC, in Vietnam time
    older = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = client.get(older).get_data(as_text=True)
    assert (
        "to: b69</td>" in second
        and "to: b20</td>" in second
        and "to: b70</td>" not in second
        and "to: b19</td>" not in second
    )
    newer = second.split('rel="prev"')[0].rsplit('href="', 1)[1].split('"')[0]
    back = client.get(newer.replace("&amp;", "&")).get_data(as_text=True)
    assert (
        "to: b119</td>" in back
        and "to: b70</td>" in back
        and "to: b69</td>" not in back
        and 'rel="prev"' not in back
    )


def test_filters_by_actor_action_and_vietnam_days(client, admin):
    events(admin, 10)
    signed_in(client)
    by_console = client.get(f"/admin/audit?actor={audit.CONSOLE}").get_data(as_text=True)
    assert by_console.count("máy chủ / console</td>") == 4  # i = 0, 3, 6, 9
    assert f'<a href="/admin/people/{admin.id}">quantri</a>' in by_console  # the target, named
    by_admin = client.get(f"/admin/audit?actor={admin.id}&action=user.role")
    assert by_admin.get_data(as_text=True).count("<code>user.role</code>") == 3  # i = 1, 5, 7
    # NOW is 16:30 on 23/11 in Vietnam; the day before holds exactly one event
    day = client.get("/admin/audit?since=22/11/2026&until=22/11/2026").get_data(as_text=True)
    assert "to: b8</td>" in day and "to: b9</td>" not in day and "to: b7</td>" not in day
    reversed_ = client.get("/admin/audit?since=2026-11-23&until=2026-11-01")
    assert reversed_.status_code == 422 and "422.1" in reversed_.get_data(as_text=True)
    assert client.get("/admin/audit?since=hôm-qua").status_code == 422
    assert client.get("/admin/audit?until=31/02/2026").status_code == 422
    iso = client.get("/admin/audit?since=2026-11-22&until=2026-11-22").get_data(as_text=True)
    assert "to: b8</td>" in iso and 'value="2026-11-22"' in iso
    assert client.get("/admin/audit?actor=lan").status_code == 422


def test_the_log_downloads_as_csv_through_the_registry(client, admin):
    events(admin, 5)
    signed_in(client)
    response = client.get("/admin/audit.csv?action=user.role")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["id", "at (UTC+07:00)", "actor"]
    assert [r[3] for r in rows[1:]] == ["user.role", "user.role"]
    assert (rows[1][2], rows[2][2]) == ("console", "quantri") and "to: b3" in rows[1][6]


def test_the_units_tree_with_history_and_search(client, admin, runner, tmp_path):
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    assert runner.invoke(args=["units", "import", str(tmp_path / "units.csv")]).exit_code == 0
    logged = db.session.execute(sa.select(AuditEvent)).scalar_one()  # the console's import
    assert (logged.action, logged.actor_user_id, logged.details["added"]) == (
        "units.import",
        None,
        5,
    )
    signed_in(client)
    top = client.get("/admin/units").get_data(as_text=True)
    assert "Tỉnh Gia Lai" in top and "Tỉnh Gia Lai (cũ)" not in top  # current only
    former = client.get("/admin/units?period=former").get_data(as_text=True)
    assert "Tỉnh Gia Lai (cũ)" in former and "30/06/2025" in former
    old = db.session.execute(sa.select(AdminUnit).where(AdminUnit.code == "64")).scalar_one()
    under = client.get(f"/admin/units?parent={old.id}&period=all").get_data(as_text=True)
    assert "Huyện Ia Grai" in under and "<code>627</code>" in under
    found = client.get("/admin/units?q=Ia&period=all").get_data(as_text=True)
    for name in ("Huyện Ia Grai", "Xã Ia Khai", "Xã Ia Grai"):
        assert name in found
    assert "Xã Ia Grai" in client.get("/admin/units?q=2158").get_data(as_text=True)


def test_units_show_their_2025_successors(client, admin, runner):
    assert runner.invoke(args=["units", "load-official"]).exit_code == 0
    signed_in(client)
    former = client.get("/admin/units?q=627&period=former").get_data(as_text=True)
    assert "Huyện Chư Păh" in former and "→ Gia Lai <code>52</code>" in former
    current = client.get("/admin/units?q=52").get_data(as_text=True)
    assert "đơn vị cũ" in current and "<code>64</code>" in current


def test_a_units_file_with_bad_rows_lists_them_and_imports_nothing(client, admin):
    signed_in(client)
    response = post(client, "/admin/units/import",
                    {"file": (io.BytesIO(BAD_UNITS.encode()), "don-vi.csv")},
                    content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "400.10" in html and "don-vi.csv" in html
    for row in ('<td class="num">3</td>', '<td class="num">4</td>', '<td class="num">5</td>'):
        assert row in html
    assert db.session.scalar(sa.select(sa.func.count(AdminUnit.id))) == 0
    good = post(client, "/admin/units/import",
                {"file": (io.BytesIO(UNITS.encode()), "units.csv")},
                content_type="multipart/form-data")  # fmt: skip
    assert good.status_code == 302
    assert "5 thêm" in client.get(good.headers["Location"]).get_data(as_text=True)
    event = db.session.execute(sa.select(AuditEvent)).scalar_one()
    assert (event.action, event.target_type, event.target_id) == (
        "units.import",
        "admin_units",
        None,
    )
    assert event.details["added"] == 5
    empty = post(client, "/admin/units/import", {"file": (io.BytesIO(b""), "rong.csv")},
                 content_type="multipart/form-data")  # fmt: skip
    assert empty.status_code == 400 and "400.8" in empty.get_data(as_text=True)
    missing = post(client, "/admin/units/import", {}, content_type="multipart/form-data")
    assert missing.status_code == 422


def test_a_units_file_over_the_limit_is_refused_unread(app, client, admin):
    app.config["PAGE_UPLOAD_MAX_BYTES"] = 100
    signed_in(client)
    big = post(client, "/admin/units/import", {"file": (io.BytesIO(b"x" * 500), "big.csv")},
               content_type="multipart/form-data")  # fmt: skip
    assert big.status_code == 413 and "413.3" in big.get_data(as_text=True)
    assert "TAPHUAN_PAGE_UPLOAD_MAX_BYTES" in big.get_data(as_text=True)


@pytest.mark.parametrize("role", ["trainer", "planner"])
def test_others_browse_units_but_do_not_import(client, make_user, role):
    make_user("gv", role=role)
    signed_in(client, "gv")
    page = client.get("/admin/units")
    assert page.status_code == 200 and "Nhập đơn vị" not in page.get_data(as_text=True)
    refused = post(client, "/admin/units/import", {"file": (io.BytesIO(UNITS.encode()), "u.csv")},
                   content_type="multipart/form-data")  # fmt: skip
    assert refused.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(AdminUnit.id))) == 0


def test_units_import_without_the_csrf_token_is_refused(client, admin):
    signed_in(client)
    response = client.post("/admin/units/import", data={"file": (io.BytesIO(UNITS.encode()), "u.csv")},
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(AdminUnit.id))) == 0
