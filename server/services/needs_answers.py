"""Counting the needs-assessment answers in the database (reports spec §2.2.2–§2.2.4, §2.3 G, I).

Every query reads one of the projection tables (``needs_ratings``, ``needs_choices``,
``needs_responses``), each of which carries the respondent's level, category, job, unit code
and day, so one grouped pass answers a whole table: ratings come back as counts per
(group, competency, importance, performance), which is all the gap statistics need.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.models import NeedsChoice, NeedsRating, NeedsResponse
from server.services.report_scope import ReportScope, answer_clause, answer_row_case


@dataclass(frozen=True)
class AnswerFilter:
    """Which answers a report reads: its unit, its period, and the optional filters."""

    scope: ReportScope
    period_from: dt.date
    period_to: dt.date
    levels: tuple[str, ...] = ()
    staff_cats: tuple[str, ...] = ()
    job_positions: tuple[str, ...] = ()

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


def grouping(model, by: str, answers: AnswerFilter) -> sa.ColumnElement:
    """The column a table groups on: a respondent column, the report row, or nothing."""
    if by == "row":
        return answer_row_case(answers.scope, model.unit_code, model.responded_on)
    if by == "all":
        return sa.literal("all")
    return getattr(model, by)


def rating_counts(
    session: Session, answers: AnswerFilter, *, by: str
) -> dict[object, dict[str, list[tuple[int | None, int | None, int]]]]:
    """(importance, performance, count) per group and competency.

    :param by: ``level``, ``staff_cat``, ``row`` (the report's units) or ``all``.
    :return: {group: {competency: [(I, P, count), …]}}; NULLs are "not applicable".
    """
    group = grouping(NeedsRating, by, answers).label("grp")
    query = (
        sa.select(
            group,
            NeedsRating.competency,
            NeedsRating.importance,
            NeedsRating.performance,
            sa.func.count(),
        )
        .where(answers.where(NeedsRating))
        .group_by(group, NeedsRating.competency, NeedsRating.importance, NeedsRating.performance)
    )
    result: dict[object, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for grp, competency, importance, performance, count in session.execute(query):
        result[grp][competency].append((importance, performance, count))
    return result


def choice_counts(
    session: Session, answers: AnswerFilter, questions: tuple[str, ...], *, by: str
) -> dict[tuple[object, str], dict[str, int]]:
    """Respondents picking each option, per group and question: {(group, question): {code: n}}."""
    group = grouping(NeedsChoice, by, answers).label("grp")
    query = (
        sa.select(group, NeedsChoice.question, NeedsChoice.code, sa.func.count())
        .where(answers.where(NeedsChoice), NeedsChoice.question.in_(questions))
        .group_by(group, NeedsChoice.question, NeedsChoice.code)
    )
    result: dict[tuple[object, str], dict[str, int]] = defaultdict(dict)
    for grp, question, code, count in session.execute(query):
        result[(grp, question)][code] = count
    return result


def answering_counts(
    session: Session, answers: AnswerFilter, questions: tuple[str, ...], *, by: str
) -> dict[tuple[object, str], int]:
    """Respondents who answered each question (picked at least one option), per group."""
    group = grouping(NeedsChoice, by, answers).label("grp")
    query = (
        sa.select(
            group,
            NeedsChoice.question,
            sa.func.count(sa.distinct(NeedsChoice.submission_id)),
        )
        .where(answers.where(NeedsChoice), NeedsChoice.question.in_(questions))
        .group_by(group, NeedsChoice.question)
    )
    return {(grp, question): count for grp, question, count in session.execute(query)}


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
    group = grouping(NeedsChoice, by, answers).label("grp")
    query = (
        sa.select(group, NeedsChoice.code, sa.func.count())
        .where(
            answers.where(NeedsChoice),
            NeedsChoice.question == "topics_wanted",
            NeedsChoice.submission_id.in_(alone),
        )
        .group_by(group, NeedsChoice.code)
    )
    result: dict[object, dict[str, int]] = defaultdict(dict)
    for grp, code, count in session.execute(query):
        result[grp][code] = count
    return result


def respondent_counts(session: Session, answers: AnswerFilter, *, by: str) -> dict[object, int]:
    """Counted respondents per group."""
    group = grouping(NeedsResponse, by, answers).label("grp")
    query = sa.select(group, sa.func.count()).where(answers.where(NeedsResponse)).group_by(group)
    return dict(session.execute(query).all())


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
    row = grouping(NeedsResponse, "row", answers).label("row")
    query = (
        sa.select(
            row,
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
        .group_by(row, NeedsResponse.level)
    )
    return {
        (index, level): CoverageCounts(total, matched, unmatched, duplicates)
        for index, level, total, matched, unmatched, duplicates in session.execute(query)
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
    group = grouping(NeedsResponse, by, answers).label("grp")
    value = getattr(NeedsResponse, column)
    query = (
        sa.select(group, value, sa.func.count())
        .where(answers.where(NeedsResponse))
        .group_by(group, value)
    )
    result: dict[object, dict[object, int]] = defaultdict(dict)
    for grp, val, count in session.execute(query):
        result[grp][val] = count
    return result
