"""The report pages (HTML) for planners: ``/reports/needs`` with its PDF and workbooks.

Pages need a signed-in user like every page (the admin blueprint's sign-in check is reused);
what a user may see is the permission policy's ``reports.needs`` with the planner's units.
Everything shown comes from the same service as the API and the CLI.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Blueprint, g, request
from werkzeug.datastructures import MultiDict

from exports import Output, formats
from server.domain import catalogue
from server.domain.policy import Action
from server.errors import InvalidRequest, ServiceError
from server.extensions import db
from server.models import AdminUnit
from server.rendering.reports import needs_output, render_needs
from server.services.needs_report import build_needs_report
from server.services.permissions import allowed, require, units_of
from server.services.report_files import working_list
from server.web.admin.login import require_login
from server.web.api.reports import check_report_access, needs_params
from server.web.downloads import download

bp = Blueprint("reports", __name__, url_prefix="/reports")
bp.before_request(require_login)

_FORM_KEYS = ("unit", "as_of", "period_from", "period_to", "level", "staff_cat", "job_position")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _form() -> dict:
    return {key: request.args.get(key, "") for key in _FORM_KEYS}


def _unit_choices() -> list:
    """Units offered in the picker: a planner's own, else the current provinces."""
    mine = units_of(g.user, Action.REPORT_NEEDS)
    query = sa.select(AdminUnit.code, AdminUnit.name).where(AdminUnit.valid_to.is_(None))
    if mine is not None:
        query = query.where(AdminUnit.code.in_(mine))
    else:
        query = query.where(AdminUnit.level == "province")
    return list(db.session.execute(query.order_by(AdminUnit.code)))


def _page(report=None, *, error: str | None = None, status: int = 200):
    html = render_needs(report, lang=g.lang, form=_form(), error=error, extra=_extra())
    return html, status


def _extra() -> dict:
    args = {k: v for k, v in _form().items() if v}
    return {
        "unit_choices": _unit_choices(),
        "levels": catalogue.LEVELS,
        "download_args": args,
        "can_list": allowed(g.user, Action.REPORT_WORKING_LIST),
    }


@bp.get("/needs")
def needs():
    """The report page: the parameter form, and the report once a unit is chosen."""
    require(g.user, Action.REPORT_NEEDS)
    if not request.args.get("unit"):
        default = units_of(g.user, Action.REPORT_NEEDS)
        if default:
            return _report_page({**request.args.to_dict(), "unit": default[0]})
        return _page()
    return _report_page(request.args.to_dict())


def _report_page(args: dict):
    try:
        params, _lang = needs_params(_multi(args))
        check_report_access(params)
        report = build_needs_report(db.session, params, now=_now())
    except InvalidRequest as error:
        return _page(error=_message(error), status=422)
    except ServiceError as error:
        if error.http_status == 403:
            raise
        return _page(error=_message(error), status=error.http_status)
    return _page(report)


def _message(error: ServiceError) -> str:
    return error.message_vi if g.lang == "vi" else error.message


def _multi(args: dict) -> MultiDict:
    return MultiDict({k: v for k, v in args.items() if v not in ("", None)})


@bp.get("/needs.pdf")
def needs_pdf():
    """The report page as a PDF (WeasyPrint on the server, charts as vector graphics)."""
    params, _lang = needs_params(_multi(request.args.to_dict()))
    check_report_access(params)
    report = build_needs_report(db.session, params, now=_now())
    output = needs_output(report, lang=g.lang)
    return download(output, formats.PDF, f"bao-cao-nhu-cau-{params.unit}.pdf")


@bp.get("/needs.xlsx")
def needs_xlsx():
    """Every table of the report as a sheet (Vietnamese headers, numbers as numbers)."""
    params, lang = needs_params(_multi(request.args.to_dict()))
    check_report_access(params)
    report = build_needs_report(db.session, params, now=_now())
    output = needs_output(report, lang=g.lang or lang)
    return download(output, formats.XLSX, f"bao-cao-nhu-cau-{params.unit}.xlsx")


@bp.get("/needs/working-list.xlsx")
def needs_working_list():
    """The working list a planner sends to each commune."""
    params, _lang = needs_params(_multi(request.args.to_dict()))
    check_report_access(params, Action.REPORT_WORKING_LIST)
    output = Output(tables=lambda: working_list(db.session, params))
    return download(output, formats.XLSX, f"danh-sach-can-dao-tao-{params.unit}.xlsx")


from server.web.reports import courses, programme  # noqa: E402,F401  (routes attach to bp)
