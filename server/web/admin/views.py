"""Overview page: published forms and their versions, administrative units loaded."""

from __future__ import annotations

from flask import current_app, g, render_template, request

from server.domain.policy import Action
from server.extensions import db
from server.services.forms import get_form, list_forms, submission_counts
from server.services.permissions import readable_forms, require, units_of
from server.services.submission_queries import scope_clause
from server.services.units import count_units
from server.web.admin import bp


@bp.get("/")
def index():
    """Show the published forms the user may read, unit counts and how to connect Collect."""
    allowed = readable_forms(g.user, Action.FORM_READ)
    units = units_of(g.user, Action.SUBMISSION_READ)
    return render_template(
        "admin/index.html",
        forms=[f for f in list_forms(db.session) if allowed is None or f.id in allowed],
        counts=submission_counts(db.session, within=scope_clause(db.session, units)),
        units=count_units(db.session),
        server_url=current_app.config["BASE_URL"] or request.host_url,
    )


@bp.get("/admin/forms/<form_id>")
def form_detail(form_id: str):
    """Show one form's versions, warnings, fields and media."""
    form = get_form(db.session, form_id)
    require(g.user, Action.FORM_READ, form=form)
    return render_template("admin/form.html", form=form)
