"""Coverage KPIs (reports spec §2.2.5), plan priority (§2.3 H) and summary findings (§2.3 A)."""

import math
from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from server.domain.coverage import (
    KpiResult,
    PlanCandidate,
    build_training_plan,
    classes_needed,
    coverage_pct,
    evaluate_kpi,
    expected_pct,
    kpi_status,
    mwds_top_quartile_cut,
    per_year_needed,
    persons_to_target,
    plan_priority,
    three_findings,
    top_competencies,
    top_topics,
    worst_kpi,
    years_left,
)
from server.domain.needs_gap import gap_inference, gap_stats, gap_sums, gap_table, tabulate_pairs
from server.domain.needs_topics import count_topic_answers, topic_demand

BASELINE = date(2022, 12, 31)  # Gia Lai plan (seed 000) describes 2022


# ---------------------------------------------------------------- Gia Lai 2022 (§1.4, §2.6)


def test_gia_lai_kpi03_cdnn_reading():
    kpi = evaluate_kpi(
        "KPI-03",
        numerator=19,
        denominator=260,
        target_pct=70,
        target_year=2025,
        as_of=date(2022, 12, 31),
        class_size=30,
    )
    assert round(kpi.coverage_pct, 1) == 7.3
    assert kpi.persons_to_target == 163  # ⌈0.70 × 260⌉ = 182; 182 − 19
    assert kpi.classes_needed == 6  # ⌈163 / 30⌉
    assert kpi.years_left == 4  # 2022, 2023, 2024, 2025
    assert kpi.per_year_needed == 41  # ⌈163 / 4⌉
    assert kpi.reason is None


def test_gia_lai_kpi03_vc_standard_reading_is_on_target():
    kpi = evaluate_kpi(
        "KPI-03",
        numerator=248,
        denominator=260,
        target_pct=70,
        target_year=2025,
        as_of=date(2022, 12, 31),
        class_size=30,
        baseline_pct=248 * 100 / 260,
        baseline_date=BASELINE,
    )
    assert round(kpi.coverage_pct, 1) == 95.4
    assert (kpi.persons_to_target, kpi.classes_needed, kpi.per_year_needed) == (0, 0, 0)
    assert kpi.status == "green"
    assert kpi.expected_pct == 70  # baseline above target: the line is flat at the target


@pytest.mark.parametrize(
    ("numerator", "denominator", "target", "persons"),
    [
        (0, 2592, 30, 778),  # KPI-06 2022–25: ⌈777.6⌉
        (0, 2592, 40, 1037),  # KPI-06 2026–30: ⌈1036.8⌉
        (0, 260, 90, 234),  # KPI-02 (T1b)
        (19, 260, 70, 163),
        (248, 260, 70, 0),
        (3, 4, 90, 1),  # Tam Dương district T1b: ⌈3.6⌉ = 4
        (2, 4, 70, 1),  # Tam Dương district T2: ⌈2.8⌉ = 3
        (0, 197, 30, 60),  # Tam Dương CTV per year: ⌈59.1⌉
    ],
)
def test_persons_to_target_of_the_seed_baselines(numerator, denominator, target, persons):
    assert persons_to_target(numerator, denominator, target) == persons


@pytest.mark.parametrize(
    ("numerator", "denominator", "shown"),
    [
        (48, 52, 92.3),
        (200, 208, 96.2),
        (14, 52, 26.9),
        (5, 208, 2.4),
        (3, 4, 75.0),
        (2, 4, 50.0),
        (12, 13, 92.3),
    ],
)
def test_coverage_of_the_seed_baselines(numerator, denominator, shown):
    assert round(coverage_pct(numerator, denominator), 1) == shown


@pytest.mark.parametrize("target", [70, 70.0, "70", Decimal("70.0"), 0.7 * 100])
def test_target_arithmetic_is_exact_where_binary_floats_are_not(target):
    assert persons_to_target(0, 260, target) == 182


@pytest.mark.parametrize(
    ("target", "denominator", "persons"), [(55, 200, 110), (7, 300, 21), (7.0, 100, 7)]
)
def test_targets_that_binary_floats_get_wrong_are_exact(target, denominator, persons):
    assert math.ceil(target / 100 * denominator) == persons + 1  # the trap
    assert persons_to_target(0, denominator, target) == persons
    assert persons_to_target(0, denominator, str(target)) == persons


# ---------------------------------------------------------------- pieces


def test_classes_and_years():
    assert classes_needed(0, 40) == 0
    assert classes_needed(778, 40) == 20  # §1.4: ≈ 20 classes/year at 40 per class
    assert classes_needed(163, 30) == 6
    with pytest.raises(ValueError, match="class_size"):
        classes_needed(10, 0)
    assert years_left(2030, date(2026, 1, 1)) == 5
    assert years_left(2025, date(2026, 3, 1)) == 0
    assert per_year_needed(163, 4) == 41
    assert per_year_needed(163, 0) is None  # the target year has passed


def test_expected_is_the_straight_line_from_baseline_to_the_end_of_the_target_year():
    t0, due = date(2022, 12, 31), date(2025, 12, 31)
    for as_of in (date(2023, 6, 30), date(2024, 1, 1), date(2025, 7, 15)):
        line = np.interp(as_of.toordinal(), [t0.toordinal(), due.toordinal()], [7.3, 70])
        got = expected_pct(
            baseline_pct=7.3, baseline_date=t0, target_pct=70, target_year=2025, as_of=as_of
        )
        assert got == pytest.approx(line, rel=1e-12)
    before = expected_pct(
        baseline_pct=7.3, baseline_date=t0, target_pct=70, target_year=2025, as_of=date(2021, 1, 1)
    )
    after = expected_pct(
        baseline_pct=7.3, baseline_date=t0, target_pct=70, target_year=2025, as_of=date(2027, 1, 1)
    )
    assert (before, after) == (7.3, 70)


def test_status_bands_are_exact_at_their_edges():
    assert kpi_status(50, 50) == "green"
    assert kpi_status(40, 50) == "amber"  # exactly 10 points below
    assert kpi_status(39.9, 50) == "red"
    assert kpi_status(182 * 100 / 260, 70) == "green"


def test_status_follows_the_trajectory_not_only_the_target():
    common = {"denominator": 260, "target_pct": 70, "target_year": 2025, "class_size": 30}
    base = {"baseline_pct": 7.3, "baseline_date": BASELINE}
    halfway = date(2024, 7, 1)  # expected ≈ 40.3 %
    assert evaluate_kpi("KPI-03", numerator=110, as_of=halfway, **common, **base).status == "green"
    assert evaluate_kpi("KPI-03", numerator=80, as_of=halfway, **common, **base).status == "amber"
    assert evaluate_kpi("KPI-03", numerator=60, as_of=halfway, **common, **base).status == "red"
    on_line = evaluate_kpi("KPI-03", numerator=182, as_of=date(2025, 12, 31), **common, **base)
    assert (on_line.expected_pct, on_line.status, on_line.shortfall_pp) == (70, "green", 0)


def test_kpi06_is_a_yearly_line_from_zero():
    kpi = evaluate_kpi(
        "KPI-06",
        numerator=300,
        denominator=2592,
        target_pct=30,
        target_year=2023,
        as_of=date(2023, 7, 1),
        class_size=40,
        baseline_pct=0,
        baseline_date=date(2023, 1, 1),
    )
    assert kpi.expected_pct == pytest.approx(30 * 181 / 364)
    assert (kpi.persons_to_target, kpi.years_left, kpi.per_year_needed, kpi.classes_needed) == (
        478,
        1,
        478,
        12,
    )
    assert kpi.status == "amber"  # 11.6 % against ≈ 14.9 %


def test_zero_denominator_gives_no_value_and_a_reason():
    kpi = evaluate_kpi(
        "KPI-07",
        numerator=0,
        denominator=0,
        target_pct=100,
        target_year=2030,
        as_of=date(2026, 1, 1),
        class_size=30,
    )
    assert kpi.coverage_pct is kpi.status is kpi.persons_to_target is kpi.classes_needed is None
    assert kpi.reason == "zero_denominator"
    assert coverage_pct(0, 0) is None


def test_without_a_baseline_only_a_met_target_is_coloured():
    common = {
        "denominator": 4,
        "target_pct": 90,
        "target_year": 2025,
        "as_of": date(2022, 12, 31),
        "class_size": 30,
    }
    assert evaluate_kpi("KPI-02", numerator=3, **common).status is None
    met = evaluate_kpi("KPI-02", numerator=4, **common)
    assert (met.status, met.persons_to_target, met.expected_pct) == ("green", 0, None)


def test_target_already_met_needs_nobody():
    kpi = evaluate_kpi(
        "KPI-01",
        numerator=10,
        denominator=10,
        target_pct=100,
        target_year=2025,
        as_of=date(2024, 5, 1),
        class_size=30,
        baseline_pct=50,
        baseline_date=BASELINE,
    )
    assert (
        kpi.coverage_pct,
        kpi.persons_to_target,
        kpi.classes_needed,
        kpi.per_year_needed,
        kpi.status,
    ) == (
        100,
        0,
        0,
        0,
        "green",
    )


def test_results_are_json_ready():
    kpi = evaluate_kpi(
        "KPI-03",
        numerator=19,
        denominator=260,
        target_pct=70,
        target_year=2025,
        as_of=date(2022, 12, 31),
        class_size=30,
    )
    assert all(isinstance(v, str | int | float | type(None)) for v in vars(kpi).values())
    assert kpi.as_of == "2022-12-31"


@pytest.mark.parametrize(
    ("numerator", "denominator"),
    [(-1, 5), (6, 5), (0, -1)],
)
def test_impossible_counts_are_refused(numerator, denominator):
    with pytest.raises(ValueError, match="numerator"):
        coverage_pct(numerator, denominator)


def test_a_baseline_needs_its_date():
    with pytest.raises(ValueError, match="baseline"):
        evaluate_kpi(
            "KPI-03",
            numerator=1,
            denominator=2,
            target_pct=70,
            target_year=2025,
            as_of=date(2023, 1, 1),
            class_size=30,
            baseline_pct=5,
        )


# ---------------------------------------------------------------- §2.3 H training plan


def test_priority_rules_apply_in_order():
    strong = {"quadrant": "Q1", "mwds": 9.0, "mwds_cut": 8.0, "demand_share": 0.9}
    assert plan_priority(kpi_status="red", **strong) == "P1"
    assert plan_priority(kpi_status="amber", **strong) == "P1"
    assert plan_priority(kpi_status="green", **strong) == "P2"
    assert (
        plan_priority(kpi_status=None, quadrant="Q1", mwds=8.0, mwds_cut=8.0, demand_share=0.0)
        == "P2"
    )
    assert (
        plan_priority(kpi_status=None, quadrant="Q2", mwds=9.0, mwds_cut=8.0, demand_share=0.30)
        == "P3"
    )
    assert (
        plan_priority(kpi_status=None, quadrant="Q1", mwds=7.9, mwds_cut=8.0, demand_share=0.2999)
        == "P4"
    )
    assert (
        plan_priority(kpi_status=None, quadrant=None, mwds=None, mwds_cut=None, demand_share=None)
        == "P4"
    )


def test_top_quartile_cut_is_numpys_75th_percentile():
    values = [1.0, 7.875, 3.2, None, 5.5, 0.4, 9.1]
    assert mwds_top_quartile_cut(values) == np.percentile([1.0, 7.875, 3.2, 5.5, 0.4, 9.1], 75)
    assert mwds_top_quartile_cut([None]) is None


def test_training_plan_is_sorted_by_priority_then_persons():
    candidates = [
        PlanCandidate("TP05", "ctv", "Đak Đoa", persons=120, class_size=40, demand_share=0.5),
        PlanCandidate(
            "TP02", "vc", None, persons=163, class_size=30, course="CR05", kpi_status="red"
        ),
        PlanCandidate("TP06", "ctv", "Chư Păh", persons=300, class_size=40, demand_share=0.4),
        PlanCandidate("TP15", "leaders", None, persons=12, class_size=30),
        PlanCandidate("TP13", "ctv", None, persons=80, class_size=40, quadrant="Q1", mwds=9.0),
    ]
    plan = build_training_plan(candidates, mwds_cut=8.0)
    assert [(r.topic, r.priority, r.classes) for r in plan] == [
        ("TP02", "P1", 6),
        ("TP13", "P2", 2),
        ("TP06", "P3", 8),
        ("TP05", "P3", 3),
        ("TP15", "P4", 1),
    ]
    assert plan[0].course == "CR05"


# ---------------------------------------------------------------- §2.3 A findings


def kpi(code, status, shortfall, persons=10):
    return KpiResult(
        kpi_code=code,
        numerator=1,
        denominator=2,
        coverage_pct=50.0,
        target_pct=70.0,
        target_year=2025,
        as_of="2024-01-01",
        baseline_pct=None,
        baseline_date=None,
        expected_pct=None,
        status=status,
        shortfall_pp=shortfall,
        persons_to_target=persons,
        class_size=30,
        classes_needed=1,
        years_left=2,
        per_year_needed=5,
        reason=None,
    )


def test_worst_kpi_is_the_worst_status_then_the_furthest_behind():
    rows = [
        kpi("KPI-01", "amber", 9.0),
        kpi("KPI-03", "red", 20.0),
        kpi("KPI-04", "red", 35.0),
        kpi("KPI-07", None, None),
    ]
    assert worst_kpi(rows).kpi_code == "KPI-04"
    assert (
        worst_kpi([kpi("KPI-01", "green", -5.0), kpi("KPI-02", "green", -1.0)]).kpi_code == "KPI-02"
    )
    assert worst_kpi([kpi("KPI-07", None, None)]) is None
    assert worst_kpi([]) is None


def gap_rows(groups):
    tables = {item: tabulate_pairs(i, p) for item, (i, p) in groups.items()}
    return gap_table(
        {item: gap_stats(gap_sums(t)) for item, t in tables.items()},
        {item: gap_inference(t) for item, t in tables.items()},
    )


def test_top_competencies_skip_suppressed_and_gapless_items():
    rows = gap_rows(
        {
            "C04": ([5] * 8, [2] * 8),  # MWDS 15
            "C06": ([5, 5, 4, 5, 4, 5, 3, 5], [2, 3, 3, 2, 4, 3, 3, 2]),  # 7.875
            "C13": ([5] * 3, [1] * 3),  # suppressed (n = 3)
            "C14": ([4] * 6, [3] * 6),  # 4
            "C15": ([3] * 6, [3] * 6),  # no gap
            "C20": ([3] * 6, [2] * 6),  # 3
        }
    )
    assert [r.item for r in top_competencies(rows)] == ["C04", "C06", "C14"]
    assert [r.item for r in top_competencies(rows, top=10)] == ["C04", "C06", "C14", "C20"]


def test_top_topics_are_the_most_demanded_shown_topics():
    answers = (
        [(["TP06", "TP05"], "TP06")] * 4
        + [(["TP05", "TP13"], "TP05")] * 3
        + [(["TP13", "TP01"], "TP13")] * 3
    )
    rows = topic_demand(count_topic_answers(answers), ["TP01", "TP05", "TP06", "TP13", "TP17"])
    assert [r.topic for r in top_topics(rows)] == ["TP05", "TP13", "TP06"]
    small = topic_demand(count_topic_answers(answers[:2]), ["TP05", "TP06"])
    assert top_topics(small) == []


def test_three_findings_name_one_kpi_two_groups_and_the_topics():
    ctv = gap_rows({"C04": ([5] * 8, [2] * 8), "C15": ([4] * 8, [2] * 8)})
    commune = gap_rows({"C01": ([5] * 6, [4] * 6)})
    topics = topic_demand(count_topic_answers([(["TP06"], None)] * 6), ["TP06"])
    findings = three_findings(
        [kpi("KPI-03", "red", 30.0), kpi("KPI-06", "amber", 3.0)],
        {"ctv": ctv, "vc_commune": commune},
        topics,
    )
    assert findings.worst_kpi.kpi_code == "KPI-03"
    assert {g: [r.item for r in rows] for g, rows in findings.top_competencies.items()} == {
        "ctv": ["C04", "C15"],
        "vc_commune": ["C01"],
    }
    assert [t.topic for t in findings.top_topics] == ["TP06"]


def test_numpy_and_database_number_types_are_accepted():
    kpi = evaluate_kpi(
        "KPI-03",
        numerator=np.int64(19),
        denominator=np.int64(260),
        target_pct=np.float64(70),
        target_year=2025,
        as_of=date(2022, 12, 31),
        class_size=30,
        baseline_pct=Decimal("7.3"),
        baseline_date=BASELINE,
    )
    assert (kpi.persons_to_target, type(kpi.numerator), kpi.baseline_pct) == (163, int, 7.3)
