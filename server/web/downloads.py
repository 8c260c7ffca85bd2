"""Files over HTTP: every surface's downloads go through :func:`download`.

The format (from the registry in ``exports.formats``) writes the output; this module only
decides how the bytes travel. A format that streams (CSV) feeds the response as it is written,
so a million rows never sit in memory and the first bytes leave at once; the others (XLSX,
ZIP, PDF, …) are written to a temporary file first (in memory while small), because a ZIP
container is finished by seeking back, and an error half-way must still become an error
response rather than a truncated file. The file is deleted when the response closes.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO
from urllib.parse import quote

from flask import Response, stream_with_context

from exports import Format, Output

#: Outputs up to this size stay in memory while written.
SPOOL_IN_MEMORY = 4 << 20
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def download(output: Output, fmt: Format, filename: str, *, inline: bool = False,
             warnings: Iterable[str] = ()) -> Response:  # fmt: skip
    """A response carrying the output in the format.

    :param output: what the file is made from.
    :param fmt: the format (the caller made sure it is one the surface offers).
    :param filename: the file's name; a non-ASCII name is also sent as RFC 6266 ``filename*``.
    :param inline: shown in the browser (a page's PDF) rather than saved.
    :param warnings: short notes for the ``X-Export-Warning`` header, one each.
    :return: the response.
    """
    if fmt.streams:
        response = Response(stream_with_context(fmt.chunks(output)), content_type=fmt.media_type)
    else:
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
        try:
            fmt.write(output, spool)
        except BaseException:
            spool.close()
            raise
        size = spool.tell()
        spool.seek(0)
        response = Response(_chunks(spool), content_type=fmt.media_type)
        response.content_length = size
        response.call_on_close(spool.close)
    response.headers["Content-Disposition"] = _disposition(filename, inline)
    for warning in warnings:
        response.headers.add("X-Export-Warning", warning.encode("ascii", "replace").decode())
    return response


def file_download(content: bytes, filename: str, content_type: str) -> Response:
    """A stored file as it was kept (a form's source, its XForm, a media file), to be saved.

    :param content: the bytes.
    :param filename: the file's name (non-ASCII names travel as RFC 6266 ``filename*``).
    :param content_type: the media type; the browser is told not to guess another.
    :return: the response.
    """
    response = Response(content, content_type=content_type)
    response.headers["Content-Disposition"] = _disposition(filename, inline=False)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _disposition(filename: str, inline: bool) -> str:
    fallback = _UNSAFE.sub("_", filename)
    if inline:
        return f'inline; filename="{fallback}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def _chunks(handle: IO[bytes], size: int = 256 * 1024) -> Iterator[bytes]:
    try:
        while chunk := handle.read(size):
            yield chunk
    finally:
        handle.close()  # also when the client goes away mid-download
