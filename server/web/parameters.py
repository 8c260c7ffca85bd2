"""Request values no database can hold, refused before any surface uses them (``422.1``).

Two kinds of value pass every format check and still fail deep down, as a 500:

* **NUL characters.** PostgreSQL text cannot contain U+0000, so ``?q=%00``, a course code or a
  ``deviceID`` with one raises inside the driver. SQLite stores it, so the same request would
  behave differently per backend.
* **Integers past 32 bits.** ``/api/v1/submissions/99999999999999999999`` matches the route's
  ``int`` converter, then overflows the driver (SQLite: ``OverflowError`` past 64 bits;
  PostgreSQL: out of range for ``integer``, the type of every id and number column, past
  2,147,483,647). One bound for both backends keeps the answer the same on each.

So the URL's path values and query parameters are checked for every surface before the view
runs (the error renders as JSON, OpenRosa XML or a page), and the JSON API's :func:`parse`
checks what it loads from a body. The answer names each offending parameter in
``details.fields``, like every other 422.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from flask import Flask, request

from server.errors import InvalidRequest

#: The largest integer every integer column holds on both databases (PostgreSQL ``integer``).
MAX_INTEGER = 2**31 - 1
NUL_MESSAGE = "must not contain the NUL character (U+0000)"
RANGE_MESSAGE = f"must be between {-MAX_INTEGER - 1} and {MAX_INTEGER}"


def install(app: Flask) -> None:
    """Check every request's path values and query parameters before its view runs.

    :param app: the app.
    """
    app.before_request(_check_request)


def _check_request() -> None:
    problems: dict[str, list[str]] = {}
    for name, value in (request.view_args or {}).items():
        problem = value_problem(value)
        if problem:
            problems[name] = [problem]
    for name, value in request.args.items(multi=True):
        problem = value_problem(name) or value_problem(value)
        if problem:
            problems[name.replace("\x00", "\\x00")] = [problem]
    if problems:
        raise invalid(problems)


def value_problem(value: Any) -> str | None:
    """What makes a single value unstorable, or None.

    :param value: a string, an integer, or anything else (always fine).
    :return: the problem in English, or None.
    """
    if isinstance(value, str) and "\x00" in value:
        return NUL_MESSAGE
    is_integer = isinstance(value, int) and not isinstance(value, bool)
    if is_integer and not -MAX_INTEGER - 1 <= value <= MAX_INTEGER:
        return RANGE_MESSAGE
    return None


def loaded_problems(data: Any, prefix: str = "") -> dict[str, list[str]]:
    """Every unstorable value in loaded request data (nested objects and lists), by field path.

    :param data: what a schema loaded, or a raw JSON body.
    :param prefix: the path of ``data`` itself ("" at the top).
    :return: {"field" or "field.sub" or "field.0": [problem]}; empty when all is well.
    """
    return {path: [problem] for path, problem in _walk(data, prefix)}


def _walk(data: Any, path: str) -> Iterator[tuple[str, str]]:
    # An explicit stack: a JSON body nested a thousand deep must not exhaust the recursion.
    pending: list[tuple[str, Any]] = [(path, data)]
    while pending:
        here, value = pending.pop()
        if isinstance(value, Mapping):
            for key, item in value.items():
                key_text = str(key)
                if "\x00" in key_text:
                    yield _join(here, key_text.replace("\x00", "\\x00")), NUL_MESSAGE
                    continue
                pending.append((_join(here, key_text), item))
        elif isinstance(value, list | tuple):
            pending.extend((_join(here, str(i)), item) for i, item in enumerate(value))
        else:
            problem = value_problem(value)
            if problem:
                yield here or "_", problem


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def invalid(problems: dict[str, list[str]]) -> InvalidRequest:
    """The 422 naming each unstorable parameter.

    :param problems: {parameter: [problem]}.
    :return: the error to raise.
    """
    return InvalidRequest(fields=problems)
