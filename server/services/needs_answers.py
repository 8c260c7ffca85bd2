"""Counting the needs-assessment answers in the database (reports spec §2.2.2–§2.2.4, §2.3 G, I).

Every query reads one of the projection tables (``needs_ratings``, ``needs_choices``,
``needs_responses``), each of which carries the respondent's level, category, job, unit code
and day, so one grouped pass answers a whole table: ratings come back as counts per
(group, competency, importance, performance), which is all the gap statistics need. Each
query joins the report's placement table (``report_scope.answer_rows``), which both keeps
the answers under the report's unit and names the report row each one falls into.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.domain.needs_gap import NEED_THRESHOLD, GapSums
from server.models import NeedsChoice, NeedsRating, NeedsResponse
from server.services.report_scope import ReportScope, answer_clause


@dataclass(frozen=True)
class AnswerFilter:
    """Which answers a report reads: its unit, its period, and the optional filters."""

    scope: ReportScope
    period_from: dt.date
    period_to: dt.date
    levels: tuple[str, ...] = ()
    staff_cats: tuple[str, ...] = ()
    job_positions: tuple[str, ...] = ()
    #: Counts already made with this filter (sections ask for some twice); not copied by
    #: ``dataclasses.replace``, so a filter changed for one table starts empty.
    memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def place_key(self, model) -> tuple[sa.ColumnElement, sa.ColumnElement[int]]:
        """Grouping columns naming where an answer was given: (unit code, period).

        The periods are cut at every day where the placement of some code changes (the 2025
        reform, typically), so each (code, period) falls into one report row
        (:meth:`row_of`). Grouping by them and placing the few hundred groups here costs one
        lookup per group, where a ``CASE`` of one ``IN (…)`` list per report row tests every
        answer against every row (measured by ``bench/reports.py``).
        """
        cuts = self.scope.answer_cuts()
        period = (
            sa.case(*((model.responded_on < cut, i) for i, cut in enumerate(cuts)), else_=len(cuts))
            if cuts
            else sa.literal(0)
        )
        return model.unit_code.label("place_code"), period.label("place_period")

    def row_of(self, code: str | None, period: int) -> int:
        """The report row of a :meth:`place_key` (-1: under the unit, in none of its rows)."""
        return self.scope.row_for(code or "", int(period))

    def where(self, model, *, counted_only: bool = True) -> sa.ColumnElement[bool]:
        """The WHERE clause on one projection table."""
        parts = [
            model.responded_on >= self.period_from,
            model.responded_on <= self.period_to,
            answer_clause(self.scope.whole, model.unit_code, model.responded_on),
        ]
        if counted_only:
            parts.append(model.counted.is_(True))
        if self.levels:
            parts.append(model.level.in_(self.levels))
        if self.staff_cats:
            parts.append(model.staff_cat.in_(self.staff_cats))
        if self.job_positions:
            parts.append(model.job_position.in_(self.job_positions))
        return sa.and_(*parts)


def grouping(model, by: str, answers: AnswerFilter) -> tuple[sa.ColumnElement, ...]:
    """The columns a table groups on: a respondent column, the place (``row``), or nothing.

    For ``row`` the query groups by :meth:`AnswerFilter.place_key` (two columns);
    :func:`_placed` turns those groups into report rows.
    """
    if by == "row":
        return answers.place_key(model)
    if by == "all":
        return (sa.literal("all").label("grp"),)
    return (getattr(model, by).label("grp"),)


def _placed(rows, answers: AnswerFilter, by: str, keys: int) -> list[tuple]:
    """Rows of ``(group, *keys, *counts)``; for ``row``, places merged into report rows.

    :param keys: how many columns after the group identify a cell (the rest are summed).
    """
    if by != "row":
        return list(rows)
    merged: dict[tuple, list] = {}
    for code, period, *rest in rows:
        cell = (answers.row_of(code, period), *rest[:keys])
        values = rest[keys:]
        if cell in merged:
            merged[cell] = [(a or 0) + (b or 0) for a, b in zip(merged[cell], values, strict=True)]
        else:
            merged[cell] = list(values)
    return [(*cell, *values) for cell, values in merged.items()]


def rating_counts(
    session: Session, answers: AnswerFilter, *, by: str
) -> dict[object, dict[str, list[tuple[int | None, int | None, int]]]]:
    """(importance, performance, count) per group and competency.

    :param by: ``level``, ``staff_cat``, ``row`` (the report's units) or ``all``.
    :return: {group: {competency: [(I, P, count), …]}}; NULLs are "not applicable".
    """
    if ("ratings", by) in answers.memo:
        return answers.memo[("ratings", by)]
    if by == "all" and ("ratings", "level") in answers.memo:
        # Every answer has one level (NULL included): the levels add up to the whole.
        merged: dict[str, Counter] = defaultdict(Counter)
        for by_item in answers.memo[("ratings", "level")].values():
            for competency, pairs in by_item.items():
                for importance, performance, count in pairs:
                    merged[competency][(importance, performance)] += count
        result_all = {
            "all": {c: [(i, p, n) for (i, p), n in pairs.items()] for c, pairs in merged.items()}
        }
        answers.memo[("ratings", by)] = result_all
        return result_all
    group = grouping(NeedsRating, by, answers)
    query = (
        sa.select(
            *group,
            NeedsRating.competency,
            NeedsRating.importance,
            NeedsRating.performance,
            sa.func.count(),
        )
        .where(answers.where(NeedsRating))
        .group_by(*group, NeedsRating.competency, NeedsRating.importance, NeedsRating.performance)
    )
    result: dict[object, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for grp, competency, importance, performance, count in _placed(
        session.execute(query), answers, by, 3
    ):
        result[grp][competency].append((importance, performance, count))
    answers.memo[("ratings", by)] = result
    return result


def rating_sums(
    session: Session, answers: AnswerFilter, *, by: str
) -> dict[object, dict[str, GapSums]]:
    """The sums the descriptive gap statistics need, per group and competency.

    For tables that show MWDS but no interval or test (E3, one cell per unit and item):
    one row per cell instead of one per (importance, performance) pair.

    :param by: as :func:`rating_counts`.
    :return: {group: {competency: sums}} over the pairs with both ratings (ratings are 1–5 or
        NULL, a check constraint, so nothing is out of range; "not applicable" pairs are left
        out and not counted, as E3 does not show them).
    """
    group = grouping(NeedsRating, by, answers)
    gap = NeedsRating.importance - NeedsRating.performance
    query = (
        sa.select(
            *group,
            NeedsRating.competency,
            sa.func.count(),
            sa.func.sum(NeedsRating.importance),
            sa.func.sum(NeedsRating.performance),
            sa.func.sum(gap),
            sa.func.sum(gap * gap),
            sa.func.count(sa.case((gap >= NEED_THRESHOLD, 1))),
        )
        .where(
            answers.where(NeedsRating),
            NeedsRating.importance.is_not(None),
            NeedsRating.performance.is_not(None),
        )
        .group_by(*group, NeedsRating.competency)
    )
    result: dict[object, dict[str, GapSums]] = defaultdict(dict)
    for grp, competency, n, s_i, s_p, s_d, s_d2, need in _placed(
        session.execute(query), answers, by, 1
    ):
        result[grp][competency] = GapSums(
            n=n,
            sum_importance=int(s_i),
            sum_performance=int(s_p),
            sum_gap=int(s_d),
            sum_gap_squared=int(s_d2),
            n_need=need,
        )
    return result


def choice_counts(
    session: Session, answers: AnswerFilter, questions: tuple[str, ...], *, by: str
) -> dict[tuple[object, str], dict[str, int]]:
    """Respondents picking each option, per group and question: {(group, question): {code: n}}."""
    group = grouping(NeedsChoice, by, answers)
    query = (
        sa.select(*group, NeedsChoice.question, NeedsChoice.code, sa.func.count())
        .where(answers.where(NeedsChoice), NeedsChoice.question.in_(questions))
        .group_by(*group, NeedsChoice.question, NeedsChoice.code)
    )
    result: dict[tuple[object, str], dict[str, int]] = defaultdict(dict)
    for grp, question, code, count in _placed(session.execute(query), answers, by, 2):
        result[(grp, question)][code] = count
    return result


def answering_counts(
    session: Session, answers: AnswerFilter, questions: tuple[str, ...], *, by: str
) -> dict[tuple[object, str], int]:
    """Respondents who answered each question (picked at least one option), per group.

    Counted as the (respondent, question) pairs of a grouped subquery rather than with
    ``count(DISTINCT …)``, which PostgreSQL sorts instead of hashing.
    """
    group = grouping(NeedsChoice, by, answers)
    pairs = (
        sa.select(*group, NeedsChoice.question.label("question"))
        .where(answers.where(NeedsChoice), NeedsChoice.question.in_(questions))
        .group_by(*group, NeedsChoice.question, NeedsChoice.submission_id)
        .subquery()
    )
    keys = [column for column in pairs.c if column.name != "question"]
    query = sa.select(*keys, pairs.c.question, sa.func.count()).group_by(*keys, pairs.c.question)
    rows = _placed(session.execute(query), answers, by, 1)
    return {(grp, question): count for grp, question, count in rows}


def single_pick_counts(
    session: Session, answers: AnswerFilter, *, by: str
) -> dict[object, dict[str, int]]:
    """Respondents who picked exactly one wanted topic, by group and topic.

    The form asks ``topic_top1`` only when two or more topics are picked, so a lone pick is
    the respondent's top topic (``needs_topics`` counts it so; here it is counted in SQL).
    """
    alone = (
        sa.select(NeedsChoice.submission_id)
        .where(NeedsChoice.question == "topics_wanted")
        .group_by(NeedsChoice.submission_id)
        .having(sa.func.count() == 1)
    )
    group = grouping(NeedsChoice, by, answers)
    query = (
        sa.select(*group, NeedsChoice.code, sa.func.count())
        .where(
            answers.where(NeedsChoice),
            NeedsChoice.question == "topics_wanted",
            NeedsChoice.submission_id.in_(alone),
        )
        .group_by(*group, NeedsChoice.code)
    )
    result: dict[object, dict[str, int]] = defaultdict(dict)
    for grp, code, count in _placed(session.execute(query), answers, by, 1):
        result[grp][code] = count
    return result


def respondent_counts(session: Session, answers: AnswerFilter, *, by: str) -> dict[object, int]:
    """Counted respondents per group."""
    group = grouping(NeedsResponse, by, answers)
    query = sa.select(*group, sa.func.count()).where(answers.where(NeedsResponse)).group_by(*group)
    return dict(_placed(session.execute(query), answers, by, 0))


@dataclass
class CoverageCounts:
    """Survey coverage of one row and level (table B1)."""

    respondents: int = 0
    matched: int = 0
    unmatched: int = 0
    duplicates: int = 0


def survey_coverage(
    session: Session, answers: AnswerFilter
) -> dict[tuple[int, str | None], CoverageCounts]:
    """Respondents, matched to the register, unmatched, and duplicates removed, per row × level."""
    row = grouping(NeedsResponse, "row", answers)
    query = (
        sa.select(
            *row,
            NeedsResponse.level,
            sa.func.count(sa.case((NeedsResponse.counted.is_(True), 1))),
            sa.func.count(
                sa.case(
                    (
                        sa.and_(
                            NeedsResponse.counted.is_(True), NeedsResponse.person_id.is_not(None)
                        ),
                        1,
                    )
                )
            ),
            sa.func.count(
                sa.case(
                    (sa.and_(NeedsResponse.counted.is_(True), NeedsResponse.person_id.is_(None)), 1)
                )
            ),
            sa.func.count(sa.case((NeedsResponse.counted.is_(False), 1))),
        )
        .where(answers.where(NeedsResponse, counted_only=False))
        .group_by(*row, NeedsResponse.level)
    )
    return {
        (index, level): CoverageCounts(total, matched, unmatched, duplicates)
        for index, level, total, matched, unmatched, duplicates in _placed(
            session.execute(query), answers, "row", 1
        )
    }


@dataclass
class QualityCounts:
    """Data quality of the answers (annex I)."""

    respondents: int
    straightlined: int
    short_duration: int
    out_of_range: int


def quality(session: Session, answers: AnswerFilter, *, short_seconds: int = 300) -> QualityCounts:
    """Straight-lining, interviews under five minutes, ratings outside the scale."""
    respondents, straight, short, out_of_range = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count(sa.case((NeedsResponse.straightlined.is_(True), 1))),
            sa.func.count(sa.case((NeedsResponse.duration_seconds < short_seconds, 1))),
            sa.func.coalesce(sa.func.sum(NeedsResponse.out_of_range), 0),
        ).where(answers.where(NeedsResponse))
    ).one()
    return QualityCounts(respondents, straight, short, int(out_of_range))


def distribution(
    session: Session, answers: AnswerFilter, column: str, *, by: str
) -> dict[object, dict[object, int]]:
    """Counted respondents per group and value of one respondent column (sex, edu_level…)."""
    group = grouping(NeedsResponse, by, answers)
    value = getattr(NeedsResponse, column)
    query = (
        sa.select(*group, value, sa.func.count())
        .where(answers.where(NeedsResponse))
        .group_by(*group, value)
    )
    result: dict[object, dict[object, int]] = defaultdict(dict)
    for grp, val, count in _placed(session.execute(query), answers, by, 1):
        result[grp][val] = count
    return result
