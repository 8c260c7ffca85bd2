"""Counting the coverage indicators (reports spec §1.2, §2.2.5) in the database.

Each KPI is a set of people in post on a date (the denominator, from the register's
postings) and a rule that qualifies some of them (the numerator). One SQL statement per KPI
counts, per report row, the people in the denominator, those qualified by any source, those
qualified only by what they said in the needs assessment, and those qualified by a record
dated within the target period; nothing loops over people in Python.

Sources, in the order of trust of spec §2.2.1: a certificate in the register, a completion
recorded by the system (with a passed post-test where the rule asks for one), then a
self-report in the person's counted TNA answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.models import (
    AdminUnit,
    Course,
    Enrolment,
    ExamScore,
    NeedsChoice,
    NeedsResponse,
    Person,
    PersonCertificate,
    Posting,
    SubmissionLink,
)
from server.services.report_scope import ReportScope, unit_rows

#: Job categories of each denominator (catalogue STAFF_CATEGORIES).
POPULATION_VC = ("vc_district", "vc_commune")
PROVIDERS = ("fp_provider", "rh_dept")
LEADERS = ("leader_health", "station_head")
COLLABORATORS = ("ctv", "ctv_dual")
NOT_STAFF = (*COLLABORATORS, "volunteer_elderly", "village_hw")
CDNN = ("cdnn_iv", "cdnn_iii", "cdnn_ii")


@dataclass(frozen=True)
class KpiRule:
    """Who a KPI counts and what qualifies them."""

    code: str
    vi: str
    en: str
    denominator_vi: str
    denominator_en: str
    topic: str | None = None
    certificates: tuple[str, ...] = ()
    needs_pass: bool = False
    class_size_key: str = "class_size_other"


KPIS: dict[str, KpiRule] = {
    "KPI-01": KpiRule(
        "KPI-01",
        "CBCCVC tuyến tỉnh được bồi dưỡng kiến thức dân số cơ bản (TP01)",
        "Province-level staff trained in basic population knowledge (TP01)",
        "Người làm công tác dân số tuyến tỉnh đang tại chức",
        "Population-work staff at province level in post",
        topic="TP01",
    ),
    "KPI-02": KpiRule(
        "KPI-02",
        "Viên chức dân số huyện, xã được bồi dưỡng kiến thức dân số cơ bản (TP01)",
        "District and commune population officers trained in basic population knowledge",
        "Viên chức dân số tuyến huyện, xã đang tại chức",
        "Population officers (vc_district, vc_commune) in post",
        topic="TP01",
    ),
    "KPI-03": KpiRule(
        "KPI-03",
        "Viên chức dân số được bồi dưỡng theo chuẩn CDNN",
        "Population officers trained to the professional-title standard",
        "Viên chức dân số tuyến huyện, xã đang tại chức",
        "Population officers (vc_district, vc_commune) in post",
        certificates=CDNN,
    ),
    "KPI-04": KpiRule(
        "KPI-04",
        "NVYT cung cấp dịch vụ KHHGĐ/SKSS có kiến thức, kỹ năng (TP04, đạt bài kiểm tra)",
        "FP/RH providers with the knowledge and skills (TP04, post-test passed)",
        "NVYT cung cấp dịch vụ KHHGĐ/SKSS tuyến huyện, xã đang tại chức",
        "FP/RH service providers at district and commune level in post",
        topic="TP04",
        needs_pass=True,
    ),
    "KPI-05": KpiRule(
        "KPI-05",
        "Lãnh đạo y tế huyện, xã được bồi dưỡng quản lý dân số và phát triển (TP03)",
        "District and commune health leaders trained in P&D management (TP03)",
        "Lãnh đạo đơn vị y tế tuyến huyện, xã đang tại chức",
        "Leaders of district and commune health units in post",
        topic="TP03",
    ),
}


@dataclass
class KpiCounts:
    """A KPI's counts for the whole report and for each of its rows."""

    denominator: int = 0
    numerator: int = 0
    self_reported_only: int = 0
    within_period: int = 0
    rows: dict[int, KpiCounts] = field(default_factory=dict)


@dataclass(frozen=True)
class PostingFilter:
    """The report's optional filters on the people counted (spec §2.1)."""

    levels: tuple[str, ...] = ()
    staff_cats: tuple[str, ...] = ()
    job_positions: tuple[str, ...] = ()


def active_on(day: dt.date) -> sa.ColumnElement[bool]:
    """Postings in force on ``day``."""
    return sa.and_(
        Posting.valid_from <= day, sa.or_(Posting.valid_to.is_(None), Posting.valid_to >= day)
    )


def row_case(scope: ReportScope) -> sa.ColumnElement[int]:
    """The report row a posting's unit falls into (-1: the unit itself or none)."""
    by_row: dict[int, list[int]] = {}
    for unit_id, index in scope.row_of_unit.items():
        by_row.setdefault(index, []).append(unit_id)
    whens = [(Posting.unit_id.in_(sorted(ids)), index) for index, ids in sorted(by_row.items())]
    return sa.case(*whens, else_=-1) if whens else sa.literal(-1)


def denominator_clause(code: str, extra: PostingFilter) -> sa.ColumnElement[bool]:
    """Which postings a KPI's denominator takes."""
    if code == "KPI-01":
        rule = sa.and_(Posting.level == "province", Posting.job_category.not_in(NOT_STAFF))
    elif code in {"KPI-02", "KPI-03"}:
        rule = sa.and_(
            Posting.level.in_(("district", "commune")), Posting.job_category.in_(POPULATION_VC)
        )
    elif code == "KPI-04":
        rule = sa.and_(
            Posting.level.in_(("district", "commune")), Posting.job_category.in_(PROVIDERS)
        )
    elif code == "KPI-05":
        rule = sa.and_(
            Posting.level.in_(("district", "commune")),
            sa.or_(Posting.job_category.in_(LEADERS), Posting.leadership.is_not(None)),
        )
    elif code in {"KPI-06", "KPI-09"}:
        rule = Posting.job_category.in_(COLLABORATORS)
    else:
        raise ValueError(code)
    return sa.and_(rule, filter_clause(extra))


def filter_clause(extra: PostingFilter) -> sa.ColumnElement[bool]:
    """The report's level / category / job filters on postings."""
    parts = []
    if extra.levels:
        parts.append(Posting.level.in_(extra.levels))
    if extra.staff_cats:
        parts.append(Posting.job_category.in_(extra.staff_cats))
    # The register has no job position (only the TNA asks it): that filter applies to answers.
    return sa.and_(sa.true(), *parts)


def topic_course_ids(session: Session, topic: str) -> list[int]:
    """Courses tagged with a topic (a few hundred courses: read once, filtered here)."""
    return [
        course_id
        for course_id, topics in session.execute(sa.select(Course.id, Course.topics))
        if topic in (topics or [])
    ]


def qualified_clauses(
    session: Session,
    rule: KpiRule,
    *,
    as_of: dt.date,
    since: dt.date,
    settings: dict,
    certificates: tuple[str, ...],
) -> tuple[sa.ColumnElement[bool], sa.ColumnElement[bool], sa.ColumnElement[bool]]:
    """(verified or recorded, self-reported, dated within [since, as_of]) for the posting's person.

    :param session: the database session (to find the topic's courses).
    :param rule: the KPI.
    :param as_of: records after this day do not count.
    :param since: first day of the target period (for the secondary "within period" count).
    :param settings: the report settings (``kpi04_requires_pass``).
    :param certificates: certificate codes that qualify (KPI-03's reading decides them).
    :return: three correlated conditions on ``Posting.person_id``.
    """
    person = Posting.person_id
    recorded, within, reported = [], [], []
    if certificates:
        held = sa.and_(
            PersonCertificate.person_id == person,
            PersonCertificate.code.in_(certificates),
            sa.or_(PersonCertificate.issued_on.is_(None), PersonCertificate.issued_on <= as_of),
        )
        recorded.append(sa.exists().where(held))
        within.append(sa.exists().where(held, PersonCertificate.issued_on >= since))
        certified_courses = [
            course_id
            for course_id, certificate in session.execute(sa.select(Course.id, Course.certificate))
            if certificate in certificates
        ]
        if certified_courses:
            recorded.append(_completed(person, certified_courses, as_of))
            within.append(_completed(person, certified_courses, as_of, since))
        reported.append(_said(person, "certs", certificates, as_of))
    if rule.topic:
        courses = topic_course_ids(session, rule.topic)
        needs_pass = rule.needs_pass and settings.get("kpi04_requires_pass", True)
        if courses:
            recorded.append(_completed(person, courses, as_of, passed=needs_pass))
            within.append(_completed(person, courses, as_of, since, passed=needs_pass))
        if not needs_pass:  # a self-report cannot show a passed test
            reported.append(_said(person, "topics_24m", (rule.topic,), as_of))
    false = sa.false()
    return (
        sa.or_(false, *recorded),
        sa.or_(false, *reported),
        sa.or_(false, *within),
    )


def _completed(
    person, course_ids: list[int], as_of: dt.date, since: dt.date | None = None, *, passed=False
) -> sa.ColumnElement[bool]:
    done = sa.and_(
        Enrolment.person_id == person,
        Enrolment.course_id.in_(course_ids),
        Enrolment.completion == "completed",
        sa.or_(Enrolment.completed_on.is_(None), Enrolment.completed_on <= as_of),
    )
    if since is not None:
        done = sa.and_(done, Enrolment.completed_on >= since)
    condition = sa.exists().where(done)
    if passed:
        condition = sa.and_(
            condition,
            sa.exists().where(
                SubmissionLink.person_id == person,
                SubmissionLink.course_id.in_(course_ids),
                ExamScore.submission_id == SubmissionLink.submission_id,
                ExamScore.phase == "post",
                ExamScore.passed.is_(True),
            ),
        )
    return condition


def _said(person, question: str, codes: tuple[str, ...], as_of: dt.date) -> sa.ColumnElement:
    # The form's choice names are lower case (tp01); the catalogue's topic codes upper (TP01).
    codes = tuple({*codes, *(code.lower() for code in codes)})
    return sa.exists().where(
        NeedsResponse.person_id == person,
        NeedsResponse.counted.is_(True),
        NeedsResponse.responded_on <= as_of,
        NeedsChoice.submission_id == NeedsResponse.submission_id,
        NeedsChoice.question == question,
        NeedsChoice.code.in_(codes),
    )


def count_kpi(
    session: Session,
    scope: ReportScope,
    rule: KpiRule,
    *,
    as_of: dt.date,
    since: dt.date,
    settings: dict,
    extra: PostingFilter,
    certificates: tuple[str, ...] | None = None,
) -> KpiCounts:
    """Count one person KPI per report row (one statement).

    :return: the totals and the counts of each row.
    """
    recorded, reported, within = qualified_clauses(
        session,
        rule,
        as_of=as_of,
        since=since,
        settings=settings,
        certificates=rule.certificates if certificates is None else certificates,
    )
    # The (unit, row) table joined keeps the report's units and names each posting's row.
    units = unit_rows(scope)
    person = Posting.person_id
    query = (
        sa.select(
            units.c.row,
            sa.func.count(sa.distinct(person)),
            sa.func.count(sa.distinct(sa.case((sa.or_(recorded, reported), person)))),
            sa.func.count(sa.distinct(sa.case((sa.and_(reported, sa.not_(recorded)), person)))),
            sa.func.count(sa.distinct(sa.case((within, person)))),
        )
        .join(units, units.c.unit_id == Posting.unit_id)
        .where(active_on(as_of), denominator_clause(rule.code, extra))
        .group_by(units.c.row)
    )
    counts = KpiCounts()
    for index, denominator, numerator, self_only, dated in session.execute(query):
        part = KpiCounts(denominator, numerator, self_only, dated)
        counts.rows[index] = part
        counts.denominator += denominator
        counts.numerator += numerator
        counts.self_reported_only += self_only
        counts.within_period += dated
    return counts


def people_to_train(
    session: Session,
    scope: ReportScope,
    rule: KpiRule,
    *,
    as_of: dt.date,
    since: dt.date,
    settings: dict,
    extra: PostingFilter,
    certificates: tuple[str, ...] | None = None,
) -> sa.Result:
    """The working list (spec §2.3 D-list): who in a KPI's denominator is not yet qualified.

    People qualified by no record, with whether they say they are (to verify), ordered by
    unit and name.

    :return: rows of (unit code, unit name, level, category, person code, full name, sex,
        self-reported).
    """
    recorded, reported, _ = qualified_clauses(
        session,
        rule,
        as_of=as_of,
        since=since,
        settings=settings,
        certificates=rule.certificates if certificates is None else certificates,
    )
    return session.execute(
        sa.select(
            AdminUnit.code,
            AdminUnit.name,
            Posting.level,
            Posting.job_category,
            Person.code,
            Person.full_name,
            Person.sex,
            reported,
        )
        .join(Person, Person.id == Posting.person_id)
        .join(AdminUnit, AdminUnit.id == Posting.unit_id)
        .where(
            active_on(as_of),
            Posting.unit_id.in_(sorted(scope.whole.unit_ids) or [-1]),
            denominator_clause(rule.code, extra),
            sa.not_(recorded),
        )
        .order_by(AdminUnit.code, Person.full_name, Person.code)
    )


@dataclass
class FlowYear:
    """KPI-06 for one calendar year: collaborators in post, unique trained, person-times."""

    year: int
    denominator: int
    trained: int
    person_times: int


def count_collaborator_flow(
    session: Session,
    scope: ReportScope,
    *,
    year: int,
    as_of: dt.date,
    settings: dict,
    extra: PostingFilter,
) -> FlowYear:
    """KPI-06 for one year: collaborators in post, trained ones, and their completions.

    In post on 31/12 (or ``as_of`` in the current year; the setting ``ctv_denominator`` may
    ask for the mean of 1/1 and 31/12), the unique ones with a completion dated in the year,
    and all their completions (person-times).
    """
    last = min(dt.date(year, 12, 31), as_of)
    first = dt.date(year, 1, 1)
    in_year = sa.and_(
        Enrolment.person_id == Posting.person_id,
        Enrolment.completion == "completed",
        Enrolment.completed_on >= first,
        Enrolment.completed_on <= last,
    )
    base = sa.and_(
        Posting.unit_id.in_(sorted(scope.whole.unit_ids) or [-1]),
        denominator_clause("KPI-06", extra),
    )
    if settings.get("ctv_denominator") == "average":
        on_first = _count(session, sa.and_(base, active_on(first)))
        on_last = _count(session, sa.and_(base, active_on(last)))
        denominator = round((on_first + on_last) / 2)
    else:
        denominator = _count(session, sa.and_(base, active_on(last)))
    trained = session.scalar(
        sa.select(sa.func.count(sa.distinct(Posting.person_id))).where(
            base, active_on(last), sa.exists().where(in_year)
        )
    )
    person_times = session.scalar(
        sa.select(sa.func.count(Enrolment.id)).where(
            Enrolment.completion == "completed",
            Enrolment.completed_on >= first,
            Enrolment.completed_on <= last,
            Enrolment.person_id.in_(sa.select(Posting.person_id).where(base, active_on(last))),
        )
    )
    return FlowYear(year, denominator, trained or 0, person_times or 0)


def _count(session: Session, where: sa.ColumnElement[bool]) -> int:
    return (
        session.scalar(sa.select(sa.func.count(sa.distinct(Posting.person_id))).where(where)) or 0
    )


def count_units_with_staff(
    session: Session, scope: ReportScope, *, level: str, categories: tuple[str, ...], as_of: dt.date
) -> tuple[int, int]:
    """KPI-07/08: units of a level in scope on ``as_of``, and those with such staff in post."""
    units = sa.select(AdminUnit.id).where(
        AdminUnit.id.in_(sorted(scope.whole.unit_ids) or [-1]),
        AdminUnit.level == level,
        AdminUnit.valid_from <= as_of,
        sa.or_(AdminUnit.valid_to.is_(None), AdminUnit.valid_to >= as_of),
    )
    total = session.scalar(sa.select(sa.func.count()).select_from(units.subquery())) or 0
    staffed = session.scalar(
        sa.select(sa.func.count(sa.distinct(Posting.unit_id))).where(
            Posting.unit_id.in_(units), Posting.job_category.in_(categories), active_on(as_of)
        )
    )
    return total, staffed or 0


def count_dual_role(
    session: Session, scope: ReportScope, *, as_of: dt.date, extra: PostingFilter
) -> tuple[int, int]:
    """KPI-09 (monitor only): collaborators in post, and those holding all three roles."""
    roles = sa.cast(Posting.ctv_roles, sa.Text)
    base = sa.and_(
        active_on(as_of),
        Posting.unit_id.in_(sorted(scope.whole.unit_ids) or [-1]),
        denominator_clause("KPI-09", extra),
    )
    total = _count(session, base)
    dual = _count(
        session,
        sa.and_(
            base,
            roles.like('%"pop"%'),
            roles.like('%"family"%'),
            roles.like('%"child"%'),
        ),
    )
    return total, dual
