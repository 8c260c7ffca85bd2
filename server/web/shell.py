"""The page shell every HTML page shares: language, navigation, print and PDF.

* **Language**: Vietnamese by default, English on request. The choice is a cookie
  (``taphuan_lang``) set by the toggle in the header, a POST form with the CSRF token like every
  other page form; it survives signing in and out (the session is cleared then). Each request
  gets ``g.lang``; templates get ``lang`` and ``t(vi, en)``, which picks the text of the current
  language.
* **Navigation**: :data:`NAV`, the header's links (a link to a page that is not there yet, such
  as the needs report, is fine: it is a plain path).
* **Print and PDF**: the stylesheet's ``@media print`` hides navigation and buttons and shows a
  page header (title, date). :func:`render_page` serves the same template as a PDF when asked
  with ``?format=pdf`` (WeasyPrint through ``exports.pdf``, print media, static files read from
  disk: the server never fetches its own pages over HTTP).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from exports import Output, Page, formats
from server.domain.policy import Action
from server.services.permissions import allowed
from server.web.admin.login import safe_next
from server.web.downloads import download
from server.web.formatting import VIETNAM, vi_datetime

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"
LANG_COOKIE = "taphuan_lang"
LANG_COOKIE_DAYS = 365

bp = Blueprint("shell", __name__)


@dataclass(frozen=True)
class NavItem:
    """A header link: an endpoint (or a plain path for pages still to come) and its labels."""

    target: str
    vi: str
    en: str
    #: The policy action a user needs to see the link (None: every signed-in user).
    action: str | None = None

    def href(self) -> str:
        """The link: ``url_for`` of an endpoint, or the path as written."""
        return self.target if self.target.startswith("/") else url_for(self.target)


#: The header's links, in order. A page of a later issue adds its line here.
NAV = (
    NavItem("admin.index", "Tổng quan", "Overview"),
    NavItem("admin.forms_page", "Biểu mẫu", "Forms", "forms.read"),
    NavItem("admin.courses", "Khóa học", "Courses", "courses.manage"),
    NavItem("admin.register", "Danh sách cán bộ", "Staff register", "roster.read"),
    NavItem("/reports/needs", "Báo cáo nhu cầu", "Needs report", "reports.needs"),
    NavItem("/reports/courses", "Đánh giá khóa học", "Course evaluation", "reports.course"),
    NavItem("/reports/programme", "Tổng hợp chương trình", "Programme", "reports.programme"),
    NavItem("admin.tablets", "Máy tính bảng", "Tablets", "devices.manage"),
    NavItem("admin.people_list", "Người dùng", "People", "users.manage"),
    NavItem("admin.units", "Đơn vị hành chính", "Units", "units.read"),
    NavItem("admin.audit_log", "Nhật ký", "Audit log", "audit.read_all"),
)


def t(vi: str, en: str) -> str:
    """The text of the current request's language (Vietnamese outside a request).

    :param vi: the Vietnamese text.
    :param en: the English text.
    :return: one of them.
    """
    return en if g.get("lang") == "en" else vi


def current_lang() -> str:
    """The language of this request: the cookie's if valid, else Vietnamese."""
    chosen = request.cookies.get(LANG_COOKIE, "")
    return chosen if chosen in LANGS else DEFAULT_LANG


def nav_items() -> list[dict]:
    """The header's links for this request, the current page marked.

    :return: dicts with ``href``, ``label`` (in the current language) and ``current``.
    """
    items = []
    for item in NAV:
        if item.action and not allowed(g.get("user"), Action(item.action)):
            continue
        href = item.href()
        current = request.path == href or (href != "/" and request.path.startswith(href + "/"))
        items.append({"href": href, "label": t(item.vi, item.en), "current": current})
    return items


@bp.post("/lang")
def set_language():
    """Remember the chosen language in a cookie and go back to the page it was chosen on."""
    lang = request.form.get("lang", "")
    response = redirect(safe_next(request.form.get("next")))
    if lang in LANGS:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=LANG_COOKIE_DAYS * 86400,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    return response


def render_page(template: str, *, pdf_name: str | None = None, **context) -> Response | str:
    """Render a page, or the same page as a PDF when the URL asks ``?format=pdf``.

    :param template: the template (it extends ``base.html``).
    :param pdf_name: the PDF's file name (ASCII, e.g. ``bao-cao-nhu-cau.pdf``); None means the
        page has no PDF and ``?format=pdf`` is ignored.
    :param context: the template's variables.
    :return: the HTML, or a PDF response.
    """
    printed = formats.named(request.args.get("format"), PRINTED) if pdf_name else None
    if printed is None:
        return render_template(template, **context)
    g.pdf = True
    page = Page(render_template(template, **context), Path(current_app.static_folder),
                current_app.static_url_path)  # fmt: skip
    return pdf_response(page, pdf_name, printed)


#: The formats a page is also given in (``?format=``), besides the page itself.
PRINTED = (formats.PDF,)


def pdf_response(page: Page, filename: str, fmt: formats.Format = formats.PDF) -> Response:
    """A rendered page as a file shown in the browser (a PDF).

    :param page: the page as rendered (print media applies).
    :param filename: the file's name (ASCII letters, digits, ``.-_``).
    :param fmt: the format, from the registry.
    :return: the response.
    :raises ValueError: for a file name outside that alphabet (it goes into a header).
    """
    if not re.fullmatch(r"[A-Za-z0-9._-]+", filename):
        raise ValueError(f"unsafe file name {filename!r}")
    return download(Output(page=lambda: page), fmt, filename, inline=True)


def _before_request() -> None:
    g.lang = current_lang()


def _template_context() -> dict:
    lang = g.get("lang", DEFAULT_LANG)
    return {
        "lang": lang,
        "other_lang": "en" if lang == "vi" else "vi",
        "t": t,
        "nav_items": nav_items,
        "pdf": g.get("pdf", False),
        "printed_at": vi_datetime(dt.datetime.now(dt.UTC)),
        "today": dt.datetime.now(VIETNAM).strftime("%d/%m/%Y"),
    }


def install(app: Flask) -> None:
    """Register the language route, ``g.lang`` on every request and the template helpers.

    :param app: the app.
    """
    app.register_blueprint(bp)
    app.before_request(_before_request)
    app.context_processor(_template_context)
    app.add_template_global(t)
