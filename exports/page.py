"""A page laid out by the server, as HTML: what the HTML and PDF formats are made from.

The server renders its report templates into a :class:`Page` (print media already chosen when
the page is for paper); this package only writes it: as UTF-8 HTML here, or through WeasyPrint
as a PDF (``exports.pdf``). The static folder travels with the page because the PDF reads the
stylesheet and fonts from disk, never over the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO


@dataclass(frozen=True)
class Page:
    """A rendered page and where its static files (``/static/…``) are on disk."""

    html: str
    static_dir: Path
    static_url_path: str = "/static"


def write_html(page: Page, out: IO[bytes]) -> None:
    """Write the page as UTF-8 HTML.

    :param page: the page.
    :param out: a binary file object.
    """
    out.write(page.html.encode("utf-8"))
