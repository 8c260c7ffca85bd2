"""The trainers' evaluation report pages.

The course list, one course's report, its PDF, workbook and scorecards, and the two things a
trainer changes from the page (a comment's codes, a dropped item). Access goes through the same
checks as the API (``course_for_report``).
"""

from __future__ import annotations

import datetime as dt
import re

from flask import abort, flash, g, redirect, render_template, request, url_for

from exports import formats
from server.domain.policy import Action
from server.errors import ServiceError
from server.extensions import db
from server.rendering.evaluation import (
    course_output,
    render_bank,
    render_course,
    scorecards_output,
)
from server.services import comment_coding, key_review, reconciliation
from server.services.bank_report import build_bank_report
from server.services.evaluation_reaction import comment_frame
from server.services.forms import get_form
from server.services.permissions import (
    allowed,
    course_owners_of_form,
    readable_courses,
    require,
)
from server.web.api.evaluation import course_for_report, course_report
from server.web.downloads import download
from server.web.reports import bp


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _safe(code: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", code)


@bp.get("/courses")
def courses():
    """The courses whose evaluation report the user may read."""
    require(g.user, Action.REPORT_COURSE)
    return render_template(
        "reports/courses.html", courses=readable_courses(db.session, g.user, Action.REPORT_COURSE)
    )


@bp.get("/courses/<code>")
def course(code: str):
    """One course's evaluation report."""
    found = course_for_report(code)
    report = course_report(found, g.lang)
    can_code = allowed(g.user, Action.COMMENT_CODE, owner_ids=[found.created_by_user_id])
    return render_course(
        report,
        extra={
            "can_code": can_code,
            "can_drop": can_code and bool(found.pre_form_id or found.post_form_id),
            "frame": comment_frame(),
            "can_bank": allowed(g.user, Action.SCORES_READ),
            "can_link": allowed(g.user, Action.COURSE_MANAGE, owner_ids=[found.created_by_user_id]),
        },
    )


@bp.get("/courses/<code>.pdf")
def course_pdf_download(code: str):
    """The report as a PDF (same template as the page)."""
    found = course_for_report(code)
    output = course_output(course_report(found, g.lang), lang=g.lang)
    return download(output, formats.PDF, f"danh-gia-{_safe(code)}.pdf")


@bp.get("/courses/<code>.xlsx")
def course_xlsx(code: str):
    """Every table of the report as a sheet."""
    found = course_for_report(code)
    output = course_output(course_report(found, g.lang), lang=g.lang)
    return download(output, formats.XLSX, f"danh-gia-{_safe(code)}.xlsx")


@bp.get("/courses/<code>/scorecards.pdf")
def scorecards(code: str):
    """A printable scorecard per trainee (individual rows: the course's trainer, admins)."""
    found = course_for_report(code, Action.REPORT_COURSE_ROWS)
    output = scorecards_output(course_report(found, g.lang), lang=g.lang)
    return download(output, formats.PDF, f"phieu-diem-{_safe(code)}.pdf")


@bp.post("/courses/<code>/comments/<int:submission_id>/<question>")
def recode(code: str, submission_id: int, question: str):
    """Save the codes a trainer gave one comment, then back to the comments table."""
    found = course_for_report(code, Action.COMMENT_CODE)
    codes = [int(c) for c in request.form.getlist("codes") if c.isdigit()]
    try:
        comment_coding.recode_comment(
            db.session, found, submission_id, question, codes, user=g.user, now=_now()
        )
    except ServiceError as error:
        db.session.rollback()
        flash(_message(error), "error")
    else:
        db.session.commit()
        flash(_t("Đã lưu mã của ý kiến.", "The comment's codes are saved."), "ok")
    return redirect(url_for("reports.course", code=code) + "#C2")


@bp.post("/courses/<code>/identities/<int:submission_id>")
def link_identity(code: str, submission_id: int):
    """Say which enrolled trainee sent a test under a name not on the roster."""
    found = course_for_report(code, Action.COURSE_MANAGE)
    try:
        reconciliation.link_identity(
            db.session,
            found,
            submission_id,
            request.form.get("person_code", ""),
            user=g.user,
            now=_now(),
        )
    except ServiceError as error:
        db.session.rollback()
        flash(_message(error), "error")
    else:
        db.session.commit()
        flash(_t("Đã ghép bài làm với học viên.", "The test is linked to the trainee."), "ok")
    return redirect(url_for("reports.course", code=code) + "#T3")


@bp.post("/courses/<code>/key-items")
def drop_item(code: str):
    """Drop (or restore) an item of the course's test key after review.

    Every attempt is re-scored and the change is listed in section K.
    """
    require(g.user, Action.KEY_UPLOAD)
    found = course_for_report(code)
    form_id = request.form.get("form_id", "")
    if form_id not in {found.pre_form_id, found.post_form_id}:
        abort(404)
    form = get_form(db.session, form_id)
    require(g.user, Action.KEY_UPLOAD, owner_ids=course_owners_of_form(db.session, form))
    try:
        result = key_review.change_item(
            db.session,
            form,
            request.form.get("item", ""),
            change="restored" if request.form.get("restore") else "dropped",
            reason=request.form.get("reason", ""),
            user=g.user,
            now=_now(),
        )
    except ServiceError as error:
        db.session.rollback()
        flash(_message(error), "error")
    else:
        db.session.commit()
        flash(
            _t(
                f"Đã chấm lại {result.rescored} bài sau khi đổi câu {result.item}.",
                f"{result.rescored} attempts re-scored after changing {result.item}.",
            ),
            "ok",
        )
    return redirect(url_for("reports.course", code=code) + "#section-K")


def _t(vi: str, en: str) -> str:
    return en if g.lang == "en" else vi


def _message(error: ServiceError) -> str:
    return error.message if g.lang == "en" else error.message_vi


@bp.get("/banks/<bank_id>/<version>")
def bank(bank_id: str, version: str):
    """The pooled item analysis of a test bank version (trainers, administrators)."""
    require(g.user, Action.SCORES_READ)
    report = build_bank_report(db.session, bank_id, version, now=_now())
    return render_bank(report)
