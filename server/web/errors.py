"""Renderers of catalogue errors and HTTP errors, one per surface.

The surface is chosen from the blueprint that handled the request, or, for routing errors
(404/405) that no blueprint saw, from the URL prefix. Every surface carries both languages:
JSON callers get ``{"error": {"code", "message", "message_vi", "details"}}``; people get an
HTML page with the Vietnamese message first, then the English one; Collect shows the one line
of ``<OpenRosaResponse>``, "title_vi: message_vi / title_en: message [code]".
"""

from __future__ import annotations

import logging
import secrets
import time

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, SecurityError

from server.database import RETRY_AFTER_SECONDS, is_unavailable
from server.domain.digest import make_nonce
from server.errors import AuthenticationRequired, BodyTooLarge, DatabaseUnavailable, ServiceError
from server.extensions import db
from server.web.openrosa import with_openrosa_headers
from server.web.openrosa.responses import openrosa_response
from server.web.security import forgery_error

logger = logging.getLogger(__name__)

#: Status → (title_vi, title_en, message_vi) of the HTTP errors no catalogue error stands for
#: (routing, methods); the English message is werkzeug's description.
_HTTP_TEXTS = {
    400: ("Yêu cầu không hợp lệ", "Bad request", "Máy chủ không hiểu yêu cầu này."),
    403: ("Không có quyền truy cập", "Forbidden", "Bạn không có quyền truy cập trang này."),
    404: ("Không tìm thấy trang", "Not found", "Không có trang này; hãy kiểm tra lại địa chỉ."),
    405: (
        "Phương thức không được phép",
        "Method not allowed",
        "Trang này không nhận kiểu yêu cầu này.",
    ),
    413: ("Dữ liệu quá lớn", "Payload too large", "Dữ liệu gửi lên lớn hơn giới hạn của máy chủ."),
    500: ("Lỗi máy chủ", "Server error", "Máy chủ gặp lỗi; hãy thử lại sau."),
}


def register(app: Flask) -> None:
    """Install the error handlers on the app.

    :param app: the app.
    """
    app.register_error_handler(ServiceError, render_service_error)
    for kind in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError):
        app.register_error_handler(kind, render_database_error)
    app.register_error_handler(CSRFError, lambda error: render_service_error(forgery_error(error)))
    app.register_error_handler(HTTPException, render_http_error)


_OPENROSA_BLUEPRINTS = {"openrosa", "openrosa_key"}
_OPENROSA_PATHS = ("/formList", "/submission", "/key/")


def _wants_json() -> bool:
    return request.blueprint == "api" or request.path.startswith("/api/")


def _is_openrosa() -> bool:
    if request.blueprint is not None:
        return request.blueprint in _OPENROSA_BLUEPRINTS
    return request.path.startswith(_OPENROSA_PATHS)


def openrosa_text(title_vi: str, message_vi: str, title_en: str, message: str, code: str) -> str:
    """The one line Collect shows for an error: Vietnamese first, then English, then the code."""
    return f"{title_vi}: {message_vi} / {title_en}: {message} [{code}]"


def _openrosa_error(text: str, status: int) -> Response:
    return Response(
        openrosa_response(text, nature="error"),
        status=status,
        content_type="text/xml; charset=utf-8",
    )


def render_openrosa_error(error: ServiceError) -> Response:
    """Render an error as ``<OpenRosaResponse>``, Vietnamese first (Collect shows the text).

    A 401 carries a Digest challenge (and Basic over https): Collect only ever sends
    credentials in answer to one, and prompts forever without it.
    """
    text = openrosa_text(
        error.title_vi, error.message_vi, error.title_en, error.message, error.code
    )
    response = _openrosa_error(text, error.http_status)
    if isinstance(error, AuthenticationRequired):
        config = current_app.config
        realm = config["AUTH_REALM"]
        challenge = (
            f'Digest realm="{realm}", qop="auth", algorithm=MD5, '
            f'nonce="{make_nonce(config["SECRET_KEY"], time.time())}", '
            f'opaque="{secrets.token_hex(8)}"'
        )
        if error.details.get("stale"):
            challenge += ", stale=true"
        response.headers.add("WWW-Authenticate", challenge)
        if request.is_secure:
            response.headers.add("WWW-Authenticate", f'Basic realm="{realm}", charset="UTF-8"')
    return with_openrosa_headers(response)


def render_service_error(error: ServiceError) -> Response:
    """Render a catalogue error for the current surface.

    ``retry_after`` in the details (a lock, a busy database) becomes ``Retry-After``, which
    Collect and HTTP clients honour before trying again.
    """
    logger.info("%s on %s %s: %s", error.code, request.method, request.path, error.message)
    if _is_openrosa():
        response = render_openrosa_error(error)
    elif _wants_json():
        body = {
            "error": {
                "code": error.code,
                "message": error.message,
                "message_vi": error.message_vi,
                "details": error.details,
            }
        }
        response = jsonify(body)
        response.status_code = error.http_status
        if isinstance(error, AuthenticationRequired):
            response.headers["WWW-Authenticate"] = 'Bearer realm="taphuan-api"'
    else:
        page = render_template(
            "errors/error.html",
            status=error.http_status,
            code=error.code,
            title_vi=error.title_vi,
            title_en=error.title_en,
            message=error.message,
            message_vi=error.message_vi,
        )
        response = current_app.make_response((page, error.http_status))
    if "retry_after" in error.details:
        response.headers["Retry-After"] = str(error.details["retry_after"])
    return response


def render_database_error(error: sa_exc.SQLAlchemyError) -> Response:
    """Answer a busy or unreachable database with ``503.2`` and ``Retry-After``, on every surface.

    Collect, browsers' scripts and HTTP libraries retry a 503 after ``Retry-After``; a 500
    would tell them the request itself is at fault. The session is rolled back first, so
    whatever the request had flushed is gone: nothing is half-stored (attachment files are
    content-addressed, so one written before the failure is merely unreferenced). Errors that
    a retry would not cure (a missing table, a bad query) are raised on to Flask's 500.
    """
    if not is_unavailable(error):
        raise error
    try:
        db.session.rollback()
    except sa_exc.SQLAlchemyError:  # the connection is gone; the pool drops it
        logger.warning("rollback after an unavailable database failed too", exc_info=True)
    logger.warning(
        "database unavailable on %s %s: %s",
        request.method,
        request.path,
        getattr(error, "orig", None) or error,
    )
    return render_service_error(DatabaseUnavailable(retry_after=RETRY_AFTER_SECONDS))


def render_http_error(error: HTTPException):
    """Render a routing or protocol error for the current surface."""
    status = error.code or 500
    title_vi, title_en, message_vi = _HTTP_TEXTS.get(status, (error.name, error.name, ""))
    message = error.description or error.name
    message_vi = message_vi or message
    if _is_openrosa():
        if status == 413:
            limit = current_app.config["OPENROSA_MAX_BYTES"]
            return render_openrosa_error(BodyTooLarge(limit=limit))
        text = openrosa_text(title_vi, message_vi, title_en, message, str(status))
        return with_openrosa_headers(_openrosa_error(text, status))
    if _wants_json():
        body = {
            "error": {
                "code": str(status),
                "message": message,
                "message_vi": message_vi,
                "details": {},
            }
        }
        response = jsonify(body)
    elif isinstance(error, SecurityError):
        # A Host outside TAPHUAN_ALLOWED_HOSTS: no URL can be built for it, so no page either.
        text = f"{title_vi}: {message_vi} / {title_en}: {message}\n"
        response = Response(text, content_type="text/plain; charset=utf-8")
    else:
        response = render_template(
            "errors/error.html",
            status=status,
            code=str(status),
            title_vi=title_vi,
            title_en=title_en,
            message=message,
            message_vi=message_vi,
        )
    return response, status
