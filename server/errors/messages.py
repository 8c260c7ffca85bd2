"""Message templates of the catalogue, and how they become text in Vietnamese and English.

A template is a pair of ``str.format`` strings over an error's details, the way ODK Central's
``problem.js`` makes each problem's message a function of its details: a raise site says
*what* happened (``form_id="dm"``), the catalogue says how that reads in each language. Text
from outside (pyxform's row-numbered message, ODK Validate's output, an exception's words)
is one more named detail.

Besides Python's own format specs (``{limit:,}``, ``{name!r}``) the formatter knows a few
that lists and tables need, so no raise site has to join anything itself:

``{x:join}``      the items of a list joined by ", " (``{x:join; }`` chooses the separator)
``{x:lines}``     the items of a list, one per line
``{x:keys}``      the sorted keys of a mapping, joined by ", " (the parameters at fault)
``{x:fields}``    "key: first message; …" of a ``{field: [messages]}`` mapping
``{x:rows}``      "row 3: …; row 9: …" of ``[{"row", "error"}]``, the first ten and a count of
                  the rest ("dòng 3: …" in Vietnamese, with a row's ``error_vi`` if it has one)
``{x:bullets}``   "- message" lines of ``[{"message", "message_vi"}]``, in the text's language

In Vietnamese text ``{n:,}`` groups thousands with dots (1.000.000), as people there write.

A detail that a template names but the raise site did not give must never turn a 4xx into a
500: the message falls back to the error's title and a warning is logged. Tests switch on
:func:`strict`, which makes the same mistake raise :class:`TemplateError` at once.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

logger = logging.getLogger(__name__)

Language = Literal["vi", "en"]

#: How many rows ``{x:rows}`` lists before it only counts the rest.
ROWS_SHOWN = 10

_strict = False


class TemplateError(Exception):
    """A template names a detail its error was not given, or cannot format a value (tests)."""


def strict(on: bool = True) -> None:
    """Make template mistakes raise instead of falling back to the title (the test suite).

    :param on: True to raise, False for the production behaviour (fall back and log).
    """
    global _strict
    _strict = on


def is_strict() -> bool:
    """Whether template mistakes raise (see :func:`strict`)."""
    return _strict


@dataclass(frozen=True)
class Template:
    """One message in both languages, as ``str.format`` strings over named details."""

    en: str
    vi: str

    def text(self, lang: Language) -> str:
        """The template string of one language."""
        return self.vi if lang == "vi" else self.en

    def placeholders(self) -> set[str]:
        """The top-level detail names either language refers to (``rows`` of ``{rows[0]}``)."""
        names = set()
        for text in (self.en, self.vi):
            for _literal, field, _spec, _conversion in string.Formatter().parse(text):
                if field is not None:
                    names.add(_top_name(field))
        return names


def _top_name(field: str) -> str:
    for index, char in enumerate(field):
        if char in ".[":
            return field[:index]
    return field


class _Formatter(string.Formatter):
    """``str.format`` with the catalogue's list specs and Vietnamese digit grouping."""

    def __init__(self, lang: Language) -> None:
        super().__init__()
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec.startswith("join"):
            separator = format_spec[len("join") :] or ", "
            return separator.join(str(item) for item in _sequence(value))
        if format_spec == "lines":
            return "\n".join(str(item) for item in _sequence(value))
        if format_spec == "keys":
            return ", ".join(sorted(str(key) for key in _mapping(value)))
        if format_spec == "fields":
            return "; ".join(
                f"{key}: {_first(messages)}" for key, messages in sorted(_mapping(value).items())
            )
        if format_spec == "rows":
            return self._rows(_sequence(value))
        if format_spec == "bullets":
            key = "message_vi" if self.lang == "vi" else "message"
            return "\n".join(f"- {item[key]}" for item in _sequence(value))
        text = super().format_field(value, format_spec)
        if self.lang == "vi" and "," in format_spec and isinstance(value, int | float):
            text = text.translate(str.maketrans({",": ".", ".": ","}))
        return text

    def _rows(self, rows: Sequence[Mapping[str, Any]]) -> str:
        word = "dòng" if self.lang == "vi" else "row"
        key = "error_vi" if self.lang == "vi" else "error"
        shown = "; ".join(
            f"{word} {row['row']}: {row.get(key) or row['error']}" for row in rows[:ROWS_SHOWN]
        )
        rest = len(rows) - ROWS_SHOWN
        if rest > 0:
            shown += f" (và {rest} dòng khác)" if self.lang == "vi" else f" (and {rest} more)"
        return shown


def _sequence(value: Any) -> Sequence[Any]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(f"a list is needed, not {type(value).__name__}")
    return value


def _mapping(value: Any) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"a mapping is needed, not {type(value).__name__}")
    return value


def _first(messages: Any) -> str:
    if isinstance(messages, Sequence) and not isinstance(messages, str) and messages:
        return str(messages[0])
    return str(messages)


_FORMATTERS = {"vi": _Formatter("vi"), "en": _Formatter("en")}


def render(
    template: Template | None, details: Mapping[str, Any], lang: Language, *, fallback: str
) -> str:
    """Format one language of a template with an error's details.

    :param template: the template, or None when the details select none (an unknown reason).
    :param details: the error's details.
    :param lang: ``"vi"`` or ``"en"``.
    :param fallback: the text to show when the template cannot be formatted (the title).
    :return: the message.
    :raises TemplateError: in :func:`strict` mode, instead of falling back.
    """
    try:
        if template is None:
            raise KeyError("reason")
        return _FORMATTERS[lang].vformat(template.text(lang), (), details)
    except (KeyError, IndexError, AttributeError, TypeError, ValueError) as exc:
        problem = f"cannot format {template!r} ({lang}) with {sorted(details)}: {exc!r}"
        if _strict:
            raise TemplateError(problem) from exc
        logger.warning("error message falls back to its title: %s", problem)
        return fallback


def by_reason(templates: Mapping[str | None, Template]) -> Mapping[str | None, Template]:
    """A leaf's templates, one per value of its ``reason`` detail (None: no ``reason``).

    :param templates: the templates.
    :return: the same, read-only (a leaf's words are not changed at run time).
    """
    return MappingProxyType(dict(templates))
