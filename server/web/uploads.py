"""Upload limits: a view that takes files names its limit, and a larger body is never read.

The CSRF check reads a page form's body before any view runs, so the limit is applied by a hook
that runs before it (installed by ``security.install``): a Content-Length over the limit is the
catalogue's ``413.3`` at once, and a body without one (chunked) stops being read at the limit
(werkzeug's 413).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import current_app, request

from config import PREFIX
from server.errors import UploadTooLarge

View = TypeVar("View", bound=Callable)


def upload_limit(setting: str) -> Callable[[View], View]:
    """Mark a view as taking uploads bounded by a setting (e.g. ``FORMS_MAX_UPLOAD_BYTES``).

    :param setting: the configuration key of the limit, in bytes.
    :return: the decorator.
    """

    def mark(view: View) -> View:
        view.upload_limit = setting  # type: ignore[attr-defined]
        return view

    return mark


def bound_upload() -> None:
    """Refuse an upload over its view's limit before anything reads the body.

    :raises UploadTooLarge: the declared length is over the limit.
    """
    view = current_app.view_functions.get(request.endpoint or "")
    setting = getattr(view, "upload_limit", None)
    if setting is None or request.method not in ("POST", "PUT", "PATCH"):
        return
    limit = current_app.config[setting]
    size = request.content_length
    if size is not None and size > limit:
        raise UploadTooLarge(size=size, limit=limit, setting=PREFIX + setting)
    request.max_content_length = limit
