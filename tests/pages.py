"""Driving the HTML pages from the test client as a browser does: fetch a form, then post it."""

from __future__ import annotations

import re

from flask import g

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(client, path: str = "/login", **kwargs) -> str:
    """The CSRF token the page at ``path`` puts in its forms (the session cookie is kept).

    The test's app context outlives requests, so Flask's ``g`` would hand every page the
    token cached by the first one even after sign-in replaced the session; a browser's
    requests each start afresh, and so does this.
    """
    g.pop("csrf_token", None)
    html = client.get(path, **kwargs).get_data(as_text=True)
    match = _TOKEN.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client, path: str, data: dict, *, page: str | None = None, **kwargs):
    """POST a page form with the token a browser would have taken from ``page`` (or ``path``)."""
    token = form_token(client, page or path.split("?")[0])
    return client.post(path, data={**data, "csrf_token": token}, **kwargs)


def sign_in(client, username: str, password: str, *, next_url: str | None = None):
    """Sign in through the login page."""
    path = "/login" if next_url is None else f"/login?next={next_url}"
    return post_form(client, path, {"username": username, "password": password}, page="/login")
