"""JSON API under ``/api/v1`` for scripts (Excel Power Query, R, Python) and pages.

Authentication: ``Authorization: Bearer <token>`` (``flask --app wsgi users token NAME``).
Every route declares its OpenAPI operation with :func:`operation`; ``/api/v1/openapi.json`` is
generated from those declarations and the marshmallow schemas, so the document cannot drift
from the code. Errors are ``{"error": {"code", "message", "message_vi", "details"}}``
(``server/web/errors.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, current_app, g, request
from marshmallow import Schema, ValidationError

from server.database import read_standalone_if_marked
from server.domain.policy import Action
from server.errors import AuthenticationRequired, InvalidRequest
from server.extensions import db
from server.services.accounts import api_caller_for_token, user_for_api_token
from server.services.permissions import require
from server.web import parameters

bp = Blueprint("api", __name__, url_prefix="/api/v1")

#: Endpoints anyone may read: the API's own description.
PUBLIC = {"api.openapi_json", "api.docs"}


def operation(summary: str, *, tags: tuple[str, ...] = (), query: type[Schema] | None = None,
              body: type[Schema] | None = None, response: Any = None,
              content_type: str = "application/json", errors: tuple[int, ...] = ()
              ) -> Callable:  # fmt: skip
    """Declare a view's OpenAPI operation (read by ``docs.build_spec``).

    :param summary: one line on what it does.
    :param tags: grouping in the document.
    :param query: schema of the query parameters.
    :param body: schema of the JSON body.
    :param response: schema (class or instance) of the 200 body, or None.
    :param content_type: media type of the success response.
    :param errors: HTTP error statuses the operation can answer besides 401.
    :return: the decorator.
    """

    def mark(view: Callable) -> Callable:
        view.openapi = {"summary": summary, "tags": list(tags), "query": query, "body": body,
                        "response": response, "content_type": content_type,
                        "errors": errors}  # fmt: skip
        return view

    return mark


def parse(schema: Schema, data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate request data; turn marshmallow errors into the catalogue's 422.

    :param schema: the schema instance.
    :param data: request.args, or the JSON body.
    :return: the loaded values.
    :raises InvalidRequest: naming every bad field, including values no database can hold.
    """
    try:
        loaded = schema.load(data)
    except ValidationError as exc:
        fields = exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}
        raise parameters.invalid(fields) from exc
    # Values no database can hold (a NUL, an integer past 32 bits) are 422s here, not 500s
    # in the driver (see server/web/parameters.py).
    problems = parameters.loaded_problems(loaded)
    if problems:
        raise parameters.invalid(problems)
    return loaded


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 422 explaining that one is needed."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidRequest(reason="json_body", fields={"_": ["JSON object"]})
    return body


def caller_from_cache(view: Callable) -> Callable:
    """Mark a view that reads its caller only through the permission policy.

    Its ``g.user`` is then the set-up cache's :class:`~server.services.setup_cache.ApiCaller`
    (role, forms, units), not an ORM ``User``: a page of a listing asks the database for the
    set-up generation instead of the token, its user and their forms. Only for views that
    pass ``g.user`` to ``require``/``units_of``/``readable_forms`` and nothing else.
    """
    view.caller_from_cache = True
    return view


@bp.before_request
def authenticate() -> None:
    """Find the user behind the bearer token (the API description is public)."""
    if request.endpoint in PUBLIC:
        return
    view = current_app.view_functions.get(request.endpoint)
    read_standalone_if_marked(view, request.method, db.session)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    if getattr(view, "caller_from_cache", False):
        user = api_caller_for_token(db.session, token)
    else:
        user = user_for_api_token(db.session, token) if token else None
    if user is None:
        raise AuthenticationRequired(reason="api_token")
    require(user, Action.USE_API)
    g.user = user


from server.web.api import (  # noqa: E402,F401  (routes attach to bp)
    docs,
    evaluation,
    exports,
    forms,
    jobs,
    programme,
    registry,
    report_targets,
    reports,
    submissions,
    units,
)
