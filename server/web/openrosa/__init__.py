"""OpenRosa surface for ODK Collect and KoBoCollect, at ``/`` and under ``/key/<token>/``.

This blueprint alone checks ``X-OpenRosa-Version``, authenticates devices, adds the OpenRosa
headers and renders errors as ``<OpenRosaResponse>`` (see ``server/web/errors.py``).
"""

from __future__ import annotations

from email.utils import formatdate

from flask import Blueprint, Response, current_app, g, request

from server.database import read_standalone_if_marked
from server.errors import InvalidHeader
from server.extensions import db
from server.web.openrosa import auth

bp = Blueprint("openrosa", __name__)

#: Endpoints that speak the OpenRosa API proper; form XML and media are plain downloads and,
#: as in ODK Central, do not require the version header.
_PROTOCOL_ENDPOINTS = {"form_list", "manifest", "submission_head", "submission"}
#: Multipart framing Collect adds around the files it counts against the advertised limit.
MULTIPART_ALLOWANCE = 256 * 1024


@bp.before_request
def check_protocol_and_authenticate() -> None:
    """Require ``X-OpenRosa-Version: 1.0``, bound the body, and find out who is asking."""
    endpoint = (request.endpoint or "").rsplit(".", 1)[-1]
    if endpoint in _PROTOCOL_ENDPOINTS and request.headers.get("X-OpenRosa-Version") != "1.0":
        raise InvalidHeader(header="X-OpenRosa-Version", value="1.0")
    limit = current_app.config["OPENROSA_MAX_BYTES"] + MULTIPART_ALLOWANCE
    request.max_content_length = limit
    # Collect may send the XML as a plain field (no filename); allow it to be large.
    request.max_form_memory_size = limit
    view = current_app.view_functions.get(request.endpoint or "")
    read_standalone_if_marked(view, request.method, db.session)
    g.actor = auth.authenticate(request.view_args or {})


@bp.after_request
def add_openrosa_headers(response: Response) -> Response:
    """Add the headers every OpenRosa response carries (also on errors)."""
    return with_openrosa_headers(response)


def with_openrosa_headers(response: Response) -> Response:
    """Set X-OpenRosa-Version, the advertised size limit, Date and no-cache on a response.

    :param response: the response.
    :return: the same response.
    """
    response.headers["X-OpenRosa-Version"] = "1.0"
    response.headers["X-OpenRosa-Accept-Content-Length"] = str(
        current_app.config["OPENROSA_MAX_BYTES"]
    )
    response.headers["Date"] = formatdate(usegmt=True)
    response.headers.setdefault("Cache-Control", "private, no-cache")
    return response


from server.web.openrosa import views  # noqa: E402,F401  (routes attach to bp)
