"""The programme roll-up over the API (reports spec §3.8), for planners and administrators.

``GET /api/v1/reports/programme`` answers every table with numbers unrounded; planners get the
courses held in their units, administrators every course. No individual trainee appears: the
roll-up is counts and means.
"""

from __future__ import annotations

import datetime as dt

from flask import g, jsonify, request
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from exports import Output, formats
from server.domain import catalogue
from server.domain.policy import Action
from server.extensions import db
from server.services.permissions import require
from server.services.programme_report import PERIODS, ProgrammeFilter, build_programme_report
from server.services.report_files import report_tables
from server.web.api import bp, operation, parse
from server.web.downloads import download


class ProgrammeQuery(Schema):
    """Which courses the roll-up adds up, and how it groups them."""

    start = fields.Date(load_default=None, metadata={"description": "first course start date"})
    end = fields.Date(load_default=None, metadata={"description": "last course start date"})
    period = fields.String(load_default="year", validate=validate.OneOf(PERIODS))
    course_type = fields.String(
        load_default=None, validate=validate.OneOf(list(catalogue.COURSE_TYPES))
    )
    topic = fields.String(load_default=None, validate=validate.OneOf(catalogue.TOPICS))
    lang = fields.String(load_default="vi", validate=validate.OneOf(["vi", "en"]))

    @validates_schema
    def _order(self, data, **_kwargs):
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise ValidationError("start is after end", "end")


def selection_of(values: dict) -> ProgrammeFilter:
    """The service's filter from parsed query values."""
    return ProgrammeFilter(
        start=values.get("start"),
        end=values.get("end"),
        period=values.get("period") or "year",
        course_type=values.get("course_type"),
        topic=values.get("topic"),
    )


def programme_report(values: dict):
    """The roll-up for the caller (403 unless admin or planner)."""
    require(g.user, Action.REPORT_PROGRAMME)
    return build_programme_report(
        db.session, g.user, selection_of(values), now=dt.datetime.now(dt.UTC)
    )


@bp.get("/reports/programme")
@operation(
    "The programme roll-up: courses held, participants (person-times and unique persons), "
    "outcomes by course type and topic, course by course (numbers unrounded)",
    tags=("reports",),
    query=ProgrammeQuery,
    errors=(403, 422),
)
def programme():
    """The whole roll-up as JSON."""
    values = parse(ProgrammeQuery(), request.args)
    return jsonify(programme_report(values).to_dict())


@bp.get("/reports/programme.xlsx")
@operation(
    "The programme roll-up as a workbook, one sheet per table",
    tags=("reports",),
    query=ProgrammeQuery,
    errors=(403, 422),
    content_type=formats.XLSX.media_type,
)
def programme_xlsx():
    """Every table as a sheet."""
    values = parse(ProgrammeQuery(), request.args)
    report = programme_report(values)
    output = Output(tables=lambda: report_tables(report, lang=values["lang"]))
    return download(output, formats.XLSX, "chuong-trinh.xlsx")
