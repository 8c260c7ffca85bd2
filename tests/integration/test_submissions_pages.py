"""The submissions pages: the filtered listing, one submission, review, delete/restore, files."""

from __future__ import annotations

import io
import zipfile

import sqlalchemy as sa
from PIL import Image

from server.extensions import db
from server.models import AuditEvent, Submission, User
from tests.factories import NOW, PASSWORD
from tests.pages import form_token, post_form, sign_in

SURVEY = """| survey |
|        | type          | name    | label::Vietnamese (vi) | label::English (en) |
|        | text          | hoten   | Họ tên                 | Name                |
|        | text          | commune | Mã xã                  | Commune code        |
|        | image         | anh     | Ảnh                    | Photo               |
|        | begin_group   | g       | Nhóm ý kiến            | Opinions            |
|        | select_one yn | ok      | Đồng ý                 | Agree               |
|        | end_group     | g       |                        |                     |
|        | begin_repeat  | con     | Con                    | Child               |
|        | integer       | tuoi    | Tuổi con               | Child's age         |
|        | end_repeat    | con     |                        |                     |
| choices |
|         | list_name | name | label::Vietnamese (vi) | label::English (en) |
|         | yn        | yes  | Có                     | Yes                 |
|         | yn        | no   | Không                  | No                  |
| settings |
|          | form_id  | version | form_title      | default_language |
|          | khao_sat | 1       | Khảo sát hộ     | Vietnamese (vi)  |
"""


def photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def survey_xml(n: int, name: str, commune: str = "21583", picture: str = "anh.jpg") -> str:
    return (
        f'<data id="khao_sat" version="1"><hoten>{name}</hoten><commune>{commune}</commune>'
        f"<anh>{picture}</anh><g><ok>yes</ok></g><con><tuoi>4</tuoi></con><con><tuoi>9</tuoi></con>"
        f"<meta><instanceID>uuid:00000000-0000-4000-8000-{n:012d}</instanceID>"
        f"<instanceName>{name}</instanceName></meta></data>"
    )


def setup(publish, submit):
    publish("khao_sat.md", content=SURVEY.encode())
    first = submit(survey_xml(1, "Hộ Lan"), files={"anh.jpg": photo()})
    second = submit(survey_xml(2, "Hộ Minh", commune="99999"), files={"anh.jpg": photo()})
    return first, second


def signed_in(client, make_user, role="admin", forms=(), units=()):
    user = make_user("nguoidung", role=role, forms=forms)
    if units:
        db.session.get(User, user.id).unit_codes = list(units)
        db.session.commit()
    assert sign_in(client, "nguoidung", PASSWORD).status_code == 302
    return client


def test_the_listing_shows_a_forms_submissions_with_the_apis_filters(
    app, client, make_user, publish, submit
):
    setup(publish, submit)
    signed_in(client, make_user)
    html = client.get("/admin/forms/khao_sat/submissions").get_data(as_text=True)
    assert "Hộ Lan" in html and "Hộ Minh" in html
    only = client.get("/admin/forms/khao_sat/submissions?q=H%E1%BB%99+M&unit=&submitter=")
    assert "Hộ Minh" in only.get_data(as_text=True) and "Hộ Lan" not in only.get_data(as_text=True)
    by_unit = client.get("/admin/forms/khao_sat/submissions?unit=21583").get_data(as_text=True)
    assert "Hộ Lan" in by_unit and "Hộ Minh" not in by_unit
    later = client.get("/admin/forms/khao_sat/submissions?received_from=2030-01-01")
    assert 'id="no-submissions"' in later.get_data(as_text=True)
    day = NOW.strftime("%Y-%m-%d")
    same_day = client.get(
        f"/admin/forms/khao_sat/submissions?received_from={day}&received_to={day}"
    )
    assert "Hộ Lan" in same_day.get_data(as_text=True)
    approved = client.get("/admin/forms/khao_sat/submissions?review_state=approved")
    assert "Hộ Lan" not in approved.get_data(as_text=True)


def test_bad_filters_are_the_catalogues_422_on_the_page(app, client, make_user, publish, submit):
    setup(publish, submit)
    signed_in(client, make_user)
    response = client.get("/admin/forms/khao_sat/submissions?review_state=lost")
    assert response.status_code == 422 and "422.1" in response.get_data(as_text=True)
    backwards = client.get(
        "/admin/forms/khao_sat/submissions?received_from=2026-12-02&received_to=2026-12-01"
    )
    assert backwards.status_code == 422
    tampered = client.get("/admin/forms/khao_sat/submissions?cursor=abc")
    assert tampered.status_code == 422 and "422.2" in tampered.get_data(as_text=True)


def test_pages_follow_the_signed_cursor(app, client, make_user, publish, submit, monkeypatch):
    from server.web.admin import submissions as page

    setup(publish, submit)
    signed_in(client, make_user)
    monkeypatch.setattr(page, "PAGE_SIZE", 1)
    first = client.get("/admin/forms/khao_sat/submissions").get_data(as_text=True)
    assert first.count('href="/admin/submissions/') == 1 and 'rel="next"' in first
    link = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = client.get(link).get_data(as_text=True)
    assert second.count('href="/admin/submissions/') == 1 and 'rel="next"' not in second
    assert ("Hộ Lan" in first) != ("Hộ Lan" in second)


def test_one_submission_with_labelled_answers_photo_and_repeats(
    app, client, make_user, publish, submit
):
    first, _ = setup(publish, submit)
    signed_in(client, make_user)
    html = client.get(f"/admin/submissions/{first.id}").get_data(as_text=True)
    assert "Nhóm ý kiến" in html and "Đồng ý" in html and ">Có<" in html
    assert "Tuổi con" in html and "Con #2" in html
    photo_url = f"/admin/submissions/{first.id}/attachments/anh.jpg"
    assert f'<img class="photo" src="{photo_url}"' in html
    served = client.get(photo_url)
    assert served.status_code == 200 and served.content_type == "image/jpeg"
    assert served.data == photo()
    assert client.get(f"/admin/submissions/{first.id}/attachments/no.jpg").status_code == 404
    client.post("/lang", data={"lang": "en", "csrf_token": form_token(client, "/"), "next": "/"})
    english = client.get(f"/admin/submissions/{first.id}").get_data(as_text=True)
    assert "Opinions" in english and ">Yes<" in english and "Child #2" in english


def test_review_with_a_comment_is_kept_with_its_history(app, client, make_user, publish, submit):
    first, _ = setup(publish, submit)
    signed_in(client, make_user, role="trainer")
    page = f"/admin/submissions/{first.id}"
    response = post_form(
        client,
        f"{page}/review",
        {"review_state": "has_issues", "comment": "Ảnh mờ, chụp lại"},
        page=page,
    )
    assert response.status_code == 302
    row = db.session.get(Submission, first.id)
    db.session.refresh(row)
    assert (row.review_state, row.review_comment) == ("has_issues", "Ảnh mờ, chụp lại")
    html = client.get(page).get_data(as_text=True)
    assert "Ảnh mờ, chụp lại" in html and "Có vấn đề" in html
    bad = post_form(client, f"{page}/review", {"review_state": "lost"}, page=page)
    assert bad.status_code == 422 and "422.1" in bad.get_data(as_text=True)
    db.session.refresh(row)
    assert row.review_state == "has_issues"
    too_long = post_form(
        client, f"{page}/review", {"review_state": "approved", "comment": "x" * 2001}, page=page
    )
    assert too_long.status_code == 422 and "comment" in too_long.get_data(as_text=True)
    db.session.refresh(row)
    assert (row.review_state, row.review_comment) == ("has_issues", "Ảnh mờ, chụp lại")
    # a trainer may not delete
    refused = post_form(client, f"{page}/delete", {}, page=page)
    assert refused.status_code == 403
    db.session.refresh(row)
    assert row.deleted_at is None


def test_delete_and_restore_by_an_administrator(app, client, make_user, publish, submit):
    first, _ = setup(publish, submit)
    signed_in(client, make_user)
    page = f"/admin/submissions/{first.id}"
    assert post_form(client, f"{page}/delete", {}, page=page).status_code == 302
    assert db.session.get(Submission, first.id).deleted_at is not None
    listing = client.get("/admin/forms/khao_sat/submissions").get_data(as_text=True)
    assert "Hộ Lan" not in listing
    with_deleted = client.get("/admin/forms/khao_sat/submissions?include_deleted=true")
    assert "Hộ Lan" in with_deleted.get_data(as_text=True)
    assert 'id="deleted-note"' in client.get(page).get_data(as_text=True)
    assert post_form(client, f"{page}/restore", {}, page=page).status_code == 302
    db.session.expire_all()
    assert db.session.get(Submission, first.id).deleted_at is None
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["submission.delete", "submission.restore"]


def test_review_needs_the_csrf_token(app, client, make_user, publish, submit):
    first, _ = setup(publish, submit)
    signed_in(client, make_user)
    response = client.post(
        f"/admin/submissions/{first.id}/review", data={"review_state": "approved"}
    )
    assert response.status_code == 403 and "403.5" in response.get_data(as_text=True)
    assert db.session.get(Submission, first.id).review_state == "received"


def test_a_planner_sees_only_their_forms_within_their_units(
    app, client, make_user, publish, submit
):
    first, second = setup(publish, submit)
    publish("simple.md")
    signed_in(client, make_user, role="planner", forms=("khao_sat",), units=("21583",))
    html = client.get("/admin/forms/khao_sat/submissions").get_data(as_text=True)
    assert "Hộ Lan" in html and "Hộ Minh" not in html
    assert "include_deleted" not in html
    assert client.get(f"/admin/submissions/{first.id}").status_code == 200
    assert client.get(f"/admin/submissions/{second.id}").status_code == 403
    assert client.get(f"/admin/submissions/{second.id}/attachments/anh.jpg").status_code == 403
    assert client.get("/admin/forms/simple/submissions").status_code == 403
    detail = client.get(f"/admin/submissions/{first.id}").get_data(as_text=True)
    assert "review_state" not in detail.split("Duyệt và nhận xét")[1].split("Lịch sử")[0]
    refused = post_form(
        client, f"/admin/submissions/{first.id}/review", {"review_state": "approved"},
        page=f"/admin/submissions/{first.id}",
    )  # fmt: skip
    assert refused.status_code == 403
    # the download holds their rows only
    csv = client.get("/admin/forms/khao_sat/submissions.csv?lang=vi").get_data(as_text=True)
    assert "Hộ Lan" in csv and "Hộ Minh" not in csv
    # include_deleted is not theirs to ask for: ignored
    ignored = client.get("/admin/forms/khao_sat/submissions?include_deleted=true")
    assert ignored.status_code == 200


def test_downloads_csv_xlsx_zip(app, client, make_user, publish, submit):
    setup(publish, submit)
    signed_in(client, make_user)
    csv = client.get("/admin/forms/khao_sat/submissions.csv?lang=vi&unit=21583")
    assert csv.status_code == 200 and csv.content_type.startswith("text/csv")
    text = csv.get_data(as_text=True)
    assert "Hộ Lan" in text and "Hộ Minh" not in text and "Có" in text
    xlsx = client.get("/admin/forms/khao_sat/submissions.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    archive = client.get("/admin/forms/khao_sat/submissions.zip")
    names = zipfile.ZipFile(io.BytesIO(archive.data)).namelist()
    assert any(name.endswith("anh.jpg") for name in names)
    assert client.get("/admin/forms/khao_sat/submissions.pdf").status_code == 302


def test_an_edited_submission_shows_its_edit_history(app, client, make_user, publish, submit):
    first, _ = setup(publish, submit)
    edited = survey_xml(3, "Hộ Lan (sửa)").replace(
        "</instanceID>", "</instanceID><deprecatedID>uuid:00000000-0000-4000-8000-000000000001"
        "</deprecatedID>",
    )  # fmt: skip
    latest = submit(edited, files={"anh.jpg": photo()})
    signed_in(client, make_user)
    html = client.get(f"/admin/submissions/{latest.id}").get_data(as_text=True)
    assert "Các lần sửa" in html and f'href="/admin/submissions/{first.id}"' in html
    listing = client.get("/admin/forms/khao_sat/submissions").get_data(as_text=True)
    assert "Hộ Lan (sửa)" in listing and ">Hộ Lan<" not in listing


def _export_job(client, data: dict):
    page = "/admin/forms/khao_sat/submissions"
    response = post_form(client, f"{page}/export", data, page=page)
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"]


def test_a_large_download_is_made_in_the_background_with_its_file_kept(
    app, client, make_user, publish, submit
):
    from server import worker

    setup(publish, submit)
    signed_in(client, make_user)
    job_page = _export_job(client, {"format": "zip", "lang": "vi"})
    assert "Đang chờ xuất dữ liệu" in client.get(job_page).get_data(as_text=True)
    assert worker.work_once(app) is not None
    done = client.get(job_page).get_data(as_text=True)
    assert "khao_sat.zip" in done and "Xuất dữ liệu biểu mẫu" in done
    assert "2 dòng" in done and "/admin/forms/khao_sat/submissions" in done
    archive = client.get(f"{job_page}/result")
    assert archive.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(archive.data)).namelist()
    assert any(name.endswith("anh.jpg") for name in names)
    # the filters the listing had go with it, in CSV too
    job_page = _export_job(client, {"format": "csv", "lang": "vi", "unit": "21583"})
    worker.work_once(app)
    text = client.get(f"{job_page}/result").get_data(as_text=True)
    assert "Hộ Lan" in text and "Hộ Minh" not in text


def test_a_planners_background_export_holds_their_units_only(
    app, client, make_user, publish, submit
):
    from server import worker

    setup(publish, submit)
    signed_in(client, make_user, role="planner", forms=("khao_sat",), units=("21583",))
    job_page = _export_job(client, {"format": "csv", "lang": "codes"})
    worker.work_once(app)
    text = client.get(f"{job_page}/result").get_data(as_text=True)
    assert "Hộ Lan" in text and "Hộ Minh" not in text


def test_a_background_export_needs_a_known_format(app, client, make_user, publish, submit):
    setup(publish, submit)
    signed_in(client, make_user)
    page = "/admin/forms/khao_sat/submissions"
    refused = post_form(client, f"{page}/export", {"format": "pdf"}, page=page)
    assert refused.status_code == 422 and "422.1" in refused.get_data(as_text=True)
