"""POST /submission: the protocol spec's §4 scenarios (27–59) and the issue's bad inputs."""

from __future__ import annotations

import hashlib
import io

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import Form, Submission, SubmissionAttachment
from tests.factories import OR, parts

ONE = b'<data id="simple" version="1"><meta><instanceID>one</instanceID></meta><name>Alice</name><age>30</age></data>'
BOTH = (
    b'<data id="binary_type" version="1"><file1>my_file1.mp4</file1><file2>here_is_file2.jpg</file2>'
    b"<meta><instanceID>both</instanceID></meta></data>"
)


@pytest.fixture
def url(publish, make_device):
    publish("simple.md")
    publish("binary.md")
    _, token = make_device("simple", "binary_type")
    return f"/key/{token}/submission?deviceID=collect%3AAbC123xyz0123456"


def post(client, url, xml=None, files=None, **kwargs):
    data = parts(xml, **(files or {})) if xml is not None else kwargs.pop("data", {})
    if files and not isinstance(files, dict):
        raise TypeError(files)
    return client.post(
        url,
        data=data,
        headers={**OR, **kwargs.pop("headers", {})},
        content_type=kwargs.pop("content_type", "multipart/form-data"),
        **kwargs,
    )


def post_named(client, url, xml, named: dict[str, bytes]):
    """Post with attachment part names that are not Python identifiers (unicode, emoji)."""
    data = parts(xml)
    for name, content in named.items():
        data[name] = (io.BytesIO(content), name)
    return client.post(url, data=data, headers=OR, content_type="multipart/form-data")


def rows():
    return list(db.session.execute(sa.select(Submission).order_by(Submission.id)).scalars())


def attachments(instance_id):
    row = db.session.execute(
        sa.select(Submission).where(Submission.instance_id == instance_id)
    ).scalar_one()
    return {a.name: a for a in row.attachments}


def snapshot():
    subs = db.session.execute(
        sa.select(Submission.instance_id, Submission.md5, Submission.is_current)
    ).all()
    atts = db.session.execute(
        sa.select(SubmissionAttachment.name, SubmissionAttachment.sha256)
    ).all()
    return sorted(subs), sorted(atts, key=str)


def message(response) -> str:
    return response.get_data(as_text=True)


# --- success paths -------------------------------------------------------------------------


def test_submission_is_stored_verbatim_with_typed_data_and_origin(client, url):
    response = post(client, url, ONE, headers={"User-Agent": "org.odk.collect.android/v2024.3"})
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert "Đã nhận bài nộp" in message(response)
    (row,) = rows()
    assert row.xml == ONE
    assert row.md5 == hashlib.md5(ONE).hexdigest()
    assert row.instance_id == "one"
    assert row.data == {"meta": {"instanceID": "one"}, "name": "Alice", "age": 30}
    assert row.device_id == "collect:AbC123xyz0123456"
    assert row.user_agent == "org.odk.collect.android/v2024.3"
    assert row.form_version.version == "1"
    assert row.submitter_device_id is not None


def test_identical_resubmission_is_201_and_stores_nothing_new(client, url):
    assert post(client, url, ONE).status_code == 201
    assert post(client, url, ONE).status_code == 201
    assert len(rows()) == 1


def test_same_instance_id_with_different_xml_is_409(client, url):
    post(client, url, ONE)
    before = snapshot()
    other = ONE.replace(b"Alice", b"Alicia")
    response = post(client, url, other)
    assert response.status_code == 409
    assert "different XML" in message(response)
    assert "nội dung khác" in message(response)
    assert snapshot() == before


def test_attachments_are_kept_by_name_and_unknown_parts_ignored(client, url, app):
    response = post(client, url, BOTH, {"some_random_file": b"x", "my_file1_mp4": b"y"})
    assert response.status_code == 201
    assert "2 attachment(s) still missing" in message(response)
    found = attachments("both")
    assert set(found) == {"my_file1.mp4", "here_is_file2.jpg"}
    assert all(a.sha256 is None for a in found.values())


def test_attachments_posted_later_fill_the_gaps(client, url, app):
    """Scenario 46 and C7: a split upload, same XML twice, one file each time."""
    first = post_named(client, url, BOTH, {"my_file1.mp4": b"video bytes"})
    data = parts(BOTH)
    data["here_is_file2.jpg"] = (io.BytesIO(b"\xff\xd8 jpeg bytes"), "here_is_file2.jpg")
    data["*isIncomplete*"] = "yes"
    second = client.post(url, data=data, headers=OR, content_type="multipart/form-data")
    assert (first.status_code, second.status_code) == (201, 201)
    found = attachments("both")
    assert found["my_file1.mp4"].sha256 == hashlib.sha256(b"video bytes").hexdigest()
    assert found["here_is_file2.jpg"].size == len(b"\xff\xd8 jpeg bytes")
    stored = app.config["STORAGE_DIR"]
    sha = found["my_file1.mp4"].sha256
    with open(f"{stored}/{sha[:2]}/{sha}", "rb") as handle:
        assert handle.read() == b"video bytes"
    assert len(rows()) == 1


def test_unicode_attachment_names_are_kept_exactly(client, url):
    xml = (
        '<data id="binary_type" version="1"><file1>fîlé2</file1><file2>f😂le3صادق</file2>'
        "<meta><instanceID>uni</instanceID></meta></data>"
    ).encode()
    response = post_named(client, url, xml, {"fîlé2": b"a", "f😂le3صادق": b"b"})
    assert response.status_code == 201
    found = attachments("uni")
    assert {n: a.size for n, a in found.items()} == {"fîlé2": 1, "f😂le3صادق": 1}


def test_identical_attachment_references_and_contents(client, url):
    xml = BOTH.replace(b"here_is_file2.jpg", b"my_file1.mp4")
    assert post_named(client, url, xml, {"my_file1.mp4": b"same"}).status_code == 201
    assert list(attachments("both")) == ["my_file1.mp4"]
    xml2 = BOTH.replace(b"both", b"twin")
    assert (
        post_named(
            client, url, xml2, {"my_file1.mp4": b"same", "here_is_file2.jpg": b"same"}
        ).status_code
        == 201
    )
    shas = {a.sha256 for a in attachments("twin").values()}
    assert len(shas) == 1


def test_zero_byte_attachment_is_stored_as_sent(client, url):
    assert post_named(client, url, BOTH, {"my_file1.mp4": b""}).status_code == 201
    assert attachments("both")["my_file1.mp4"].size == 0


def test_attachments_inside_repeats_are_expected(client, url):
    xml = (
        b'<data id="binary_type" version="1"><r><rphoto>a.jpg</rphoto></r><r><rphoto>b.jpg'
        b"</rphoto></r><meta><instanceID>rep</instanceID></meta></data>"
    )
    assert post_named(client, url, xml, {"a.jpg": b"1", "b.jpg": b"2"}).status_code == 201
    row = db.session.execute(
        sa.select(Submission).where(Submission.instance_id == "rep")
    ).scalar_one()
    assert row.data["r"] == [{"rphoto": "a.jpg"}, {"rphoto": "b.jpg"}]
    assert sorted(attachments("rep")) == ["a.jpg", "b.jpg"]


def test_old_published_version_is_accepted_and_unknown_version_is_404(client, url, publish):
    publish(
        "simple.md",
        content=(
            b"| survey |\n| | type | name | label |\n| | text | name | N |\n"
            b"| settings |\n| | form_id | version |\n| | simple | 2 |\n"
        ),
    )
    assert post(client, url, ONE).status_code == 201
    assert rows()[0].form_version.version == "1"
    bad = ONE.replace(b'version="1"', b'version="-1"').replace(b"one", b"neg")
    response = post(client, url, bad)
    assert response.status_code == 404
    assert "form version specified in this submission '-1' does not exist" in message(response)


def test_missing_instance_id_gets_a_deterministic_one(client, url):
    xml = b'<data id="simple" version="1"><name>x</name></data>'
    assert post(client, url, xml).status_code == 201
    assert post(client, url, xml).status_code == 201
    (row,) = rows()
    assert row.instance_id == "md5:" + hashlib.md5(xml).hexdigest()


def test_device_id_empty_is_stored_as_null(client, url):
    assert post(client, url.split("?")[0] + "?deviceID=", ONE).status_code == 201
    assert rows()[0].device_id is None


def test_instance_id_may_repeat_on_another_form(client, url):
    assert post(client, url, ONE).status_code == 201
    other = b'<data id="binary_type" version="1"><meta><instanceID>one</instanceID></meta></data>'
    assert post(client, url, other).status_code == 201
    assert len(rows()) == 2


def test_namespaced_meta_and_version_are_read(client, url):
    xml = (
        b'<data xmlns:orx="http://openrosa.org/xforms" id="simple" orx:version="1">'
        b"<orx:meta><orx:instanceID>uuid:ns</orx:instanceID></orx:meta><name>N</name></data>"
    )
    assert post(client, url, xml).status_code == 201
    assert rows()[0].instance_id == "uuid:ns"


# --- edits (deprecatedID) -------------------------------------------------------------------


def edit(instance_id, deprecated, name=b"Alyssa"):
    return (
        b'<data id="simple" version="1"><meta><instanceID>'
        + instance_id.encode()
        + b"</instanceID><deprecatedID>"
        + deprecated.encode()
        + b"</deprecatedID></meta><name>"
        + name
        + b"</name><age>31</age></data>"
    )


def test_edit_creates_a_new_current_version_and_keeps_history(client, url):
    post(client, url, ONE)
    response = post(client, url, edit("two", "one"))
    assert response.status_code == 201
    old, new = rows()
    assert (old.is_current, new.is_current) == (False, True)
    assert new.root_id == old.id
    assert new.review_state == "edited"
    assert new.data["name"] == "Alyssa"


def test_edit_rules(client, url):
    post(client, url, ONE)
    unknown = post(client, url, edit("two", "unknown"))
    assert unknown.status_code == 404
    post(client, url, edit("two", "one"))
    stale = post(client, url, edit("three", "one"))
    assert stale.status_code == 409
    assert "the copy you were editing (one) is now out of date" in message(stale)
    duplicate = post(client, url, edit("one", "two"))
    assert duplicate.status_code == 409
    assert "already exists with instanceID one" in message(duplicate)
    assert post(client, url, ONE).status_code == 409  # superseded version sent again


def test_edit_carries_attachments_forward_and_replaces_sent_ones(client, url):
    post_named(client, url, BOTH, {"here_is_file2.jpg": b"old jpg"})
    both2 = BOTH.replace(
        b"<instanceID>both</instanceID>",
        b"<instanceID>both2</instanceID><deprecatedID>both</deprecatedID>",
    )
    response = post_named(client, url, both2, {"my_file1.mp4": b"mp4"})
    assert response.status_code == 201
    found = attachments("both2")
    assert found["here_is_file2.jpg"].sha256 == hashlib.sha256(b"old jpg").hexdigest()
    assert found["my_file1.mp4"].sha256 == hashlib.sha256(b"mp4").hexdigest()
    # Resending the identical edit with new bytes upserts the attachment.
    assert post_named(client, url, both2, {"here_is_file2.jpg": b"new jpg"}).status_code == 201
    found = attachments("both2")
    assert found["here_is_file2.jpg"].sha256 == hashlib.sha256(b"new jpg").hexdigest()


def test_deleted_submission_cannot_be_resent_or_edited(client, url):
    post(client, url, ONE)
    rows()[0].deleted_at = rows()[0].received_at
    db.session.commit()
    response = post(client, url, ONE)
    assert response.status_code == 409
    assert "was deleted" in message(response)
    assert post(client, url, edit("two", "one")).status_code == 409


# --- encrypted ------------------------------------------------------------------------------

ENVELOPE = (
    b'<data id="encrypted" version="1" encrypted="yes" '
    b'xmlns="http://www.opendatakit.org/xforms/encrypted">'
    b"<base64EncryptedKey>pFT0+tIo8l104xFg==</base64EncryptedKey>"
    b'<orx:meta xmlns:orx="http://openrosa.org/xforms"><orx:instanceID>uuid:enc-1</orx:instanceID>'
    b"</orx:meta><media><file>1561432508817.jpg.enc</file></media>"
    b"<encryptedXmlFile>submission.xml.enc</encryptedXmlFile>"
    b"<base64EncryptedElementSignature>UHIobs8l==</base64EncryptedElementSignature></data>"
)


def test_encrypted_submission_is_stored_verbatim_with_its_enc_files(client, publish, make_device):
    publish("encrypted.md")
    _, token = make_device("encrypted")
    response = post_named(
        client,
        f"/key/{token}/submission",
        ENVELOPE,
        {
            "submission.xml.enc": b"cipher",
            "1561432508817.jpg.enc": b"cipher2",
            "extraneous.enc": b"x",
        },
    )
    assert response.status_code == 201
    (row,) = rows()
    assert row.xml == ENVELOPE
    assert row.is_encrypted
    assert row.data == {}
    assert set(attachments("uuid:enc-1")) == {"1561432508817.jpg.enc", "submission.xml.enc"}
    no_id = ENVELOPE.replace(b"<orx:instanceID>uuid:enc-1</orx:instanceID>", b"")
    refused = post(client, f"/key/{token}/submission", no_id)
    assert refused.status_code == 400
    assert "instanceID" in message(refused)


# --- refusals -------------------------------------------------------------------------------


def test_closed_form_refuses_and_closing_form_accepts(client, url):
    db.session.execute(sa.update(Form).where(Form.form_id == "simple").values(state="closing"))
    db.session.commit()
    assert post(client, url, ONE).status_code == 201
    db.session.execute(sa.update(Form).where(Form.form_id == "simple").values(state="closed"))
    db.session.commit()
    response = post(client, url, ONE.replace(b"one", b"two"))
    assert response.status_code == 409
    assert "Biểu mẫu đã đóng" in message(response)


@pytest.mark.parametrize(
    ("xml", "status", "text"),
    [
        (b"<test", 400, "malformed XML"),
        (b"<data><meta><instanceID>x</instanceID></meta></data>", 400, "form ID xml attribute"),
        (b'<data id="nonexistent"><field/></data>', 404, "does not exist on this server"),
        (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            b'<data id="simple" version="1"><name>&b;</name></data>',
            400,
            "DOCTYPE",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<data id="simple" version="1"><name>&x;</name></data>',
            400,
            "DOCTYPE",
        ),
        (b"", 400, "malformed XML"),
    ],
    ids=["malformed", "no-form-id", "unknown-form", "billion-laughs", "external-entity", "empty"],
)
def test_bad_xml_is_refused_with_an_openrosa_message(client, url, xml, status, text):
    post(client, url, ONE)
    before = snapshot()
    response = post(client, url, xml)
    assert response.status_code == status
    assert text in message(response)
    assert '<message nature="error">' in message(response)
    assert snapshot() == before


def test_multipart_problems(client, url):
    no_xml = client.post(
        url,
        data={"other": (io.BytesIO(b"x"), "x.jpg")},
        headers=OR,
        content_type="multipart/form-data",
    )
    assert no_xml.status_code == 400
    assert "xml_submission_file missing" in message(no_xml)
    raw = client.post(url, data=ONE, headers=OR, content_type="text/xml")
    assert raw.status_code == 400
    no_boundary = client.post(url, data=b"--x\r\n", headers=OR, content_type="multipart/form-data")
    assert no_boundary.status_code == 400
    truncated = (
        b'--b\r\nContent-Disposition: form-data; name="xml_submission_file"; '
        b'filename="s.xml"\r\nContent-Type: text/xml\r\n\r\n' + ONE[:40]
    )
    cut = client.post(
        url, data=truncated, headers=OR, content_type="multipart/form-data; boundary=b"
    )
    assert cut.status_code == 400
    assert rows() == []


def test_xml_as_a_plain_field_is_accepted(client, url):
    response = client.post(
        url,
        data={"xml_submission_file": ONE.decode()},
        headers=OR,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201


@pytest.mark.parametrize("name", ["../evil.jpg", "a/b.jpg", "nul\x00.jpg", "x" * 300 + ".jpg"])
def test_bad_attachment_names_are_refused_and_nothing_written(client, url, app, name):
    xml = BOTH.replace(b"here_is_file2.jpg", name.encode())
    response = post_named(client, url, xml, {name: b"payload"})
    assert response.status_code == 400
    assert "Tên tệp đính kèm không hợp lệ" in message(response)
    assert rows() == []
    import os

    assert not os.path.exists(os.path.join(app.config["STORAGE_DIR"], "..", "evil.jpg"))


def test_at_most_101_attachments_per_request(client, url):
    files = {f"f{i}.jpg": b"x" for i in range(101)}
    assert post_named(client, url, BOTH, files).status_code == 201
    files["f101.jpg"] = b"x"
    response = post_named(client, url, BOTH.replace(b"both", b"more"), files)
    assert response.status_code == 400
    assert "at most 101" in message(response)


def test_body_over_the_limit_is_413_in_openrosa_xml(client, url, app):
    app.config["OPENROSA_MAX_BYTES"] = 1000
    big = post_named(client, url, BOTH, {"my_file1.mp4": b"x" * 400_000})
    assert big.status_code == 413
    assert "Bài nộp quá lớn" in message(big)
    assert big.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert rows() == []


def test_unauthenticated_post_is_challenged(client, publish):
    publish("simple.md")
    response = post(client, "/submission", ONE)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Digest")


def test_post_with_digest_user(digest, publish):
    publish("simple.md")
    response = digest.request(
        "POST",
        "/submission?deviceID=collect%3Aabc",
        data=parts(ONE),
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    assert rows()[0].submitter_user_id is not None


def test_collector_posting_to_unassigned_form_is_forbidden(client, publish, make_user):
    from tests.factories import DigestClient

    publish("simple.md")
    publish("mini.md")
    make_user("thu", role="collector", forms=["mini"])
    response = DigestClient(client, "thu").request(
        "POST", "/submission", data=parts(ONE), content_type="multipart/form-data"
    )
    assert response.status_code == 403
    assert "không được giao" in message(response)
    assert rows() == []


def test_post_is_never_answered_200_204_or_redirect(client, url):
    """C8: every outcome of a POST is 201 or an error with a message."""
    statuses = {
        post(client, url, xml).status_code
        for xml in (ONE, ONE, ONE.replace(b"Alice", b"B"), b"<x", b"")
    }
    assert not statuses & {200, 204, 301, 302, 303, 307, 308}
