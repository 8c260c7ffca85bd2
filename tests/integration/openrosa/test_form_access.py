"""Form list, form download, manifest and media, as ODK Collect fetches them (spec §1.1–1.4)."""

from __future__ import annotations

import hashlib

import defusedxml.ElementTree as ET
import pytest

from server.extensions import db
from server.models import Form
from tests.factories import OR

LIST = "{http://openrosa.org/xforms/xformsList}"
MANIFEST = "{http://openrosa.org/xforms/xformsManifest}"
CSV = "name,label\nDSCB-01,Lớp dân số cơ bản\n".encode()


def xforms(response):
    root = ET.fromstring(response.data)
    assert root.tag == f"{LIST}xforms"
    return {
        x.findtext(f"{LIST}formID"): {child.tag.split("}")[1]: child.text for child in x}
        for x in root.findall(f"{LIST}xform")
    }


@pytest.fixture
def forms(publish):
    publish("simple.md")
    picker = (
        "| survey |\n| | type | name | label |\n| | select_one_from_file courses.csv | c | C |\n"
        "| settings |\n| | form_id | version | form_title |\n| | picker | 3 | Khóa học & lớp |\n"
    ).encode()
    publish("picker.md", media={"courses.csv": CSV}, content=picker)


def test_form_list_is_collect_conformant(forms, client, make_device):
    _, token = make_device("simple", "picker")
    response = client.get(f"/key/{token}/formList?deviceID=collect%3Aabc", headers=OR)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert response.headers["X-OpenRosa-Accept-Content-Length"] == "100000000"
    assert "Date" in response.headers
    listed = xforms(response)
    assert set(listed) == {"simple", "picker"}
    simple = listed["simple"]
    assert simple["name"] == "Đơn giản & Dễ (test)"
    assert simple["version"] == "1"
    assert simple["downloadUrl"] == f"http://localhost/key/{token}/forms/simple.xml"
    assert "manifestUrl" not in simple
    assert listed["picker"]["manifestUrl"] == f"http://localhost/key/{token}/forms/picker/manifest"
    assert b"Kh\xc3\xb3a h\xe1\xbb\x8dc &amp; l\xe1\xbb\x9bp" in response.data  # escaped once


def test_downloads_match_their_advertised_hashes(forms, client, make_device):
    """C2, C3: the md5 in the list and manifest is the md5 of the bytes served."""
    _, token = make_device("simple", "picker")
    listed = xforms(client.get(f"/key/{token}/formList", headers=OR))
    for entry in listed.values():
        body = client.get(entry["downloadUrl"] + "?deviceID=collect%3Aabc").data
        assert f"md5:{hashlib.md5(body).hexdigest()}" == entry["hash"]
        root = ET.fromstring(body)
        instance = root.find(".//{http://www.w3.org/2002/xforms}instance")[0]
        assert instance.get("id") == entry["formID"]
        assert instance.get("version") == entry["version"]
    manifest = client.get(listed["picker"]["manifestUrl"] + "?deviceID=x", headers=OR)
    assert manifest.headers["Content-Type"] == "text/xml; charset=utf-8"
    files = ET.fromstring(manifest.data).findall(f"{MANIFEST}mediaFile")
    assert len(files) == 1
    url = files[0].findtext(f"{MANIFEST}downloadUrl")
    media = client.get(url + "?deviceID=collect%3Aabc")
    assert media.data == CSV
    assert files[0].findtext(f"{MANIFEST}filename") == "courses.csv"
    assert files[0].findtext(f"{MANIFEST}hash") == f"md5:{hashlib.md5(CSV).hexdigest()}"
    assert media.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert media.headers["ETag"] == f'"{hashlib.md5(CSV).hexdigest()}"'
    assert "filename*=UTF-8''courses.csv" in media.headers["Content-Disposition"]
    again = client.get(url, headers={"If-None-Match": media.headers["ETag"]})
    assert again.status_code == 304


def test_manifest_lists_only_files_the_server_holds(publish, client, make_device):
    picker = (
        b"| survey |\n| | type | name | label |\n| | select_one_from_file courses.csv | c | C |\n"
        b"| settings |\n| | form_id | version |\n| | picker | 1 |\n"
    )
    publish("picker.md", content=picker)
    _, token = make_device("picker")
    listed = xforms(client.get(f"/key/{token}/formList", headers=OR))
    assert "manifestUrl" in listed["picker"]  # the form references media…
    manifest = client.get(listed["picker"]["manifestUrl"], headers=OR)
    assert ET.fromstring(manifest.data).findall(f"{MANIFEST}mediaFile") == []  # …none held yet
    missing = client.get(f"/key/{token}/forms/picker/attachments/courses.csv")
    assert missing.status_code == 404
    assert b"<OpenRosaResponse" in missing.data


def test_form_id_filter_and_closed_forms(forms, client, make_device):
    _, token = make_device("simple", "picker")
    assert set(xforms(client.get(f"/key/{token}/formList?formID=picker", headers=OR))) == {"picker"}
    assert xforms(client.get(f"/key/{token}/formList?formID=xyz", headers=OR)) == {}
    for state in ("closing", "closed"):
        db.session.execute(db.update(Form).where(Form.form_id == "simple").values(state=state))
        db.session.commit()
        assert set(xforms(client.get(f"/key/{token}/formList", headers=OR))) == {"picker"}


def test_verbose_form_list_adds_descriptions(forms, client, make_device):
    _, token = make_device("simple")
    listed = xforms(client.get(f"/key/{token}/formList?verbose=true", headers=OR))
    assert listed["simple"]["descriptionText"] == "Đơn giản & Dễ (test)"


def test_device_sees_only_its_forms_and_cannot_download_others(forms, client, make_device):
    _, token = make_device("simple")
    assert set(xforms(client.get(f"/key/{token}/formList", headers=OR))) == {"simple"}
    refused = client.get(f"/key/{token}/forms/picker.xml")
    assert refused.status_code == 403
    assert "Biểu mẫu không được giao cho bạn" in refused.get_data(as_text=True)
    assert client.get(f"/key/{token}/forms/nope.xml").status_code == 404


def test_invalid_and_revoked_tokens_are_forbidden(forms, client, make_device):
    device, token = make_device("simple")
    assert client.get("/key/" + "a" * 43 + "/formList", headers=OR).status_code == 403
    device.revoked_at = device.created_at
    db.session.commit()
    response = client.get(f"/key/{token}/formList", headers=OR)
    assert response.status_code == 403
    assert "thu hồi" in response.get_data(as_text=True)
    assert client.head(f"/key/{token}/submission", headers=OR).status_code == 403


def test_protocol_header_is_required_on_protocol_endpoints(forms, client, make_device):
    _, token = make_device("simple")
    response = client.get(f"/key/{token}/formList")
    assert response.status_code == 400
    assert b"X-OpenRosa-Version" in response.data
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert client.get(f"/key/{token}/forms/simple.xml").status_code == 200  # plain download


def test_urls_follow_base_url_and_forwarded_headers(forms, app, client, make_device):
    _, token = make_device("simple")
    forwarded = {**OR, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "taphuan.syt.gov.vn"}
    listed = xforms(client.get(f"/key/{token}/formList", headers=forwarded))
    # No proxy is trusted by default (TAPHUAN_PROXY_HOPS=0): a client cannot steer the URLs.
    assert listed["simple"]["downloadUrl"].startswith(f"http://localhost/key/{token}/forms/")
    app.config["BASE_URL"] = "https://odk.example.org/taphuan"
    listed = xforms(client.get(f"/key/{token}/formList", headers=OR))
    assert listed["simple"]["downloadUrl"] == (
        f"https://odk.example.org/taphuan/key/{token}/forms/simple.xml"
    )


def test_head_submission_is_exactly_204(forms, client, make_device):
    _, token = make_device("simple")
    response = client.head(f"/key/{token}/submission?deviceID=collect%3Aabc", headers=OR)
    assert response.status_code == 204
    assert int(response.headers["X-OpenRosa-Accept-Content-Length"]) == 100_000_000
    assert "Location" not in response.headers
    assert client.head(f"/key/{token}/submission").status_code == 400
