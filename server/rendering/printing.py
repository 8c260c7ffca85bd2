"""A report page laid out for print, and a report as the parts a file can be made of.

A printed page is rendered with print media (``g.pdf``: no navigation, no scripts), inside the
current request or, for the CLI, inside a test request context, and handed on as an
:class:`exports.Page` with the static folder it links to. :func:`report_output` gives a report's
three parts to the formats registry: its tables (XLSX), its model (JSON) and its page (PDF,
HTML), each made only when the chosen format asks for it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import current_app, g, has_request_context

from exports import Output, Page
from server.domain.report_model import Report
from server.services.report_files import report_tables


def printed(render: Callable[[], str], lang: str, path: str = "/reports") -> Page:
    """A page rendered for print.

    :param render: renders the page's HTML (called with ``g.lang`` and ``g.pdf`` set).
    :param lang: the page's language.
    :param path: the URL of the request context made when there is no request (the CLI).
    :return: the page.
    """
    app = current_app._get_current_object()

    def make() -> Page:
        g.lang, g.pdf = lang, True
        return Page(render(), Path(app.static_folder), app.static_url_path)

    if has_request_context():
        return make()
    with app.test_request_context(path):
        return make()


def report_output(report: Report, *, lang: str, page: Callable[[], Page]) -> Output:
    """A report as a file's parts: tables, its JSON model and its printed page.

    :param report: the computed report.
    :param lang: the language of headers and labels.
    :param page: renders the printed page.
    :return: the output.
    """
    return Output(tables=lambda: report_tables(report, lang=lang), data=report.to_dict, page=page)
