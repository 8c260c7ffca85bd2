"""A rendered page (HTML) to PDF, with WeasyPrint: what the browser prints, on the server.

The page is laid out for ``print`` media, so the stylesheet's ``@media print`` rules (no
navigation, page header, tables kept whole) give the PDF its look, and ``@page`` rules give the
paper size, margins and page numbers. Inline SVG charts (``exports/charts.py``) are drawn as
vectors, with their text kept as text.

Nothing is fetched over the network: a URL under ``static_url_path`` is read from
``static_dir`` (no ``..`` escapes), ``data:`` URLs are decoded, and every other URL is refused,
so a page that names a foreign image cannot make the server fetch it (SSRF). WeasyPrint needs
Pango (Debian ``libpango-1.0-0``, ``libpangoft2-1.0-0``) and a font with Vietnamese letters
(``fonts-dejavu-core``); ``scripts/system-deps`` installs them.
"""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from typing import IO
from urllib.parse import unquote, urlsplit

from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from exports.page import Page

__all__ = ["LocalOnlyFetcher", "html_to_pdf", "write_pdf"]

#: The origin relative URLs are resolved against; it never resolves on any network.
BASE_URL = "http://taphuan.invalid/"

logger = logging.getLogger(__name__)


class LocalOnlyFetcher(URLFetcher):
    """Serve static files from disk and ``data:`` URLs; refuse everything else.

    :param static_dir: the folder of the app's static files.
    :param static_url_path: the URL path they are served under, e.g. ``/static``.
    """

    def __init__(self, static_dir: Path, static_url_path: str = "/static"):
        super().__init__(allowed_protocols=("data", "http", "https"), allow_redirects=False)
        self.static_dir = Path(static_dir).resolve()
        self.prefix = "/" + static_url_path.strip("/") + "/"

    def fetch(self, url, headers=None):
        """Return a static file or a ``data:`` URL's content.

        :raises ValueError: for any other URL (WeasyPrint then leaves the resource out).
        """
        if url.startswith("data:"):
            return super().fetch(url, headers)
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}/" != BASE_URL or not parts.path.startswith(
            self.prefix
        ):
            raise ValueError(f"only the app's static files may be loaded, not {url}")
        path = (self.static_dir / unquote(parts.path[len(self.prefix) :])).resolve()
        if not path.is_relative_to(self.static_dir) or not path.is_file():
            raise ValueError(f"no static file {parts.path}")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        headers = {"Content-Type": mime + ("; charset=utf-8" if mime.startswith("text/") else "")}
        return URLFetcherResponse(url, path.read_bytes(), headers)


def html_to_pdf(
    html: str,
    *,
    static_dir: Path,
    static_url_path: str = "/static",
) -> bytes:
    """Lay out a page for print and return the PDF.

    :param html: the whole page (``<!doctype html>…``); links such as
        ``/static/taphuan.css`` are read from ``static_dir``.
    :param static_dir: the folder of the app's static files.
    :param static_url_path: the URL path of that folder in the page's links.
    :return: the PDF document.
    """
    fetcher = LocalOnlyFetcher(static_dir, static_url_path)
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher, media_type="print")
    return document.write_pdf()


def write_pdf(page: Page, out: IO[bytes]) -> None:
    """Write a rendered page as a PDF (the registry's PDF format).

    :param page: the page, rendered for print.
    :param out: a binary file object.
    """
    out.write(html_to_pdf(page.html, static_dir=page.static_dir,
                          static_url_path=page.static_url_path))  # fmt: skip
