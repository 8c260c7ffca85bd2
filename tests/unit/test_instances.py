"""Reading submission XML: envelope, typed data, binary references."""

import pytest

from server.domain.instances import binary_values, index_fields, read_instance, typed_data
from server.errors import MalformedSubmission

FIELDS = index_fields(
    [
        {"path": "/data/age", "kind": "integer", "type": "int"},
        {"path": "/data/w", "kind": "decimal", "type": "decimal"},
        {"path": "/data/topics", "kind": "select_multiple", "type": "string"},
        {"path": "/data/gps", "kind": "geopoint", "type": "geopoint"},
        {"path": "/data/g", "kind": "group", "type": ""},
        {"path": "/data/g/note", "kind": "text", "type": "string"},
        {"path": "/data/tr", "kind": "repeat", "type": ""},
        {"path": "/data/tr/photo", "kind": "image", "type": "binary"},
        {"path": "/data/photo", "kind": "image", "type": "binary"},
    ]
)

XML = (
    '<data id="f" version="3"><age>41</age><w>1.5</w><topics>tp01 tp05</topics>'
    "<gps>10.5 106.7 12 5</gps><g><note>  Chào  </note></g><tr><photo>a.jpg</photo></tr>"
    "<tr><photo>b.jpg</photo></tr><tr><photo/></tr><photo>a.jpg</photo><extra>kept</extra>"
    "<meta><instanceID>uuid:1</instanceID><instanceName>Tên</instanceName></meta></data>"
).encode()


def test_envelope_fields():
    instance = read_instance(XML)
    assert (instance.form_id, instance.version, instance.instance_id) == ("f", "3", "uuid:1")
    assert instance.instance_name == "Tên"
    assert instance.deprecated_id is None
    assert instance.is_encrypted is False


def test_typed_data_follows_the_schema():
    data = typed_data(read_instance(XML).root, FIELDS)
    assert data["age"] == 41
    assert data["w"] == 1.5
    assert data["topics"] == ["tp01", "tp05"]
    assert data["gps"] == [10.5, 106.7, 12.0, 5.0]
    assert data["g"] == {"note": "  Chào  "}  # free text kept exactly
    assert data["tr"] == [{"photo": "a.jpg"}, {"photo": "b.jpg"}, {"photo": None}]
    assert data["extra"] == "kept"  # not in the schema: kept as text
    assert data["meta"]["instanceID"] == "uuid:1"


def test_values_that_do_not_fit_their_type_are_kept_as_sent():
    root = read_instance('<data id="f"><age>bốn mươi</age><w>1,5</w><age2/></data>'.encode()).root
    assert typed_data(root, FIELDS) == {"age": "bốn mươi", "w": "1,5", "age2": None}


def test_binary_values_are_distinct_and_in_order():
    assert binary_values(read_instance(XML).root, FIELDS) == ["a.jpg", "b.jpg"]


def test_instance_id_directly_under_root_and_namespaced_version():
    xml = (
        b'<d xmlns:orx="http://openrosa.org/xforms" id="f" orx:version="2">'
        b"<orx:instanceID>x</orx:instanceID></d>"
    )
    instance = read_instance(xml)
    assert (instance.version, instance.instance_id) == ("2", "x")


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        (b"<data", "bad_xml"),
        (b"<data/>", "no_form_id"),
        (b'<data id="  "/>', "no_form_id"),
        (b'<!DOCTYPE x [<!ENTITY e "e">]><data id="f">&e;</data>', "bad_xml"),
        (
            b'<data id="e" encrypted="yes"><base64EncryptedKey>k</base64EncryptedKey></data>',
            "encrypted_without_instance_id",
        ),
    ],
)
def test_unreadable_envelopes(xml, reason):
    with pytest.raises(MalformedSubmission) as info:
        read_instance(xml)
    assert info.value.details["reason"] == reason
    assert info.value.message_vi


def test_unit_code_prefers_the_most_specific_unit():
    from server.domain.instances import unit_code

    data = {"g_unit": {"province": "52", "commune": "21583", "district": None}, "x": 1}
    assert unit_code(data) == "21583"
    assert unit_code({"province": "52"}) == "52"
    assert unit_code({"name": "x"}) is None


def test_finished_at_reads_end_metadata_in_utc():
    import datetime as dt

    from server.domain.instances import finished_at

    assert finished_at({"end": "2026-11-23T10:15:30.123+07:00"}) == dt.datetime(
        2026, 11, 23, 3, 15, 30, 123000, tzinfo=dt.UTC
    )
    assert finished_at({"end": "not a time"}) is None
    assert finished_at({"end": "2026-11-23T10:15:30"}) is None  # no offset: unknown zone
    assert finished_at({}) is None
