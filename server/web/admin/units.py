"""Administrative units: browse the tree with its history, search, and import a CSV.

Everyone who uses the pages may browse (``units.read``): planners look up the codes of their
units, trainers the venue of a course. Importing (``units.import``) is for administrators and
goes through the same all-or-nothing service as ``flask --app wsgi units import``; a file with
bad rows changes nothing and the page lists every row.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app, g, redirect, render_template, request, url_for

from server.domain.policy import Action
from server.errors import FileTooLarge, InvalidRequest, ServiceError
from server.extensions import db
from server.services import unit_tree
from server.services.permissions import allowed, require
from server.services.units import count_units
from server.web.admin import bp
from server.web.uploads import upload_limit

LEVEL_NAMES = {
    "province": ("Tỉnh, thành phố", "province"),
    "district": ("Quận, huyện", "district"),
    "commune": ("Xã, phường", "commune"),
    "hamlet": ("Thôn, tổ dân phố", "hamlet"),
}


def _page(*, error: ServiceError | None = None, result=None, filename: str = "", status=200):
    parent = request.args.get("parent", "")
    listing = unit_tree.browse_units(
        db.session,
        g.user,
        parent_id=int(parent) if parent.isdigit() and len(parent) <= 9 else None,
        search=request.args.get("q", ""),
        period=request.args.get("period", "current"),
    )
    return render_template(
        "admin/units.html",
        listing=listing,
        counts=count_units(db.session),
        q=request.args.get("q", "")[:100],
        period=request.args.get("period", "current"),
        periods=unit_tree.PERIODS,
        levels=LEVEL_NAMES,
        can_import=allowed(g.user, Action.UNITS_IMPORT),
        error=error,
        result=result,
        filename=filename,
    ), status


@bp.get("/admin/units")
def units():
    """The units under a parent (provinces first), or those matching a search."""
    require(g.user, Action.UNITS_READ)
    added = request.args.get("imported")
    return _page(result=_imported(added) if added else None)


def _imported(raw: str) -> dict | None:
    parts = raw.split("-")
    if len(parts) != 3 or not all(p.isdigit() and len(p) <= 9 for p in parts):
        return None
    return dict(zip(("added", "updated", "unchanged"), map(int, parts), strict=True))


@bp.post("/admin/units/import")
@upload_limit("PAGE_UPLOAD_MAX_BYTES")
def units_import():
    """Import a CSV of local or historical units; every bad row is listed, nothing applied."""
    require(g.user, Action.UNITS_IMPORT)
    limit = current_app.config["PAGE_UPLOAD_MAX_BYTES"]
    upload = request.files.get("file") if (request.content_length or 0) <= limit else None
    filename = (upload.filename or "units.csv") if upload else ""
    try:
        if (request.content_length or 0) > limit:
            raise FileTooLarge(size=request.content_length, limit=limit)
        if upload is None or not upload.filename:
            raise InvalidRequest(
                reason="multipart_field", field="file", fields={"file": ["required"]}
            )
        content = upload.read(limit + 1)
        result = unit_tree.import_units_file(
            content,
            filename=filename,
            actor=g.user,
            session=db.session,
            now=dt.datetime.now(dt.UTC),
        )
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        return _page(error=exc, filename=filename, status=exc.http_status)
    counts = f"{result.added}-{result.updated}-{result.unchanged}"
    return redirect(url_for("admin.units", imported=counts))
