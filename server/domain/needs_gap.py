"""Competency gaps of the needs report (reports spec §2.2.3): importance vs performance.

Each respondent rates each competency twice on a 1..k scale (k = 5 in our forms): importance I
and current performance P. Per item and group this module computes the means, the gap D = I − P
with its t interval, the normalised gap, the need prevalence (share with D ≥ 2), the Borich
priority MWDS = D̄ × Ī with a bootstrap interval, a Wilcoxon signed-rank test of I vs P, and,
across the items of one table, Holm-adjusted p-values, ranks and IPA quadrants.

The work is split by what the database can do:

* :func:`gap_stats` needs only :class:`GapSums` (n, ΣI, ΣP, ΣD, ΣD², #D≥2), which SQL
  aggregates in one pass, so the big tables never leave the database.
* :func:`gap_inference` (bootstrap and Wilcoxon) needs the distribution of the pairs. Because
  ratings are integers, that distribution is a k × k :class:`PairTable` of counts: SQL can
  return it with ``GROUP BY imp, perf`` (at most 25 rows per item), or
  :func:`tabulate_pairs` builds it from raw arrays. Both statistics are functions of those
  counts only, so nothing here depends on respondent order or grows with n beyond the
  reconstruction of the differences the Wilcoxon ranking needs.

Results are dataclasses of plain ``float``/``int``/``str``/``None`` (JSON-ready, unrounded;
rounding is display, §2.5). Shares are fractions in 0..1. Where a value cannot be computed it
is ``None`` and a ``*_reason`` field holds a stable code: ``no_pairs``, ``one_pair``,
``all_differences_zero``, ``too_few_nonzero``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np
from scipy import stats

#: Fixed seed of the bootstrap: the same data always gives the same interval (§2.2.3).
BOOTSTRAP_SEED = 20220101
#: Gap from which a respondent counts as "in need" (tỷ lệ có nhu cầu, §2.2.3).
NEED_THRESHOLD = 2
#: IPA labels (§2.2.3).
QUADRANT_LABELS = {"Q1": "ưu tiên cao", "Q2": "duy trì", "Q3": "theo dõi", "Q4": "thấp"}


@dataclass(eq=False)
class PairTable:
    """The (importance, performance) pairs of one item and group, as a k × k count table.

    ``counts[i - 1, p - 1]`` is the number of respondents who rated importance ``i`` and
    performance ``p``. Pairs with a missing rating ("Không áp dụng" included) and pairs with a
    rating outside 1..k are not in the table; they are counted apart.
    """

    counts: np.ndarray
    n_missing: int = 0
    n_out_of_range: int = 0

    @property
    def scale_points(self) -> int:
        """k, the number of points of the rating scale."""
        return int(self.counts.shape[0])


@dataclass(frozen=True)
class GapSums:
    """Sufficient statistics of one item and group; SQL can compute every field in one pass."""

    n: int
    sum_importance: float
    sum_performance: float
    sum_gap: float
    sum_gap_squared: float
    n_need: int
    n_missing: int = 0
    n_out_of_range: int = 0


@dataclass(frozen=True)
class GapStats:
    """Everything of §2.2.3 that sums determine. ``suppressed``: n below ``min_cell``."""

    n: int
    n_missing: int
    n_out_of_range: int
    mean_importance: float | None
    mean_performance: float | None
    mean_gap: float | None
    sd_gap: float | None
    gap_ci_low: float | None
    gap_ci_high: float | None
    normalised_gap: float | None
    need_prevalence: float | None
    mwds: float | None
    suppressed: bool


@dataclass(frozen=True)
class GapInference:
    """Wilcoxon signed-rank test of I vs P and the bootstrap interval of MWDS."""

    wilcoxon_n: int
    wilcoxon_statistic: float | None
    p_value: float | None
    p_method: str | None
    p_reason: str | None
    mwds_ci_low: float | None
    mwds_ci_high: float | None
    mwds_ci_reason: str | None


@dataclass(frozen=True)
class GapRow:
    """One row of table E1: the item's statistics, inference and place in its table."""

    item: str
    n: int
    n_missing: int
    n_out_of_range: int
    mean_importance: float | None
    mean_performance: float | None
    mean_gap: float | None
    sd_gap: float | None
    gap_ci_low: float | None
    gap_ci_high: float | None
    normalised_gap: float | None
    need_prevalence: float | None
    mwds: float | None
    suppressed: bool
    rank: int | None
    quadrant: str | None
    p_holm: float | None = None
    significant: bool | None = None
    wilcoxon_n: int | None = None
    wilcoxon_statistic: float | None = None
    p_value: float | None = None
    p_method: str | None = None
    p_reason: str | None = None
    mwds_ci_low: float | None = None
    mwds_ci_high: float | None = None
    mwds_ci_reason: str | None = None


def tabulate_pairs(
    importance: Sequence[float | None] | np.ndarray,
    performance: Sequence[float | None] | np.ndarray,
    *,
    scale_points: int = 5,
) -> PairTable:
    """Count the valid (I, P) pairs of one item, vectorised.

    A pair is *out of range* when a rating that is present is not an integer in 1..k (a stray
    code such as 0 or 9 is a data problem and is reported, not silently dropped); otherwise it
    is *missing* when either rating is ``None``/NaN ("Không áp dụng" is mapped to ``None`` by
    the caller and so is missing for both).

    :param importance: importance ratings, one per respondent (None or NaN = missing).
    :param performance: performance ratings, aligned with ``importance``.
    :param scale_points: k, the number of scale points.
    :return: the count table with the missing and out-of-range counts.
    :raises ValueError: when the two sequences differ in length.
    """
    imp = np.asarray(importance, dtype=float)
    perf = np.asarray(performance, dtype=float)
    if imp.shape != perf.shape or imp.ndim != 1:
        raise ValueError("importance and performance must be aligned 1-D sequences")
    k = scale_points
    present_i, present_p = ~np.isnan(imp), ~np.isnan(perf)
    with np.errstate(invalid="ignore"):
        bad_i = present_i & ((imp < 1) | (imp > k) | (imp != np.floor(imp)))
        bad_p = present_p & ((perf < 1) | (perf > k) | (perf != np.floor(perf)))
    out_of_range = bad_i | bad_p
    valid = present_i & present_p & ~out_of_range
    cells = (imp[valid].astype(np.int64) - 1) * k + (perf[valid].astype(np.int64) - 1)
    counts = np.bincount(cells, minlength=k * k).reshape(k, k)
    return PairTable(
        counts=counts,
        n_missing=int(np.count_nonzero(~valid & ~out_of_range)),
        n_out_of_range=int(np.count_nonzero(out_of_range)),
    )


def pair_table_from_counts(
    rows: Iterable[tuple[float | None, float | None, int]], *, scale_points: int = 5
) -> PairTable:
    """Build a :class:`PairTable` from ``(importance, performance, count)`` rows.

    This is the shape of ``SELECT imp, perf, count(*) … GROUP BY imp, perf``; NULL and
    out-of-range ratings are classified as in :func:`tabulate_pairs`.

    :param rows: the grouped rows; a pair may appear more than once (counts add up).
    :param scale_points: k, the number of scale points.
    :return: the count table.
    """
    k = scale_points
    counts = np.zeros((k, k), dtype=np.int64)
    missing = out_of_range = 0
    for imp, perf, count in rows:
        ratings = [r for r in (imp, perf) if r is not None and not math.isnan(r)]
        if any(r < 1 or r > k or r != int(r) for r in ratings):
            out_of_range += int(count)
        elif len(ratings) < 2:
            missing += int(count)
        else:
            counts[int(imp) - 1, int(perf) - 1] += int(count)
    return PairTable(counts=counts, n_missing=missing, n_out_of_range=out_of_range)


def gap_sums(table: PairTable, *, need_threshold: int = NEED_THRESHOLD) -> GapSums:
    """Reduce a count table to the sufficient statistics of :func:`gap_stats`.

    :param table: the item's count table.
    :param need_threshold: gap from which a respondent is "in need".
    :return: the sums (exact integers).
    """
    k = table.scale_points
    i_val, p_val = np.meshgrid(np.arange(1, k + 1), np.arange(1, k + 1), indexing="ij")
    d_val = i_val - p_val
    c = table.counts
    return GapSums(
        n=int(c.sum()),
        sum_importance=int((c * i_val).sum()),
        sum_performance=int((c * p_val).sum()),
        sum_gap=int((c * d_val).sum()),
        sum_gap_squared=int((c * d_val * d_val).sum()),
        n_need=int(c[d_val >= need_threshold].sum()),
        n_missing=table.n_missing,
        n_out_of_range=table.n_out_of_range,
    )


def gap_stats(
    sums: GapSums, *, scale_points: int = 5, min_cell: int = 5, confidence: float = 0.95
) -> GapStats:
    """Compute the descriptive gap statistics of one item from its sums.

    The variance is ``(n ΣD² − (ΣD)²) / (n (n − 1))``: with integer sums the numerator is exact,
    so a constant gap gives SD 0, not rounding noise. Values below ``min_cell`` are still
    computed (the XLSX and later roll-ups need them); ``suppressed`` tells pages to show "—".

    :param sums: n, ΣI, ΣP, ΣD, ΣD², #D≥2 (and the missing and out-of-range counts).
    :param scale_points: k; the normalised gap is D̄ / (k − 1), so 1–5 and 1–7 waves compare.
    :param min_cell: smallest n shown (§2.2.3, default 5).
    :param confidence: level of the t interval of D̄.
    :return: the statistics; means are None for n = 0, SD and interval None for n < 2.
    """
    n = sums.n
    base = {"n": n, "n_missing": sums.n_missing, "n_out_of_range": sums.n_out_of_range}
    if n == 0:
        undefined = dict.fromkeys(f.name for f in fields(GapStats) if f.name not in base)
        return GapStats(**base, **{**undefined, "suppressed": True})
    mean_i = float(sums.sum_importance) / n
    mean_gap = float(sums.sum_gap) / n
    sd = ci_low = ci_high = None
    if n >= 2:
        numerator = n * _exact(sums.sum_gap_squared) - _exact(sums.sum_gap) ** 2
        sd = math.sqrt(max(numerator, 0) / (n * (n - 1)))
        half = stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n)
        ci_low, ci_high = mean_gap - float(half), mean_gap + float(half)
    return GapStats(
        **base,
        mean_importance=mean_i,
        mean_performance=float(sums.sum_performance) / n,
        mean_gap=mean_gap,
        sd_gap=sd,
        gap_ci_low=ci_low,
        gap_ci_high=ci_high,
        normalised_gap=mean_gap / (scale_points - 1),
        need_prevalence=int(sums.n_need) / n,
        mwds=mean_gap * mean_i,
        suppressed=n < min_cell,
    )


def gap_inference(
    table: PairTable,
    *,
    n_resamples: int = 2000,
    seed: int = BOOTSTRAP_SEED,
    confidence: float = 0.95,
    min_nonzero: int = 6,
) -> GapInference:
    """Run the Wilcoxon signed-rank test of I vs P and bootstrap MWDS for one item.

    **Wilcoxon.** Same as ``scipy.stats.wilcoxon(I, P, zero_method="wilcox")`` (zero
    differences discarded), with scipy's own ``method="auto"`` choice made here explicitly so
    that ``p_method`` says which p it is: ``exact`` (no ties or zeros, n ≤ 50), ``permutation``
    (ties or zeros, n ≤ 13; all 2ⁿ sign flips, so deterministic) or ``asymptotic``. The
    permutation p is computed here (:func:`sign_flip_wilcoxon`), identical to scipy's but in
    microseconds: scipy evaluates the statistic once per sign pattern in Python, ≈ 1.2 s per
    item, and small cells (a commune's CTV, table E3) are exactly where it applies. p is None
    when every difference is zero (the statistic is undefined) or when fewer than
    ``min_nonzero`` differences are non-zero: below 6 the smallest two-sided p attainable,
    2·2⁻ⁿ, exceeds 0.05, so the item can never be marked, and the normal approximation would
    wrongly claim otherwise on large samples that are mostly zeros. Leaving such items out of
    the Holm family is Tarone's refinement: a test that cannot reject costs the others nothing.

    **Bootstrap.** MWDS depends on the respondents only through the counts of the k² possible
    (I, P) pairs, and resampling n respondents with replacement draws those counts from
    Multinomial(n, observed shares). So each of the ``n_resamples`` replicates is one
    multinomial draw over ≤ 25 cells: the same percentile bootstrap over respondents, at a
    cost independent of n (≈ 4 ms for 100,000 or 1,000,000 respondents, measured; index
    resampling took 2.6 s and, unchunked, 1.6 GB for 100,000), and independent of the order
    the database returns rows in. The Wilcoxon ranking is what grows with n: ≈ 20 ms at
    100,000 and ≈ 0.13 s at 1,000,000 respondents per item.

    :param table: the item's count table.
    :param n_resamples: bootstrap replicates (§2.2.3: 2.000).
    :param seed: seed of the bootstrap generator; each item starts from it, so an item's
        interval does not depend on which other items are in the table.
    :param confidence: level of the percentile interval.
    :param min_nonzero: fewest non-zero differences for which a p-value is reported.
    :return: the test and the interval; None values carry a reason code.
    """
    k = table.scale_points
    i_val, p_val = np.meshgrid(np.arange(1, k + 1), np.arange(1, k + 1), indexing="ij")
    counts = table.counts.ravel()
    occupied = counts > 0
    c, imp, gap = counts[occupied], i_val.ravel()[occupied], (i_val - p_val).ravel()[occupied]
    n = int(c.sum())

    nonzero = int(c[gap != 0].sum())
    statistic = p = method = None
    if n == 0:
        p_reason = "no_pairs"
    elif nonzero == 0:
        p_reason = "all_differences_zero"
    elif nonzero < min_nonzero:
        p_reason = "too_few_nonzero"
    else:
        p_reason = None
        d = np.repeat(gap.astype(float), c)
        method = _wilcoxon_method(gap, c)
        if method == "permutation":
            statistic, p = sign_flip_wilcoxon(d)
        else:
            result = stats.wilcoxon(d, zero_method="wilcox", method=method)
            statistic, p = float(result.statistic), float(result.pvalue)

    low = high = None
    if n == 0:
        ci_reason = "no_pairs"
    elif n == 1:
        ci_reason = "one_pair"
    else:
        ci_reason = None
        rng = np.random.default_rng(seed)
        draws = rng.multinomial(n, c / n, size=n_resamples)
        mwds = (draws @ gap / n) * (draws @ imp / n)
        tail = (1 - confidence) / 2
        low, high = (float(v) for v in np.quantile(mwds, [tail, 1 - tail]))
    return GapInference(
        wilcoxon_n=nonzero,
        wilcoxon_statistic=statistic,
        p_value=p,
        p_method=method,
        p_reason=p_reason,
        mwds_ci_low=low,
        mwds_ci_high=high,
        mwds_ci_reason=ci_reason,
    )


def holm_adjust(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment; None entries are not tested and stay None.

    Written here because scipy has no Holm (``false_discovery_control`` is Benjamini-Hochberg
    and -Yekutieli only) and statsmodels, which has it, would bring pandas and patsy for ten
    lines: sort ascending, multiply the j-th smallest by (m − j + 1), keep the running maximum,
    cap at 1.

    :param p_values: raw p-values in table order.
    :return: adjusted p-values in the same order.
    """
    tested = [(p, i) for i, p in enumerate(p_values) if p is not None]
    m = len(tested)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for j, (p, i) in enumerate(sorted(tested, key=lambda pair: pair[0])):
        running = max(running, min(1.0, (m - j) * p))
        adjusted[i] = running
    return adjusted


def gap_table(
    stats_by_item: Mapping[str, GapStats],
    inference_by_item: Mapping[str, GapInference] | None = None,
    *,
    alpha: float = 0.05,
    gap_threshold: float = 1.0,
) -> list[GapRow]:
    """Assemble table E1: rank by MWDS, IPA quadrants and Holm-adjusted p across the items.

    Suppressed items (n < ``min_cell``) keep their values but get no rank, no quadrant and no
    adjusted p, and they do not move the median importance: a noisy 4-person cell must not
    reorder the others. Ties in MWDS are broken by need prevalence; items equal on both share
    a rank. Quadrants: importance ≥ the median of the items' mean importance is "high",
    D̄ ≥ ``gap_threshold`` is "high"; Q1 high/high, Q2 high/low, Q3 low/high, Q4 low/low.

    :param stats_by_item: :func:`gap_stats` per item code (C01…), in table order.
    :param inference_by_item: :func:`gap_inference` per item; items without one get no p.
    :param alpha: level at which an adjusted p marks the item ``significant``.
    :param gap_threshold: D̄ from which a gap is "high" (§2.2.3: 1).
    :return: the rows ordered by rank (unranked rows last, in table order).
    """
    inference_by_item = inference_by_item or {}
    shown = {
        item: s for item, s in stats_by_item.items() if not s.suppressed and s.mwds is not None
    }
    ordered = sorted(shown, key=lambda item: (-shown[item].mwds, -shown[item].need_prevalence))
    ranks: dict[str, int] = {}
    for position, item in enumerate(ordered, start=1):
        previous = ordered[position - 2] if position > 1 else None
        same = previous is not None and _rank_key(shown[previous]) == _rank_key(shown[item])
        ranks[item] = ranks[previous] if same else position
    median_i = float(np.median([s.mean_importance for s in shown.values()])) if shown else None

    family = [
        item
        for item in shown
        if item in inference_by_item and inference_by_item[item].p_value is not None
    ]
    holm = dict(
        zip(family, holm_adjust([inference_by_item[i].p_value for i in family]), strict=True)
    )

    rows = []
    for item, s in stats_by_item.items():
        quadrant = None
        if item in shown:
            high_i = s.mean_importance >= median_i
            high_gap = s.mean_gap >= gap_threshold
            quadrant = {(True, True): "Q1", (True, False): "Q2", (False, True): "Q3"}.get(
                (high_i, high_gap), "Q4"
            )
        p_holm = holm.get(item)
        inference = inference_by_item.get(item)
        rows.append(
            GapRow(
                item=item,
                **asdict(s),
                rank=ranks.get(item),
                quadrant=quadrant,
                p_holm=p_holm,
                significant=None if p_holm is None else p_holm < alpha,
                **(asdict(inference) if inference else {}),
            )
        )
    rows.sort(key=lambda row: (row.rank is None, row.rank or 0))
    return rows


def _rank_key(s: GapStats) -> tuple[float | None, float | None]:
    return (s.mwds, s.need_prevalence)


def _exact(value: float) -> int | float:
    """Integer sums (ratings are integers) stay integers so that the variance is exact."""
    return int(value) if float(value).is_integer() else float(value)


def _wilcoxon_method(gap: np.ndarray, counts: np.ndarray) -> str:
    """The ``method="auto"`` rule of scipy ≥ 1.15, made explicit to label the p-value."""
    n_total = int(counts.sum())
    nonzero = gap != 0
    magnitudes = np.abs(gap[nonzero])
    has_zeros = bool(counts[~nonzero].sum())
    has_ties = bool((counts[nonzero] > 1).any()) or len(np.unique(magnitudes)) < len(magnitudes)
    if n_total <= 50 and not (has_zeros or has_ties):
        return "exact"
    if n_total <= 13:
        return "permutation"
    return "asymptotic"


def sign_flip_wilcoxon(d: np.ndarray) -> tuple[float, float]:
    """Two-sided Wilcoxon p over all sign flips of the non-zero differences (n ≤ 13).

    Same null distribution and p as ``scipy.stats.wilcoxon(d, method=PermutationMethod())``
    (exhaustive: ``2·min(P(T ≤ t), P(T ≥ t))``, T = rank sum of the positive differences,
    mid-ranks for ties), found by convolving each difference's two outcomes {0, rank}. Ranks
    are doubled so that mid-ranks are integers and every comparison is exact. Zeros are
    dropped first: flipping a zero changes nothing, so they scale every count alike.
    """
    nonzero = d[d != 0]
    twice_ranks = np.rint(2 * stats.rankdata(np.abs(nonzero))).astype(np.int64)
    counts = np.zeros(int(twice_ranks.sum()) + 1, dtype=np.int64)
    counts[0] = 1
    for w in twice_ranks:
        counts[w:] = counts[w:] + counts[: len(counts) - w]
    observed = int(twice_ranks[nonzero > 0].sum())
    total = 2 ** len(nonzero)
    p = 2 * min(counts[: observed + 1].sum() / total, counts[observed:].sum() / total)
    r_plus = observed / 2
    return min(r_plus, twice_ranks.sum() / 2 - r_plus), min(float(p), 1.0)
