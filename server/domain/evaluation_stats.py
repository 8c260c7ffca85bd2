"""Learning (Kirkpatrick L2) statistics of the trainee-evaluation report (spec §3.1–§3.4, §3.10).

From the scored test attempts of one course this module computes the per-course summary
(§3.2: descriptives of pre and post, the matched-pair gain with its t interval, paired t and
Wilcoxon tests, effect sizes, Hake's class gain ⟨g⟩ and the mean individual gain ḡ, pass rates
with Wilson intervals and the exact McNemar test), the interpretation lines and caveats printed
under it (as vi/en data chosen by rules), the per-trainee table (§3.3) and the topic
sub-scores (§3.4).

Scoring itself (§3.1: marks, blanks, dropped items) is :mod:`server.domain.scoring`; here an
attempt arrives as raw marks and a maximum that already leave dropped items out. Which attempt
counts (§3.1, §3.10): the **first** submitted attempt of each (trainee, phase) feeds every
statistic; the **best** one only decides certification. Trainees who took one phase only are in
that phase's descriptives and counted as unmatched; fallback identities (attempts whose trainee is
not on the roster) are in the descriptives of all takers but never in matched analyses until
they are linked.

Results are dataclasses of plain ``float``/``int``/``str``/``bool``/``None`` (JSON-ready,
unrounded; rounding is display). Percentages are on 0..100 (``*_pct``, ``pp`` for differences),
shares of trainees are fractions in 0..1. A value that cannot be computed is ``None`` and a
``*_reason`` field says why, with a stable code: ``no_scores``, ``one_score``, ``no_pairs``,
``one_pair``, ``all_differences_zero``, ``constant_differences``, ``zero_sd``,
``pre_at_ceiling``, ``no_trials``, ``no_discordant_pairs``, ``zero_maximum``, ``too_few_items``,
``unknown_attendance``.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
from scipy import stats

from server.domain.needs_gap import sign_flip_wilcoxon

#: Default pass mark in percent (§3.1: the sample post-test's ``score_pct >= 70``).
PASS_MARK_PCT = 70.0
#: Default attendance needed for a certificate (§3.2).
ATTENDANCE_MIN_PCT = 80.0
#: A post-test this many points below the pre-test is flagged (§3.3).
DROP_FLAG_PP = 10.0
#: Minutes per item below which an attempt is "too fast" (§3.3: 1 min per item ÷ 2).
MIN_MINUTES_PER_ITEM = 0.5
#: Share of blank items above which an attempt is flagged (§3.10).
BLANK_FLAG_SHARE = 0.2
#: Topics with fewer items get no sub-score (§3.4).
MIN_TOPIC_ITEMS = 3
#: Hake bands (§3.2): low < 0.3 ≤ medium ≤ 0.7 < high.
GAIN_BANDS = (0.3, 0.7)
#: Cohen's benchmarks for |d| (§3.2).
EFFECT_BANDS = (0.2, 0.5, 0.8)
#: Two pass marks are compared with this slack: marks such as 1/3 summed in floating point
#: (2/3 + 1/3 + … ) can land a hair under a pass mark they reach exactly on paper.
_PCT_EPS = 1e-9
#: A difference SD this small (relative to the scores) is zero: the gains are all equal and the
#: floating-point noise of ``100·raw/max`` must not produce a t of 10¹⁵.
_SD_EPS = 1e-9

PHASES = ("pre", "post")


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Trainee:
    """One enrolled trainee (a roster row of the course)."""

    trainee_id: str
    name: str | None = None
    unit: str | None = None
    level: str | None = None
    staff_cat: str | None = None
    attendance_pct: float | None = None
    session: str | None = None


@dataclass(frozen=True, eq=False)
class Attempt:
    """One scored test attempt (§3.1); ``raw``/``maximum`` already leave dropped items out.

    ``submitted_at`` orders the attempts of one trainee and phase (first = earliest);
    ``attempt_id`` breaks ties. ``marks`` (item → mark) is needed only for topic sub-scores,
    ``blank_items`` for the blank flag, ``responses`` (the raw response string, kept for the
    export's audit column) for the identical-pattern flag.
    """

    trainee_id: str
    phase: str
    raw: float
    maximum: float
    submitted_at: datetime | str | None = None
    attempt_id: str = ""
    started_at: datetime | None = None
    ended_at: datetime | None = None
    bank_id: str | None = None
    bank_version: str | None = None
    n_items: int | None = None
    marks: Mapping[str, float] = field(default_factory=dict)
    blank_items: tuple[str, ...] = ()
    responses: str = ""
    session: str | None = None
    is_fallback_identity: bool = False

    @property
    def pct(self) -> float | None:
        """``100 · raw / max``; None when nothing is keyed (max 0)."""
        return 100.0 * self.raw / self.maximum if self.maximum else None


@dataclass(frozen=True)
class TopicItem:
    """An active item's topic tag and max mark (§3.4); dropped items are simply not given."""

    item_id: str
    topic: str
    max_mark: float = 1.0


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class PhaseAttempts:
    """The attempts of one trainee in one phase: the first counts, the best certifies."""

    first: Attempt
    best: Attempt
    n_attempts: int


@dataclass(frozen=True)
class ScoreSummary:
    """Descriptives of a list of % scores (§3.2).

    Quartiles use linear interpolation (numpy's default, R type 7, Excel QUARTILE.INC).
    """

    n: int
    mean: float | None
    sd: float | None
    median: float | None
    q1: float | None
    q3: float | None
    iqr: float | None
    minimum: float | None
    maximum: float | None
    ci_low: float | None
    ci_high: float | None
    reason: str | None


@dataclass(frozen=True)
class Proportion:
    """k of n with the Wilson score interval (``binomtest(k, n).proportion_ci("wilson")``)."""

    k: int
    n: int
    share: float | None
    ci_low: float | None
    ci_high: float | None
    reason: str | None


@dataclass(frozen=True)
class McNemar:
    """Exact McNemar test: b = fail→pass, c = pass→fail, binomial test of min(b, c) at 0.5."""

    b: int
    c: int
    p_value: float | None
    reason: str | None


@dataclass(frozen=True)
class GainStats:
    """Matched-pair gain statistics of §3.2 (d_i = post_i − pre_i in percentage points).

    ``p_t``: ``scipy.stats.ttest_rel(post, pre)``, two-sided. ``p_wilcoxon``:
    ``scipy.stats.wilcoxon(post, pre)`` with ``zero_method="wilcox"`` and ``method="auto"``;
    ``wilcoxon_method`` names what "auto" chose in scipy ≥ 1.15: ``exact`` (no ties or zeros,
    n ≤ 50), ``permutation`` (ties or zeros, n ≤ 13: all 2ⁿ sign flips, so exact too) or
    ``asymptotic``. ``wilcoxon_n`` is the number of non-zero differences.
    """

    n: int
    mean_pre: float | None
    sd_pre: float | None
    mean_post: float | None
    sd_post: float | None
    mean_gain: float | None
    sd_gain: float | None
    gain_ci_low: float | None
    gain_ci_high: float | None
    t_critical: float | None
    median_gain: float | None
    gain_q1: float | None
    gain_q3: float | None
    sd_reason: str | None
    t_statistic: float | None
    df: int | None
    p_t: float | None
    t_reason: str | None
    wilcoxon_n: int
    wilcoxon_statistic: float | None
    p_wilcoxon: float | None
    wilcoxon_method: str | None
    wilcoxon_reason: str | None
    d_z: float | None
    d_av: float | None
    d_rm: float | None
    r_pre_post: float | None
    hedges_j: float | None
    g_z: float | None
    g_av: float | None
    d_z_band: str | None
    d_av_band: str | None
    effect_reason: str | None
    class_gain: float | None
    class_gain_band: str | None
    class_gain_reason: str | None
    mean_individual_gain: float | None
    n_individual_gain: int
    individual_gain_band: str | None
    individual_gain_reason: str | None
    mean_normalised_change: float | None
    n_normalised_change: int


@dataclass(frozen=True)
class Line:
    """One interpretation line or caveat, in both languages; ``code`` is stable."""

    code: str
    vi: str
    en: str


@dataclass(frozen=True)
class CourseSummary:
    """Table "Tóm tắt khóa học" (§3.2), L2 part; the L1 line comes from ``satisfaction``."""

    n_enrolled: int
    n_attended: int
    n_attendance_unknown: int
    n_pre: int
    n_post: int
    n_post_enrolled: int
    n_matched: int
    n_unmatched_pre: int
    n_unmatched_post: int
    n_fallback_identities: int
    n_unscorable: int
    n_pairs_different_versions: int
    completion_rate: float | None
    pre_all: ScoreSummary
    post_all: ScoreSummary
    pre_matched: ScoreSummary
    post_matched: ScoreSummary
    gain: GainStats
    pass_mark_pct: float
    pass_pre: Proportion
    pass_post: Proportion
    pass_pre_matched: Proportion
    pass_post_matched: Proportion
    mcnemar: McNemar
    lines: tuple[Line, ...]
    caveats: tuple[Line, ...]


@dataclass(frozen=True)
class TopicScore:
    """A topic sub-score of one attempt: ``None`` with a reason when suppressed (§3.4)."""

    topic: str
    n_items: int
    pct: float | None
    reason: str | None


@dataclass(frozen=True)
class TraineeRow:
    """One row of "Bảng kết quả học viên" (§3.3). Pre and post are the first attempts."""

    trainee_id: str
    name: str | None
    unit: str | None
    level: str | None
    staff_cat: str | None
    attendance_pct: float | None
    pre_raw: float | None
    pre_max: float | None
    pre_pct: float | None
    post_raw: float | None
    post_max: float | None
    post_pct: float | None
    score10: float | None
    gain_pp: float | None
    normalised_change: float | None
    normalised_change_reason: str | None
    pass_pre: bool | None
    pass_post: bool | None
    best_post_pct: float | None
    pass_post_best: bool | None
    certificate_eligible: bool | None
    certificate_reason: str | None
    n_pre_attempts: int
    n_post_attempts: int
    topics_pre: dict[str, float | None]
    topics_post: dict[str, float | None]
    flags: tuple[str, ...]
    pre_responses: str | None
    post_responses: str | None


@dataclass(frozen=True)
class TopicRow:
    """One topic of the course table (§3.4): means over takers, gain and ⟨g⟩ over pairs."""

    topic: str
    n_items: int
    suppressed: bool
    n_pre: int
    mean_pre: float | None
    n_post: int
    mean_post: float | None
    n_matched: int
    matched_mean_pre: float | None
    matched_mean_post: float | None
    mean_gain: float | None
    class_gain: float | None
    class_gain_reason: str | None


# --------------------------------------------------------------------------- selection


def select_attempts(attempts: Iterable[Attempt]) -> dict[tuple[str, str], PhaseAttempts]:
    """Pick, per (trainee, phase), the first attempt (statistics) and the best (certification).

    First = earliest ``submitted_at`` (attempts without a time come last), ties broken by
    ``attempt_id``. Best = highest %, ties going to the earlier attempt. Attempts without a
    maximum (nothing keyed) are ignored here; :func:`course_summary` counts them.

    :param attempts: any attempts of one course, any phase.
    :return: ``{(trainee_id, phase): PhaseAttempts}``.
    :raises ValueError: on a phase other than ``pre``/``post``.
    """
    grouped: dict[tuple[str, str], list[Attempt]] = defaultdict(list)
    for attempt in attempts:
        if attempt.phase not in PHASES:
            raise ValueError(f"unknown phase {attempt.phase!r}")
        if attempt.pct is not None:
            grouped[(attempt.trainee_id, attempt.phase)].append(attempt)
    chosen = {}
    for key, group in grouped.items():
        ordered = sorted(group, key=_attempt_order)
        best = max(ordered, key=lambda a: a.pct)  # max keeps the first of equals
        chosen[key] = PhaseAttempts(first=ordered[0], best=best, n_attempts=len(group))
    return chosen


def _attempt_order(attempt: Attempt) -> tuple[bool, Any, str]:
    return (attempt.submitted_at is None, attempt.submitted_at or "", attempt.attempt_id)


# --------------------------------------------------------------------------- statistics


def describe_scores(values: Sequence[float], *, confidence: float = 0.95) -> ScoreSummary:
    """Describe % scores: n, mean, SD (ddof 1), median, quartiles, range, t interval of the mean.

    :param values: the scores (NaN not allowed; leave missing scores out).
    :param confidence: level of ``x̄ ± t(1 − α/2, n − 1) · SD/√n``.
    :return: the summary; SD and interval None (reason ``one_score``) for n = 1, everything
        None (``no_scores``) for n = 0.
    """
    x = np.asarray(values, dtype=float)
    n = int(x.size)
    if n == 0:
        return ScoreSummary(0, *([None] * 10), reason="no_scores")
    q1, median, q3 = (float(v) for v in np.percentile(x, [25, 50, 75]))
    mean = float(x.mean())
    sd = ci_low = ci_high = None
    reason = "one_score"
    if n >= 2:
        reason = None
        sd = float(x.std(ddof=1))
        half = _t_critical(n, confidence) * sd / math.sqrt(n)
        ci_low, ci_high = mean - half, mean + half
    return ScoreSummary(
        n=n,
        mean=mean,
        sd=sd,
        median=median,
        q1=q1,
        q3=q3,
        iqr=q3 - q1,
        minimum=float(x.min()),
        maximum=float(x.max()),
        ci_low=ci_low,
        ci_high=ci_high,
        reason=reason,
    )


def wilson_interval(k: int, n: int, *, confidence: float = 0.95) -> Proportion:
    """Share k/n with its Wilson score interval, as ``scipy.stats.binomtest`` computes it.

    :param k: successes.
    :param n: trials.
    :param confidence: interval level.
    :return: the proportion; share and interval None with reason ``no_trials`` when n = 0.
    """
    if n == 0:
        return Proportion(k=0, n=0, share=None, ci_low=None, ci_high=None, reason="no_trials")
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return Proportion(
        k=k, n=n, share=k / n, ci_low=float(ci.low), ci_high=float(ci.high), reason=None
    )


def mcnemar_exact(b: int, c: int) -> McNemar:
    """Exact McNemar test of paired pass/fail changes (§3.2).

    :param b: pairs going fail → pass.
    :param c: pairs going pass → fail.
    :return: the two-sided p of ``binomtest(min(b, c), b + c, 0.5)``; None with reason
        ``no_discordant_pairs`` when b + c = 0 (nobody changed, nothing to test).
    """
    if b + c == 0:
        return McNemar(b=b, c=c, p_value=None, reason="no_discordant_pairs")
    return McNemar(
        b=b, c=c, p_value=float(stats.binomtest(min(b, c), b + c, 0.5).pvalue), reason=None
    )


def normalised_gain(pre_pct: float, post_pct: float) -> float | None:
    """Individual Hake gain g_i = (post − pre)/(100 − pre); None when pre = 100 (undefined).

    :param pre_pct: pre-test %.
    :param post_pct: post-test %.
    :return: g_i, unbounded below.
    """
    if pre_pct >= 100 - _PCT_EPS:
        return None
    return (post_pct - pre_pct) / (100 - pre_pct)


def normalised_change(pre_pct: float, post_pct: float) -> tuple[float | None, str | None]:
    """Marx & Cummings' normalised change c_i (§3.2), bounded in [−1, 1].

    c = (post − pre)/(100 − pre) when post > pre, (post − pre)/pre when post < pre, 0 when
    equal. Marx & Cummings drop students at 0 → 0 and 100 → 100; §3.10 keeps 100 → 100 in
    the per-trainee table as c = 0 (the trainee kept a perfect score), so only 0 → 0 is
    undefined here. The class mean (:func:`paired_gain`) drops both, as Marx & Cummings do.

    :param pre_pct: pre-test %.
    :param post_pct: post-test %.
    :return: ``(c, reason)``; reason ``zero_pre_and_post`` when both are 0.
    """
    if abs(post_pct - pre_pct) <= _PCT_EPS:
        if pre_pct <= _PCT_EPS:
            return None, "zero_pre_and_post"
        return 0.0, None
    if post_pct > pre_pct:
        return (post_pct - pre_pct) / (100 - pre_pct), None
    return (post_pct - pre_pct) / pre_pct, None


def class_gain(mean_pre: float, mean_post: float) -> float | None:
    """Hake's class gain ⟨g⟩ = (⟨post⟩ − ⟨pre⟩)/(100 − ⟨pre⟩); None when ⟨pre⟩ = 100.

    :param mean_pre: class mean pre-test %.
    :param mean_post: class mean post-test %.
    :return: ⟨g⟩.
    """
    return normalised_gain(mean_pre, mean_post)


def gain_band(g: float | None) -> str | None:
    """Hake's band: ``low`` (< 0.3, negative included), ``medium`` (0.3–0.7), ``high`` (> 0.7)."""
    if g is None:
        return None
    if g < GAIN_BANDS[0]:
        return "low"
    return "medium" if g <= GAIN_BANDS[1] else "high"


def effect_size_band(d: float | None) -> str | None:
    """Cohen's band of |d|: ``negligible`` < 0.2 ≤ ``small`` < 0.5 ≤ ``medium`` < 0.8 ≤ ``large``.

    :param d: an effect size.
    :return: the band code, None for None.
    """
    if d is None:
        return None
    size = abs(d)
    if size < EFFECT_BANDS[0]:
        return "negligible"
    if size < EFFECT_BANDS[1]:
        return "small"
    return "medium" if size < EFFECT_BANDS[2] else "large"


def paired_gain(
    pre: Sequence[float], post: Sequence[float], *, confidence: float = 0.95
) -> GainStats:
    """All matched-pair gain statistics of §3.2.

    Effect sizes: d_z = d̄/s_d (Lakens 2013); d_av = d̄/((SD_pre + SD_post)/2) (Cumming's
    standardiser); d_rm = d_z·√(2(1 − r)) (Lakens' repeated-measures d, given in §3.11 with r
    the pre–post Pearson correlation); Hedges' J = 1 − 3/(4(n − 1) − 1) and g = J·d. When every
    difference is 0 the tests and d_z are undefined (scipy 1.17 would warn and return p = 1);
    when the differences are all equal but not 0, s_d = 0 and t, d_z are undefined too.

    :param pre: pre-test % of the pairs.
    :param post: post-test % of the same trainees, in the same order.
    :param confidence: level of the interval of d̄.
    :return: the statistics; None values carry a reason.
    :raises ValueError: when the two sequences differ in length.
    """
    x = np.asarray(pre, dtype=float)
    y = np.asarray(post, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("pre and post must be aligned 1-D sequences")
    n = int(x.size)
    # Rounded to 1e-9 pp so that float noise of 100·raw/max neither hides a zero difference
    # (which Wilcoxon must discard) nor splits a tie (which changes its ranks).
    d = np.round(y - x, 9)
    out: dict[str, Any] = dict.fromkeys(f for f in GainStats.__dataclass_fields__)
    out.update(n=n, wilcoxon_n=int(np.count_nonzero(d)))
    out.update(n_individual_gain=0, n_normalised_change=0)
    if n == 0:
        for key in ("sd_reason", "t_reason", "wilcoxon_reason", "effect_reason"):
            out[key] = "no_pairs"
        out["class_gain_reason"] = out["individual_gain_reason"] = "no_pairs"
        return GainStats(**out)

    mean_pre, mean_post, mean_gain = float(x.mean()), float(y.mean()), float(d.mean())
    q1, med, q3 = (float(v) for v in np.percentile(d, [25, 50, 75]))
    out.update(mean_pre=mean_pre, mean_post=mean_post, mean_gain=mean_gain)
    out.update(median_gain=med, gain_q1=q1, gain_q3=q3)

    # Hake's class gain and the mean of individual gains (Bao 2006: they differ; report both).
    g_class = class_gain(mean_pre, mean_post)
    out.update(class_gain=g_class, class_gain_band=gain_band(g_class))
    out["class_gain_reason"] = None if g_class is not None else "pre_at_ceiling"
    g_i = [g for g in map(normalised_gain, x, y) if g is not None]
    out["n_individual_gain"] = len(g_i)
    if g_i:
        out["mean_individual_gain"] = float(np.mean(g_i))
        out["individual_gain_band"] = gain_band(out["mean_individual_gain"])
    else:
        out["individual_gain_reason"] = "pre_at_ceiling"
    c_i = [
        normalised_change(a, b)[0]
        for a, b in zip(x, y, strict=True)
        if not (abs(a - b) <= _PCT_EPS and (a <= _PCT_EPS or a >= 100 - _PCT_EPS))
    ]
    out["n_normalised_change"] = len(c_i)
    out["mean_normalised_change"] = float(np.mean(c_i)) if c_i else None

    if n < 2:
        for key in ("sd_reason", "t_reason", "wilcoxon_reason", "effect_reason"):
            out[key] = "one_pair"
        return GainStats(**out)

    sd_pre, sd_post = float(x.std(ddof=1)), float(y.std(ddof=1))
    sd_gain = float(d.std(ddof=1))
    scale = max(1.0, float(np.abs(x).max()), float(np.abs(y).max()))
    all_zero = out["wilcoxon_n"] == 0
    if sd_gain <= _SD_EPS * scale:
        sd_gain = 0.0
    t_crit = _t_critical(n, confidence)
    half = t_crit * sd_gain / math.sqrt(n)
    out.update(sd_pre=sd_pre, sd_post=sd_post, sd_gain=sd_gain, t_critical=t_crit)
    out.update(gain_ci_low=mean_gain - half, gain_ci_high=mean_gain + half)

    if all_zero:
        out["t_reason"] = out["effect_reason"] = "all_differences_zero"
        out["wilcoxon_reason"] = "all_differences_zero"
    elif sd_gain == 0.0:
        out["t_reason"] = "constant_differences"
    else:
        res = stats.ttest_rel(y, x)
        out.update(t_statistic=float(res.statistic), df=n - 1, p_t=float(res.pvalue))
    if not all_zero:
        method = _wilcoxon_method(d)
        if method == "permutation":
            # scipy's own permutation test takes ≈ 1.4 s at n = 13; this is the same
            # exhaustive sign-flip distribution, computed by convolution (tested equal).
            w_stat, p_w = sign_flip_wilcoxon(d)
        else:
            res_w = stats.wilcoxon(d, zero_method="wilcox", method=method)
            w_stat, p_w = float(res_w.statistic), float(res_w.pvalue)
        out.update(wilcoxon_statistic=w_stat, p_wilcoxon=p_w, wilcoxon_method=method)

    if not all_zero:
        j = 1 - 3 / (4 * (n - 1) - 1) if n > 1 else None
        out["hedges_j"] = j
        if sd_gain > 0:
            out["d_z"] = mean_gain / sd_gain
            out["g_z"] = j * out["d_z"]
        else:
            out["effect_reason"] = "constant_differences"
        sd_av = (sd_pre + sd_post) / 2
        if sd_av > 0:
            out["d_av"] = mean_gain / sd_av
            out["g_av"] = j * out["d_av"]
        else:
            out["effect_reason"] = "zero_sd"
        if sd_pre > 0 and sd_post > 0 and out["d_z"] is not None:
            r = float(np.corrcoef(x, y)[0, 1])
            out["r_pre_post"] = r
            out["d_rm"] = out["d_z"] * math.sqrt(max(2 * (1 - r), 0.0))
        out["d_z_band"] = effect_size_band(out["d_z"])
        out["d_av_band"] = effect_size_band(out["d_av"])
    return GainStats(**out)


def _t_critical(n: int, confidence: float) -> float:
    return float(stats.t.ppf(0.5 + confidence / 2, n - 1))


def _wilcoxon_method(d: np.ndarray) -> str:
    """What ``method="auto"`` of scipy ≥ 1.15 picks, made explicit to label the p-value.

    n counts the zero differences too, as scipy decides on the input length.
    """
    nonzero = d != 0
    magnitudes = np.abs(d[nonzero])
    has_ties = len(np.unique(magnitudes)) < len(magnitudes)
    if not (has_ties or bool((~nonzero).any())):
        return "exact" if d.size <= 50 else "asymptotic"
    return "permutation" if d.size <= 13 else "asymptotic"


# --------------------------------------------------------------------------- interpretation

_BAND_VI = {
    "negligible": "không đáng kể",
    "small": "nhỏ",
    "medium": "trung bình",
    "large": "lớn",
    "low": "thấp",
    "high": "cao",
}

#: The caveats printed under the summary (§3.2, §3.10), by code.
CAVEATS: dict[str, Line] = {
    "d_z_not_between_group": Line(
        "d_z_not_between_group",
        "d_z (trên hiệu số cặp) không so sánh được với d giữa hai nhóm độc lập; "
        "dùng d_av khi so với các nghiên cứu khác.",
        "d_z (on paired differences) is not comparable with a between-group d; "
        "use d_av to compare with other studies.",
    ),
    "different_bank_versions": Line(
        "different_bank_versions",
        "Một số học viên làm bài trước và sau theo hai phiên bản đề khác nhau: "
        "mức tăng tính trên điểm %, không ghép theo câu.",
        "Some trainees took different bank versions before and after: the gain is on % "
        "scores, items are not paired.",
    ),
    "small_n": Line(
        "small_n",
        "Số cặp nhỏ (n < 10): kiểm định có độ mạnh thấp, khoảng tin cậy rộng.",
        "Few pairs (n < 10): the tests have little power and the intervals are wide.",
    ),
}


def interpret_gain(gain: GainStats, *, alpha: float = 0.05) -> list[Line]:
    """The interpretation lines printed under the summary table (§3.2), chosen by rule.

    Significance needs both the paired t and the Wilcoxon p below ``alpha`` (the spec's
    wording); when one is and the other is not, the line says the tests disagree. The
    effect-size line bands d_av, the standardiser comparable with between-group
    benchmarks (d_z is reported beside it, with the caveat). The gain line bands ⟨g⟩.

    :param gain: :func:`paired_gain`'s result.
    :param alpha: significance level.
    :return: lines in print order.
    """
    lines = []
    p_t, p_w = gain.p_t, gain.p_wilcoxon
    if gain.n < 2 or gain.mean_gain is None:
        lines.append(
            Line(
                "gain_not_testable",
                "Không đủ cặp để kiểm định (n < 2).",
                "Too few pairs to test (n < 2).",
            )
        )
    elif gain.wilcoxon_n == 0:
        lines.append(
            Line(
                "gain_all_zero",
                "Không học viên nào thay đổi điểm: không kiểm định.",
                "No trainee's score changed: nothing to test.",
            )
        )
    elif p_t is not None and p_w is not None and p_t < alpha and p_w < alpha:
        lines.append(
            Line(
                "gain_significant",
                "Mức tăng điểm có ý nghĩa thống kê (kiểm định t cặp và Wilcoxon p < 0,05).",
                "The gain is statistically significant (paired t and Wilcoxon p < 0.05).",
            )
        )
    elif (p_t is not None and p_t < alpha) or (p_w is not None and p_w < alpha):
        lines.append(
            Line(
                "gain_tests_disagree",
                "Hai kiểm định không thống nhất (chỉ một trong t cặp và Wilcoxon có p < 0,05).",
                "The tests disagree (only one of paired t and Wilcoxon has p < 0.05).",
            )
        )
    else:
        lines.append(
            Line(
                "gain_not_significant",
                "Mức tăng điểm không có ý nghĩa thống kê (p ≥ 0,05).",
                "The gain is not statistically significant (p ≥ 0.05).",
            )
        )
    if gain.d_av_band is not None:
        band = gain.d_av_band
        lines.append(
            Line(
                f"effect_{band}",
                f"Độ lớn hiệu quả: {_BAND_VI[band]} "
                "(|d| 0,2 / 0,5 / 0,8 = nhỏ / trung bình / lớn).",
                f"Effect size: {band} (|d| 0.2 / 0.5 / 0.8 = small / medium / large).",
            )
        )
    if gain.class_gain_band is not None:
        band = gain.class_gain_band
        lines.append(
            Line(
                f"hake_{band}",
                f"Mức tăng chuẩn hóa ⟨g⟩: {_BAND_VI[band]} "
                "(thấp < 0,3; trung bình 0,3–0,7; cao > 0,7).",
                f"Normalised gain ⟨g⟩: {band} (low < 0.3; medium 0.3–0.7; high > 0.7).",
            )
        )
    return lines


# --------------------------------------------------------------------------- course summary


def course_summary(
    trainees: Sequence[Trainee],
    attempts: Iterable[Attempt],
    *,
    pass_mark_pct: float = PASS_MARK_PCT,
    attendance_min_pct: float = ATTENDANCE_MIN_PCT,
    confidence: float = 0.95,
) -> CourseSummary:
    """Build the L2 part of the per-course summary (§3.2) from the roster and all attempts.

    :param trainees: the enrolled trainees.
    :param attempts: every attempt of the course (all phases, retakes and fallback identities
        included; the rules of §3.10 pick what counts).
    :param pass_mark_pct: the course's pass mark (default 70; 50 where "≥ 5/10 đạt" applies).
    :param attendance_min_pct: attendance needed to count as attended.
    :param confidence: level of the intervals.
    :return: the summary with its interpretation lines and caveats.
    """
    attempts = list(attempts)
    roster = {t.trainee_id for t in trainees}
    chosen = select_attempts(attempts)
    first = {key: pa.first for key, pa in chosen.items()}

    def linked(tid: str, phase: str) -> bool:
        a = first.get((tid, phase))
        return a is not None and tid in roster and not a.is_fallback_identity

    pre_all = [a.pct for (_, ph), a in first.items() if ph == "pre"]
    post_all = [a.pct for (_, ph), a in first.items() if ph == "post"]
    matched = sorted(tid for tid in roster if linked(tid, "pre") and linked(tid, "post"))
    pre_m = [first[(t, "pre")].pct for t in matched]
    post_m = [first[(t, "post")].pct for t in matched]
    fallback = {
        a.trainee_id for a in first.values() if a.trainee_id not in roster or a.is_fallback_identity
    }

    passed = _passes(pass_mark_pct)
    b = sum(1 for a, z in zip(pre_m, post_m, strict=True) if not passed(a) and passed(z))
    c = sum(1 for a, z in zip(pre_m, post_m, strict=True) if passed(a) and not passed(z))
    different = sum(
        1
        for t in matched
        if (first[(t, "pre")].bank_id, first[(t, "pre")].bank_version)
        != (first[(t, "post")].bank_id, first[(t, "post")].bank_version)
    )
    known = [t for t in trainees if t.attendance_pct is not None]
    n_post_enrolled = sum(1 for t in roster if linked(t, "post"))
    gain = paired_gain(pre_m, post_m, confidence=confidence)
    caveats = [CAVEATS["d_z_not_between_group"]]
    if different:
        caveats.append(CAVEATS["different_bank_versions"])
    if 0 < gain.n < 10:
        caveats.append(CAVEATS["small_n"])
    return CourseSummary(
        n_enrolled=len(trainees),
        n_attended=sum(1 for t in known if t.attendance_pct >= attendance_min_pct),
        n_attendance_unknown=len(trainees) - len(known),
        n_pre=len(pre_all),
        n_post=len(post_all),
        n_post_enrolled=n_post_enrolled,
        n_matched=len(matched),
        n_unmatched_pre=sum(1 for t in roster if linked(t, "pre") and not linked(t, "post")),
        n_unmatched_post=sum(1 for t in roster if linked(t, "post") and not linked(t, "pre")),
        n_fallback_identities=len(fallback),
        n_unscorable=sum(1 for a in attempts if a.pct is None),
        n_pairs_different_versions=different,
        completion_rate=n_post_enrolled / len(trainees) if trainees else None,
        pre_all=describe_scores(pre_all, confidence=confidence),
        post_all=describe_scores(post_all, confidence=confidence),
        pre_matched=describe_scores(pre_m, confidence=confidence),
        post_matched=describe_scores(post_m, confidence=confidence),
        gain=gain,
        pass_mark_pct=pass_mark_pct,
        pass_pre=wilson_interval(sum(map(passed, pre_all)), len(pre_all), confidence=confidence),
        pass_post=wilson_interval(sum(map(passed, post_all)), len(post_all), confidence=confidence),
        pass_pre_matched=wilson_interval(
            sum(map(passed, pre_m)), len(pre_m), confidence=confidence
        ),
        pass_post_matched=wilson_interval(
            sum(map(passed, post_m)), len(post_m), confidence=confidence
        ),
        mcnemar=mcnemar_exact(b, c),
        lines=tuple(interpret_gain(gain)),
        caveats=tuple(caveats),
    )


def _passes(pass_mark_pct: float):
    return lambda pct: pct is not None and pct + _PCT_EPS >= pass_mark_pct


def score10(raw: float, maximum: float) -> float | None:
    """The 10-point display score ``round(10 · raw / max, 1)``, halves rounded up (§3.1).

    Python's ``round`` rounds halves to even (7.25 → 7.2); Vietnamese marking rounds them up
    (7.25 → 7.3), so the rounding is done in decimal from the shortest repr of the float.

    :param raw: raw marks.
    :param maximum: max marks (active items).
    :return: the score on 0..10 with one decimal, None when max is 0.
    """
    if not maximum:
        return None
    return float(Decimal(repr(float(10 * raw / maximum))).quantize(Decimal("0.1"), ROUND_HALF_UP))


# --------------------------------------------------------------------------- topics


def topic_subscores(
    marks: Mapping[str, float], items: Sequence[TopicItem], *, min_items: int = MIN_TOPIC_ITEMS
) -> dict[str, TopicScore]:
    """Sub-scores of one attempt per topic: ``100 · Σ x / Σ M`` over the topic's items (§3.4).

    A missing mark counts 0 (a blank). Topics with fewer than ``min_items`` items are
    suppressed (``too_few_items``); a topic whose items are all worth 0 has ``zero_maximum``.

    :param marks: item → mark of the attempt.
    :param items: the active items with their topic and max mark.
    :param min_items: fewest items for a sub-score.
    :return: topic → score, topics in first-seen order.
    """
    return topic_scorer(items, min_items=min_items)(marks)


def topic_scorer(
    items: Sequence[TopicItem], *, min_items: int = MIN_TOPIC_ITEMS
) -> Callable[[Mapping[str, float]], dict[str, TopicScore]]:
    """:func:`topic_subscores` with the items grouped once, for scoring many attempts."""
    grouped: dict[str, list[TopicItem]] = defaultdict(list)
    for item in items:
        grouped[item.topic].append(item)
    plan = []
    for topic, group in grouped.items():
        total = sum(i.max_mark for i in group)
        reason = (
            "too_few_items" if len(group) < min_items else "zero_maximum" if total <= 0 else None
        )
        plan.append((topic, len(group), total, tuple(i.item_id for i in group), reason))

    def scores(marks: Mapping[str, float]) -> dict[str, TopicScore]:
        result = {}
        for topic, n, total, ids, reason in plan:
            if reason is not None:
                result[topic] = TopicScore(topic, n, None, reason)
            else:
                got = sum(float(marks.get(i, 0.0) or 0.0) for i in ids)
                result[topic] = TopicScore(topic, n, 100.0 * got / total, None)
        return result

    return scores


def topic_table(
    trainees: Sequence[Trainee],
    attempts: Iterable[Attempt],
    items: Sequence[TopicItem],
    *,
    min_items: int = MIN_TOPIC_ITEMS,
) -> list[TopicRow]:
    """The course's topic table (§3.4): mean pre and post, gain and ⟨g⟩ per topic.

    Means are over all first attempts of the phase; gain and ⟨g⟩ over matched pairs only (as
    for the total score), so ``mean_gain`` equals ``matched_mean_post − matched_mean_pre``.

    :param trainees: the roster (matching excludes fallback identities).
    :param attempts: all attempts; first attempts are used.
    :param items: the active items of the bank version with topic and max mark.
    :param min_items: fewest items for a topic to be shown.
    :return: one row per topic, in first-seen order.
    """
    roster = {t.trainee_id for t in trainees}
    first = {key: pa.first for key, pa in select_attempts(attempts).items()}
    scorer = topic_scorer(items, min_items=min_items)
    scores = {key: scorer(a.marks) for key, a in first.items()}
    topics = list(dict.fromkeys(i.topic for i in items))
    n_items = Counter(i.topic for i in items)
    matched = [
        t
        for t in roster
        if all((t, ph) in first and not first[(t, ph)].is_fallback_identity for ph in PHASES)
    ]
    by_phase = {ph: [s for (_, p), s in scores.items() if p == ph] for ph in PHASES}
    rows = []
    for topic in topics:
        suppressed = n_items[topic] < min_items
        pre = [s[topic].pct for s in by_phase["pre"]]
        post = [s[topic].pct for s in by_phase["post"]]
        pairs = [(scores[(t, "pre")][topic].pct, scores[(t, "post")][topic].pct) for t in matched]
        if suppressed or any(v is None for v in pre + post):
            pre = post = pairs = []
        m_pre = float(np.mean([p for p, _ in pairs])) if pairs else None
        m_post = float(np.mean([q for _, q in pairs])) if pairs else None
        g = class_gain(m_pre, m_post) if pairs else None
        reason = None
        if suppressed:
            reason = "too_few_items"
        elif not pairs:
            reason = "no_pairs"
        elif g is None:
            reason = "pre_at_ceiling"
        rows.append(
            TopicRow(
                topic=topic,
                n_items=n_items[topic],
                suppressed=suppressed,
                n_pre=len(pre),
                mean_pre=float(np.mean(pre)) if pre else None,
                n_post=len(post),
                mean_post=float(np.mean(post)) if post else None,
                n_matched=len(pairs),
                matched_mean_pre=m_pre,
                matched_mean_post=m_post,
                mean_gain=None if m_pre is None else m_post - m_pre,
                class_gain=g,
                class_gain_reason=reason,
            )
        )
    return rows


# --------------------------------------------------------------------------- trainee table


def trainee_table(
    trainees: Sequence[Trainee],
    attempts: Iterable[Attempt],
    *,
    items: Sequence[TopicItem] = (),
    pass_mark_pct: float = PASS_MARK_PCT,
    attendance_min_pct: float = ATTENDANCE_MIN_PCT,
    min_minutes: float | None = None,
    flag_identical: bool = True,
) -> list[TraineeRow]:
    """The per-trainee table (§3.3): one row per enrolled trainee plus one per fallback identity.

    Flags (stable codes): ``missing_pre``, ``missing_post``, ``post_below_pre`` (post at least
    10 pp under pre), ``too_fast_pre``/``too_fast_post`` (duration under ``min_minutes``,
    default half a minute per item), ``fallback_identity`` (not on the roster), ``identical_pre``
    /``identical_post`` (same non-blank response string as another trainee of the same
    session), ``blank_pre``/``blank_post`` (more than 20 % of items blank),
    ``different_bank_versions``, ``retake_pre``/``retake_post`` (several attempts). Rows sort by
    unit then name in Vietnamese alphabetical order (a, ă, â, b, …, đ after d).

    :param trainees: the roster.
    :param attempts: all attempts of the course.
    :param items: active items with topics, for the topic sub-scores (none: no sub-scores).
    :param pass_mark_pct: the course's pass mark.
    :param attendance_min_pct: attendance needed for a certificate.
    :param min_minutes: duration under which an attempt is flagged; default
        ``MIN_MINUTES_PER_ITEM`` × the attempt's number of items.
    :param flag_identical: whether to look for identical response strings.
    :return: the rows, sorted.
    """
    attempts = list(attempts)
    chosen = select_attempts(attempts)
    passed = _passes(pass_mark_pct)
    roster = {t.trainee_id: t for t in trainees}
    scorer = topic_scorer(items) if items else None
    people = list(trainees) + [
        Trainee(trainee_id=tid)
        for tid in dict.fromkeys(t for (t, _) in chosen)
        if tid not in roster
    ]
    identical = _identical_patterns(chosen) if flag_identical else set()
    rows = []
    for person in people:
        pre_pa = chosen.get((person.trainee_id, "pre"))
        post_pa = chosen.get((person.trainee_id, "post"))
        pre, post = (pre_pa.first if pre_pa else None), (post_pa.first if post_pa else None)
        flags = []
        if pre is None:
            flags.append("missing_pre")
        if post is None:
            flags.append("missing_post")
        gain = c = c_reason = None
        if pre is not None and post is not None:
            gain = post.pct - pre.pct
            c, c_reason = normalised_change(pre.pct, post.pct)
            if gain <= -DROP_FLAG_PP + _PCT_EPS:
                flags.append("post_below_pre")
            if (pre.bank_id, pre.bank_version) != (post.bank_id, post.bank_version):
                flags.append("different_bank_versions")
        fallback = person.trainee_id not in roster or any(
            a is not None and a.is_fallback_identity for a in (pre, post)
        )
        if fallback:
            flags.append("fallback_identity")
            gain = c = None
            c_reason = "fallback_identity"
        for phase, pa in (("pre", pre_pa), ("post", post_pa)):
            if pa is None:
                continue
            a = pa.first
            if _too_fast(a, min_minutes, len(items)):
                flags.append(f"too_fast_{phase}")
            n_items = a.n_items or len(items)
            if n_items and len(a.blank_items) / n_items > BLANK_FLAG_SHARE:
                flags.append(f"blank_{phase}")
            if (person.trainee_id, phase) in identical:
                flags.append(f"identical_{phase}")
            if pa.n_attempts > 1:
                flags.append(f"retake_{phase}")
        eligible, cert_reason = None, None
        best_post = post_pa.best if post_pa else None
        if fallback:
            cert_reason = "fallback_identity"
        elif person.attendance_pct is None:
            cert_reason = "unknown_attendance"
        else:
            eligible = person.attendance_pct >= attendance_min_pct and passed(
                best_post.pct if best_post else None
            )
        rows.append(
            TraineeRow(
                trainee_id=person.trainee_id,
                name=person.name,
                unit=person.unit,
                level=person.level,
                staff_cat=person.staff_cat,
                attendance_pct=person.attendance_pct,
                pre_raw=pre.raw if pre else None,
                pre_max=pre.maximum if pre else None,
                pre_pct=pre.pct if pre else None,
                post_raw=post.raw if post else None,
                post_max=post.maximum if post else None,
                post_pct=post.pct if post else None,
                score10=score10(post.raw, post.maximum) if post else None,
                gain_pp=gain,
                normalised_change=c,
                normalised_change_reason=c_reason if (pre and post) else "missing_phase",
                pass_pre=passed(pre.pct) if pre else None,
                pass_post=passed(post.pct) if post else None,
                best_post_pct=best_post.pct if best_post else None,
                pass_post_best=passed(best_post.pct) if best_post else None,
                certificate_eligible=eligible,
                certificate_reason=cert_reason,
                n_pre_attempts=pre_pa.n_attempts if pre_pa else 0,
                n_post_attempts=post_pa.n_attempts if post_pa else 0,
                topics_pre=_topic_pcts(pre, scorer),
                topics_post=_topic_pcts(post, scorer),
                flags=tuple(flags),
                pre_responses=pre.responses if pre else None,
                post_responses=post.responses if post else None,
            )
        )
    rows.sort(
        key=lambda r: (vietnamese_sort_key(r.unit), vietnamese_sort_key(r.name), r.trainee_id)
    )
    return rows


def _topic_pcts(attempt: Attempt | None, scorer) -> dict[str, float | None]:
    if attempt is None or scorer is None:
        return {}
    return {t: s.pct for t, s in scorer(attempt.marks).items()}


def _too_fast(attempt: Attempt, min_minutes: float | None, n_key_items: int) -> bool:
    if attempt.started_at is None or attempt.ended_at is None:
        return False
    if min_minutes is None:
        n_items = attempt.n_items or n_key_items
        if not n_items:
            return False
        min_minutes = MIN_MINUTES_PER_ITEM * n_items
    minutes = (attempt.ended_at - attempt.started_at).total_seconds() / 60
    return minutes < min_minutes


def _identical_patterns(chosen: Mapping[tuple[str, str], PhaseAttempts]) -> set[tuple[str, str]]:
    """(trainee, phase) whose first response string another trainee of the session shares."""
    owners: dict[tuple[str | None, str, str], set[str]] = defaultdict(set)
    for (tid, phase), pa in chosen.items():
        pattern = pa.first.responses.strip()
        if pattern and pattern.strip(" ,;.-_|") != "":
            owners[(pa.first.session, phase, pattern)].add(tid)
    return {(tid, phase) for (_, phase, _), tids in owners.items() if len(tids) > 1 for tid in tids}


_VI_ORDER = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
#: Tone marks in the order of Vietnamese dictionaries: none, huyền, hỏi, ngã, sắc, nặng.
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def vietnamese_sort_key(text: str | None) -> tuple:
    """A sort key in Vietnamese alphabetical order: letters first (a ă â … đ after d), tones second.

    Code-point order would put "Đ" after "Z" and "Ă" after every plain letter. Empty and None
    sort first.

    :param text: a name or unit name.
    :return: the key (primary letters, then tone marks, then the text itself).
    """
    if not text:
        return ((), (), "")
    primary, secondary = [], []
    for char in unicodedata.normalize("NFC", text).casefold():
        parts = unicodedata.normalize("NFD", char)
        tone = next((_TONES[m] for m in parts if m in _TONES), 0)
        base = unicodedata.normalize("NFC", "".join(m for m in parts if m not in _TONES))
        index = _VI_ORDER.find(base) if len(base) == 1 else -1
        primary.append((0, index) if index >= 0 else (1, ord(base[0])))
        secondary.append(tone)
    return (tuple(primary), tuple(secondary), text)
