"""The OpenAPI 3 document and a readable HTML page of it.

The document is generated from the routes' declarations and the marshmallow schemas; the page
renders it on the server and needs no CDN, so it works offline in the province's network.
"""

from __future__ import annotations

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app, jsonify, render_template

from server.web.api import bp, operation
from server.web.api.schemas import ErrorSchema

_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
_STATUS_TEXT = {
    400: "Bad input",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    413: "Too large",
    422: "Invalid parameters",
    503: "Unavailable",
}


def build_spec() -> dict:
    """Build the OpenAPI document of every ``api.*`` route.

    :return: the document as a dict.
    """
    spec = APISpec(
        title="taphuan API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Training survey server: forms, submissions, units."},
        servers=[{"url": "/api/v1"}],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", schema=ErrorSchema)
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith("api."):
            continue
        view = current_app.view_functions[rule.endpoint]
        meta = getattr(view, "openapi", None)
        if meta is None:
            continue
        path = _PARAM.sub(r"{\2}", rule.rule.removeprefix("/api/v1"))
        operations = {}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operations[method.lower()] = _operation(rule, meta, view.__name__)
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _operation(rule, meta: dict, name: str) -> dict:
    params = [
        {
            "in": "path",
            "name": arg,
            "required": True,
            "schema": {"type": "integer" if conv == "int" else "string"},
        }
        for conv, arg in _PARAM.findall(rule.rule)
    ]
    if meta["query"] is not None:
        params.append({"in": "query", "schema": meta["query"]})
    responses = {
        "401": {
            "description": "API token missing or invalid",
            "content": {"application/json": {"schema": "Error"}},
        }
    }
    for status in meta["errors"]:
        responses[str(status)] = {
            "description": _STATUS_TEXT.get(status, "Error"),
            "content": {"application/json": {"schema": "Error"}},
        }
    ok = {"description": "OK"}
    if meta["response"] is not None:
        ok["content"] = {meta["content_type"]: {"schema": meta["response"]}}
    elif meta["content_type"] != "application/json":
        ok["content"] = {meta["content_type"]: {"schema": {"type": "string", "format": "binary"}}}
    responses["200"] = ok
    result = {
        "summary": meta["summary"],
        "operationId": name,
        "tags": meta["tags"],
        "parameters": params,
        "responses": responses,
        "security": [{"bearer": []}],
    }
    if meta["body"] is not None:
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": meta["body"]}},
        }
    return result


@bp.get("/openapi.json")
def openapi_json():
    """The OpenAPI 3 document of this API."""
    return jsonify(build_spec())


@bp.get("/docs")
def docs():
    """The API described for people, from the same document, without any CDN."""
    return render_template("api/docs.html", spec=build_spec())


_ = operation  # the decorator is documented in server/web/api/__init__.py
