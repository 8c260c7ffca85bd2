"""The fast multipart reading agrees with werkzeug's on plain bodies and defers on the rest."""

from __future__ import annotations

import io
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.formparser import MultiPartParser

from server.web.openrosa.multipart import read_plain_parts

XML = b'<data id="simple" version="1"><name>Lan</name></data>'


def body(boundary: str, parts: list[tuple[str, str, str, bytes]]) -> bytes:
    """Collect's shape: CRLF, one file part per (name, filename, content type, bytes)."""
    out = b""
    for name, filename, content_type, content in parts:
        out += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
            ).encode()
            + content
            + b"\r\n"
        )
    return out + f"--{boundary}--\r\n".encode()


def werkzeug_files(data: bytes, boundary: str):
    _, files = MultiPartParser().parse(io.BytesIO(data), boundary.encode(), len(data))
    return [(key, f.filename, f.mimetype or None, f.read()) for key, f in files.items(multi=True)]


names = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='"\\'),
    min_size=1,
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            names,
            names,
            st.sampled_from(["image/jpeg", "text/xml", "Audio/MP4"]),
            st.binary(max_size=300),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_plain_bodies_read_as_werkzeug_reads_them(parts):
    boundary = uuid.uuid4().hex
    data = body(boundary, [("xml_submission_file", "submission.xml", "text/xml", XML), *parts])
    read = read_plain_parts(data, f"multipart/form-data; boundary={boundary}")
    assert read is not None
    ours = [(p.name, p.filename, p.content_type, p.content) for p in read]
    theirs = werkzeug_files(data, boundary)
    assert sorted(ours, key=lambda p: p[0]) == sorted(theirs, key=lambda p: p[0])


@pytest.mark.parametrize(
    "mangle",
    [
        lambda b: b[: len(b) // 2],  # truncated upload
        lambda b: b.replace(b"\r\n", b"\n"),  # LF-only lines
        lambda b: b"preamble\r\n" + b,  # a preamble
        lambda b: b.replace(b'; filename="submission.xml"', b""),  # the XML as a plain field
        lambda b: b.replace(b'filename="a.jpg"', b'filename="a\rb.jpg"'),  # CR in a header
        lambda b: b.replace(b"Content-Type: image/jpeg", b"Content-Type:\r\n image/jpeg"),
    ],
)
def test_unusual_bodies_are_left_to_werkzeug(mangle):
    boundary = "b0undary"
    data = body(
        boundary,
        [
            ("xml_submission_file", "submission.xml", "text/xml", XML),
            ("a.jpg", "a.jpg", "image/jpeg", b"\xff\xd8photo"),
        ],
    )
    assert read_plain_parts(data, f"multipart/form-data; boundary={boundary}") is not None
    assert read_plain_parts(mangle(data), f"multipart/form-data; boundary={boundary}") is None


def test_no_boundary_is_left_to_werkzeug():
    assert read_plain_parts(b"--x\r\n", "multipart/form-data") is None
