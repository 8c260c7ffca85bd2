"""The root of the catalogue: what every error carries and how its message is made."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

from server.errors.messages import Language, Template, render

#: Templates of one leaf: one for every situation, or one per value of the ``reason`` detail
#: (``None`` is the situation without a ``reason``).
Templates = Template | Mapping[str | None, Template]

#: The ``reason`` of an error that gathers several problems of one file (see :func:`several`).
SEVERAL = "several"
_SEVERAL_TEMPLATE = Template(
    en="{count} problems:\n{problems:bullets}",
    vi="{count} lỗi:\n{problems:bullets}",
)


class ServiceError(Exception):
    """Base of the catalogue. A leaf sets ``code``, ``http_status``, both titles and a template.

    Raise sites pass details only: ``raise FormNotFound(form_id="dm")``. The messages are
    made here from the leaf's template (``message`` in English, ``message_vi`` in
    Vietnamese); the details travel on unchanged (JSON ``details``, the CLI's rows).

    A ``file`` detail names the file a problem is in: both messages then begin with it
    ("dm.xlsx: the file is empty"), so templates never write it and a service can name the
    file of an error raised below it (:meth:`with_details`).
    """

    code: ClassVar[str] = "500"
    http_status: ClassVar[int] = 500
    title_vi: ClassVar[str] = "Lỗi máy chủ"
    title_en: ClassVar[str] = "Server error"
    template: ClassVar[Templates] = Template(
        en="the server could not complete the request",
        vi="Máy chủ không thực hiện được yêu cầu.",
    )

    def __init__(self, **details: Any) -> None:
        self.details = details
        #: The message in English (protocol clients, logs).
        self.message = self._render("en")
        #: The message in Vietnamese, for people in the field (shown first).
        self.message_vi = self._render("vi")
        super().__init__(self.message)

    @classmethod
    def template_for(cls, details: Mapping[str, Any]) -> Template | None:
        """The template these details select (None: an unknown ``reason``)."""
        reason = details.get("reason")
        if reason == SEVERAL and "problems" in details:
            return _SEVERAL_TEMPLATE
        if isinstance(cls.template, Template):
            return cls.template
        return cls.template.get(reason)

    def _render(self, lang: Language) -> str:
        title = self.title_vi if lang == "vi" else self.title_en
        text = render(self.template_for(self.details), self.details, lang, fallback=title)
        where = self.details.get("file")
        return f"{where}: {text}" if where else text

    def with_details(self, **more: Any) -> Self:
        """The same error with more details (a service naming the file a domain error is in).

        :param more: details to add or replace.
        :return: a new error of the same class; its messages are made again.
        """
        return type(self)(**{**self.details, **more})

    def __str__(self) -> str:
        return f"{self.code} {self.title_vi} / {self.title_en}: {self.message}"

    def __reduce__(self):
        return _restore, (type(self), self.details)


def _restore(cls: type[ServiceError], details: dict[str, Any]) -> ServiceError:
    return cls(**details)


def several(problems: Sequence[ServiceError], **details: Any) -> ServiceError:
    """One error for every problem found in one go, so they are all fixed in one round.

    :param problems: the errors, most important first (at least one).
    :param details: details of the whole (``file``).
    :return: the only problem with ``details`` added, or an error of the first problem's
        class with ``reason="several"`` and ``problems``: ``[{"code", "message",
        "message_vi"}]``, each message without the file's name.
    """
    if len(problems) == 1:
        return problems[0].with_details(**details)
    listed = [
        {
            "code": p.code,
            "message": _without_file(p.message, p.details),
            "message_vi": _without_file(p.message_vi, p.details),
        }
        for p in problems
    ]
    return type(problems[0])(**details, reason=SEVERAL, count=len(listed), problems=listed)


def _without_file(message: str, details: Mapping[str, Any]) -> str:
    where = details.get("file")
    return message.removeprefix(f"{where}: ") if where else message


def catalogue() -> list[type[ServiceError]]:
    """List every error class of the catalogue, the base included.

    :return: the classes, in definition order.
    """
    found: list[type[ServiceError]] = []
    pending: list[type[ServiceError]] = [ServiceError]
    while pending:
        cls = pending.pop(0)
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found
