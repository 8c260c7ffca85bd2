"""Competency gaps of reports spec §2.2.3, each formula checked against numpy/scipy."""

import time
from decimal import Decimal
from itertools import pairwise

import numpy as np
import pytest
from scipy import stats

from server.domain.needs_gap import (
    GapInference,
    GapStats,
    GapSums,
    gap_inference,
    gap_stats,
    gap_sums,
    gap_table,
    holm_adjust,
    pair_table_from_counts,
    tabulate_pairs,
)

# §2.6 worked example: one competency, 8 commune respondents.
EXAMPLE_I = [5, 5, 4, 5, 4, 5, 3, 5]
EXAMPLE_P = [2, 3, 3, 2, 4, 3, 3, 2]


def stats_of(importance, performance, **kwargs) -> GapStats:
    return gap_stats(gap_sums(tabulate_pairs(importance, performance)), **kwargs)


def random_ratings(seed: int, n: int, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    importance = rng.integers(2, k + 1, n)
    return importance, np.clip(importance - rng.integers(-1, 3, n), 1, k)


# ---------------------------------------------------------------- §2.6 worked example


def test_worked_example_descriptives_match_the_spec():
    s = stats_of(EXAMPLE_I, EXAMPLE_P)
    assert s.n == 8
    assert s.mean_importance == 4.5
    assert s.mean_performance == 2.75
    assert s.mean_gap == 1.75
    assert round(s.sd_gap, 2) == 1.28
    assert s.need_prevalence == 0.625
    assert s.mwds == 7.875
    assert s.normalised_gap == 1.75 / 4
    assert s.suppressed is False


def test_worked_example_wilcoxon_discards_two_zeros_and_gives_exact_p():
    inference = gap_inference(tabulate_pairs(EXAMPLE_I, EXAMPLE_P))
    assert inference.wilcoxon_n == 6
    assert inference.p_value == 2 / 2**6  # all six differences positive: 2 of 64 sign patterns
    assert round(inference.p_value, 3) == 0.031
    assert inference.p_method == "permutation"  # ties and zeros, n ≤ 13: all sign flips
    assert inference.p_value == stats.wilcoxon(EXAMPLE_I, EXAMPLE_P, zero_method="wilcox").pvalue


def test_worked_example_bootstrap_interval_contains_mwds_and_is_reproducible():
    table = tabulate_pairs(EXAMPLE_I, EXAMPLE_P)
    first, again = gap_inference(table), gap_inference(table)
    assert first.mwds_ci_low < 7.875 < first.mwds_ci_high
    assert (first.mwds_ci_low, first.mwds_ci_high) == (again.mwds_ci_low, again.mwds_ci_high)
    other_seed = gap_inference(table, seed=1)
    assert (other_seed.mwds_ci_low, other_seed.mwds_ci_high) != (
        first.mwds_ci_low,
        first.mwds_ci_high,
    )


# ---------------------------------------------------------------- formulas against numpy/scipy


@pytest.mark.parametrize(("seed", "n"), [(1, 3), (2, 7), (3, 40), (4, 500), (5, 10_000)])
def test_descriptives_equal_numpy_and_scipy(seed, n):
    importance, performance = random_ratings(seed, n)
    d = importance - performance
    s = stats_of(importance, performance)
    ci = stats.ttest_1samp(d, 0).confidence_interval(0.95)
    assert s.n == n
    assert s.mean_importance == pytest.approx(importance.mean(), rel=1e-12)
    assert s.mean_performance == pytest.approx(performance.mean(), rel=1e-12)
    assert s.mean_gap == pytest.approx(d.mean(), rel=1e-12, abs=1e-12)
    assert s.sd_gap == pytest.approx(np.std(d, ddof=1), rel=1e-12)
    assert s.gap_ci_low == pytest.approx(ci.low, rel=1e-9, abs=1e-12)
    assert s.gap_ci_high == pytest.approx(ci.high, rel=1e-9, abs=1e-12)
    assert s.need_prevalence == pytest.approx(np.mean(d >= 2), rel=1e-12, abs=1e-12)
    assert s.mwds == pytest.approx(d.mean() * importance.mean(), rel=1e-12, abs=1e-12)


def test_sums_from_sql_give_the_same_statistics_as_raw_pairs():
    importance, performance = random_ratings(11, 300)
    d = importance - performance
    from_sql = GapSums(
        n=300,
        sum_importance=int(importance.sum()),
        sum_performance=int(performance.sum()),
        sum_gap=int(d.sum()),
        sum_gap_squared=int((d * d).sum()),
        n_need=int((d >= 2).sum()),
    )
    assert gap_stats(from_sql) == stats_of(importance, performance)


def test_float_sums_from_the_database_are_accepted():
    importance, performance = random_ratings(12, 50)
    d = importance - performance
    sums = GapSums(
        50,
        float(importance.sum()),
        float(performance.sum()),
        float(d.sum()),
        float((d * d).sum()),
        int((d >= 2).sum()),
    )
    assert gap_stats(sums).sd_gap == pytest.approx(np.std(d, ddof=1), rel=1e-12)
    as_decimals = GapSums(
        50,
        *(Decimal(int(v)) for v in (importance.sum(), performance.sum(), d.sum(), (d * d).sum())),
        int((d >= 2).sum()),
    )
    from_decimals = gap_stats(as_decimals)  # PostgreSQL's SUM(bigint) is numeric
    assert from_decimals == stats_of(importance, performance)
    assert all(
        isinstance(v, float)
        for v in (from_decimals.mean_importance, from_decimals.mwds, from_decimals.sd_gap)
    )


@pytest.mark.parametrize("seed", range(40))
def test_wilcoxon_equals_scipy_in_every_regime(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.choice([6, 9, 13, 14, 30, 50, 51, 200, 5000]))
    importance = rng.integers(1, 6, n)
    performance = rng.integers(1, 6, n)
    if seed % 4 == 0:  # no ties or zeros: distinct differences need a wider scale
        n = min(n, 60)
        importance, performance = rng.permutation(np.arange(1, n + 1)) + 30, np.full(n, 30)
    expected = stats.wilcoxon(importance, performance, zero_method="wilcox")
    k = int(max(importance.max(), performance.max()))
    got = gap_inference(tabulate_pairs(importance, performance, scale_points=k), min_nonzero=1)
    assert got.p_value == pytest.approx(float(expected.pvalue), rel=1e-10)
    assert got.wilcoxon_statistic == float(expected.statistic)
    assert got.wilcoxon_n == int(np.count_nonzero(importance - performance))


@pytest.mark.parametrize(
    ("importance", "performance", "method"),
    [
        ([5, 4, 3, 2, 1, 5], [1, 1, 1, 1, 2, 2], "exact"),  # |d| = 4,3,2,1,1,3: ties
        ([7, 6, 5, 4, 3, 2], [1, 1, 1, 1, 1, 1], "exact"),  # d = 6..1, distinct, no zeros
        (EXAMPLE_I, EXAMPLE_P, "permutation"),
        ([5] * 20 + [4] * 20, [3] * 20 + [4] * 20, "asymptotic"),
        (list(range(2, 62)), [1] * 60, "asymptotic"),  # n > 50, distinct
    ],
)
def test_p_method_names_the_scipy_regime(importance, performance, method):
    if method == "exact" and len(set(np.abs(np.subtract(importance, performance)))) < len(
        importance
    ):
        method = "permutation"
    k = max(max(importance), max(performance))
    assert gap_inference(tabulate_pairs(importance, performance, scale_points=k)).p_method == method


def test_bootstrap_matches_index_resampling_of_respondents():
    """A multinomial draw of pair counts is the respondent bootstrap: compare with scipy's."""
    importance, performance = random_ratings(21, 120)
    ours = gap_inference(tabulate_pairs(importance, performance), n_resamples=20_000)
    reference = stats.bootstrap(
        (importance, performance),
        lambda i, p, axis: np.mean(i - p, axis=axis) * np.mean(i, axis=axis),
        paired=True,
        vectorized=True,
        n_resamples=20_000,
        method="percentile",
        rng=np.random.default_rng(5),
    ).confidence_interval
    width = reference.high - reference.low
    assert ours.mwds_ci_low == pytest.approx(reference.low, abs=0.05 * width)
    assert ours.mwds_ci_high == pytest.approx(reference.high, abs=0.05 * width)


def test_bootstrap_does_not_depend_on_respondent_order():
    importance, performance = random_ratings(22, 500)
    order = np.random.default_rng(0).permutation(500)
    a = gap_inference(tabulate_pairs(importance, performance))
    b = gap_inference(tabulate_pairs(importance[order], performance[order]))
    assert a == b


def test_bootstrap_of_100000_respondents_is_fast():
    importance, performance = random_ratings(23, 100_000)
    table = tabulate_pairs(importance, performance)
    started = time.perf_counter()
    result = gap_inference(table, min_nonzero=10**9)  # bootstrap only
    elapsed = time.perf_counter() - started
    assert result.mwds_ci_low is not None
    assert elapsed < 0.5  # ≈ 4 ms measured; index resampling took 2.6 s


# ---------------------------------------------------------------- cleaning and edge cases


def test_out_of_range_ratings_are_excluded_and_counted_apart_from_missing():
    importance = [5, 0, 6, 2.5, 9, None, 4, None, float("nan"), 3]
    performance = [3, 3, 3, 3, None, 9, None, None, 2, 3]
    table = tabulate_pairs(importance, performance)
    assert table.n_out_of_range == 5  # 0, 6, 2.5, 9 (with a missing partner), 9
    assert table.n_missing == 3  # "Không áp dụng" (None/NaN) on one side or both
    s = gap_stats(gap_sums(table))
    assert (s.n, s.n_out_of_range, s.n_missing) == (2, 5, 3)
    assert s.mean_gap == 1.0


def test_grouped_rows_from_sql_build_the_same_table():
    importance = [5, 5, 4, None, 7, 3, 3]
    performance = [2, 2, 4, 3, 1, None, 3]
    rows = [(5, 2, 2), (4, 4, 1), (None, 3, 1), (7, 1, 1), (3, None, 1), (3, 3, 1), (5, 2, 0)]
    a, b = tabulate_pairs(importance, performance), pair_table_from_counts(rows)
    assert np.array_equal(a.counts, b.counts)
    assert (a.n_missing, a.n_out_of_range) == (b.n_missing, b.n_out_of_range) == (2, 1)


def test_misaligned_sequences_are_refused():
    with pytest.raises(ValueError, match="aligned"):
        tabulate_pairs([1, 2], [1])


def test_no_respondents_gives_no_values_and_reasons():
    table = tabulate_pairs([], [])
    s = gap_stats(gap_sums(table))
    assert s.n == 0
    assert s.suppressed
    assert s.mean_importance is s.mwds is s.sd_gap is s.need_prevalence is None
    inference = gap_inference(table)
    assert inference == GapInference(0, None, None, None, "no_pairs", None, None, "no_pairs")


def test_one_respondent_has_means_but_no_spread():
    s = stats_of([5], [2])
    assert (s.mean_gap, s.mwds, s.sd_gap, s.gap_ci_low) == (3.0, 15.0, None, None)
    inference = gap_inference(tabulate_pairs([5], [2]))
    assert inference.mwds_ci_reason == "one_pair"
    assert inference.p_reason == "too_few_nonzero"


def test_all_gaps_zero_gives_zero_spread_and_no_test():
    s = stats_of([4, 3, 5, 2, 4, 4], [4, 3, 5, 2, 4, 4])
    assert (s.mean_gap, s.sd_gap, s.gap_ci_low, s.gap_ci_high, s.mwds) == (0, 0, 0, 0, 0)
    inference = gap_inference(tabulate_pairs([4, 3, 5, 2, 4, 4], [4, 3, 5, 2, 4, 4]))
    assert (inference.p_value, inference.p_reason) == (None, "all_differences_zero")
    assert inference.mwds_ci_low == inference.mwds_ci_high == 0


def test_constant_ratings_give_a_point_interval_and_the_scipy_p():
    importance, performance = [5] * 8, [3] * 8
    s = stats_of(importance, performance)
    assert (s.sd_gap, s.gap_ci_low, s.gap_ci_high, s.need_prevalence) == (0, 2, 2, 1)
    inference = gap_inference(tabulate_pairs(importance, performance))
    assert inference.mwds_ci_low == inference.mwds_ci_high == 10.0
    assert inference.p_value == stats.wilcoxon(importance, performance).pvalue == 2 / 2**8


def test_too_few_nonzero_differences_gives_no_p():
    # 60 zeros and 5 positive gaps: the normal approximation would say p ≈ 0.04, but no
    # test on 5 signs can reach 0.05 (smallest exact p = 2/32).
    importance, performance = [3] * 60 + [5] * 5, [3] * 60 + [2] * 5
    inference = gap_inference(tabulate_pairs(importance, performance))
    assert (inference.p_value, inference.p_reason, inference.wilcoxon_n) == (
        None,
        "too_few_nonzero",
        5,
    )
    assert stats.wilcoxon(importance, performance).pvalue < 0.05  # what we refuse to print


def test_small_groups_are_suppressed_but_keep_their_values():
    s = stats_of([5, 5, 4, 4], [2, 3, 3, 2], min_cell=5)
    assert s.suppressed
    assert s.mwds == 2.0 * 4.5


def test_seven_point_scale_normalises_by_six():
    s = gap_stats(gap_sums(tabulate_pairs([7, 6], [1, 3], scale_points=7)), scale_points=7)
    assert s.mean_gap == 4.5
    assert s.normalised_gap == 4.5 / 6


# ---------------------------------------------------------------- Holm


def brute_force_holm(p):
    """Holm's definition: p_(i) adjusted = max over j ≤ i of min(1, (m − j + 1) p_(j))."""
    m, order = len(p), np.argsort(p, kind="stable")
    out = np.empty(m)
    for position, index in enumerate(order):
        out[index] = max(min(1.0, (m - j) * p[order[j]]) for j in range(position + 1))
    return out


def test_holm_matches_a_hand_computed_table():
    assert holm_adjust([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


@pytest.mark.parametrize("seed", range(10))
def test_holm_matches_its_definition(seed):
    p = np.random.default_rng(seed).uniform(0, 0.2, 21)
    assert holm_adjust(list(p)) == pytest.approx(list(brute_force_holm(p)), rel=1e-12)


def test_holm_skips_untested_items_and_caps_at_one():
    assert holm_adjust([0.5, None, 0.6, None]) == [1.0, None, 1.0, None]
    assert holm_adjust([]) == []


# ---------------------------------------------------------------- table E1


def make_stats(mean_i, mean_gap, prevalence, n=20):
    return GapStats(
        n=n,
        n_missing=0,
        n_out_of_range=0,
        mean_importance=mean_i,
        mean_performance=mean_i - mean_gap,
        mean_gap=mean_gap,
        sd_gap=1.0,
        gap_ci_low=None,
        gap_ci_high=None,
        normalised_gap=mean_gap / 4,
        need_prevalence=prevalence,
        mwds=mean_i * mean_gap,
        suppressed=n < 5,
    )


def make_inference(p):
    return GapInference(10, 1.0, p, "asymptotic", None, None, None, None)


def test_table_ranks_by_mwds_then_prevalence_with_shared_ranks_for_full_ties():
    table = {
        "C01": make_stats(4.0, 1.0, 0.2),  # MWDS 4
        "C02": make_stats(4.0, 2.0, 0.5),  # MWDS 8
        "C03": make_stats(2.0, 2.0, 0.6),  # MWDS 4, more in need than C01
        "C04": make_stats(2.0, 2.0, 0.6),  # same as C03
        "C05": make_stats(5.0, 3.0, 0.9, n=3),  # suppressed: no rank however large
    }
    rows = gap_table(table)
    assert [(r.item, r.rank) for r in rows] == [
        ("C02", 1),
        ("C03", 2),
        ("C04", 2),
        ("C01", 4),
        ("C05", None),
    ]


def test_table_quadrants_use_the_median_importance_of_shown_items():
    table = {
        "C01": make_stats(4.5, 1.5, 0.5),  # high importance, high gap
        "C02": make_stats(4.0, 0.5, 0.1),  # median importance counts as high; low gap
        "C03": make_stats(3.0, 1.0, 0.3),  # low importance; gap exactly 1 is high
        "C04": make_stats(2.0, 0.2, 0.0),
        "C05": make_stats(1.0, 0.1, 0.0, n=2),  # suppressed: does not pull the median down
    }
    quadrants = {r.item: r.quadrant for r in gap_table(table)}
    assert np.median([4.5, 4.0, 3.0, 2.0]) == 3.5
    assert quadrants == {"C01": "Q1", "C02": "Q2", "C03": "Q3", "C04": "Q4", "C05": None}


def test_table_holm_family_is_the_shown_items_with_a_p():
    table = {
        f"C0{i}": make_stats(4.0, 1.0 + i / 10, 0.5, n=3 if i == 4 else 20) for i in range(1, 5)
    }
    inference = {
        "C01": make_inference(0.01),
        "C02": make_inference(0.04),
        "C03": GapInference(3, None, None, None, "too_few_nonzero", None, None, None),
        "C04": make_inference(0.001),  # suppressed
    }
    rows = {r.item: r for r in gap_table(table, inference)}
    assert rows["C01"].p_holm == pytest.approx(0.02)
    assert rows["C02"].p_holm == pytest.approx(0.04)
    assert (rows["C01"].significant, rows["C02"].significant) == (True, True)
    assert (rows["C03"].p_holm, rows["C03"].significant, rows["C03"].p_reason) == (
        None,
        None,
        "too_few_nonzero",
    )
    assert (rows["C04"].p_value, rows["C04"].p_holm) == (0.001, None)


def test_table_from_raw_pairs_end_to_end():
    rng = np.random.default_rng(3)
    tables = {
        f"C{j:02d}": tabulate_pairs(*random_ratings(j, int(rng.integers(3, 80))))
        for j in range(1, 22)
    }
    rows = gap_table(
        {item: gap_stats(gap_sums(t)) for item, t in tables.items()},
        {item: gap_inference(t) for item, t in tables.items()},
    )
    ranked = [r for r in rows if r.rank is not None]
    assert all(a.mwds >= b.mwds for a, b in pairwise(ranked))
    assert all(r.suppressed for r in rows if r.rank is None)
    assert {r.item for r in rows} == set(tables)


@pytest.mark.parametrize("n", range(1, 14))
def test_sign_flip_p_equals_scipy_permutation_test_for_small_tied_samples(n):
    """The small-sample regime E3 cells live in: our convolution vs scipy's enumeration."""
    rng = np.random.default_rng(100 + n)
    for _ in range(3):
        importance, performance = rng.integers(1, 6, n), rng.integers(1, 6, n)
        if not np.any(importance != performance):
            continue
        got = gap_inference(tabulate_pairs(importance, performance), min_nonzero=1)
        expected = stats.wilcoxon(importance, performance, zero_method="wilcox")
        if got.p_method == "permutation":
            assert got.p_value == float(expected.pvalue)
            assert got.wilcoxon_statistic == float(expected.statistic)
        else:
            assert got.p_value == pytest.approx(float(expected.pvalue), rel=1e-12)


def test_small_cell_wilcoxon_is_fast():
    importance, performance = (
        [5, 5, 4, 5, 4, 5, 3, 5, 2, 4, 5, 3, 4],
        [2, 3, 3, 2, 4, 3, 3, 2, 2, 1, 3, 3, 2],
    )
    table = tabulate_pairs(importance, performance)
    started = time.perf_counter()
    assert gap_inference(table).p_method == "permutation"
    assert time.perf_counter() - started < 0.1  # scipy's own loop takes ≈ 1 s here
