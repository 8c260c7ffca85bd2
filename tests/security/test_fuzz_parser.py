"""Property-based fuzzing of the submission parser (Hypothesis).

Whatever bytes a device sends, reading them either succeeds, and then everything later steps
do with the result (typing the answers, finding files, units and times, storing JSON) works,
or fails with the catalogue's ``MalformedSubmission`` (400.1). Any other exception would be a
500 on ``POST /submission``.

The examples are derandomised (the same on every run, so CI cannot flake) and few enough to
keep the suite fast; raise ``TAPHUAN_TEST_FUZZ_EXAMPLES`` for a longer hunt.
"""

from __future__ import annotations

import json
import os
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.domain.instances import (
    XmlLimits,
    binary_values,
    finished_at,
    read_instance,
    typed_data,
    unit_code,
)
from server.errors import MalformedSubmission

settings.register_profile(
    "taphuan-fuzz",
    max_examples=int(os.environ.get("TAPHUAN_TEST_FUZZ_EXAMPLES", "150")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ = settings.get_profile("taphuan-fuzz")
LIMITS = XmlLimits(max_depth=30, max_elements=2_000)

REASONS = {
    "bad_xml",
    "too_deep",
    "too_many_elements",
    "no_form_id",
    "encrypted_without_instance_id",
}
#: A schema touching every typing rule: numbers, lists, geopoints, groups, repeats, files.
FIELDS = {
    "/data/age": {"kind": "integer", "type": "int"},
    "/data/w": {"kind": "decimal", "type": "decimal"},
    "/data/topics": {"kind": "select_multiple", "type": "string"},
    "/data/where": {"kind": "geopoint", "type": "geopoint"},
    "/data/g": {"kind": "group", "type": ""},
    "/data/g/commune": {"kind": "text", "type": "string"},
    "/data/r": {"kind": "repeat", "type": ""},
    "/data/r/photo": {"kind": "image", "type": "binary"},
    "/data/file1": {"kind": "file", "type": "binary"},
    "/data/end": {"kind": "end", "type": "dateTime"},
}
NAMES = ["data", "age", "w", "topics", "where", "g", "commune", "r", "photo", "file1", "end",
         "meta", "instanceID", "deprecatedID", "instanceName", "media", "file",
         "base64EncryptedKey", "encryptedXmlFile", "province", "x"]  # fmt: skip
#: "orx:" is declared in :data:`VALID` only; elsewhere a prefix is unbound (malformed XML).
PREFIXES = ["", "orx:", "h:", "jr:"]
VALID = (
    b'<?xml version="1.0"?><data xmlns:orx="http://openrosa.org/xforms" id="f" version="1">'
    b"<age>30</age><w>1.5</w><topics>a b</topics><where>1 2 3 4</where>"
    b"<g><commune>23584</commune></g><r><photo>a.jpg</photo></r><r><photo>b.jpg</photo></r>"
    b"<file1>c.mp4</file1><end>2026-11-23T09:30:00.000+07:00</end>"
    b"<orx:meta><orx:instanceID>uuid:1</orx:instanceID></orx:meta></data>"
)

#: Text from every Unicode category but surrogates (not encodable), including controls,
#: combining marks, right-to-left letters, emoji and the noncharacters XML refuses.
odd_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)


def check(xml: bytes) -> None:
    """Read the XML and do with it everything the submission path does, or get a 400.1."""
    try:
        instance = read_instance(xml, limits=LIMITS)
    except MalformedSubmission as exc:
        refusal = exc
    else:
        refusal = None
    if refusal is not None:
        assert refusal.code == "400.1"
        assert refusal.details["reason"] in REASONS
        return
    assert instance.form_id
    data = typed_data(instance.root, FIELDS)
    json.dumps(data)  # what the JSON column stores
    binary_values(instance.root, FIELDS)
    unit_code(data)
    finished_at(data)


@st.composite
def elements(draw, depth: int = 0) -> str:
    """A random element: odd names, attributes, text, children, sometimes unescaped."""
    name = draw(st.sampled_from(PREFIXES)) + draw(st.sampled_from(NAMES))
    attributes = draw(
        st.dictionaries(st.sampled_from(["id", "version", "encrypted", "orx:version"]),
                        st.one_of(odd_text, st.sampled_from(["f", "yes", "1", ""])),
                        max_size=3)
    )  # fmt: skip
    attrs = "".join(f" {k}={quoteattr(v)}" for k, v in attributes.items())
    text = draw(odd_text)
    text = text if draw(st.booleans()) else escape(text)
    children = ""
    if depth < 6:
        children = "".join(draw(st.lists(elements(depth + 1), max_size=4 if depth < 3 else 1)))
    return f"<{name}{attrs}>{text}{children}</{name}>"


@FUZZ
@given(st.binary(max_size=2_000))
def test_random_bytes_parse_or_are_400_1(xml):
    check(xml)


@FUZZ
@given(elements(), st.sampled_from(["", '<?xml version="1.0" encoding="UTF-8"?>', "\ufeff"]))
def test_random_documents_parse_or_are_400_1(body, prolog):
    root = body.replace(">", ' id="f" version="1">', 1) if " id=" not in body[:80] else body
    check((prolog + root).encode())


@FUZZ
@given(
    st.lists(
        st.tuples(st.integers(0, len(VALID)), st.integers(0, 8), st.binary(max_size=12)),
        min_size=1,
        max_size=6,
    )
)
def test_mutated_submissions_parse_or_are_400_1(edits):
    xml = bytearray(VALID)
    for position, cut, insert in edits:
        xml[position : position + cut] = insert
    check(bytes(xml))


@FUZZ
@given(st.integers(0, 5_000), st.sampled_from(["g", "r", "x", "orx:meta"]))
def test_any_nesting_depth_parses_or_is_400_1(depth, name):
    xml = f'<data id="f" version="1">{f"<{name}>" * depth}1{f"</{name}>" * depth}</data>'
    check(xml.encode())


@FUZZ
@given(st.integers(0, 5_000), st.sampled_from(["<x/>", "<r><photo>a</photo></r>", "<age>1</age>"]))
def test_any_element_count_parses_or_is_400_1(count, element):
    check(f'<data id="f" version="1">{element * count}</data>'.encode())


@FUZZ
@given(odd_text, odd_text, odd_text)
def test_odd_unicode_in_every_value_parses_or_is_400_1(name, photo, end):
    xml = (
        f'<data id="f" version="1"><age>{escape(name)}</age><w>{escape(name)}</w>'
        f"<where>{escape(name)}</where><r><photo>{escape(photo)}</photo></r>"
        f"<end>{escape(end)}</end><meta><instanceID>{escape(name)}</instanceID></meta></data>"
    )
    check(xml.encode("utf-8"))


@pytest.mark.parametrize(
    "xml",
    [
        b'<!DOCTYPE data [<!ENTITY a "aaaa">]><data id="f">&a;</data>',
        b'<!DOCTYPE data SYSTEM "file:///etc/passwd"><data id="f"/>',
        b'<data id="f">' + b"<x>" * 10_000 + b"</x>" * 10_000 + b"</data>",
        b'<data id="f">' + b"<x/>" * 100_000 + b"</data>",
        b'<data id="f" encrypted="yes"><media><file>a</file></media></data>',
        b'<data id="">x</data>',
        "<data id='f'>\U0010ffff\u200f\u0301</data>".encode(),
    ],
)
def test_known_hostile_documents_are_400_1_or_read(xml):
    check(xml)
