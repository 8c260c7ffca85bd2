"""The programme roll-up page (reports spec §3.8), its PDF and its workbook.

The same parameters as ``GET /api/v1/reports/programme`` (one schema), read from the page's
filter form; a bad value is shown on the page with the catalogue's message.
"""

from __future__ import annotations

from flask import g, render_template, request

from exports import formats
from server.domain import catalogue
from server.domain.policy import Action
from server.errors import InvalidRequest
from server.rendering.evaluation import programme_output, render_programme
from server.services.permissions import require
from server.web.api import parse
from server.web.api.programme import ProgrammeQuery, programme_report
from server.web.downloads import download
from server.web.reports import _message, bp


def _args() -> dict:
    return {k: v for k, v in request.args.items() if v not in ("", None)}


def _filters(args: dict, error: str | None = None) -> dict:
    return {
        "args": args,
        "error": error,
        "course_types": catalogue.COURSE_TYPES,
        "topics": catalogue.TOPICS,
    }


@bp.get("/programme")
def programme():
    """The roll-up of the courses in the reader's scope, with its filter form."""
    require(g.user, Action.REPORT_PROGRAMME)
    args = _args()
    try:
        values = parse(ProgrammeQuery(), {**args, "lang": g.lang})
    except InvalidRequest as error:
        return render_template("reports/programme.html", report=None,
                               **_filters(args, _message(error))), 422  # fmt: skip
    return render_programme(programme_report(values), extra=_filters(args))


@bp.get("/programme.pdf")
def programme_pdf_download():
    """The roll-up page as a PDF."""
    values = parse(ProgrammeQuery(), {**_args(), "lang": g.lang})
    output = programme_output(programme_report(values), lang=g.lang, extra=_filters(_args()))
    return download(output, formats.PDF, "tong-hop-chuong-trinh.pdf")


@bp.get("/programme.xlsx")
def programme_xlsx():
    """Every table of the roll-up as a sheet."""
    values = parse(ProgrammeQuery(), {**_args(), "lang": g.lang})
    output = programme_output(programme_report(values), lang=g.lang)
    return download(output, formats.XLSX, "tong-hop-chuong-trinh.xlsx")
