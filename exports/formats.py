"""The one registry of file formats: every download and every file the CLI writes goes here.

A :class:`Format` knows its name (which is also its file suffix), its media type and which part
of an :class:`Output` it writes: the neutral tables (CSV, XLSX, ZIP), plain data (JSON) or a
page laid out by the server (HTML, PDF). A surface builds the :class:`Output` of what it offers
(each part lazily, so a CSV never renders a page) and picks the format by name or file suffix;
nothing outside this module asks which format it is writing. A format a surface cannot give
is refused by :func:`named` / :func:`for_path` before anything is built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any

from exports.csv import iter_csv, write_csv
from exports.json import write_json
from exports.page import Page, write_html
from exports.table import Table
from exports.xlsx import write_xlsx
from exports.zip import MediaSource, write_zip

__all__ = [
    "CSV",
    "FORMATS",
    "HTML",
    "JSON",
    "PDF",
    "XLSX",
    "ZIP",
    "Format",
    "Output",
    "for_path",
    "named",
    "offered",
    "writing",
]


@dataclass
class Output:
    """What one download can be made from; each part is a function called only when written.

    :param tables: the neutral tables, main table first.
    :param media: (name, content) of the files a ZIP carries beside its tables.
    :param data: plain data for JSON.
    :param page: the page, for HTML and PDF.
    """

    tables: Callable[[], Sequence[Table]] | None = None
    media: Callable[[], Iterable[tuple[str, MediaSource]]] | None = None
    data: Callable[[], Any] | None = None
    page: Callable[[], Page] | None = None


@dataclass(frozen=True)
class Format:
    """A file format: how an :class:`Output` becomes bytes."""

    #: The name a request or command gives, and the file suffix without its dot.
    name: str
    media_type: str
    #: The part of an :class:`Output` it writes: "tables", "data" or "page".
    part: str
    _write: Callable[[Output, IO[bytes]], None]
    #: Writes in chunks without seeking, so a response can stream it (None: write to a file).
    _chunks: Callable[[Output], Iterator[bytes]] | None = None
    #: Also carries the output's media files.
    with_media: bool = False

    @property
    def suffix(self) -> str:
        """The file suffix, e.g. ``.csv``."""
        return f".{self.name}"

    @property
    def streams(self) -> bool:
        """Whether :meth:`chunks` can feed a response directly."""
        return self._chunks is not None

    def accepts(self, output: Output) -> bool:
        """Whether the output has the part this format writes."""
        return getattr(output, self.part) is not None

    def write(self, output: Output, out: IO[bytes]) -> None:
        """Write the output to a binary file (seekable for XLSX and ZIP).

        :param output: what to write.
        :param out: the file.
        """
        self._write(output, out)

    def chunks(self, output: Output) -> Iterator[bytes]:
        """The file in chunks, for a streamed response (formats that :attr:`streams`).

        :param output: what to write.
        :return: byte chunks.
        :raises TypeError: for a format that needs a seekable file.
        """
        if self._chunks is None:
            raise TypeError(f"{self.name} is written to a file, not streamed")
        return self._chunks(output)


def _first_table(output: Output) -> Table:
    return output.tables()[0]


def _pdf(output: Output, out: IO[bytes]) -> None:
    from exports.pdf import write_pdf  # WeasyPrint loads only when a PDF is made

    write_pdf(output.page(), out)


CSV = Format(
    "csv",
    "text/csv; charset=utf-8",
    "tables",
    lambda output, out: write_csv(_first_table(output), out),
    lambda output: iter_csv(_first_table(output)),
)
XLSX = Format(
    "xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "tables",
    lambda output, out: write_xlsx(list(output.tables()), out),
)
ZIP = Format(
    "zip",
    "application/zip",
    "tables",
    lambda output, out: write_zip(
        list(output.tables()), output.media() if output.media else (), out
    ),
    with_media=True,
)
JSON = Format(
    "json",
    "application/json",
    "data",
    lambda output, out: write_json(output.data(), out),
)
HTML = Format(
    "html",
    "text/html; charset=utf-8",
    "page",
    lambda output, out: write_html(output.page(), out),
)
PDF = Format("pdf", "application/pdf", "page", _pdf)

#: Every format, by name.
FORMATS = {f.name: f for f in (CSV, XLSX, ZIP, JSON, HTML, PDF)}


def writing(part: str) -> tuple[Format, ...]:
    """The formats that write one part of an output ("tables", "data" or "page").

    :param part: the part.
    :return: the formats, in registry order.
    """
    return tuple(f for f in FORMATS.values() if f.part == part)


def offered(output: Output) -> tuple[Format, ...]:
    """The formats an output can be written in, in registry order.

    :param output: the output (only which parts it has matters).
    :return: the formats.
    """
    return tuple(f for f in FORMATS.values() if f.accepts(output))


def named(name: str | None, among: Iterable[Format] = FORMATS.values()) -> Format | None:
    """The format of that name, if it is one of ``among``.

    :param name: e.g. ``xlsx`` (case-insensitive), or None.
    :param among: the formats the surface offers.
    :return: the format, or None.
    """
    wanted = (name or "").lower()
    return next((f for f in among if f.name == wanted), None)


def for_path(path: str | PurePath, among: Iterable[Format] = FORMATS.values(),
             default: Format | None = None) -> Format | None:  # fmt: skip
    """The format a file name asks for by its suffix.

    :param path: the file name.
    :param among: the formats the surface offers.
    :param default: the format of any other suffix (None: refuse them).
    :return: the format, or ``default``.
    """
    return named(PurePath(path).suffix.lstrip("."), among) or default
