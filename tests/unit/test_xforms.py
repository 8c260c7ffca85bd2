"""Reading XForms: identity, schema, media; unsafe XML refused."""

import pytest

from server.domain.xforms import parse_xml_safely, read_xform
from server.domain.xlsform import convert_xlsform
from server.errors import InvalidXForm

FORM = """
| survey |
| | type | name | label::Vietnamese (vi) | label::English (en) | relevant | calculation | parameters | choice_filter |
| | start | start | | | | | | |
| | select_one_from_file courses.csv | course_code | Khóa học | Course | | | | status = 'open' |
| | begin_group | g | Nhóm | Group | | | | |
| | integer | age | Tuổi | Age | | | | |
| | select_multiple topic | topics | Chủ đề | Topics | ${age} > 18 | | | |
| | end_group | g | | | | | | |
| | begin_repeat | tr | Giảng viên | Trainer | | | | |
| | text | tr_name | Tên | Name | | | | |
| | image | tr_photo | Ảnh | Photo | | | max-pixels=1024 | |
| | end_repeat | tr | | | | | | |
| | calculate | score | | | | 1 + 1 | | |
| | note | bye | Cảm ơn ${age} | Thanks | | | | |
| choices |
| | list_name | name | label::Vietnamese (vi) | label::English (en) | media::image::English (en) |
| | topic | tp01 | Dân số | Population | tp01.png |
| | topic | tp02 | Truyền thông | Communication | |
| settings |
| | form_id | version | form_title | default_language | instance_name |
| | demo | 2026010101 | Biểu mẫu thử | Vietnamese (vi) | concat(${age}, '') |
"""


@pytest.fixture(scope="module")
def schema():
    xml = convert_xlsform("demo.md", FORM.encode(), ".md").xform
    return read_xform(xml)


def by_name(schema, name):
    return next(f for f in schema.fields if f.name == name)


def test_read_xform_identity(schema):
    assert (schema.form_id, schema.version, schema.title, schema.root) == (
        "demo",
        "2026010101",
        "Biểu mẫu thử",
        "data",
    )
    assert schema.is_encrypted is False
    assert schema.default_language == "Vietnamese (vi)"
    assert set(schema.languages) == {"Vietnamese (vi)", "English (en)"}


def test_read_xform_fields_in_form_order_with_kinds(schema):
    summary = [(f.path, f.kind) for f in schema.fields]
    assert summary == [
        ("/data/start", "meta"),
        ("/data/course_code", "select_one"),
        ("/data/g", "group"),
        ("/data/g/age", "integer"),
        ("/data/g/topics", "select_multiple"),
        ("/data/tr", "repeat"),
        ("/data/tr/tr_name", "text"),
        ("/data/tr/tr_photo", "image"),
        ("/data/score", "calculate"),
        ("/data/bye", "note"),
        ("/data/meta", "group"),
        ("/data/meta/instanceID", "meta"),
        ("/data/meta/instanceName", "meta"),
    ]


def test_read_xform_repeat_membership_and_types(schema):
    assert by_name(schema, "tr_name").repeat == "/data/tr"
    assert by_name(schema, "age").repeat is None
    assert by_name(schema, "age").type == "int"
    assert by_name(schema, "tr_photo").type == "binary"
    assert by_name(schema, "score").calculate == "1 + 1"


def test_read_xform_labels_and_choices_in_both_languages(schema):
    topics = by_name(schema, "topics")
    assert topics.labels == {"Vietnamese (vi)": "Chủ đề", "English (en)": "Topics"}
    assert topics.choice_list == "topic"
    assert topics.choices == [
        {"name": "tp01", "labels": {"Vietnamese (vi)": "Dân số", "English (en)": "Population"}},
        {
            "name": "tp02",
            "labels": {"Vietnamese (vi)": "Truyền thông", "English (en)": "Communication"},
        },
    ]
    assert " ".join(topics.relevant.split()) == "/data/g/age > 18"
    assert by_name(schema, "bye").labels["Vietnamese (vi)"] == "Cảm ơn ${age}"


def test_read_xform_choices_from_file(schema):
    course = by_name(schema, "course_code")
    assert course.choice_file == "courses.csv"
    assert course.choices is None


def test_read_xform_lists_media_references(schema):
    assert schema.media == [
        {"filename": "courses.csv", "type": "file-csv"},
        {"filename": "tp01.png", "type": "images"},
    ]


def test_read_xform_detects_encryption():
    xml = convert_xlsform(
        "enc.md",
        b"| survey |\n| | type | name | label |\n| | text | a | A |\n| settings |\n"
        b"| | form_id | version | public_key |\n| | enc | 1 | MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA |\n",
        ".md",
    ).xform
    assert read_xform(xml).is_encrypted is True


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<h:html xmlns:h="http://www.w3.org/1999/xhtml"><h:head><h:title>&lol2;</h:title></h:head></h:html>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<h:html xmlns:h="http://www.w3.org/1999/xhtml"><h:head><h:title>&xxe;</h:title></h:head></h:html>"""
DOCTYPE_ONLY = b"""<?xml version="1.0"?><!DOCTYPE html><html/>"""


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, XXE, DOCTYPE_ONLY])
def test_parse_refuses_doctype_and_entities(xml):
    with pytest.raises(InvalidXForm, match="DOCTYPE and entity declarations are not allowed") as e:
        parse_xml_safely(xml, what="evil.xml")
    assert e.value.details["reason"] == "unsafe_xml"
    assert e.value.message.startswith("evil.xml: ")


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        (b"<h:html", "malformed_xml"),
        (b"<foo/>", "not_xform"),
        (
            b'<h:html xmlns:h="http://www.w3.org/1999/xhtml" xmlns="http://www.w3.org/2002/xforms">'
            b"<h:head><model><instance/></model></h:head></h:html>",
            "not_xform",
        ),
        (
            b'<h:html xmlns:h="http://www.w3.org/1999/xhtml" xmlns="http://www.w3.org/2002/xforms">'
            b"<h:head><model><instance><data/></instance></model></h:head></h:html>",
            "no_form_id",
        ),
    ],
)
def test_read_xform_refuses_non_xforms(xml, reason):
    with pytest.raises(InvalidXForm) as info:
        read_xform(xml)
    assert info.value.details["reason"] == reason


def _xform(
    root_attributes: str, namespace: str = 'xmlns="http://www.w3.org/2002/xforms" '
) -> bytes:
    return (
        f'<h:html {namespace}xmlns:h="http://www.w3.org/1999/xhtml" '
        'xmlns:orx="http://openrosa.org/xforms"><h:head><h:title>T</h:title><model>'
        f"<instance><data {root_attributes}><q/></data></instance>"
        '<bind nodeset="/data/q" type="int"/></model></h:head>'
        '<h:body><input ref="/data/q"><label>Q</label></input></h:body></h:html>'
    ).encode()


@pytest.mark.parametrize(
    ("attributes", "version"),
    [
        ('id="f" version="3"', "3"),
        ('id="f"', ""),  # no version: the empty version, as in ODK Central
        ('id="f" orx:version="5"', "5"),  # JavaRosa reads version in any namespace
        ('id="f" orx:version="5" version="6"', "5"),  # ... and takes the first one
    ],
)
def test_read_xform_reads_the_version_as_javarosa_does(attributes, version):
    assert read_xform(_xform(attributes)).version == version


def test_read_xform_accepts_a_form_without_the_xforms_default_namespace():
    schema = read_xform(_xform('id="f" version="1"', namespace=""))
    assert (schema.form_id, schema.title) == ("f", "T")
    assert [(f.path, f.kind, f.labels) for f in schema.fields] == [
        ("/data/q", "integer", {"default": "Q"})
    ]


def test_read_xform_expects_itemsets_csv_for_external_selects():
    xml = _xform('id="f" version="1"').replace(
        b'<input ref="/data/q">', b'<input ref="/data/q" query="instance(\'x\')/root/item">'
    )
    assert read_xform(xml).media == [{"filename": "itemsets.csv", "type": "file-csv"}]
