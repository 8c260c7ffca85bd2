"""A ZIP of CSV tables and the media files they name, built in a file (never in memory).

Tables are deflated at :data:`DEFLATE_LEVEL` 1, not zlib's default 6: on a 30-question export
level 6 ran at 16 MB/s of CSV (more time than reading and writing the rows), level 1 at
70 MB/s, for files about a third larger. XLSX containers use the same level.
"""

from __future__ import annotations

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
            with archive.open(f"{table.name}.csv", "w", force_zip64=True) as handle:
                for chunk in iter_csv(table):
                    handle.write(chunk)
        for name, source in media:
            # Photos are already compressed: store them.
            if isinstance(source, Path):
                archive.write(source, f"media/{name}", compress_type=zipfile.ZIP_STORED)
            else:
                content = source if isinstance(source, bytes) else source()
                archive.writestr(f"media/{name}", content, compress_type=zipfile.ZIP_STORED)
