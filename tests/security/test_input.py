"""Hostile input: deep or huge XML, formula cells, bad part names, values no database holds."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from exports.csv import cell
from server.extensions import db
from server.models import Submission
from tests.factories import OR, parts, simple

DEEP = 995  # past Python's recursion limit once the answers are typed recursively


@pytest.fixture
def url(publish, make_device):
    publish("simple.md")
    publish("binary.md")
    _, token = make_device("simple", "binary_type")
    return f"/key/{token}/submission"


def post(client, url, data):
    return client.post(url, data=data, headers=OR, content_type="multipart/form-data")


def stored() -> list[str]:
    return list(db.session.execute(sa.select(Submission.instance_id)).scalars())


def nested(depth: int, instance_id: str = "deep") -> bytes:
    return (
        f'<data id="simple" version="1"><meta><instanceID>{instance_id}</instanceID></meta>'.encode()
        + b"<a>" * depth
        + b"x"
        + b"</a>" * depth
        + b"</data>"
    )


# --- submission XML limits ------------------------------------------------------------------


def test_xml_nested_past_python_recursion_is_400_1_not_500(client, url):
    response = post(client, url, parts(nested(DEEP)))
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "[400.1]" in text
    assert "lồng các phần tử quá sâu" in text
    assert stored() == []


def test_xml_depth_limit_is_the_setting(app, client, url):
    app.config["SUBMISSION_MAX_DEPTH"] = 5
    # <data><a><a><a><a>: depth 5 is accepted, depth 6 is not.
    assert post(client, url, parts(nested(4, "four"))).status_code == 201
    refused = post(client, url, parts(nested(5, "five")))
    assert refused.status_code == 400
    assert "nested deeper than the 5" in refused.get_data(as_text=True)
    assert stored() == ["four"]


def test_xml_element_count_limit_is_the_setting(app, client, url):
    app.config["SUBMISSION_MAX_ELEMENTS"] = 50
    many = b'<data id="simple" version="1">' + b"<x/>" * 60 + b"</data>"
    response = post(client, url, parts(many))
    assert response.status_code == 400
    assert "[400.1]" in response.get_data(as_text=True)
    assert "more elements than the 50" in response.get_data(as_text=True)
    assert stored() == []


# --- CSV formula guard ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '\n=HYPERLINK("http://evil.example","x")',
        "\r\n=1+1",
        "\n\n@SUM(A1)",
        "  =1+1",
        "\t-2+3",
        "\u00a0+1",
        "\u3000=cmd|' /C calc'!A0",
    ],
)
def test_csv_guard_covers_leading_whitespace_and_newlines(text):
    assert cell(text) == "'" + text


@pytest.mark.parametrize("text", [" Lan", "xin chào\n=1", "Nguyễn = Lan", "", "  "])
def test_csv_guard_leaves_harmless_text_alone(text):
    assert cell(text) == text


def test_csv_export_neutralises_a_newline_formula_answer(client, publish, submit, token_for):
    publish("simple.md")
    submit(simple("f1", name="&#10;=HYPERLINK(&quot;http://evil.example&quot;)"))
    response = client.get("/api/v1/forms/simple/submissions.csv", headers=token_for())
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "'\n=HYPERLINK" in text
    assert ',"\n=HYPERLINK' not in text


# --- attachment part names --------------------------------------------------------------------

BINARY = (
    b'<data id="binary_type" version="1"><file1>{name}</file1>'
    b"<meta><instanceID>named</instanceID></meta></data>"
)


def raw_multipart(xml: bytes, disposition: bytes, content_type: bytes = b"image/jpeg") -> bytes:
    return (
        b'--XX\r\nContent-Disposition: form-data; name="xml_submission_file"; '
        b'filename="submission.xml"\r\nContent-Type: text/xml\r\n\r\n'
        + xml
        + b"\r\n--XX\r\nContent-Disposition: form-data; "
        + disposition
        + b"\r\nContent-Type: "
        + content_type
        + b"\r\n\r\nPAYLOAD\r\n--XX--\r\n"
    )


def post_raw(client, url, body: bytes):
    return client.post(url, data=body, headers=OR, content_type="multipart/form-data; boundary=XX")


@pytest.mark.parametrize(
    "disposition",
    [
        b'name="..\\..\\evil.jpg"; filename="..\\..\\evil.jpg"',
        b'name="photo.jpg"; filename="..\\..\\evil.jpg"',
        b'name="a\rb.jpg"; filename="a\rb.jpg"',
        b'name="photo.jpg"; filename="a\rb.jpg"',
        b'name="a\nb.jpg"; filename="a\nb.jpg"',
        b"name=\"x\"; filename*=UTF-8''a%0Db.jpg",
        b"name=\"x\"; filename*=UTF-8''..%5C..%5Cevil.jpg",
    ],
)
def test_bad_part_names_are_refused_not_listed_as_missing(client, url, disposition):
    xml = BINARY.replace(b"{name}", b"evil.jpg")
    response = post_raw(client, url, raw_multipart(xml, disposition))
    assert response.status_code == 400, response.get_data(as_text=True)
    text = response.get_data(as_text=True)
    assert "[400.13]" in text
    assert "Tên tệp đính kèm không hợp lệ" in text
    assert stored() == []


def test_a_plain_part_name_still_works(client, url):
    xml = BINARY.replace(b"{name}", b"photo.jpg")
    response = post_raw(client, url, raw_multipart(xml, b'name="photo.jpg"; filename="photo.jpg"'))
    assert response.status_code == 201
    assert "still missing" not in response.get_data(as_text=True)


# --- attachments are served back with a safe type ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "declared", "served"),
    [
        ("photo.jpg", b"text/html", "image/jpeg"),
        ("page.html", b"text/html", "application/octet-stream"),
        ("x.svg", b"image/svg+xml", "application/octet-stream"),
        ("voice.m4a", b"audio/mp4", "audio/mp4"),
    ],
)
def test_attachments_are_served_with_a_safe_type(
    client,
    url,
    token_for,
    name,
    declared,
    served,
):
    xml = BINARY.replace(b"{name}", name.encode())
    disposition = f'name="{name}"; filename="{name}"'.encode()
    assert post_raw(client, url, raw_multipart(xml, disposition, declared)).status_code == 201
    submission_id = db.session.execute(sa.select(Submission.id)).scalar_one()
    response = client.get(
        f"/api/v1/submissions/{submission_id}/attachments/{name}", headers=token_for()
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == served
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.data == b"PAYLOAD"


# --- values no database can hold --------------------------------------------------------------

TOO_BIG = "99999999999999999999"


def fields_of(response) -> dict:
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "422.1"
    return error["details"]["fields"]


def test_an_id_past_the_integer_columns_is_422(client, token_for):
    admin = token_for()
    assert "submission_id" in fields_of(client.get(f"/api/v1/submissions/{TOO_BIG}", headers=admin))
    assert "submission_id" in fields_of(client.get("/api/v1/submissions/2147483648", headers=admin))
    response = client.get(f"/api/v1/submissions/{TOO_BIG}/attachments/x.jpg", headers=admin)
    assert "submission_id" in fields_of(response)
    assert client.get("/api/v1/submissions/2147483647", headers=admin).status_code == 404


def test_a_device_submitter_past_the_integer_columns_is_422(client, token_for, publish):
    publish("simple.md")
    admin = token_for()
    response = client.get(
        f"/api/v1/forms/simple/submissions?submitter=device:{TOO_BIG}", headers=admin
    )
    assert "submitter" in fields_of(response)
    for odd in ("device:²", "device:٣", "device:2147483647"):
        listing = client.get(
            "/api/v1/forms/simple/submissions", query_string={"submitter": odd}, headers=admin
        )
        assert listing.status_code == 200
        assert listing.get_json()["items"] == []


@pytest.mark.parametrize(
    "query",
    ["q=%00", "version=1%00", "unit=52%00", "submitter=a%00", "cursor=%00", "q%00=x"],
)
def test_a_nul_in_any_text_filter_is_422_naming_it(client, token_for, publish, query):
    publish("simple.md")
    response = client.get(f"/api/v1/forms/simple/submissions?{query}", headers=token_for())
    name = query.split("=")[0].replace("%00", "\\x00")
    assert name in fields_of(response)


def test_a_nul_in_exports_units_and_roster_filters_is_422(client, token_for, publish):
    publish("simple.md")
    admin = token_for()
    assert "q" in fields_of(client.get("/api/v1/forms/simple/submissions.csv?q=%00", headers=admin))
    assert "parent" in fields_of(client.get("/api/v1/units?parent=%00", headers=admin))
    assert "q" in fields_of(client.get("/api/v1/roster?q=a%00", headers=admin))


def test_a_nul_in_a_path_value_is_422(client, token_for):
    admin = token_for()
    assert "code" in fields_of(client.get("/api/v1/courses/C%0001", headers=admin))
    assert "form_id" in fields_of(client.get("/api/v1/forms/simple%00", headers=admin))


def test_a_nul_in_a_json_body_is_422_naming_the_field(client, token_for):
    course = {
        "code": "C\u000001",
        "title": "Dân số",
        "course_type": "tap_huan",
        "start_date": "2026-09-07",
        "end_date": "2026-09-09",
    }
    assert "code" in fields_of(client.post("/api/v1/courses", headers=token_for(), json=course))


def test_a_nul_in_device_id_is_refused_in_openrosa_xml(client, url):
    xml = b'<data id="simple" version="1"><meta><instanceID>nul</instanceID></meta></data>'
    response = post(client, f"{url}?deviceID=collect%3A%00abc", parts(xml))
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert "deviceID" in response.get_data(as_text=True)
    assert stored() == []


def test_a_nul_in_the_form_list_filter_is_refused(client, url):
    response = client.get(url.replace("/submission", "/formList?formID=%00"), headers=OR)
    assert response.status_code == 422
    assert "[422.1]" in response.get_data(as_text=True)


def test_a_nul_in_a_page_query_is_refused(client):
    response = client.get("/login?next=%00")
    assert response.status_code == 422
    assert "422.1" in response.get_data(as_text=True)


def test_attachment_upload_still_takes_unicode_names(client, url):
    name = "ảnh chụp.jpg"
    xml = BINARY.replace(b"{name}", name.encode())
    data = parts(xml)
    data[name] = (io.BytesIO(b"x"), name)
    assert post(client, url, data).status_code == 201
