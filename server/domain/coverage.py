"""Coverage indicators against the targets (reports spec §2.2.5) and the rules built on them.

Per KPI: coverage %, persons still to train, classes, persons per year, the expected value on
the straight line from the baseline to the target, and a status colour. Also the training-plan
priority (§2.3 H) and the three summary findings (§2.3 A), as functions over computed tables.

Counts are exact: targets are read as the decimals people typed (70, "0.7", Decimal) and all
arithmetic that decides a number of persons or a colour is done in fractions. The seeds'
targets happen to be safe in binary floating point (0.70 × 260 = 182.0), but targets are
editable per province and 0.55 × 200 is 110.00000000000001, whose ceiling would ask for one
person too many; here it is 110. Results are plain ``float``/``int``/``str``/``None`` (JSON-ready,
unrounded); percentages are on 0..100 (``*_pct``), dates ISO strings. A KPI whose denominator
is 0 has ``coverage_pct`` None and ``reason="zero_denominator"`` (pages print "—").
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from server.domain.needs_gap import GapRow
    from server.domain.needs_topics import TopicDemand

Number = int | float | str | Decimal | Fraction

#: Status colours, worst last. Amber: at most ``AMBER_BAND_PP`` points below expected.
STATUSES = ("green", "amber", "red")
AMBER_BAND_PP = 10
#: §2.3 H: a topic asked for by at least this share of respondents is P3.
DEMAND_PRIORITY_SHARE = Fraction(3, 10)


@dataclass(frozen=True)
class KpiResult:
    """One KPI for one unit at one date (a row of table D, a line of the scorecard)."""

    kpi_code: str
    numerator: int
    denominator: int
    coverage_pct: float | None
    target_pct: float
    target_year: int
    as_of: str
    baseline_pct: float | None
    baseline_date: str | None
    expected_pct: float | None
    status: str | None
    shortfall_pp: float | None
    persons_to_target: int | None
    class_size: int
    classes_needed: int | None
    years_left: int
    per_year_needed: int | None
    reason: str | None


@dataclass(frozen=True)
class PlanCandidate:
    """A (topic, target group, unit) line proposed for the plan, with the evidence for it."""

    topic: str
    group: str
    unit: str | None
    persons: int
    class_size: int
    course: str | None = None
    kpi_status: str | None = None
    quadrant: str | None = None
    mwds: float | None = None
    demand_share: float | None = None


@dataclass(frozen=True)
class PlanRow:
    """One row of table H."""

    topic: str
    group: str
    unit: str | None
    persons: int
    class_size: int
    classes: int
    course: str | None
    priority: str


@dataclass(frozen=True)
class Findings:
    """The three bullet findings of the summary page (§2.3 A)."""

    worst_kpi: KpiResult | None
    top_competencies: dict[str, list[GapRow]]
    top_topics: list[TopicDemand]


def coverage_pct(numerator: int, denominator: int) -> float | None:
    """``numerator / denominator × 100``; None when the denominator is 0.

    :param numerator: persons (or units) qualifying.
    :param denominator: persons (or units) in the target set.
    :return: the coverage in percent, unrounded.
    :raises ValueError: on negative counts or a numerator above the denominator.
    """
    _check_counts(numerator, denominator)
    return numerator * 100 / denominator if denominator else None


def persons_to_target(numerator: int, denominator: int, target_pct: Number) -> int:
    """``max(0, ⌈target × denominator⌉ − numerator)``, computed exactly.

    :param numerator: persons already qualifying.
    :param denominator: persons in the target set.
    :param target_pct: the target in percent (70 for 70 %).
    :return: persons still to train (0 when the target is met).
    :raises ValueError: on negative counts or a numerator above the denominator.
    """
    _check_counts(numerator, denominator)
    return max(0, math.ceil(_exact(target_pct) * denominator / 100) - numerator)


def classes_needed(persons: int, class_size: int) -> int:
    """``⌈persons / class_size⌉``.

    :param persons: persons to train.
    :param class_size: trainees per class (§2.1: 40 for CTV, 30 otherwise).
    :return: the number of classes.
    :raises ValueError: when ``class_size`` is not positive.
    """
    if class_size < 1:
        raise ValueError("class_size must be at least 1")
    return -(-persons // class_size)


def years_left(target_year: int, as_of: date) -> int:
    """Calendar years left to the target, the current one included.

    :param target_year: the year whose 31/12 the target is due.
    :param as_of: the report date.
    :return: ``target_year − year(as_of) + 1`` (0 or less once the target year has passed).
    """
    return target_year - as_of.year + 1


def per_year_needed(persons: int, years: int) -> int | None:
    """``⌈persons / years_left⌉``; None once the target year has passed (no years to spread).

    :param persons: persons still to train.
    :param years: :func:`years_left`.
    :return: persons to train per year.
    """
    return -(-persons // years) if years >= 1 else None


def expected_pct(
    *,
    baseline_pct: Number,
    baseline_date: date,
    target_pct: Number,
    target_year: int,
    as_of: date,
) -> float:
    """Where the KPI should be on ``as_of``: the straight line from baseline to target.

    The line runs from ``baseline_date`` to 31/12 of ``target_year`` and is flat outside that
    span. A baseline already at or above the target gives a flat line at the target: the
    falling line of the formula would call a unit that is above its target "behind".

    For a yearly flow such as KPI-06 pass a baseline of 0 on 1/1 of the year and that year as
    ``target_year``: the line then says how much of the year's quota should be done by now.

    :param baseline_pct: coverage at the baseline date, in percent.
    :param baseline_date: t0.
    :param target_pct: target in percent.
    :param target_year: T = 31/12 of this year.
    :param as_of: the report date.
    :return: the expected coverage in percent.
    """
    return float(_expected(baseline_pct, baseline_date, target_pct, target_year, as_of))


def kpi_status(coverage: Number, expected: Number, *, amber_band_pp: Number = AMBER_BAND_PP) -> str:
    """Traffic light: green at or above expected, amber within the band below it, red below.

    :param coverage: coverage in percent.
    :param expected: :func:`expected_pct`.
    :param amber_band_pp: width of the amber band in percentage points.
    :return: ``green``, ``amber`` or ``red``.
    """
    coverage, expected = _exact(coverage), _exact(expected)
    if coverage >= expected:
        return "green"
    return "amber" if coverage >= expected - _exact(amber_band_pp) else "red"


def evaluate_kpi(
    kpi_code: str,
    *,
    numerator: int,
    denominator: int,
    target_pct: Number,
    target_year: int,
    as_of: date,
    class_size: int,
    baseline_pct: Number | None = None,
    baseline_date: date | None = None,
) -> KpiResult:
    """Compute every column of a KPI row (§2.2.5).

    Without a baseline there is no trajectory: ``expected_pct`` is None and the status is
    green if the target is met, else None.

    :param kpi_code: KPI-01…KPI-08.
    :param numerator: qualifying persons (units for KPI-07/08).
    :param denominator: the target set.
    :param target_pct: the target in percent.
    :param target_year: the year the target is due (31/12).
    :param as_of: the report date.
    :param class_size: trainees per class.
    :param baseline_pct: coverage at ``baseline_date``, in percent.
    :param baseline_date: the baseline date t0.
    :return: the row; with a zero denominator every computed value is None.
    :raises ValueError: on negative counts, a numerator above the denominator, or a baseline
        percent without its date.
    """
    if (baseline_pct is None) != (baseline_date is None):
        raise ValueError("baseline_pct and baseline_date go together")
    numerator, denominator = int(numerator), int(denominator)
    _check_counts(numerator, denominator)
    years = years_left(target_year, as_of)
    common = {
        "kpi_code": kpi_code,
        "numerator": numerator,
        "denominator": denominator,
        "target_pct": float(_exact(target_pct)),
        "target_year": target_year,
        "as_of": as_of.isoformat(),
        "baseline_pct": None if baseline_pct is None else float(_exact(baseline_pct)),
        "baseline_date": baseline_date.isoformat() if baseline_date else None,
        "class_size": class_size,
        "years_left": years,
    }
    if denominator == 0:
        nothing = dict.fromkeys(
            ("coverage_pct", "expected_pct", "status", "shortfall_pp", "persons_to_target")
        )
        return KpiResult(
            **common,
            **nothing,
            classes_needed=None,
            per_year_needed=None,
            reason="zero_denominator",
        )
    coverage = Fraction(numerator * 100, denominator)
    persons = persons_to_target(numerator, denominator, target_pct)
    expected = status = shortfall = None
    if baseline_date is not None:
        expected = _expected(baseline_pct, baseline_date, target_pct, target_year, as_of)
        status = kpi_status(coverage, expected)
        shortfall = float(expected - coverage)
    elif coverage >= _exact(target_pct):
        status = "green"
    return KpiResult(
        **common,
        coverage_pct=float(coverage),
        expected_pct=None if expected is None else float(expected),
        status=status,
        shortfall_pp=shortfall,
        persons_to_target=persons,
        classes_needed=classes_needed(persons, class_size),
        per_year_needed=per_year_needed(persons, years),
        reason=None,
    )


def mwds_top_quartile_cut(mwds_values: Sequence[float | None]) -> float | None:
    """The MWDS from which an item is in the top quartile of its table (§2.3 H rule 2).

    The 75th percentile with numpy's default linear interpolation; an item is in the top
    quartile when its MWDS is at or above it. None values (suppressed items) are left out.

    :param mwds_values: the MWDS of the items of one table.
    :return: the cut, or None when no item has an MWDS.
    """
    present = [v for v in mwds_values if v is not None]
    return float(np.quantile(present, 0.75)) if present else None


def plan_priority(
    *,
    kpi_status: str | None,
    quadrant: str | None,
    mwds: float | None,
    mwds_cut: float | None,
    demand_share: float | None,
) -> str:
    """The priority of a training-plan line (§2.3 H), first rule that holds.

    P1: the linked legal target is behind (status red or amber). P2: quadrant Q1 with MWDS in
    the top quartile (``mwds ≥ mwds_cut``). P3: demand share ≥ 30 %. P4: otherwise.

    :param kpi_status: status of the linked KPI, None when the topic has none.
    :param quadrant: IPA quadrant of the competency giving the topic's gap support.
    :param mwds: that competency's MWDS.
    :param mwds_cut: :func:`mwds_top_quartile_cut` of its table.
    :param demand_share: the topic's demand share (0..1).
    :return: ``P1``…``P4``.
    """
    if kpi_status in ("red", "amber"):
        return "P1"
    if quadrant == "Q1" and mwds is not None and mwds_cut is not None and mwds >= mwds_cut:
        return "P2"
    if demand_share is not None and _exact(demand_share) >= DEMAND_PRIORITY_SHARE:
        return "P3"
    return "P4"


def build_training_plan(
    candidates: Sequence[PlanCandidate], *, mwds_cut: float | None
) -> list[PlanRow]:
    """Table H: classes and priority per line, sorted by priority, then most persons first.

    :param candidates: the proposed lines with their evidence.
    :param mwds_cut: :func:`mwds_top_quartile_cut` of the table the MWDS come from.
    :return: the plan rows; equal lines are ordered by topic, group and unit.
    """
    rows = [
        PlanRow(
            topic=c.topic,
            group=c.group,
            unit=c.unit,
            persons=c.persons,
            class_size=c.class_size,
            classes=classes_needed(c.persons, c.class_size),
            course=c.course,
            priority=plan_priority(
                kpi_status=c.kpi_status,
                quadrant=c.quadrant,
                mwds=c.mwds,
                mwds_cut=mwds_cut,
                demand_share=c.demand_share,
            ),
        )
        for c in candidates
    ]
    rows.sort(key=lambda r: (r.priority, -r.persons, r.topic, r.group, r.unit or ""))
    return rows


def worst_kpi(results: Sequence[KpiResult]) -> KpiResult | None:
    """The KPI in the worst state: worst status, then furthest below expected, then most persons.

    :param results: the scorecard rows; rows without a status are not compared.
    :return: that row, or None when no row has a status.
    """
    rated = [r for r in results if r.status is not None]
    if not rated:
        return None
    return min(
        rated,
        key=lambda r: (
            -STATUSES.index(r.status),
            -(r.shortfall_pp or 0.0),
            -(r.persons_to_target or 0),
            r.kpi_code,
        ),
    )


def top_competencies(rows: Sequence[GapRow], *, top: int = 3) -> list[GapRow]:
    """The first ``top`` ranked competencies of a table E1 that show a need (MWDS > 0).

    Suppressed rows have no rank and are never named; an item with no gap is not a need.

    :param rows: :func:`server.domain.needs_gap.gap_table` of one group.
    :param top: how many.
    :return: at most ``top`` rows, best first.
    """
    ranked = [r for r in rows if r.rank is not None and r.mwds is not None and r.mwds > 0]
    return sorted(ranked, key=lambda r: (r.rank, r.item))[:top]


def top_topics(rows: Sequence[TopicDemand], *, top: int = 3) -> list[TopicDemand]:
    """The ``top`` most demanded topics (ties: top-1 share, then code); suppressed rows skipped.

    :param rows: :func:`server.domain.needs_topics.topic_demand` of one group.
    :param top: how many.
    :return: at most ``top`` rows, most demanded first.
    """
    asked = [r for r in rows if not r.suppressed and r.n_selected > 0]
    return sorted(asked, key=lambda r: (-r.demand_share, -(r.top1_share or 0.0), r.topic))[:top]


def three_findings(
    kpis: Sequence[KpiResult],
    gap_tables: Mapping[str, Sequence[GapRow]],
    topics: Sequence[TopicDemand],
    *,
    top: int = 3,
) -> Findings:
    """The summary's three findings (§2.3 A).

    :param kpis: the scorecard rows.
    :param gap_tables: group label → its table E1 (the spec asks for CTV and commune staff).
    :param topics: table F1 of the report's population.
    :param top: how many competencies and topics to name.
    :return: the findings.
    """
    return Findings(
        worst_kpi=worst_kpi(kpis),
        top_competencies={g: top_competencies(rows, top=top) for g, rows in gap_tables.items()},
        top_topics=top_topics(topics, top=top),
    )


def _exact(value: Number) -> Fraction:
    """A number as the decimal it was written as (0.7 → 7/10, not the binary 0.6999…)."""
    if isinstance(value, numbers.Rational):  # int, Fraction, numpy integers
        return Fraction(int(value)) if isinstance(value, numbers.Integral) else Fraction(value)
    if isinstance(value, numbers.Real) and not isinstance(value, Decimal):
        return Fraction(Decimal(repr(float(value))))
    return Fraction(Decimal(value))


def _expected(
    baseline_pct: Number, baseline_date: date, target_pct: Number, target_year: int, as_of: date
) -> Fraction:
    baseline, target = _exact(baseline_pct), _exact(target_pct)
    due = date(target_year, 12, 31)
    if baseline >= target or due <= baseline_date:
        return target
    elapsed = min(max((as_of - baseline_date).days, 0), (due - baseline_date).days)
    return baseline + (target - baseline) * Fraction(elapsed, (due - baseline_date).days)


def _check_counts(numerator: int, denominator: int) -> None:
    if numerator < 0 or denominator < 0 or numerator > denominator:
        raise ValueError(
            f"counts must satisfy 0 ≤ numerator ≤ denominator: {numerator}/{denominator}"
        )
