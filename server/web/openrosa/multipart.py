"""Reading Collect's multipart body quickly, and exactly as werkzeug would when it is unusual.

werkzeug's multipart decoder compiles two regular expressions for every request's boundary;
Collect draws a new random boundary per request, so that compile ran on every submission and
was a fifth of the intake's CPU (py-spy, on-CPU samples). python-multipart, a well-kept
streaming parser (Starlette's), reads the same body with ``bytes.find`` and no compile,
about fifteen times faster.

Only a body in the plain shape every Collect and KoBoCollect version sends is read that way:
CRLF line endings, every part a file with a one-line ``Content-Disposition``, no header holding
a CR or LF, no preamble, a closing boundary. Anything else — a truncated upload, LF-only
lines, folded or broken headers, the XML sent as a plain field, more than
:data:`MAX_PARTS` parts — returns None, and the caller reads the body with werkzeug as it
always did, so every refusal and every odd-but-accepted body keeps its exact, tested meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser
from werkzeug.http import parse_options_header

#: More parts than this are left to werkzeug (its own limit answers 413).
MAX_PARTS = 1000


@dataclass
class Part:
    """One file part of the body."""

    name: str
    filename: str
    content_type: str | None
    #: The Content-Disposition header as sent (the view refuses backslashes in it).
    disposition: str
    chunks: list[bytes] = field(default_factory=list)

    @property
    def content(self) -> bytes:
        """The part's bytes."""
        return b"".join(self.chunks)


class _Reader:
    """Collects parts from python-multipart's callbacks; gives up on anything unusual."""

    def __init__(self) -> None:
        self.parts: list[Part] = []
        self.unusual = False
        self.ended = False
        self._headers: dict[str, str] = {}
        self._field = bytearray()
        self._value = bytearray()
        self._chunks: list[bytes] = []

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self._field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._value.extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_part_data": lambda data, start, end: self._chunks.append(bytes(data[start:end])),
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._headers, self._chunks = {}, []
        if len(self.parts) >= MAX_PARTS:
            self.unusual = True

    def _header_end(self) -> None:
        name, value = bytes(self._field), bytes(self._value)
        self._field.clear()
        self._value.clear()
        if b"\r" in value or b"\n" in value or not name or name[:1] in b" \t":
            self.unusual = True  # werkzeug would read a different header line here
            return
        try:
            self._headers[name.decode().strip().lower()] = value.decode().strip(" \t")
        except UnicodeDecodeError:
            self.unusual = True

    def _part_end(self) -> None:
        disposition = self._headers.get("content-disposition")
        if disposition is None:
            self.unusual = True
            return
        kind, options = parse_options_header(disposition)
        name, filename = options.get("name"), options.get("filename")
        if kind != "form-data" or name is None or filename is None:
            self.unusual = True  # a plain field: werkzeug's reading decides
            return
        content_type = self._headers.get("content-type")
        mimetype = parse_options_header(content_type)[0].lower() if content_type else None
        self.parts.append(Part(name, filename, mimetype or None, disposition, self._chunks))

    def _end(self) -> None:
        self.ended = True


def read_plain_parts(body: bytes, content_type: str) -> list[Part] | None:
    """The file parts of a plain Collect body, or None when werkzeug must read it.

    :param body: the whole request body (already bounded by the size limit).
    :param content_type: the request's Content-Type header.
    :return: the parts in order, or None (unusual shape, truncated, or malformed).
    """
    boundary = parse_options_header(content_type)[1].get("boundary")
    # A line break before the first boundary is common (werkzeug's own client writes one);
    # any other preamble is left to werkzeug.
    start = body[2:] if body.startswith(b"\r\n") else body
    if not boundary or not start.startswith(b"--" + boundary.encode("latin-1", "replace")):
        return None
    reader = _Reader()
    try:
        parser = MultipartParser(boundary, reader.callbacks())
        parser.write(body)
        parser.finalize()
    except (MultipartParseError, ValueError):
        return None
    if reader.unusual or not reader.ended:
        return None
    return reader.parts
