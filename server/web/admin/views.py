"""Overview page: published forms and their versions, administrative units loaded."""

from __future__ import annotations

from flask import current_app, render_template, request

from server.extensions import db
from server.services.forms import get_form, list_forms, submission_counts
from server.services.units import count_units
from server.web.admin import bp


@bp.get("/")
def index():
    """Show the published forms, unit counts and how to connect ODK Collect."""
    return render_template(
        "admin/index.html",
        forms=list_forms(db.session),
        counts=submission_counts(db.session),
        units=count_units(db.session),
        server_url=current_app.config["BASE_URL"] or request.host_url,
    )


@bp.get("/admin/forms/<form_id>")
def form_detail(form_id: str):
    """Show one form's versions, warnings, fields and media."""
    form = get_form(db.session, form_id)
    return render_template("admin/form.html", form=form)
