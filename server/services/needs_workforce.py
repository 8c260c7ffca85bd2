"""The register's side of the needs report: workforce profile (§2.3 C) and roster counts (B1).

Everyone in post on the report's date under the report's unit counts, collaborators included;
each figure is a grouped count, never a loop over people.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.models import Course, Enrolment, Person, PersonCertificate, Posting
from server.services.needs_kpis import PostingFilter, active_on, filter_clause
from server.services.report_scope import ReportScope, unit_rows

#: Years in population work (table C3), as (label, fewer than this many years).
YEAR_BANDS = (("0–1", 2), ("2–4", 5), ("5–9", 10), ("≥ 10", None))


def _in_post(scope: ReportScope, as_of: dt.date, extra: PostingFilter) -> sa.ColumnElement:
    return sa.and_(
        active_on(as_of),
        Posting.unit_id.in_(sorted(scope.whole.unit_ids) or [-1]),
        filter_clause(extra),
    )


def roster_counts(
    session: Session, scope: ReportScope, as_of: dt.date, extra: PostingFilter
) -> dict[tuple[int, str], int]:
    """People in post per (report row, level); asked by several sections, counted once."""
    key = ("roster", as_of, extra)
    if key in scope.memo:
        return scope.memo[key]
    units = unit_rows(scope)
    query = (
        sa.select(units.c.row, Posting.level, sa.func.count(sa.distinct(Posting.person_id)))
        .join(units, units.c.unit_id == Posting.unit_id)
        .where(active_on(as_of), filter_clause(extra))
        .group_by(units.c.row, Posting.level)
    )
    result = {(index, level): count for index, level, count in session.execute(query)}
    scope.memo[key] = result
    return result


def education(
    session: Session, scope: ReportScope, as_of: dt.date, extra: PostingFilter
) -> dict[str, dict[tuple[str | None, str | None], int]]:
    """Table C1: {level: {(education level, field): people}}."""
    query = (
        sa.select(
            Posting.level,
            Person.education_level,
            Person.education_field,
            sa.func.count(sa.distinct(Person.id)),
        )
        .join(Person, Person.id == Posting.person_id)
        .where(_in_post(scope, as_of, extra))
        .group_by(Posting.level, Person.education_level, Person.education_field)
    )
    result: dict[str, dict] = defaultdict(dict)
    for level, edu, field, count in session.execute(query):
        result[level][(edu, field)] = count
    return result


def certificates(
    session: Session, scope: ReportScope, as_of: dt.date, extra: PostingFilter
) -> dict[str, dict[str, int]]:
    """Table C2: {level: {certificate: people holding it on as_of}}."""
    query = (
        sa.select(
            Posting.level, PersonCertificate.code, sa.func.count(sa.distinct(Posting.person_id))
        )
        .join(PersonCertificate, PersonCertificate.person_id == Posting.person_id)
        .where(
            _in_post(scope, as_of, extra),
            sa.or_(PersonCertificate.issued_on.is_(None), PersonCertificate.issued_on <= as_of),
        )
        .group_by(Posting.level, PersonCertificate.code)
    )
    result: dict[str, dict[str, int]] = defaultdict(dict)
    for level, code, count in session.execute(query):
        result[level][code] = count
    return result


def years_in_work(
    session: Session, scope: ReportScope, as_of: dt.date, extra: PostingFilter
) -> dict[str, dict[str, int]]:
    """Table C3: {level: {band: people}}, years counted from the person's first posting."""
    first = (
        sa.select(Posting.person_id, sa.func.min(Posting.valid_from).label("first"))
        .group_by(Posting.person_id)
        .subquery()
    )
    whens = []
    for label, below in YEAR_BANDS:
        if below is not None:
            cut = _years_before(as_of, below)
            whens.append((first.c.first > cut, label))
    band = sa.case(*whens, else_=YEAR_BANDS[-1][0]).label("band")
    query = (
        sa.select(Posting.level, band, sa.func.count(sa.distinct(Posting.person_id)))
        .join(first, first.c.person_id == Posting.person_id)
        .where(_in_post(scope, as_of, extra))
        .group_by(Posting.level, band)
    )
    result: dict[str, dict[str, int]] = defaultdict(dict)
    for level, label, count in session.execute(query):
        result[level][label] = count
    return result


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def sex_by_level(
    session: Session, scope: ReportScope, as_of: dt.date, extra: PostingFilter
) -> dict[str, dict[str, int]]:
    """Table C3 (sex): {level: {'f'|'m': people}}."""
    query = (
        sa.select(Posting.level, Person.sex, sa.func.count(sa.distinct(Person.id)))
        .join(Person, Person.id == Posting.person_id)
        .where(_in_post(scope, as_of, extra))
        .group_by(Posting.level, Person.sex)
    )
    result: dict[str, dict[str, int]] = defaultdict(dict)
    for level, sex, count in session.execute(query):
        result[level][sex] = count
    return result


def training_days(
    session: Session, scope: ReportScope, as_of: dt.date, extra: PostingFilter
) -> dict[str, dict[int, int]]:
    """Table C4: {level: {days of training completed in the last 12 months: people}}.

    A course's days are its calendar days (start to end). People without a completion are
    not returned by the grouped query; the caller adds them as 0 days from the roster count.
    """
    year_ago = as_of - dt.timedelta(days=365)
    days = {
        course_id: (end - start).days + 1
        for course_id, start, end in session.execute(
            sa.select(Course.id, Course.start_date, Course.end_date)
        )
    }
    if not days:
        return {}
    by_days: dict[int, list[int]] = defaultdict(list)
    for course_id, n in days.items():
        by_days[n].append(course_id)
    course_days = sa.case(
        *((Enrolment.course_id.in_(ids), n) for n, ids in by_days.items()), else_=0
    )
    per_person = (
        sa.select(Enrolment.person_id, sa.func.sum(course_days).label("days"))
        .where(
            Enrolment.completion == "completed",
            Enrolment.completed_on > year_ago,
            Enrolment.completed_on <= as_of,
        )
        .group_by(Enrolment.person_id)
        .subquery()
    )
    query = (
        sa.select(Posting.level, per_person.c.days, sa.func.count(sa.distinct(Posting.person_id)))
        .join(per_person, per_person.c.person_id == Posting.person_id)
        .where(_in_post(scope, as_of, extra))
        .group_by(Posting.level, per_person.c.days)
    )
    result: dict[str, dict[int, int]] = defaultdict(dict)
    for level, n, count in session.execute(query):
        result[level][int(n)] = count
    return result
