"""Topic demand of the needs report (reports spec §2.2.4).

From Form A: ``topics_wanted`` (select_multiple, at most 5) and ``topic_top1``. Shares are of
*answering* respondents (KoBo's autoreport divides by all submissions; we do not), so the
multi-select shares may add up to more than 100 %, and the non-answers are counted apart.

``topic_top1`` is only asked when more than one topic is picked (its ``relevant`` is
``count-selected(${topics_wanted}) > 1``), so a respondent who picked exactly one topic has
that topic as their implied top priority; leaving them out would under-count exactly the
respondents with the clearest need. :func:`count_topic_answers` counts them as answering
``topic_top1`` (``imply_single_top1=False`` turns this off).

Counting is a plain pass over the answers; at provincial scale the service may count in SQL
and pass :class:`TopicCounts` directly. Shares are fractions (0..1), unrounded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TopicCounts:
    """Tallies of one group's answers to ``topics_wanted`` and ``topic_top1``."""

    n_respondents: int
    n_answering: int
    n_top1_answering: int
    selected: Mapping[str, int] = field(default_factory=dict)
    top1: Mapping[str, int] = field(default_factory=dict)

    @property
    def n_missing(self) -> int:
        """Respondents who did not answer ``topics_wanted``."""
        return self.n_respondents - self.n_answering

    @property
    def n_top1_missing(self) -> int:
        """Respondents with neither an answered nor an implied top topic."""
        return self.n_respondents - self.n_top1_answering


@dataclass(frozen=True)
class TopicDemand:
    """One row of table F1 for one topic and group."""

    topic: str
    n_selected: int
    n_answering: int
    n_missing: int
    demand_share: float | None
    n_top1: int
    n_top1_answering: int
    n_top1_missing: int
    top1_share: float | None
    gap_support: float | None
    gap_support_item: str | None
    suppressed: bool


def count_topic_answers(
    answers: Iterable[tuple[Sequence[str] | None, str | None]], *, imply_single_top1: bool = True
) -> TopicCounts:
    """Tally ``(topics_wanted, topic_top1)`` answers of one group.

    An empty or None ``topics_wanted`` is a non-answer (the form requires at least one topic,
    so an empty list means the question was never reached). A topic picked twice counts once.

    :param answers: one ``(topics_wanted, topic_top1)`` pair per respondent.
    :param imply_single_top1: count a lone picked topic as the respondent's top topic.
    :return: the tallies.
    """
    selected: Counter[str] = Counter()
    top1: Counter[str] = Counter()
    n = n_answering = n_top1 = 0
    for wanted, first in answers:
        n += 1
        picked = set(wanted or ())
        if picked:
            n_answering += 1
            selected.update(picked)
        if not first and imply_single_top1 and len(picked) == 1:
            first = next(iter(picked))
        if first:
            n_top1 += 1
            top1[first] += 1
    return TopicCounts(
        n_respondents=n,
        n_answering=n_answering,
        n_top1_answering=n_top1,
        selected=dict(selected),
        top1=dict(top1),
    )


def gap_support(
    topic: str,
    competency_topics: Mapping[str, Sequence[str]],
    mwds_by_item: Mapping[str, float | None],
) -> tuple[float | None, str | None]:
    """Largest MWDS among the competencies linked to a topic (§1.8 "topic" column).

    :param topic: the topic code (TP01…).
    :param competency_topics: competency code → its topic codes (C02 → TP03, TP15).
    :param mwds_by_item: competency code → MWDS of the group; pass None for suppressed
        cells so that a 3-person estimate cannot carry a topic.
    :return: ``(max MWDS, competency giving it)``, or ``(None, None)`` without a linked
        competency with an MWDS. Ties go to the lowest competency code.
    """
    linked = sorted(item for item, topics in competency_topics.items() if topic in topics)
    scored = [(mwds_by_item[item], item) for item in linked if mwds_by_item.get(item) is not None]
    if not scored:
        return None, None
    return max(scored, key=lambda pair: pair[0])


def topic_demand(
    counts: TopicCounts,
    topics: Sequence[str],
    *,
    competency_topics: Mapping[str, Sequence[str]] | None = None,
    mwds_by_item: Mapping[str, float | None] | None = None,
    min_cell: int = 5,
) -> list[TopicDemand]:
    """Table F1 for one group: demand share, top-1 share and gap support per topic.

    ``demand_share = #selecting t / #answering``; ``top1_share = #top-1 = t / #answering
    topic_top1``; both None when nobody answered. ``suppressed`` when fewer than ``min_cell``
    answered (§2.5: "—" plus n); the values are still returned.

    :param counts: the group's tallies (:func:`count_topic_answers` or SQL).
    :param topics: the topic catalogue, in display order (TP01…TP17); topics nobody picked
        get a row with zero counts.
    :param competency_topics: competency → topics, for :func:`gap_support`.
    :param mwds_by_item: competency → MWDS of the same group, for :func:`gap_support`.
    :param min_cell: smallest number of answering respondents shown.
    :return: one row per topic, in catalogue order.
    """
    rows = []
    for topic in topics:
        n_selected = counts.selected.get(topic, 0)
        n_top1 = counts.top1.get(topic, 0)
        support, support_item = (None, None)
        if competency_topics is not None and mwds_by_item is not None:
            support, support_item = gap_support(topic, competency_topics, mwds_by_item)
        rows.append(
            TopicDemand(
                topic=topic,
                n_selected=n_selected,
                n_answering=counts.n_answering,
                n_missing=counts.n_missing,
                demand_share=_share(n_selected, counts.n_answering),
                n_top1=n_top1,
                n_top1_answering=counts.n_top1_answering,
                n_top1_missing=counts.n_top1_missing,
                top1_share=_share(n_top1, counts.n_top1_answering),
                gap_support=support,
                gap_support_item=support_item,
                suppressed=counts.n_answering < min_cell,
            )
        )
    return rows


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None
