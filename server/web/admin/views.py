"""One form's page: its versions, warnings, fields and media."""

from __future__ import annotations

from flask import g, render_template

from server.domain.policy import Action
from server.extensions import db
from server.services.forms import get_form
from server.services.permissions import require
from server.web.admin import bp


@bp.get("/admin/forms/<form_id>")
def form_detail(form_id: str):
    """Show one form's versions, warnings, fields and media."""
    form = get_form(db.session, form_id)
    require(g.user, Action.FORM_READ, form=form)
    return render_template("admin/form.html", form=form)
