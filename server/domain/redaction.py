"""Quoting comments safely: names, unit names and phone numbers removed (spec §3.7.4).

Split from ``satisfaction`` because it is its own concept with its own cost: a course report
quotes comments against thousands of known names (see :class:`Redactor`). :func:`fold` lives
here as the matching rule both the redaction and the comment coding use.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence


def fold(text: str) -> str:
    """Fold Vietnamese for matching: no diacritics, đ → d, lower case, one character per character.

    Every character of the NFC text maps to exactly one character, so a match in the folded
    text is at the same offsets in the original (which :func:`redact` relies on).

    :param text: any text.
    :return: the folded text, same length as ``unicodedata.normalize("NFC", text)``.
    """
    return "".join(map(_fold_char, unicodedata.normalize("NFC", text)))


@functools.lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    # cached: a report folds every comment's characters, drawn from a few hundred letters
    if char in "đĐ":
        return "d"
    base = unicodedata.normalize("NFD", char)[0].lower()
    return base[0] if base else char


#: Phone numbers: 0 or +84, then 8–11 more digits with optional spaces, dots, dashes or a
#: bracketed area code (0912 345 678, 0912.345.678, +84 912 345 678, (0206) 3852 123).
PHONE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?<![\w+])(?:\+\s?84[\s.\-]?\(?|\(?0)\d{1,4}\)?(?:[\s.\-]?\d){6,9}(?!\d)"),
)
#: Replacements of :func:`redact`, by kind.
REDACTION_TOKENS = {"name": "[tên]", "unit": "[đơn vị]", "phone": "[SĐT]"}
#: Titles before a given name ("cô Lan", "thầy Hùng", "bs Minh"), folded.
NAME_TITLES = (
    "anh",
    "chi",
    "co",
    "thay",
    "bac si",
    "bs",
    "em",
    "ong",
    "ba",
    "ban",
    "gv",
    "giang vien",
    "c",
    "a",
)


def redact(
    text: str,
    *,
    names: Iterable[str] = (),
    units: Iterable[str] = (),
    phone_patterns: Sequence[re.Pattern[str]] = PHONE_PATTERNS,
    tokens: Mapping[str, str] | None = None,
) -> str:
    """Remove names, unit names and phone numbers from a comment before it is quoted.

    One comment at a time; a report redacting many comments builds one :class:`Redactor`.
    Parameters as :class:`Redactor`; returns the redacted text (NFC).
    """
    return Redactor(names, units, phone_patterns=phone_patterns, tokens=tokens)(text)


#: A word of a name or a comment, folded ("h'bia" is one word).
_WORD = re.compile(r"\w+(?:'\w+)*")


class Redactor:
    """Removes known names, unit names and phone numbers from comments (§3.7.4 quotes).

    Names and units are matched as whole words, ignoring case and diacritics ("Nguyễn Thị
    Lan", "nguyen thi lan"), words separated by white space only. A name's last word (the given
    name) is also removed when it follows a title ("cô Lan", "thầy Hùng"): comments name
    trainers that way. At each word the longest known phrase wins, so "Trạm Y tế xã Tân Lập"
    goes whole rather than leaving "Trạm Y tế xã".

    Built once per report: a course has thousands of trainees' names, and matching word
    n-grams against a set costs the same whatever their number (a regex per name did not).
    """

    def __init__(
        self,
        names: Iterable[str] = (),
        units: Iterable[str] = (),
        *,
        phone_patterns: Sequence[re.Pattern[str]] = PHONE_PATTERNS,
        tokens: Mapping[str, str] | None = None,
    ) -> None:
        """Prepare the phrases once.

        :param names: people's names known for the course (trainees, trainers, organisers).
        :param units: unit names (communes, districts, health stations) of the province.
        :param phone_patterns: regexes of phone numbers.
        :param tokens: replacements by kind (``name``, ``unit``, ``phone``); default
            :data:`REDACTION_TOKENS`.
        """
        self.tokens = {**REDACTION_TOKENS, **(tokens or {})}
        self.phone_patterns = phone_patterns
        #: word tuple → kind; a name wins over a unit spelt the same.
        self.phrases: dict[tuple[str, ...], str] = {}
        self.given: set[str] = set()
        for kind, values in (("name", names), ("unit", units)):
            for value in values:
                words = tuple(_WORD.findall(fold(value)))
                if not words:
                    continue
                self.phrases.setdefault(words, kind)
                if kind == "name":
                    self.given.add(words[-1])
        self.titles = {tuple(t.split()) for t in NAME_TITLES}
        self.longest = max((len(w) for w in self.phrases), default=0)
        self.longest_title = max(len(t) for t in self.titles)

    def __call__(self, text: str) -> str:
        """The comment without the names, units and phone numbers (NFC)."""
        text = unicodedata.normalize("NFC", text)
        for pattern in self.phone_patterns:
            text = pattern.sub(self.tokens["phone"], text)
        if not self.phrases:
            return text
        folded = fold(text)
        words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(folded)]
        spans: list[tuple[int, int, str]] = []
        i = 0
        while i < len(words):
            found = self._phrase_at(folded, words, i) or self._titled_at(folded, words, i)
            if found is None:
                i += 1
                continue
            first, last, kind = found
            spans.append((words[first][0], words[last][1], self.tokens[kind]))
            i = last + 1
        for start, end, token in reversed(spans):
            text = text[:start] + token + text[end:]
        return text

    def _phrase_at(self, folded, words, i) -> tuple[int, int, str] | None:
        """The longest known phrase starting at word ``i``: (first, last word, kind)."""
        for n in range(min(self.longest, len(words) - i), 0, -1):
            if not _spaced_only(folded, words, i, n):
                continue
            kind = self.phrases.get(tuple(w for _, _, w in words[i : i + n]))
            if kind is not None:
                return i, i + n - 1, kind
        return None

    def _titled_at(self, folded, words, i) -> tuple[int, int, str] | None:
        """A title at word ``i`` followed by a known given name: only the name goes."""
        for n in range(min(self.longest_title, len(words) - i - 1), 0, -1):
            title = tuple(w for _, _, w in words[i : i + n])
            if (
                title in self.titles
                and words[i + n][2] in self.given
                and _spaced_only(folded, words, i, n + 1)
            ):
                return i + n, i + n, "name"
        return None


def _spaced_only(folded: str, words, i: int, n: int) -> bool:
    """Whether words i … i+n-1 are separated by white space only (so a phrase may span them)."""
    return all(folded[words[k][1] : words[k + 1][0]].isspace() for k in range(i, i + n - 1))
