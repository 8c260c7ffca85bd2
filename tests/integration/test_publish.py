"""Publishing forms into the database: immutability, no-ops, media, and bad input."""

import hashlib

import pytest
import sqlalchemy as sa

from server.errors import (
    EmptyFile,
    FileTooLarge,
    FormValidationFailed,
    FormVersionExists,
    InvalidFormMedia,
    InvalidXForm,
    InvalidXLSForm,
    UnknownXLSFormColumn,
    UnsupportedFileType,
    ValidatorUnavailable,
)
from server.models import Form, FormMedia, FormVersion
from server.services.forms import MediaFile, ValidationSettings, publish_form
from tests.factories import DATA, NOW

SETTINGS = ValidationSettings(max_bytes=1024 * 1024)
MINI = (DATA / "forms" / "mini.md").read_bytes()

PICKER = """| survey |
| | type | name | label::Vietnamese (vi) | label::English (en) |
| | select_one_from_file courses.csv | course | Khóa học | Course |
| | text | note_{n} | Ghi chú | Note |
| settings |
| | form_id | version |
| | picker | {version} |
"""


def picker(version="2026010101", n=1) -> bytes:
    return PICKER.format(version=version, n=n).encode()


def publish(session, name="mini.md", content=MINI, media=None, settings=SETTINGS):
    return publish_form(name, content, session=session, settings=settings, media=media, now=NOW)


def snapshot(session):
    """Everything publishing may touch, to prove a failure changed nothing."""
    rows = session.execute(sa.select(FormVersion.id, FormVersion.md5, FormVersion.version)).all()
    media = session.execute(sa.select(FormMedia.filename, FormMedia.md5)).all()
    return sorted(rows), sorted(media), session.scalar(sa.select(sa.func.count(Form.id)))


def test_publish_stores_exact_xml_md5_schema_and_source(session):
    result = publish(session)
    session.commit()
    version = result.form_version
    assert result.status == "published"
    assert version.form.form_id == "mini"
    assert version.version == "2026010101"
    assert version.title == "Mẫu nhỏ"
    assert version.md5 == hashlib.md5(version.xml).hexdigest()
    assert version.source == MINI
    assert version.source_type == ".md"
    assert [f["name"] for f in version.schema["fields"]][:4] == ["full_name", "age", "ok", "photo"]
    stored = session.scalar(sa.select(FormVersion.xml).where(FormVersion.id == version.id))
    assert stored == version.xml


def test_publish_identical_content_is_a_no_op(session):
    first = publish(session)
    session.commit()
    again = publish(session)
    session.commit()
    assert again.status == "unchanged"
    assert again.form_version.id == first.form_version.id
    assert session.scalar(sa.select(sa.func.count(FormVersion.id))) == 1


def test_publish_same_version_with_other_content_is_refused(session):
    publish(session)
    session.commit()
    before = snapshot(session)
    changed = MINI.replace("Họ và tên".encode(), "Họ tên".encode())
    with pytest.raises(FormVersionExists) as info:
        publish(session, content=changed)
    session.rollback()
    assert info.value.code == "409.2"
    assert info.value.details["version"] == "2026010101"
    assert "raise settings.version" in info.value.message
    assert snapshot(session) == before


def test_publish_new_version_keeps_the_old_one(session):
    publish(session, "picker.md", picker("2026010101"))
    publish(session, "picker.md", picker("2026010102", n=2))
    session.commit()
    versions = session.execute(sa.select(FormVersion.version).order_by(FormVersion.id)).scalars()
    assert list(versions) == ["2026010101", "2026010102"]
    assert session.scalar(sa.select(sa.func.count(Form.id))) == 1


def test_publish_stores_referenced_media_with_md5_and_warns_about_the_rest(session):
    csv = "name,label,status\nDSCB-01,Lớp dân số cơ bản,open\n".encode()
    result = publish(
        session,
        "picker.md",
        picker(),
        media=[MediaFile("courses.csv", csv), MediaFile("stray.png", b"png")],
    )
    session.commit()
    media = result.form_version.media
    assert [(m.filename, m.md5, m.size, m.content_type) for m in media] == [
        ("courses.csv", hashlib.md5(csv).hexdigest(), len(csv), "text/csv")
    ]
    assert media[0].content == csv
    assert any("stray.png is not referenced" in w for w in result.warnings)


def test_publish_warns_about_missing_media(session):
    result = publish(session, "picker.md", picker())
    assert any("references courses.csv but no such media file" in w for w in result.warnings)
    assert result.form_version.warnings == result.warnings


def test_republish_identical_form_refreshes_changed_media(session):
    publish(session, "picker.md", picker(), media=[MediaFile("courses.csv", b"name,label\na,A\n")])
    session.commit()
    result = publish(
        session, "picker.md", picker(), media=[MediaFile("courses.csv", b"name,label\na,A\nb,B\n")]
    )
    session.commit()
    assert result.status == "media_updated"
    assert result.form_version.media[0].md5 == hashlib.md5(b"name,label\na,A\nb,B\n").hexdigest()


def test_publish_xform_xml_directly(session):
    xml = publish(session).form_version.xml
    session.rollback()
    result = publish(session, "mini.xml", xml)
    assert result.form_version.source_type == ".xml"
    assert result.form_version.xml == xml


def test_publish_media_with_unicode_name(session):
    form = picker().replace(b"courses.csv", "khóa_học.csv".encode())
    result = publish(
        session, "picker.md", form, media=[MediaFile("khóa_học.csv", b"name,label\na,A\n")]
    )
    assert result.form_version.media[0].filename == "khóa_học.csv"


BAD_INPUTS = [
    ("corrupt.xlsx", b"PK\x03\x04garbage", UnsupportedFileType, "corrupt.xlsx"),
    ("empty.xlsx", b"", EmptyFile, "empty.xlsx: the file is empty"),
    ("renamed.xlsx", None, UnsupportedFileType, "renamed.xlsx: this is a Word document"),
    (
        "evil.xml",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>',
        InvalidXForm,
        "evil.xml: DOCTYPE and entity",
    ),
    (
        "typo.md",
        MINI.replace(b"| label::English (en) |", b"| lable::English (en) |"),
        UnknownXLSFormColumn,
        "did you mean 'label'",
    ),
    (
        "broken.md",
        MINI.replace(b"select_one yn", b"select_one nolist"),
        InvalidXLSForm,
        "broken.md: ",
    ),
    (
        "dupname.md",
        MINI.replace(b"| integer       | age  ", b"| integer       | ok   "),
        InvalidXLSForm,
        "[row : 4] On the 'survey' sheet, the 'name' value 'ok' is invalid",
    ),
    ("utf16.csv", "survey,type".encode("utf-16"), UnsupportedFileType, "not UTF-8"),
    ("notes.docx", b"x", UnsupportedFileType, "accepted: .xlsx"),
]


@pytest.mark.parametrize(
    ("name", "content", "error", "message"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_input_is_refused_and_nothing_published_changes(session, name, content, error, message):
    if content is None:
        from tests.factories import docx_bytes

        content = docx_bytes()
    publish(session)
    session.commit()
    before = snapshot(session)
    with pytest.raises(error) as info:
        publish(session, name, content)
    session.rollback()
    assert message in info.value.message
    assert snapshot(session) == before


def test_fifty_megabyte_upload_is_refused_before_parsing(session):
    big = b"| survey |\n" + b"x" * (50 * 1024 * 1024)
    with pytest.raises(FileTooLarge, match=r"huge\.md: 52,428,811 bytes is larger than the limit"):
        publish(session, "huge.md", big)


def test_oversize_media_is_refused(session):
    with pytest.raises(FileTooLarge, match="courses.csv"):
        publish(
            session,
            "picker.md",
            picker(),
            media=[MediaFile("courses.csv", b"x" * (SETTINGS.max_bytes + 1))],
        )


@pytest.mark.parametrize("bad_name", ["../x.csv", "a/b.csv", ""])
def test_media_with_path_in_name_is_refused(session, bad_name):
    with pytest.raises(InvalidFormMedia):
        publish(session, "picker.md", picker(), media=[MediaFile(bad_name, b"x")])


def test_invalid_xpath_is_caught_by_odk_validate_and_nothing_is_stored(session):
    form = (
        b"| survey |\n| | type | name | label | constraint |\n| | integer | n | N | . > > 3 |\n"
        b"| settings |\n| | form_id | version |\n| | xp | 1 |\n"
    )
    with pytest.raises(
        FormValidationFailed, match=r"xp\.md: row 2 \(question 'n'\): the constraint expression"
    ) as info:
        publish(session, "xp.md", form)
    session.rollback()
    assert info.value.details["file"] == "xp.md"
    assert "taphuan-validate" not in info.value.message  # no temp file names
    assert session.scalar(sa.select(sa.func.count(Form.id))) == 0


def test_missing_java_refuses_to_publish(session):
    settings = ValidationSettings(max_bytes=SETTINGS.max_bytes, java="/nonexistent/java")
    with pytest.raises(ValidatorUnavailable, match=r"picker\.md: Java was not found"):
        publish(session, "picker.md", picker("7"), settings=settings)
    session.rollback()
    assert session.scalar(sa.select(sa.func.count(Form.id))) == 0


NO_VERSION = MINI.replace(b"| version    |", b"| style      |").replace(
    b"| 2026010101 |", b"| pages      |"
)


def test_xlsform_without_version_is_stamped_and_republishing_it_is_a_no_op(session):
    first = publish(session, "mini.md", NO_VERSION)
    session.commit()
    assert first.status == "published"
    assert first.form_version.version == "2026112301"  # NOW in Vietnam time, then 01
    assert b'version="2026112301"' in first.form_version.xml
    assert any("stamped version 2026112301" in w for w in first.warnings)
    again = publish(session, "mini.md", NO_VERSION)
    assert again.status == "unchanged"
    changed = publish(session, "mini.md", NO_VERSION.replace(b"Full name", b"Your name"))
    assert changed.form_version.version == "2026112302"


def test_stamped_version_is_above_every_yyyymmddnn_version(session):
    publish(session)  # 2026010101
    session.commit()
    later = MINI.replace(b"2026010101", b"2099123199")
    publish(session, "mini.md", later)
    stamped = publish(session, "mini.md", NO_VERSION)
    assert stamped.form_version.version == "2099123200"


def test_every_problem_of_a_form_is_reported_at_once(session):
    form = (
        b"| survey |\n| | type | name | label | relevnt | constraint |\n"
        b"| | integer | n | N | | . > > 3 |\n"
    )
    with pytest.raises(UnknownXLSFormColumn) as info:
        publish(session, "all.md", form)
    problems = info.value.details["problems"]
    assert [p["code"] for p in problems] == ["400.9", "400.6"]
    assert "row 2 (question 'n')" in problems[1]["message"]


def test_external_choices_publish_their_itemsets_csv(session):
    result = publish(
        session, "ext.md", (DATA / "forms" / "compat" / "external_choices.md").read_bytes()
    )
    media = {m.filename: m.content for m in result.form_version.media}
    assert media["itemsets.csv"].startswith(b'"list_name","name","label","province"')
