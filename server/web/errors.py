"""Renderers of catalogue errors and HTTP errors, one per surface.

The surface is chosen from the blueprint that handled the request, or, for routing errors
(404/405) that no blueprint saw, from the URL prefix. JSON callers get
``{"error": {"code", "message", "details"}}``; people get an HTML page in Vietnamese and English.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from server.errors import ServiceError

logger = logging.getLogger(__name__)

_HTTP_TITLES = {
    400: ("Yêu cầu không hợp lệ", "Bad request"),
    403: ("Không có quyền truy cập", "Forbidden"),
    404: ("Không tìm thấy trang", "Not found"),
    405: ("Phương thức không được phép", "Method not allowed"),
    413: ("Dữ liệu quá lớn", "Payload too large"),
    500: ("Lỗi máy chủ", "Server error"),
}


def register(app: Flask) -> None:
    """Install the error handlers on the app.

    :param app: the app.
    """
    app.register_error_handler(ServiceError, render_service_error)
    app.register_error_handler(HTTPException, render_http_error)


def _wants_json() -> bool:
    return request.blueprint == "api" or request.path.startswith("/api/")


def render_service_error(error: ServiceError):
    """Render a catalogue error for the current surface."""
    logger.info("%s on %s %s: %s", error.code, request.method, request.path, error.message)
    if _wants_json():
        body = {"error": {"code": error.code, "message": error.message, "details": error.details}}
        return jsonify(body), error.http_status
    return render_template(
        "errors/error.html",
        status=error.http_status,
        code=error.code,
        title_vi=error.title_vi,
        title_en=error.title_en,
        message=error.message,
    ), error.http_status


def render_http_error(error: HTTPException):
    """Render a routing or protocol error for the current surface."""
    status = error.code or 500
    title_vi, title_en = _HTTP_TITLES.get(status, (error.name, error.name))
    if _wants_json():
        body = {"error": {"code": str(status), "message": error.description, "details": {}}}
        response = jsonify(body)
    else:
        response = render_template(
            "errors/error.html",
            status=status,
            code=str(status),
            title_vi=title_vi,
            title_en=title_en,
            message=error.description,
        )
    return response, status
