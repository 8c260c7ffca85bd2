"""Administrative units over the API."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g, jsonify, request

from server.domain.policy import Action
from server.extensions import db
from server.models import AdminUnit
from server.services.permissions import require
from server.web.api import bp, operation, parse
from server.web.api.schemas import UnitQuery, UnitSchema


@bp.get("/units")
@operation(
    "Administrative units (current ones by default)",
    tags=("units",),
    query=UnitQuery,
    response=UnitSchema(many=True),
    errors=(422,),
)
def list_units():
    """List units, filtered by level and parent code."""
    require(g.user, Action.UNITS_READ)
    args = parse(UnitQuery(), request.args)
    parent = sa.orm.aliased(AdminUnit)
    query = (
        sa.select(AdminUnit, parent.code)
        .outerjoin(parent, AdminUnit.parent)
        .order_by(AdminUnit.level, AdminUnit.code, AdminUnit.valid_from)
    )
    if args.get("level"):
        query = query.where(AdminUnit.level == args["level"])
    if args.get("parent"):
        query = query.where(parent.code == args["parent"])
    if args["current"]:
        query = query.where(AdminUnit.valid_to.is_(None))
    units = [
        {
            "code": u.code,
            "level": u.level,
            "name": u.name,
            "kind": u.kind,
            "parent_code": parent_code,
            "valid_from": u.valid_from,
            "valid_to": u.valid_to,
        }
        for u, parent_code in db.session.execute(query)
    ]
    return jsonify(UnitSchema(many=True).dump(units))
