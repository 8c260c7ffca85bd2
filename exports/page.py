"""A page laid out by the server: what the HTML and PDF formats are made from.

The server renders its report templates into a :class:`Page` (print media already chosen);
this package only writes it: through WeasyPrint as a PDF (``exports.pdf``), or as one
self-contained HTML file here, its stylesheets from the static folder inlined, so the file
reads the same when opened from a disk or a mail, away from the server.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO

_STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)">')


@dataclass(frozen=True)
class Page:
    """A rendered page and where its static files (``/static/…``) are on disk."""

    html: str
    static_dir: Path
    static_url_path: str = "/static"


def write_html(page: Page, out: IO[bytes]) -> None:
    """Write the page as one UTF-8 HTML file, its own stylesheets inlined.

    :param page: the page.
    :param out: a binary file object.
    """
    out.write(_STYLESHEET.sub(lambda m: _inlined(page, m), page.html).encode("utf-8"))


def _inlined(page: Page, link: re.Match) -> str:
    """A ``<style>`` with a static stylesheet's text; other links stay as they are."""
    prefix = "/" + page.static_url_path.strip("/") + "/"
    href = html.unescape(link.group(1))
    if not href.startswith(prefix):
        return link.group(0)
    folder = page.static_dir.resolve()
    path = (folder / href[len(prefix) :].split("?")[0]).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        return link.group(0)
    return "<style>" + path.read_text("utf-8").replace("</", "<\\/") + "</style>"
