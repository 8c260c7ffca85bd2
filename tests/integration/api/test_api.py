"""The JSON API: auth and roles, forms, submissions with filters and pages, review, audit."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from server.errors import RoleNotAllowed
from tests.factories import NOW, simple


@pytest.fixture
def data(publish, submit):
    publish("simple.md")
    publish("mini.md")
    for i in range(5):
        submit(simple(f"s{i}", name=f"Người {i}", age=20 + i), at=NOW + dt.timedelta(minutes=i))


def test_api_requires_a_bearer_token(client, data):
    response = client.get("/api/v1/forms")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "401.1"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    bad = client.get("/api/v1/forms", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_forms_list_and_detail(client, data, token_for):
    admin = token_for()
    forms = {f["form_id"]: f for f in client.get("/api/v1/forms", headers=admin).get_json()}
    assert forms["simple"]["submissions"] == 5
    assert forms["simple"]["current_version"] == "1"
    detail = client.get("/api/v1/forms/simple", headers=admin).get_json()
    assert detail["version_history"][0]["version"] == "1"
    assert [f["name"] for f in detail["fields"]][:2] == ["name", "age"]
    version = client.get("/api/v1/forms/simple/versions/1", headers=admin).get_json()
    assert version["md5"] == detail["version_history"][0]["md5"]
    missing = client.get("/api/v1/forms/simple/versions/9", headers=admin)
    assert missing.status_code == 404
    assert missing.get_json()["error"] == {
        "code": "404.1",
        "message": "form 'simple' has no version '9'",
        "message_vi": "Biểu mẫu 'simple' không có phiên bản '9'.",
        "details": {"reason": "no_version", "form_id": "simple", "version": "9"},
    }
    assert client.get("/api/v1/forms/none", headers=admin).get_json()["error"]["code"] == "404.1"


def test_planner_reads_only_assigned_forms(client, data, token_for):
    planner = token_for("lan", role="planner", forms=["mini"])
    listed = [f["form_id"] for f in client.get("/api/v1/forms", headers=planner).get_json()]
    assert listed == ["mini"]
    refused = client.get("/api/v1/forms/simple/submissions", headers=planner)
    assert refused.status_code == 403
    error = refused.get_json()["error"]
    assert error["code"] == "403.3"
    assert error["message"] == "you may not read form 'simple' (the form is not assigned to you)"
    assert error["message_vi"].startswith("Bạn không có quyền xem biểu mẫu 'simple'")
    with pytest.raises(RoleNotAllowed):  # collectors use ODK Collect only: no API token
        token_for("thu", role="collector", forms=["simple"])


def test_submission_listing_filters_and_keyset_pages(client, data, token_for):
    admin = token_for()
    page = client.get("/api/v1/forms/simple/submissions?limit=2", headers=admin).get_json()
    assert [s["instance_id"] for s in page["items"]] == ["s4", "s3"]
    seen = [s["instance_id"] for s in page["items"]]
    while page["next_cursor"]:
        page = client.get(
            f"/api/v1/forms/simple/submissions?limit=2&cursor={page['next_cursor']}", headers=admin
        ).get_json()
        seen += [s["instance_id"] for s in page["items"]]
    assert seen == ["s4", "s3", "s2", "s1", "s0"]
    since = (NOW + dt.timedelta(minutes=3)).isoformat().replace("+00:00", "Z")
    recent = client.get(
        f"/api/v1/forms/simple/submissions?received_from={since}", headers=admin
    ).get_json()
    assert [s["instance_id"] for s in recent["items"]] == ["s4", "s3"]
    named = client.get(
        "/api/v1/forms/simple/submissions?q=ngư%E1%BB%9Di%202", headers=admin
    ).get_json()
    assert [s["instance_id"] for s in named["items"]] == ["s2"]
    by = client.get(
        "/api/v1/forms/simple/submissions?submitter=collector-bot", headers=admin
    ).get_json()
    assert len(by["items"]) == 5
    item = page["items"][-1]
    assert (item["version"], item["device_id"], item["review_state"]) == (
        "1",
        "collect:test",
        "received",
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("colour=red", "colour"),
        ("received_from=yesterday", "received_from"),
        ("received_from=2026-11-23T10:00:00", "received_from"),  # no offset
        ("review_state=lost", "review_state"),
        ("limit=0", "limit"),
        ("received_from=2026-11-24T00:00:00Z&received_to=2026-11-23T00:00:00Z", "received_to"),
    ],
)
def test_bad_filters_are_422_naming_the_field(client, data, token_for, query, field):
    response = client.get(f"/api/v1/forms/simple/submissions?{query}", headers=token_for())
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "422.1"
    assert field in error["details"]["fields"]


def test_tampered_cursor_is_refused(client, data, token_for):
    admin = token_for()
    cursor = client.get("/api/v1/forms/simple/submissions?limit=1", headers=admin).get_json()[
        "next_cursor"
    ]
    tampered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    response = client.get(f"/api/v1/forms/simple/submissions?cursor={tampered}", headers=admin)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "422.2"
    other = client.get(
        f"/api/v1/forms/simple/submissions?cursor={cursor}&review_state=approved", headers=admin
    )
    assert other.get_json()["error"]["code"] == "422.2"


def test_submission_detail_with_data_xml_attachments_and_history(
    client, publish, submit, token_for
):
    publish("binary.md")
    xml = (
        '<data id="binary_type" version="1"><file2>ảnh.jpg</file2>'
        "<meta><instanceID>b1</instanceID></meta></data>"
    )
    row = submit(xml, files={"ảnh.jpg": b"\xff\xd8jpeg"})
    edited = submit(
        xml.replace(
            "<instanceID>b1</instanceID>",
            "<instanceID>b2</instanceID><deprecatedID>b1</deprecatedID>",
        )
    )
    admin = token_for()
    detail = client.get(f"/api/v1/submissions/{edited.id}", headers=admin).get_json()
    assert detail["xml"].startswith('<data id="binary_type"')
    assert detail["data"]["file2"] == "ảnh.jpg"
    assert [h["instance_id"] for h in detail["history"]] == ["b1", "b2"]
    (attachment,) = detail["attachments"]
    assert attachment["present"] and attachment["size"] == 6
    download = client.get(attachment["url"], headers=admin)
    assert download.data == b"\xff\xd8jpeg"
    digest = hashlib.sha256(b"\xff\xd8jpeg").hexdigest()
    assert download.headers["ETag"] == f'"{digest}"'
    assert row.id != edited.id


def test_review_delete_restore_and_audit(client, data, token_for):
    admin = token_for()
    trainer = token_for("gv", role="trainer")
    item = client.get("/api/v1/forms/simple/submissions?limit=1", headers=admin).get_json()[
        "items"
    ][0]
    url = f"/api/v1/submissions/{item['id']}"
    reviewed = client.patch(
        f"{url}/review",
        headers=trainer,
        json={"review_state": "has_issues", "comment": "Thiếu tuổi"},
    )
    assert reviewed.status_code == 200
    assert reviewed.get_json()["review"] == {
        "review_state": "has_issues",
        "comment": "Thiếu tuổi",
        "reviewed_by": "gv",
        "reviewed_at": reviewed.get_json()["review"]["reviewed_at"],
    }
    bad = client.patch(f"{url}/review", headers=trainer, json={"review_state": "edited"})
    assert bad.status_code == 422
    assert client.delete(url, headers=trainer).status_code == 403  # trainers do not delete
    assert client.delete(url, headers=admin).status_code == 204
    assert client.get(url, headers=trainer).status_code == 404
    listed = client.get("/api/v1/forms/simple/submissions", headers=admin).get_json()["items"]
    assert item["id"] not in [s["id"] for s in listed]
    with_deleted = client.get(
        "/api/v1/forms/simple/submissions?include_deleted=true", headers=admin
    ).get_json()["items"]
    assert item["id"] in [s["id"] for s in with_deleted]
    assert client.post(f"{url}/restore", headers=admin).status_code == 200
    trail = client.get(f"{url}/audit", headers=admin).get_json()
    assert [e["action"] for e in trail] == [
        "submission.restore",
        "submission.delete",
        "submission.review",
    ]
    assert trail[2]["details"] == {"from": "received", "to": "has_issues", "comment": "Thiếu tuổi"}
    assert trail[2]["actor"] == "gv"
    assert client.get("/api/v1/audit", headers=trainer).status_code == 403
    assert len(client.get("/api/v1/audit", headers=admin).get_json()) == 3


def test_form_state_change_and_publish_by_upload(client, data, token_for):
    from tests.factories import DATA

    admin = token_for()
    closed = client.patch("/api/v1/forms/simple", headers=admin, json={"state": "closed"})
    assert closed.get_json()["state"] == "closed"
    assert (
        client.patch("/api/v1/forms/simple", headers=admin, json={"state": "gone"}).status_code
        == 422
    )
    assert (
        client.patch(
            "/api/v1/forms/simple", headers=admin, json={"state": "open", "x": 1}
        ).status_code
        == 422
    )
    trainer = token_for("gv", role="trainer")
    assert (
        client.patch("/api/v1/forms/simple", headers=trainer, json={"state": "open"}).status_code
        == 403
    )
    upload = {"file": ((DATA / "forms" / "binary.md").open("rb"), "binary.md")}
    published = client.post(
        "/api/v1/forms", headers=admin, data=upload, content_type="multipart/form-data"
    )
    assert published.status_code == 201
    assert published.get_json()["form_id"] == "binary_type"
    broken = {"file": (__import__("io").BytesIO(b""), "empty.xlsx")}
    refused = client.post(
        "/api/v1/forms", headers=admin, data=broken, content_type="multipart/form-data"
    )
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "400.8"


def test_units_listing(client, runner, token_for):
    runner.invoke(args=["units", "load-official"])
    admin = token_for()
    provinces = client.get("/api/v1/units?level=province", headers=admin).get_json()
    assert len(provinces) == 34
    gia_lai = client.get("/api/v1/units?parent=52", headers=admin).get_json()
    assert len(gia_lai) == 135
    assert client.get("/api/v1/units?level=city", headers=admin).status_code == 422


def test_openapi_document_covers_every_api_route(client, app):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    import re

    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint not in {
            "api.openapi_json",
            "api.docs",
        }:
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (path, method.lower()) in documented, (path, method)
    assert "SubmissionPage" in spec["components"]["schemas"]
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "GET /api/v1/forms/{form_id}/submissions" in page
    assert "cdn" not in page.lower() and "https://" not in page
