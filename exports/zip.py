"""A ZIP of CSV tables and the media files they name, built in a file (never in memory).

Tables are deflated at :data:`DEFLATE_LEVEL` 1, not zlib's default 6: on a 30-question export
level 6 ran at 16 MB/s of CSV (more time than reading and writing the rows), level 1 at
70 MB/s, for files about a third larger. XLSX containers use the same level.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from exports.csv import iter_csv
from exports.table import Table

#: zlib level of tables and sheets: fast, for files a third larger than the default's.
DEFLATE_LEVEL = 1

#: A media file's content: a file on disk, bytes, or a function producing the bytes (called
#: only when the file is written, so decrypted photos never pile up in memory).
MediaSource = Path | bytes | Callable[[], bytes]


class WriteBehind:
    """A ZIP member written by a thread of its own, so deflating overlaps rendering.

    zlib's deflate and CRC-32 release the GIL: while this thread compresses one chunk, the
    caller's thread renders the next rows on the other core (with tables' cells now mostly
    stored text, compressing had become a third of a ZIP export). At most :data:`AHEAD`
    chunks wait, so memory stays bounded. A failure in the thread is raised by the next
    :meth:`write` or by :meth:`close`; :meth:`close` always ends the thread.
    """

    AHEAD = 4

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self._chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=self.AHEAD)
        self._error: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="zip-deflate", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            if self._error is None:
                try:
                    self._handle.write(chunk)
                except BaseException as exc:  # handed to the writing thread
                    self._error = exc

    def write(self, chunk: bytes) -> None:
        """Queue a chunk (blocks while :data:`AHEAD` chunks wait)."""
        if self._error is not None:
            raise self._error
        self._chunks.put(chunk)

    def close(self) -> None:
        """Wait for every queued chunk, then close the member (again: nothing happens)."""
        if self._closed:
            return
        self._closed = True
        if self._thread.is_alive():
            self._chunks.put(None)
            self._thread.join()
        if self._error is not None:
            with contextlib.suppress(Exception):  # the member is lost; its archive must close
                self._handle.close()
            raise self._error
        self._handle.close()

    def __enter__(self) -> WriteBehind:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def write_zip(
    tables: list[Table], media: Iterable[tuple[str, MediaSource]], out: IO[bytes]
) -> None:
    """Write ``<table>.csv`` for each table and ``media/<name>`` for each file.

    :param tables: the tables; each becomes ``<name>.csv`` at the top of the archive.
    :param media: (name inside ``media/``, content) pairs; names are kept as given.
    :param out: a seekable binary file object.
    """
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED,
                         compresslevel=DEFLATE_LEVEL, allowZip64=True) as archive:  # fmt: skip
        for table in tables:
            member = archive.open(f"{table.name}.csv", "w", force_zip64=True)
            with WriteBehind(member) as handle:
                for chunk in iter_csv(table):
                    handle.write(chunk)
        for name, source in media:
            # Photos are already compressed: store them.
            if isinstance(source, Path):
                archive.write(source, f"media/{name}", compress_type=zipfile.ZIP_STORED)
            else:
                content = source if isinstance(source, bytes) else source()
                archive.writestr(f"media/{name}", content, compress_type=zipfile.ZIP_STORED)
