"""The trainers' evaluation report over the API, comment recoding and dropping a keyed item.

``GET /api/v1/reports/courses/{code}/evaluation`` answers every table of spec §3 with numbers
unrounded; individual rows (trainee table, verbatim comments) only for the course's trainer and
administrators, aggregates for the planners of the course's unit. The PDF and the scorecards
are made from the report page (``/reports/courses/<code>.pdf``).
"""

from __future__ import annotations

import datetime as dt

from flask import g, jsonify, request
from marshmallow import Schema, fields, validate

from exports import Output, formats
from server.domain.policy import Action
from server.extensions import db
from server.models import Course
from server.services import comment_coding, key_review, reconciliation
from server.services.bank_report import build_bank_report
from server.services.courses import get_course
from server.services.evaluation_report import build_course_report
from server.services.forms import get_form
from server.services.permissions import (
    allowed,
    course_owners_of_form,
    require,
    unit_in_scope,
    units_of,
)
from server.services.report_files import report_tables
from server.web.api import bp, json_body, operation, parse
from server.web.downloads import download


class EvaluationQuery(Schema):
    """Parameters of the evaluation report."""

    lang = fields.String(load_default="vi", validate=validate.OneOf(["vi", "en"]))


class RecodeBody(Schema):
    """The codes a person gives one comment (empty: back to automatic coding)."""

    codes = fields.List(fields.Integer(), required=True)


class RecodeResult(Schema):
    """The comment's stored codes."""

    submission_id = fields.Integer()
    question = fields.String()
    codes = fields.List(fields.Integer())


class KeyItemBody(Schema):
    """Drop a keyed item after review, or restore it."""

    status = fields.String(required=True, validate=validate.OneOf(["dropped", "active"]))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    version = fields.String(load_default=None)


class KeyItemResult(Schema):
    """What the change did."""

    form_id = fields.String()
    version = fields.String()
    item = fields.String()
    change = fields.String()
    rescored = fields.Integer()
    changed_at = fields.DateTime()


def course_for_report(code: str, action: Action = Action.REPORT_COURSE) -> Course:
    """The course, if the caller may read its report (404 unknown, 403 not theirs)."""
    require(g.user, action)
    course = get_course(db.session, code)
    inside = (
        unit_in_scope(db.session, g.user, course.venue_unit_code)
        if course.venue_unit_code
        else None
    )
    if inside is None and units_of(g.user, action) is not None:
        inside = False  # a unit-limited reader never sees a course held nowhere they know
    require(g.user, action, owner_ids=[course.created_by_user_id], in_units=inside)
    return course


def may_read_rows(course: Course) -> bool:
    """Whether the caller sees individual trainees of this course."""
    return allowed(g.user, Action.REPORT_COURSE_ROWS, owner_ids=[course.created_by_user_id])


def course_report(course: Course, lang: str = "vi"):
    """Build the report for the caller (rows only when the policy allows them)."""
    return build_course_report(
        db.session, course, now=dt.datetime.now(dt.UTC), rows=may_read_rows(course), lang=lang
    )


@bp.get("/reports/courses/<code>/evaluation")
@operation(
    "The evaluation report of a course: scores, gain, pass rates, items, satisfaction "
    "(numbers unrounded; trainee rows for the course's trainer and administrators)",
    tags=("reports",),
    query=EvaluationQuery,
    errors=(403, 404, 422),
)
def course_evaluation(code: str):
    """The whole report as JSON."""
    values = parse(EvaluationQuery(), request.args)
    course = course_for_report(code)
    return jsonify(course_report(course, values["lang"]).to_dict())


@bp.get("/reports/courses/<code>/evaluation.xlsx")
@operation(
    "The evaluation report as a workbook: one sheet per table",
    tags=("reports",),
    query=EvaluationQuery,
    content_type=formats.XLSX.media_type,
    errors=(403, 404, 422),
)
def course_evaluation_xlsx(code: str):
    """Every table as a sheet."""
    values = parse(EvaluationQuery(), request.args)
    course = course_for_report(code)
    report = course_report(course, values["lang"])
    output = Output(tables=lambda: report_tables(report, lang=values["lang"]))
    return download(output, formats.XLSX, f"danh_gia_{code}.xlsx")


@bp.put("/reports/courses/<code>/comments/<int:submission_id>/<question>")
@operation(
    "Recode one open comment of a course evaluation (codes from the code frame)",
    tags=("reports",),
    body=RecodeBody,
    response=RecodeResult,
    errors=(403, 404, 422),
)
def recode_comment(code: str, submission_id: int, question: str):
    """Replace a comment's codes (the course's trainer, administrators)."""
    course = course_for_report(code, Action.COMMENT_CODE)
    values = parse(RecodeBody(), json_body())
    codes = comment_coding.recode_comment(
        db.session,
        course,
        submission_id,
        question,
        values["codes"],
        user=g.user,
        now=dt.datetime.now(dt.UTC),
    )
    db.session.commit()
    return jsonify({"submission_id": submission_id, "question": question, "codes": codes})


@bp.post("/forms/<form_id>/answer-key/items/<item>")
@operation(
    "Drop a keyed item after review (or restore it) and re-score every attempt of the version",
    tags=("registry",),
    body=KeyItemBody,
    response=KeyItemResult,
    errors=(400, 403, 404, 422),
)
def change_key_item(form_id: str, item: str):
    """A key change with an audit row (administrators, the course's trainer)."""
    form = get_form(db.session, form_id)
    require(g.user, Action.KEY_UPLOAD, owner_ids=course_owners_of_form(db.session, form))
    values = parse(KeyItemBody(), json_body())
    result = key_review.change_item(
        db.session,
        form,
        item,
        change="dropped" if values["status"] == "dropped" else "restored",
        reason=values["reason"],
        user=g.user,
        now=dt.datetime.now(dt.UTC),
        version=values.get("version"),
    )
    db.session.commit()
    return jsonify(KeyItemResult().dump(result))


@bp.get("/reports/banks/<bank_id>/<version>")
@operation(
    "Pooled item analysis of a test bank version over every course that used it (Moodle's "
    "quiz statistics, per phase; numbers unrounded)",
    tags=("reports",),
    errors=(403, 404),
)
def bank_items(bank_id: str, version: str):
    """The bank's item analysis as JSON (trainers, administrators)."""
    require(g.user, Action.SCORES_READ)
    report = build_bank_report(db.session, bank_id, version, now=dt.datetime.now(dt.UTC))
    return jsonify(report.to_dict())


class IdentityBody(Schema):
    """Who sent a test under a name not on the roster."""

    person_code = fields.String(required=True, validate=validate.Length(min=1, max=32))


class IdentityResult(Schema):
    """The link made."""

    submission_id = fields.Integer()
    person_code = fields.String()


@bp.put("/reports/courses/<code>/identities/<int:submission_id>")
@operation(
    "Link a test sent under a name not on the roster to an enrolled trainee (re-scores it)",
    tags=("reports",),
    body=IdentityBody,
    response=IdentityResult,
    errors=(403, 404, 422),
)
def link_identity(code: str, submission_id: int):
    """Reconcile a fallback identity (the course's trainer, administrators)."""
    course = course_for_report(code, Action.COURSE_MANAGE)
    values = parse(IdentityBody(), json_body())
    reconciliation.link_identity(
        db.session,
        course,
        submission_id,
        values["person_code"],
        user=g.user,
        now=dt.datetime.now(dt.UTC),
    )
    db.session.commit()
    return jsonify({"submission_id": submission_id, "person_code": values["person_code"]})
