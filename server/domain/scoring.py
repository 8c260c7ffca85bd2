"""Scoring a test attempt against its answer key (reports spec §3.1).

single / tf: 1 if the answer equals the key, else 0. multi (select_multiple with C correct
options): clamp((right − wrong) / C, 0, 1), Moodle's multiple-answer rule. A blank answer scores
0 and is listed as blank; a dropped item counts in neither the marks nor the maximum. The score
a form may compute for itself on the tablet is never used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class KeyItem:
    """One keyed item: its name in the form, type, correct choice names and weight."""

    item: str
    qtype: str
    correct: tuple[str, ...]
    points: float = 1.0
    dropped: bool = False


@dataclass
class Score:
    """The marks of one attempt."""

    raw: float
    maximum: float
    marks: dict[str, float] = field(default_factory=dict)
    blank: list[str] = field(default_factory=list)

    @property
    def percent(self) -> float:
        """Score in percent of the maximum (0 when nothing is keyed)."""
        return round(100 * self.raw / self.maximum, 2) if self.maximum else 0.0

    def passed(self, pass_mark: float | None) -> bool | None:
        """Whether the percent reaches the pass mark; None without a pass mark."""
        return None if pass_mark is None else self.percent >= pass_mark


def fraction(item: KeyItem, answer: Any) -> float:
    """The fraction of an item earned by an answer (0..1).

    :param item: the key.
    :param answer: the stored answer (a code, or a list of codes for select_multiple).
    :return: the fraction.
    """
    if item.qtype == "multi":
        picked = set(answer if isinstance(answer, list) else str(answer).split())
        right = len(picked & set(item.correct))
        wrong = len(picked - set(item.correct))
        return min(max((right - wrong) / len(item.correct), 0.0), 1.0)
    value = answer[0] if isinstance(answer, list) and len(answer) == 1 else answer
    return 1.0 if str(value) in item.correct else 0.0


def score(answers: Mapping[str, Any], key: Sequence[KeyItem]) -> Score:
    """Score one attempt.

    :param answers: item name → stored answer (None or "" for blank).
    :param key: the answer key of the attempt's form version.
    :return: raw marks, maximum, marks per item and blank items.
    """
    result = Score(raw=0.0, maximum=0.0)
    for item in key:
        if item.dropped:
            continue
        result.maximum += item.points
        answer = answers.get(item.item)
        if answer in (None, "", []):
            result.marks[item.item] = 0.0
            result.blank.append(item.item)
            continue
        mark = round(fraction(item, answer) * item.points, 4)
        result.marks[item.item] = mark
        result.raw += mark
    result.raw = round(result.raw, 4)
    return result


def find_answers(data: Mapping[str, Any], items: Sequence[str]) -> dict[str, Any]:
    """Collect the answers of the keyed items wherever they sit in the data (groups included).

    :param data: the submission's typed answers.
    :param items: the item names.
    :return: {item: answer} for the items present.
    """
    wanted, found = set(items), {}
    pending = [data]
    while pending:
        current = pending.pop()
        for name, value in current.items():
            if isinstance(value, dict):
                pending.append(value)
            elif name in wanted and name not in found:
                found[name] = value
    return found
