"""The audit log page: who changed what and when, filtered, newest first, and as CSV.

Administrators only (``audit.read_all``). The log is read through ``services/audit``; the page
only turns the query string into filters and renders one page of events.
"""

from __future__ import annotations

from flask import g, render_template, request, url_for

from exports import Output, formats
from server.domain.policy import Action
from server.errors import InvalidRequest
from server.extensions import db
from server.services import audit
from server.services.permissions import require
from server.web.admin import bp
from server.web.downloads import download


def _position(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) <= 12 else None


@bp.get("/admin/audit")
def audit_log():
    """One page of the audit log, with the filter form and links to newer and older pages."""
    require(g.user, Action.AUDIT_READ_ALL)
    error, page, filters = None, None, audit.AuditFilters()
    try:
        filters = audit.parse_filters(request.args)
    except InvalidRequest as exc:
        error = exc
    else:
        page = audit.browse(
            db.session, g.user, filters, before=_position("before"), after=_position("after")
        )
    args = filters.query_args()
    return render_template(
        "admin/audit.html",
        page=page,
        error=error,
        values=request.args,
        actors=audit.actors(db.session),
        actions=audit.action_names(db.session),
        console=audit.CONSOLE,
        describe=audit.describe,
        targets=audit.target_labels(db.session, page.events) if page else {},
        newer_url=page and page.newer and url_for("admin.audit_log", after=page.newer, **args),
        older_url=page and page.older and url_for("admin.audit_log", before=page.older, **args),
        newest_url=url_for("admin.audit_log", **args),
        csv_url=url_for("admin.audit_csv", **args),
    ), 422 if error else 200


@bp.get("/admin/audit.csv")
def audit_csv():
    """The filtered log as CSV (UTF-8 with BOM, Vietnam time), through the formats registry."""
    require(g.user, Action.AUDIT_READ_ALL)
    filters = audit.parse_filters(request.args)
    output = Output(tables=lambda: [audit.audit_table(db.session, g.user, filters)])
    return download(output, formats.CSV, "nhat-ky-thay-doi.csv")
