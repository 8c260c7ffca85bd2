"""A form and its answers as a person reads them: labels in one language, groups and repeats.

Pure: the stored field schema (``FormSchema.to_dict()``) and a submission's typed answers
(``instances.typed_data``) in, plain data out. The pages show a form's questions before it goes
to the tablets (:func:`question_rows`) and a submission's answers under their questions
(:func:`labelled_answers`), in Vietnamese or English as the reader chose; a form without labels
in that language falls back to its default language, then to any label, then to the name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Kinds that are not questions a person answers.
HIDDEN_KINDS = frozenset({"meta"})
#: Kinds whose answer is a file sent with the submission.
FILE_KINDS = frozenset({"image", "audio", "video", "file", "binary"})
_ROW = re.compile(r"\[?\brow\b\s*:?\s*(\d+)", re.IGNORECASE)


def language_key(schema: Mapping[str, Any], lang: str) -> str | None:
    """The schema's language name for a language code (``vi`` → ``Vietnamese (vi)``).

    :param schema: the stored schema (``languages``, ``default_language``).
    :param lang: ``vi`` or ``en``.
    :return: the name as the form spells it, its default language when it has none for
        ``lang``, or None for a form without translations.
    """
    languages = list(schema.get("languages") or [])
    tagged = next((name for name in languages if f"({lang})" in name), None)
    if tagged is None:
        tagged = next((name for name in languages if name.lower().startswith(lang)), None)
    return tagged or schema.get("default_language") or None


def label_in(labels: Mapping[str, str] | None, language: str | None, fallback: str) -> str:
    """One label of a question or choice.

    :param labels: ``{language name: label}`` (the key ``default`` for an untranslated form).
    :param language: from :func:`language_key`.
    :param fallback: shown when there is no label at all (the name).
    :return: the label.
    """
    if not labels:
        return fallback
    if language and labels.get(language):
        return labels[language]
    return labels.get("default") or next((text for text in labels.values() if text), fallback)


@dataclass(frozen=True)
class QuestionRow:
    """One line of a form's preview."""

    name: str
    path: str
    kind: str
    label: str
    #: 0 for the form's own questions, 1 inside a group or repeat, and so on.
    depth: int
    required: bool
    relevant: str | None
    #: Choice labels (``code — label``) of a select, in the chosen language.
    choices: tuple[tuple[str, str], ...] = ()
    #: The list file a ``select_one_from_file`` picks from.
    choice_file: str | None = None


def question_rows(schema: Mapping[str, Any], lang: str) -> list[QuestionRow]:
    """The questions of a form in order, labelled in ``lang``, for a preview.

    :param schema: the stored schema of one version.
    :param lang: ``vi`` or ``en``.
    :return: one row per field (groups and repeats included, metadata left out).
    """
    language = language_key(schema, lang)
    root_depth = 2  # "/data/x" → ["", "data", "x"]
    rows = []
    for spec in _questions(schema):
        choices = tuple(
            (str(c.get("name")), label_in(c.get("labels"), language, str(c.get("name"))))
            for c in spec.get("choices") or []
        )
        rows.append(
            QuestionRow(
                name=spec["name"],
                path=spec["path"],
                kind=spec.get("kind") or "",
                label=label_in(spec.get("labels"), language, ""),
                depth=max(spec["path"].count("/") - root_depth, 0),
                required=bool(spec.get("required")),
                relevant=spec.get("relevant"),
                choices=choices,
                choice_file=spec.get("choice_file"),
            )
        )
    return rows


def _questions(schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The fields a person answers: the ``meta`` block (instanceID, instanceName…) left out."""
    meta = f"/{schema.get('root') or 'data'}/meta"
    return [
        spec
        for spec in schema.get("fields") or []
        if spec.get("kind") not in HIDDEN_KINDS
        and spec["path"] != meta
        and not spec["path"].startswith(meta + "/")
    ]


@dataclass
class Answer:
    """One answered question, group or repeat of a submission, as shown to a reader."""

    name: str
    label: str
    kind: str
    #: The answer as text (choice labels for selects), None for a blank or a group.
    text: str | None = None
    #: The file name of a photo, audio or file answer (served from the submission).
    file: str | None = None
    #: A group's answers.
    children: list[Answer] = field(default_factory=list)
    #: A repeat's instances, each a list of answers.
    instances: list[list[Answer]] = field(default_factory=list)


def labelled_answers(
    schema: Mapping[str, Any], data: Mapping[str, Any] | None, lang: str
) -> list[Answer]:
    """A submission's answers under their questions, in the form's order.

    Answers the schema does not know (sent by another tool, or metadata) are listed after the
    questions under their own names, so nothing a device sent is hidden.

    :param schema: the stored schema of the version the submission names.
    :param data: the typed answers (groups as objects, repeats as lists of objects).
    :param lang: ``vi`` or ``en``.
    :return: the answers of the top level.
    """
    language = language_key(schema, lang)
    by_parent: dict[str, list[Mapping[str, Any]]] = {}
    for spec in _questions(schema):
        by_parent.setdefault(spec["path"].rsplit("/", 1)[0], []).append(spec)
    root = "/" + str(schema.get("root") or "data")
    return _answers(data or {}, root, by_parent, language)


def _answers(
    data: Mapping[str, Any],
    path: str,
    by_parent: Mapping[str, Sequence[Mapping[str, Any]]],
    language: str | None,
) -> list[Answer]:
    shown: list[Answer] = []
    known = set()
    for spec in by_parent.get(path, ()):
        name, kind = spec["name"], spec.get("kind") or ""
        known.add(name)
        label = label_in(spec.get("labels"), language, name)
        value = data.get(name)
        if kind == "repeat":
            items = value if isinstance(value, list) else []
            instances = [
                _answers(item, spec["path"], by_parent, language)
                for item in items
                if isinstance(item, Mapping)
            ]
            shown.append(Answer(name, label, kind, instances=instances))
        elif kind == "group":
            inner = value if isinstance(value, Mapping) else {}
            shown.append(
                Answer(
                    name, label, kind, children=_answers(inner, spec["path"], by_parent, language)
                )
            )
        elif kind in FILE_KINDS or spec.get("type") == "binary":
            shown.append(Answer(name, label, kind, text=_text(value), file=_text(value)))
        else:
            shown.append(Answer(name, label, kind, text=_shown(spec, value, language)))
    for name, value in data.items():
        if name in known or name == "meta" or isinstance(value, Mapping | list):
            continue
        shown.append(Answer(name, name, "", text=_text(value)))
    return shown


def _shown(spec: Mapping[str, Any], value: Any, language: str | None) -> str | None:
    if value is None or value == "":
        return None
    choices = {
        str(c.get("name")): label_in(c.get("labels"), language, str(c.get("name")))
        for c in spec.get("choices") or []
    }
    if isinstance(value, list):
        if spec.get("kind") in {"select_multiple", "rank"}:
            return "; ".join(choices.get(str(v), str(v)) for v in value)
        return " ".join(_number(v) for v in value)
    if choices:
        return choices.get(str(value), str(value))
    return _number(value)


def _number(value: Any) -> str:
    """A number the Vietnamese way (decimal comma), anything else as text."""
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return str(value)


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


@dataclass(frozen=True)
class ProblemLine:
    """One line of a publishing error, with the XLSForm row it names (when it names one)."""

    row: int | None
    text: str
    #: A line that introduces the lines after it ("ODK Validate reported:"), not a problem.
    heading: bool = False


def problem_lines(messages: Sequence[str]) -> list[ProblemLine]:
    """Publishing errors line by line, each with the spreadsheet row it names.

    pyxform writes ``[row : 5]``, ODK Validate's lines (as ``odk_validate.describe`` words
    them) ``row 5 (question 'age')``; a line naming no row (the whole form) has none.

    :param messages: the messages of the problems found, in one language.
    :return: the non-blank lines.
    """
    lines = []
    for message in messages:
        texts = [
            line.strip().removeprefix("- ").removeprefix("• ").strip()
            for line in message.splitlines()
        ]
        texts = [text for text in texts if text]
        for index, text in enumerate(texts):
            found = _ROW.search(text)
            if found is None and text.endswith(":") and index + 1 < len(texts):
                lines.append(ProblemLine(None, text, heading=True))
                continue
            lines.append(ProblemLine(int(found.group(1)) if found else None, text))
    return lines
