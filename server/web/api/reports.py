"""The planners' needs-assessment report over the API: JSON, the workbook, the working list.

``GET /api/v1/reports/needs?as_of=…&period_from=…&period_to=…&unit=…`` answers every table with
its n, denominator definition, as-of date and sources, numbers unrounded. The PDF is made from
the report page (``/reports/needs.pdf``), so page and PDF never differ.
"""

from __future__ import annotations

import datetime as dt

from flask import g, jsonify, request
from marshmallow import Schema, ValidationError, fields, validates_schema

from exports import Output, formats
from server.domain.policy import Action
from server.extensions import db
from server.services.needs_report import NeedsParams, build_needs_report
from server.services.permissions import require, unit_in_scope
from server.services.report_files import report_tables, working_list
from server.web.api import bp, operation, parse
from server.web.downloads import download
from server.web.formatting import VIETNAM


class CodeList(fields.Field):
    """A list given as ``a,b`` or as repeated parameters (joined before loading)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError("expected codes separated by commas")
        return tuple(part.strip() for part in value.split(",") if part.strip())


class NeedsReportQuery(Schema):
    """Parameters of the needs-assessment report (reports spec §2.1)."""

    as_of = fields.Date(metadata={"description": "report date (ISO); default today, Vietnam"})
    period_from = fields.Date(metadata={"description": "first day of answers and flows"})
    period_to = fields.Date(metadata={"description": "last day of answers and flows"})
    unit = fields.String(
        required=True,
        validate=lambda code: 0 < len(code) <= 32 and code.isprintable(),
        metadata={"description": "any level's unit code (former units too), with sub-units"},
    )
    level = CodeList(metadata={"description": "province,district,commune,village"})
    staff_cat = CodeList(metadata={"description": "staff categories (catalogue codes)"})
    job_position = CodeList(metadata={"description": "job positions (TNA answers only)"})
    lang = fields.String(load_default="vi", validate=lambda v: v in {"vi", "en"})

    @validates_schema
    def _period(self, data, **kwargs):
        first, last = data.get("period_from"), data.get("period_to")
        if first and last and first > last:
            raise ValidationError("the period starts after it ends", "period_from")


def needs_params(raw) -> tuple[NeedsParams, str]:
    """Report parameters from a query string (repeated list parameters joined), with defaults.

    Defaults: today (Vietnam time); the period from 1 January of the report's year to the
    report date.

    :raises InvalidRequest: naming each bad parameter.
    """
    joined = {key: ",".join(raw.getlist(key)) for key in raw}
    values = parse(NeedsReportQuery(), joined)
    as_of = values.get("as_of") or dt.datetime.now(VIETNAM).date()
    params = NeedsParams(
        as_of=as_of,
        period_from=values.get("period_from") or dt.date(as_of.year, 1, 1),
        period_to=values.get("period_to") or as_of,
        unit=values["unit"],
        levels=values.get("level", ()),
        staff_cats=values.get("staff_cat", ()),
        job_positions=values.get("job_position", ()),
    )
    return params, values["lang"]


def check_report_access(params: NeedsParams, action: Action = Action.REPORT_NEEDS) -> None:
    """Planners read only their units (403); everyone else as the policy says."""
    require(g.user, action)
    inside = unit_in_scope(db.session, g.user, params.unit)
    if inside is False:
        require(g.user, action, in_units=False)


def _build(params: NeedsParams):
    return build_needs_report(db.session, params, now=dt.datetime.now(dt.UTC))


@bp.get("/reports/needs")
@operation(
    "The needs-assessment report: coverage vs targets, gaps, topics, plan (numbers unrounded)",
    tags=("reports",),
    query=NeedsReportQuery,
    errors=(403, 422),
)
def needs_report():
    """The whole report as JSON."""
    params, _lang = needs_params(request.args)
    check_report_access(params)
    return jsonify(_build(params).to_dict())


@bp.get("/reports/needs.xlsx")
@operation(
    "The needs-assessment report as a workbook: one sheet per table, Vietnamese headers",
    tags=("reports",),
    query=NeedsReportQuery,
    content_type=formats.XLSX.media_type,
    errors=(403, 422),
)
def needs_report_xlsx():
    """Every table as a sheet."""
    params, lang = needs_params(request.args)
    check_report_access(params)
    report = _build(params)
    output = Output(tables=lambda: report_tables(report, lang=lang))
    return download(output, formats.XLSX, f"nhu_cau_dao_tao_{params.unit}.xlsx")


@bp.get("/reports/needs/working-list.xlsx")
@operation(
    "The working list: named people in each KPI's denominator not yet qualified, per unit",
    tags=("reports",),
    query=NeedsReportQuery,
    content_type=formats.XLSX.media_type,
    errors=(403, 422),
)
def needs_working_list():
    """The list a planner sends to each commune (restricted: admins and planners in scope)."""
    params, _lang = needs_params(request.args)
    check_report_access(params, Action.REPORT_WORKING_LIST)
    output = Output(tables=lambda: working_list(db.session, params))
    return download(output, formats.XLSX, f"danh_sach_can_dao_tao_{params.unit}.xlsx")
