"""The needs report's KPI targets and settings over the API (spec §1.2, §1.9).

Everyone who reads reports (administrators, trainers, planners) reads them; only
administrators change them. ``province`` omitted or empty means the defaults every province
inherits; a province's own values replace them.
"""

from __future__ import annotations

import datetime as dt

from flask import g, jsonify, request
from marshmallow import Schema, fields, validate

from server.domain.policy import Action
from server.extensions import db
from server.services import report_targets
from server.services.permissions import require
from server.web.api import bp, json_body, operation, parse

_PROVINCE = fields.String(
    load_default="",
    validate=validate.Length(max=32),
    metadata={"description": "province code; empty: the defaults every province inherits"},
)


class KpiTargetsQuery(Schema):
    """Query parameters of the target listing."""

    province = _PROVINCE


class KpiTargetSchema(Schema):
    """A KPI target as it applies to a province."""

    kpi = fields.String(metadata={"description": "KPI-01 … KPI-09"})
    period_start = fields.Date()
    period_end = fields.Date(metadata={"description": "the target is due at the end of this day"})
    target_pct = fields.Float()
    baseline_pct = fields.Float(allow_none=True)
    baseline_date = fields.Date(allow_none=True)
    source = fields.String()
    province_code = fields.String(metadata={"description": "the row's province ('' = default)"})
    inherited = fields.Boolean(metadata={"description": "true: the province has no own target"})
    updated_at = fields.DateTime()


class KpiTargetInput(Schema):
    """Body of PUT /reports/targets/{kpi}; fields left out keep their value (or the default's)."""

    period = fields.String(
        required=True, metadata={"description": "2022-2025 (1/1/2022–31/12/2025), or one year"}
    )
    target_pct = fields.Float(validate=validate.Range(min=0, max=100))
    baseline_pct = fields.Float(allow_none=True, validate=validate.Range(min=0, max=100))
    baseline_date = fields.Date(allow_none=True)
    source = fields.String(validate=validate.Length(max=255))
    province = _PROVINCE


class ReportSettingsQuery(Schema):
    """Query parameters of the settings routes."""

    province = _PROVINCE


def _values(required: bool) -> dict[str, fields.Field]:
    described = {
        key: fields.Raw(allow_none=True, required=required, metadata={"description": s.help})
        for key, s in report_targets.SETTINGS.items()
    }
    return described


class ReportSettingsInput(Schema.from_dict(_values(False), name="ReportSettingsValues")):
    """Body of PATCH /reports/settings: the keys to change (checked by type and range)."""


class ReportSettingsSchema(Schema):
    """Every setting's value for a province, and where each value comes from."""

    province = fields.String()
    values = fields.Nested(Schema.from_dict(_values(True), name="ReportSettingValues"))
    sources = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "province (its own), all (the default row) or default"},
    )


def _settings(province: str, values) -> dict:
    return ReportSettingsSchema().dump(
        {
            "province": province,
            "values": {s.key: s.value for s in values},
            "sources": {s.key: s.source for s in values},
        }
    )


@bp.get("/reports/targets")
@operation(
    "KPI targets and baselines that apply to a province (its own, else the defaults)",
    tags=("reports",),
    query=KpiTargetsQuery,
    response=KpiTargetSchema(many=True),
    errors=(403, 422),
)
def list_report_targets():
    """List the targets of a province."""
    require(g.user, Action.TARGETS_READ)
    args = parse(KpiTargetsQuery(), request.args)
    targets = report_targets.list_targets(db.session, province=args["province"])
    return jsonify(KpiTargetSchema(many=True).dump(targets))


@bp.put("/reports/targets/<kpi>")
@operation(
    "Set a KPI's target (and baseline) for a period, for a province or as the default",
    tags=("reports",),
    body=KpiTargetInput,
    response=KpiTargetSchema,
    errors=(403, 422),
)
def put_report_target(kpi: str):
    """Set a target (administrators)."""
    require(g.user, Action.TARGETS_EDIT)
    values = parse(KpiTargetInput(), json_body())
    keep = report_targets.KEEP
    target = report_targets.set_target(
        db.session,
        kpi,
        period=values["period"],
        target_pct=values.get("target_pct", keep),
        baseline_pct=values.get("baseline_pct", keep),
        baseline_date=values.get("baseline_date", keep),
        source=values.get("source", keep),
        province=values["province"],
        now=dt.datetime.now(dt.UTC),
    )
    db.session.commit()
    return jsonify(KpiTargetSchema().dump(target))


@bp.get("/reports/settings")
@operation(
    "The report settings of a province (its own, else the defaults)",
    tags=("reports",),
    query=ReportSettingsQuery,
    response=ReportSettingsSchema,
    errors=(403, 422),
)
def get_report_settings():
    """Read the settings of a province."""
    require(g.user, Action.TARGETS_READ)
    province = parse(ReportSettingsQuery(), request.args)["province"]
    return jsonify(_settings(province, report_targets.list_settings(db.session, province=province)))


@bp.patch("/reports/settings")
@operation(
    "Change report settings of a province (?province=) or the defaults; all or nothing",
    tags=("reports",),
    query=ReportSettingsQuery,
    body=ReportSettingsInput,
    response=ReportSettingsSchema,
    errors=(403, 422),
)
def patch_report_settings():
    """Change settings (administrators)."""
    require(g.user, Action.TARGETS_EDIT)
    province = parse(ReportSettingsQuery(), request.args)["province"]
    changes = parse(ReportSettingsInput(), json_body())
    values = report_targets.set_settings(
        db.session, changes, province=province, now=dt.datetime.now(dt.UTC)
    )
    db.session.commit()
    return jsonify(_settings(province, values))
