"""Content-addressed storage of submission attachments on disk.

A file lives at ``<root>/<sha256[:2]>/<sha256>``: its name is its content, so identical photos
are stored once, a retry rewrites nothing, and no name a device sends ever becomes a path (no
``../`` can escape the store). Writes go to a temporary file that is fsynced and renamed into
place, then the directory is fsynced: when :meth:`AttachmentStore.put` returns, the bytes
survive a crash. The database row that points at the file is committed afterwards, so a file
may exist without a row (harmless), never a row without its file.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


class AttachmentStore:
    """A folder of files addressed by their sha256."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        """Where the file with this hash lives.

        :param sha256: lowercase hex digest.
        :return: the path (it may not exist).
        :raises ValueError: if ``sha256`` is not a hex digest.
        """
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 digest: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def put(self, content: bytes) -> str:
        """Store bytes durably (idempotent).

        :param content: the file's bytes.
        :return: their sha256.
        """
        digest = hashlib.sha256(content).hexdigest()
        target = self.path(digest)
        if target.exists() and target.stat().st_size == len(content):
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        return digest

    def put_written(self, write: Callable[[BinaryIO], None]) -> str:
        """Store what ``write`` writes to a file, never holding it all in memory (durable).

        For a job's result (an export of a million rows): written to a temporary file beside
        the store (seekable, as XLSX and ZIP writers need), hashed by reading it back in
        chunks, then moved to its digest's place.

        :param write: called with a binary file to write into.
        :return: the content's sha256.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(fd, "w+b") as handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
                handle.seek(0)
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
            target = self.path(digest)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        return digest

    def read(self, sha256: str) -> bytes:
        """Return a stored file's bytes.

        :raises FileNotFoundError: if it is not stored.
        """
        return self.path(sha256).read_bytes()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


#: Media types a browser renders without running anything in them: what Collect's image,
#: audio and video widgets produce. An attachment is served as one of these, or as
#: ``application/octet-stream``. The type a client declared is never trusted alone: a part
#: sent as ``text/html`` (or ``image/svg+xml``, which carries script) would otherwise run in
#: the server's origin when opened.
SAFE_MEDIA_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/bmp",
        "audio/mpeg",
        "audio/mp4",
        "audio/aac",
        "audio/amr",
        "audio/3gpp",
        "audio/ogg",
        "audio/wav",
        "audio/x-wav",
        "audio/webm",
        "video/mp4",
        "video/3gpp",
        "video/webm",
        "video/quicktime",
    }
)
DOWNLOAD_TYPE = "application/octet-stream"


def safe_content_type(name: str, declared: str | None) -> str:
    """The type to serve a stored attachment with.

    The file name's extension decides first (Collect names photos ``…jpg``, recordings
    ``…m4a``), then the type the client declared; either must be in :data:`SAFE_MEDIA_TYPES`.

    :param name: the attachment's name.
    :param declared: the content type the client sent with the part, if any.
    :return: a safe media type, or :data:`DOWNLOAD_TYPE`.
    """
    by_name = mimetypes.guess_type(name, strict=False)[0]
    for candidate in (by_name, (declared or "").split(";")[0].strip().lower()):
        if candidate in SAFE_MEDIA_TYPES:
            return candidate
    return DOWNLOAD_TYPE
