"""The register pages: check a file (diff or bad rows), apply it as a job, browse, edit, export."""

from __future__ import annotations

import io
import re
import time

import openpyxl
import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from server import worker
from server.extensions import db
from server.models import Job, Person, Posting
from server.services import accounts
from tests.factories import NOW
from tests.pages import form_token, post_form, sign_in

PASSWORD = "mật-khẩu-quản-trị"
UNITS = """level,code,name,parent_code,valid_from
province,52,Tỉnh Gia Lai,,2025-07-01
commune,21583,Phường Quy Nhơn,52,2025-07-01
commune,23584,Xã Ia Ka,52,2025-07-01
"""
HEADER = (
    "Mã cán bộ,Họ và tên,Giới tính,Năm sinh,Mã đơn vị hành chính,Tuyến,Loại hình,"
    "Nhóm đối tượng,Chứng chỉ,Ngày bắt đầu,Ngày kết thúc\n"
)
GOOD = HEADER + (
    "GL001,Nguyễn Thị Hoa,Nữ,1988,21583,Tuyến xã,Viên chức,vc_commune,vc_std:2019,01/08/2025,\n"
    "GL002,Rơ Châm Blơi,Nam,1979,23584,Tuyến xã,Viên chức,vc_commune,,01/08/2025,\n"
    "GL003,Lê Thị Mai,Nữ,1990,23584,Tuyến xã,Viên chức,vc_commune,,01/08/2025,\n"
)
BAD = HEADER + (
    "GL001,Nguyễn Thị Hoa,Nữ,1988,21583,Tuyến xã,Viên chức,vc_commune,,01/08/2025,\n"
    "GL002,Rơ Châm Blơi,Nam,1879,23584,Tuyến xã,Viên chức,vc_commune,,01/08/2025,\n"
    "GL003,Lê Thị Mai,Nữ,1990,99999,Tuyến xã,Viên chức,vc_commune,,01/08/2025,\n"
)


@pytest.fixture
def units(runner, tmp_path):
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    assert runner.invoke(args=["units", "import", str(tmp_path / "units.csv")]).exit_code == 0


def user(app, name="quantri", role="admin", units=()):
    created = accounts.create_user(
        name, role=role, password=PASSWORD, realm=app.config["AUTH_REALM"], session=db.session,
        now=NOW,
    )  # fmt: skip
    created.unit_codes = list(units)
    db.session.commit()
    return created


def signed_in(app, client, role="admin", name="quantri", units=()):
    user(app, name, role, units)
    assert sign_in(client, name, PASSWORD).status_code == 302
    return client


def upload(client, text: str, name="ds.csv"):
    token = form_token(client, "/admin/register")
    # Encoded here, in memory: the test client would spool a large body to a file it leaves open.
    boundary, body = encode_multipart(
        {"csrf_token": token, "file": FileStorage(io.BytesIO(text.encode()), name)}
    )
    content_type = f"multipart/form-data; boundary={boundary}"
    return client.post("/admin/register/check", data=body, content_type=content_type)


def run_jobs(app) -> None:
    while worker.work_once(app) is not None:
        pass
    db.session.expire_all()


def people_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Person))


def check_and_apply(app, client, text: str):
    response = upload(client, text)
    assert response.status_code == 303
    run_jobs(app)
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    applied = post_form(client, f"/admin/register/check/{job_id}/apply", {},
                        page=f"/admin/register/check/{job_id}")  # fmt: skip
    assert applied.status_code == 303
    run_jobs(app)
    return applied.headers["Location"]


def test_a_file_with_bad_rows_lists_every_one_and_applies_nothing(app, client, units):
    signed_in(app, client)
    response = upload(client, BAD)
    assert response.status_code == 303
    diff_url = response.headers["Location"]
    waiting = client.get(diff_url).get_data(as_text=True)
    assert "<progress" in waiting and "Tải lại trang" in waiting  # no script: a reload link
    run_jobs(app)
    page = client.get(diff_url)
    html = page.get_data(as_text=True)
    assert "400.15" in html and "ds.csv: 2 dòng có lỗi, chưa nhập gì." in html
    rows = re.findall(r'<tr><td class="num">(\d+)</td><td>([^<]+)</td></tr>', html)
    assert [r[0] for r in rows] == ["3", "4"]
    assert "năm sinh «1879»" in rows[0][1] and "99999" in rows[1][1]
    assert "Nhập danh sách này" not in html  # nothing to apply
    assert people_count() == 0
    job_id = int(diff_url.rsplit("/", 1)[1])
    refused = post_form(client, f"{diff_url}/apply", {}, page=diff_url)
    assert refused.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 1
    assert db.session.get(Job, job_id).state == "failed"


def test_a_good_file_shows_its_diff_then_applies_as_a_job(app, client, units):
    signed_in(app, client)
    job_url = check_and_apply(app, client, GOOD)
    assert people_count() == 3
    html = client.get(job_url).get_data(as_text=True)
    assert "Nhập danh sách cán bộ" in html and 'data-state="done"' in html
    # A second file: one moves, one leaves, one is corrected; the diff says who.
    changed = GOOD.replace(
        "GL001,Nguyễn Thị Hoa,Nữ,1988,21583", "GL001,Nguyễn Thị Hoa,Nữ,1988,23584"
    )
    changed = changed.replace("GL001,Nguyễn Thị Hoa,Nữ,1988,23584,Tuyến xã,Viên chức,vc_commune,vc_std:2019,01/08/2025",
                              "GL001,Nguyễn Thị Hoa,Nữ,1988,23584,Tuyến xã,Viên chức,vc_commune,vc_std:2019,01/11/2026")  # fmt: skip
    changed = changed.replace(
        "vc_commune,,01/08/2025,\nGL003", "vc_commune,,01/08/2025,30/10/2026\nGL003"
    )
    changed = changed.replace("Lê Thị Mai,Nữ,1990", "Lê Thị Mai,Nữ,1991")
    response = upload(client, changed, "thang11.csv")
    run_jobs(app)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    counts = dict(re.findall(r'data-count="(\w+)">([\d.]+)<', html))
    assert (counts["moved"], counts["closed"], counts["updated"]) == ("1", "1", "1")
    assert "21583 → 23584" in html and "đến / until 30/10/2026" in html
    assert "Nhập danh sách này" in html
    assert people_count() == 3  # the check stored nothing
    moved = db.session.scalars(sa.select(Posting).join(Person).where(Person.code == "GL001"))
    assert len(moved.all()) == 1


def test_the_job_pages_and_the_json_endpoint_are_the_owners(app, client, units, token_for):
    signed_in(app, client)
    job_url = check_and_apply(app, client, GOOD)
    job_id = int(job_url.rsplit("/", 1)[1])
    fragment = client.get(f"/admin/jobs/{job_id}/progress")
    assert fragment.headers["X-Job-State"] == "done" and "<progress" in fragment.get_data(
        as_text=True
    )
    admin = token_for("api-admin", "admin")
    body = client.get(f"/api/v1/jobs/{job_id}", headers=admin).get_json()
    assert (body["state"], body["kind"], body["result"]["added"]) == ("done", "roster.import", 3)
    planner = token_for("api-planner", "planner")
    assert client.get(f"/api/v1/jobs/{job_id}", headers=planner).status_code == 404
    assert client.get(f"/api/v1/jobs/{job_id}").status_code == 401
    assert client.get("/api/v1/jobs/999", headers=admin).get_json()["error"]["code"] == "404.8"
    other = app.test_client()
    signed_in(app, other, role="trainer", name="gv")
    assert other.get(f"/admin/jobs/{job_id}").status_code == 404
    assert other.get(f"/admin/jobs/{job_id}/result").status_code == 404


def test_browse_search_and_page_through_people(app, client, units):
    signed_in(app, client)
    rows = "".join(
        f"P{n:03d},Người số {n},Nữ,1990,21583,Tuyến xã,Viên chức,vc_commune,,01/08/2025,\n"
        for n in range(120)
    )
    check_and_apply(app, client, HEADER + rows)
    first = client.get("/admin/register?on=2026-01-01").get_data(as_text=True)
    assert "120 người" in first and "Trang 1 / 3" in first and "P000" in first
    third = client.get("/admin/register?on=2026-01-01&page=3").get_data(as_text=True)
    assert "P119" in third and "P000" not in third
    found = client.get("/admin/register?q=số 42&on=2026-01-01").get_data(as_text=True)
    assert "P042" in found and "1 người" in found
    before = client.get("/admin/register?on=2025-01-01").get_data(as_text=True)
    assert "0 người" in before
    bad = client.get("/admin/register?on=31-12-2025")
    assert bad.status_code == 422 and "không phải ngày" in bad.get_data(as_text=True)


def test_a_planner_reads_only_their_units_and_changes_nothing(app, client, units):
    admin = app.test_client()
    signed_in(app, admin)
    check_and_apply(app, admin, GOOD)
    signed_in(app, client, role="planner", name="lan", units=("21583",))
    html = client.get("/admin/register").get_data(as_text=True)
    assert "GL001" in html and "GL002" not in html
    assert "Nhập danh sách từ tệp" not in html and "Xuất danh sách" not in html
    assert client.get("/admin/register/people/GL001").status_code == 200
    assert client.get("/admin/register/people/GL002").status_code == 403
    token = form_token(client, "/admin/register")
    assert client.post("/admin/register/check", data={"csrf_token": token}).status_code == 403
    edit = post_form(client, "/admin/register/people/GL001", {"full_name": "X", "sex": "f"},
                     page="/admin/register")  # fmt: skip
    assert edit.status_code == 403
    export = post_form(client, "/admin/register/export", {"on": "2026-01-01", "format": "csv"},
                       page="/admin/register")  # fmt: skip
    assert export.status_code == 403
    assert client.get("/admin/register/template.xlsx").status_code == 200


def test_edit_one_person(app, client, units):
    signed_in(app, client)
    check_and_apply(app, client, GOOD)
    page = client.get("/admin/register/people/GL002").get_data(as_text=True)
    assert "Rơ Châm Blơi" in page and "Quá trình công tác" in page and "Xã Ia Ka" in page
    values = {"full_name": "Rơ Châm Blơi", "sex": "m", "birth_year": "1980", "phone": "0905 123 456",
              "education_level": "", "education_field": ""}  # fmt: skip
    saved = post_form(
        client, "/admin/register/people/GL002", values, page="/admin/register/people/GL002"
    )
    assert saved.status_code == 303 and saved.headers["Location"].endswith("saved=1")
    person = db.session.scalar(sa.select(Person).where(Person.code == "GL002"))
    assert (person.birth_year, person.phone) == (1980, "0905 123 456")
    wrong = post_form(client, "/admin/register/people/GL002", {**values, "birth_year": "1800"},
                      page="/admin/register/people/GL002")  # fmt: skip
    assert wrong.status_code == 422
    html = wrong.get_data(as_text=True)
    assert "422.1" in html and "năm sinh «1800» không hợp lệ" in html
    db.session.expire_all()
    assert db.session.scalar(sa.select(Person.birth_year).where(Person.code == "GL002")) == 1980
    assert client.get("/admin/register/people/NOBODY").status_code == 404


def test_export_as_of_a_day_and_the_template(app, client, units):
    signed_in(app, client)
    check_and_apply(app, client, GOOD.replace("01/08/2025,\nGL003", "01/08/2025,31/12/2025\nGL003"))
    response = post_form(client, "/admin/register/export", {"on": "2026-06-01", "format": "csv"},
                         page="/admin/register")  # fmt: skip
    assert response.status_code == 303
    run_jobs(app)
    job_page = client.get(response.headers["Location"]).get_data(as_text=True)
    link = re.search(r'href="(/admin/jobs/\d+/result)"', job_page).group(1)
    csv = client.get(link)
    assert (
        csv.headers["Content-Disposition"]
        == 'attachment; filename="danh_sach_can_bo_2026-06-01.csv"'
    )
    text = csv.get_data().decode("utf-8-sig")
    assert "GL001" in text and "GL003" in text and "GL002" not in text  # GL002 left in 2025
    xlsx = post_form(client, "/admin/register/export", {"on": "2025-09-01", "format": "xlsx"},
                     page="/admin/register")  # fmt: skip
    run_jobs(app)
    job = db.session.get(Job, int(xlsx.headers["Location"].rsplit("/", 1)[1]))
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/admin/jobs/{job.id}/result").get_data()))
    codes = [row[0] for row in book.active.iter_rows(min_row=2, values_only=True)]
    assert codes == ["GL001", "GL002", "GL003"]
    bad = post_form(client, "/admin/register/export", {"on": "2026-06-01", "format": "doc"},
                    page="/admin/register")  # fmt: skip
    assert bad.status_code == 422
    template = client.get("/admin/register/template.xlsx")
    assert template.status_code == 200
    assert openpyxl.load_workbook(io.BytesIO(template.get_data())).sheetnames == [
        "danh_sach_can_bo",
        "danh_muc",
    ]


def test_refusals_a_trainer_no_csrf_and_no_file(app, client, units):
    signed_in(app, client, role="trainer", name="gv")
    assert client.get("/admin/register").status_code == 200
    token = form_token(client, "/admin/register")
    data = {"csrf_token": token, "file": (io.BytesIO(GOOD.encode()), "ds.csv")}
    assert client.post("/admin/register/check", data=data).status_code == 403
    admin = app.test_client()
    signed_in(app, admin)
    forged = admin.post(
        "/admin/register/check", data={"file": (io.BytesIO(GOOD.encode()), "ds.csv")}
    )
    assert forged.status_code == 403 and "403.5" in forged.get_data(as_text=True)
    token = form_token(admin, "/admin/register")
    empty = admin.post("/admin/register/check", data={"csrf_token": token})
    assert empty.status_code == 422 and "422.1" in empty.get_data(as_text=True)
    wrong_type = upload(admin, "hello", "ds.txt")
    assert wrong_type.status_code == 303  # checked in the background, where it fails
    run_jobs(app)
    html = admin.get(wrong_type.headers["Location"]).get_data(as_text=True)
    assert "400.7" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 1


def test_a_large_register_is_checked_and_applied_in_the_background(app, client, units, monkeypatch):
    """20,000 rows: the upload answers at once; the job reports progress as it goes."""
    # Writes closer together than PROGRESS_INTERVAL are skipped: on a fast machine the whole
    # check fits in one interval, so every report is kept here to see the steps.
    monkeypatch.setattr(worker.jobs, "PROGRESS_INTERVAL", 0)
    signed_in(app, client)
    rows = "".join(
        f"L{n:06d},Cộng tác viên {n},Nữ,1990,{'21583' if n % 2 else '23584'},Tuyến xã,"
        f"Viên chức,vc_commune,,01/08/2025,\n"
        for n in range(20_000)
    )
    started = time.monotonic()
    response = upload(client, HEADER + rows, "lon.csv")
    assert response.status_code == 303
    assert time.monotonic() - started < 5  # the request only stores the file and queues
    seen: list[tuple[int, int]] = []
    original = worker.jobs.Progress._write

    def spy(self, values):
        if values:
            seen.append((values["done"], values["total"]))
        original(self, values)

    worker.jobs.Progress._write = spy
    try:
        run_jobs(app)
    finally:
        worker.jobs.Progress._write = original
    job = db.session.get(Job, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert job.state == "done" and job.result["added"] == 20_000
    assert job.result["listed"] == 1000 and job.result["entries_total"] == 20_000
    assert seen[0] == (0, 0) and len(seen) >= 2  # reading (total unknown), then counted steps
    assert all(done <= total for done, total in seen if total)


def test_a_file_over_the_limit_is_refused_before_it_is_read(app, client, units):
    app.config["ROSTER_MAX_BYTES"] = 2000
    signed_in(app, client)
    response = upload(client, GOOD * 20)
    assert response.status_code == 413
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0
