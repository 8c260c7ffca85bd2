r"""Item analysis of a test, exactly as Moodle's quiz statistics report computes it (§3.5–§3.6).

Per item: facility, SD, random-guess score, intended and effective weight, discrimination index
(the Pearson correlation of the item mark with the mark on the **rest** of the test, × 100),
discriminative efficiency (that covariance as a share of the largest one the two marginal
distributions allow) and Moodle's flags. Per test: average, median, SD, skewness, kurtosis,
coefficient of internal consistency (CIC = 100 × Cronbach's α), error ratio and standard error.
Formulas were read in ``core_question\statistics\questions\calculator`` and
``quiz_statistics\calculator`` (moodle/moodle) and written here from the spec's tables; Moodle's
own fixture (``results00.csv`` → ``qstats00.csv``) is the golden test.

Moodle's conventions kept on purpose, so numbers can be checked against a Moodle site:

* variances and covariances are sample statistics (divisor s − 1), null when s ≤ 1;
* ``facility`` and ``random_guess_score`` are fractions 0..1 and ``sd`` is in marks (what Moodle
  stores); the ``*_pct`` fields are what Moodle displays (× 100, or ÷ max × 100);
* ``discrimination_index``, ``discriminative_efficiency``, ``effective_weight_pct``, ``cic``,
  ``error_ratio`` are already × 100, as Moodle stores them;
* CIC may be negative (error ratio then above 100): shown, never clamped.

§3.6 adds the pre vs post comparison per item and the distractor ("analysis of responses")
table. Results are dataclasses of plain values, unrounded; ``None`` with a ``*_reason`` code when
a value cannot be computed: ``one_attempt``, ``zero_variance``, ``zero_covariance_max``,
``negative_covariance``, ``zero_sum_of_roots``, ``multi_answer``, ``zero_max_mark``,
``too_few_attempts``, ``one_item``, ``different_bank_versions``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from server.domain.evaluation_stats import Line, mcnemar_exact

#: DE below this makes Moodle's row "dubious" (``is_dubious_question``).
DUBIOUS_DE = 15.0
#: qbank "Needs checking?" thresholds on DI (``NEED_FOR_REVISION_*_THRESHOLD``).
NEEDS_CHECKING_DI = (30.0, 50.0)
#: Attempts needed to show DI/DE/CIC; between the two, show them greyed ("n nhỏ") (§3.5.4).
MIN_ATTEMPTS_SHOW = 20
MIN_ATTEMPTS_GREYED = 10
#: Item SD under this % of the item maximum is unsatisfactory (§3.5.4).
LOW_SD_PCT = 33.0
#: Random-guess score above this % is unsatisfactory (§3.5.4).
HIGH_RGS_PCT = 40.0
#: §3.6 flags: not learned below, already known from (facility %); non-functioning distractor.
NOT_LEARNED_PCT = 50.0
ALREADY_KNOWN_PCT = 90.0
NON_FUNCTIONING_PCT = 5.0


@dataclass(frozen=True)
class ItemSpec:
    """One keyed item of a bank version (from the answer key, §3.1).

    ``qtype``: ``single``, ``tf`` or ``multi``. ``n_options``: options of a single-answer item
    (its random-guess score is 1/m). ``answer_fractions``: Moodle's per-option fractions, when
    known, for a single-answer item with partial credit (RGS = Σ fractions / #options).
    """

    item_id: str
    max_mark: float = 1.0
    qtype: str = "single"
    n_options: int | None = None
    key: tuple[str, ...] = ()
    topic: str | None = None
    dropped: bool = False
    answer_fractions: tuple[float, ...] | None = None


@dataclass(frozen=True)
class ItemStats:
    """Moodle's statistics of one item (slot), stored values and display values side by side."""

    item_id: str
    s: int
    max_mark: float
    mark_mean: float | None
    facility: float | None
    facility_pct: float | None
    facility_band: str | None
    sd: float | None
    sd_pct: float | None
    random_guess_score: float | None
    random_guess_reason: str | None
    intended_weight_pct: float | None
    effective_weight_pct: float | None
    effective_weight_reason: str | None
    negative_covariance: bool
    mark_variance: float | None
    other_mark_variance: float | None
    covariance: float | None
    covariance_max: float | None
    covariance_with_total: float | None
    discrimination_index: float | None
    discrimination_reason: str | None
    discriminative_efficiency: float | None
    efficiency_reason: str | None
    is_dubious: bool
    needs_checking: str | None
    blank_pct: float | None
    flags: tuple[str, ...]


@dataclass(frozen=True)
class QuizStats:
    r"""Moodle's test-level statistics (``quiz_statistics\calculator::calculate``)."""

    s: int
    p: int
    sum_max: float
    average: float | None
    average_pct: float | None
    median: float | None
    median_pct: float | None
    sd: float | None
    sd_pct: float | None
    skewness: float | None
    kurtosis: float | None
    sum_item_variances: float | None
    cic: float | None
    error_ratio: float | None
    standard_error: float | None
    standard_error_pct: float | None
    cic_reason: str | None
    blank_test_share: float | None


@dataclass(frozen=True)
class ItemAnalysis:
    """The item table and test statistics of one bank version and phase.

    ``inference_display``: ``show`` (s ≥ 20), ``small_n`` (10–19: grey, "n nhỏ") or ``hidden``
    (s < 10) for DI, DE and CIC (§3.5.4); the values are always computed.
    """

    bank_id: str | None
    bank_version: str | None
    phase: str | None
    test: QuizStats
    items: list[ItemStats]
    inference_display: str
    guidance: dict[str, Line] = field(default_factory=dict)


@dataclass(frozen=True)
class PrePostItemRow:
    """Table I2 (§3.6): one item before and after."""

    item_id: str
    topic: str | None
    key: tuple[str, ...]
    facility_pre_pct: float | None
    facility_post_pct: float | None
    delta_pp: float | None
    item_gain: float | None
    blank_pre_pct: float | None
    blank_post_pct: float | None
    discrimination_index_post: float | None
    discriminative_efficiency_post: float | None
    mcnemar_b: int | None
    mcnemar_c: int | None
    mcnemar_p: float | None
    flags: tuple[str, ...]


@dataclass(frozen=True)
class PrePostComparison:
    """Table I2, or why there is none (pre and post from different bank versions)."""

    rows: list[PrePostItemRow]
    reason: str | None


@dataclass(frozen=True)
class OptionRow:
    """One option of table I3 (Moodle's "Analysis of responses", §3.6)."""

    option: str
    is_key: bool
    n_pre: int
    pct_pre: float | None
    n_post: int
    pct_post: float | None
    mean_rest_pct_pre: float | None
    mean_rest_pct_post: float | None
    flags: tuple[str, ...]


@dataclass(frozen=True)
class DistractorTable:
    """Table I3 for one item: options with counts and % of takers, pre and post.

    Percentages are of the phase's takers (blanks included in the denominator, so a row
    ``blank`` completes 100 % for a single-answer item; a multi-answer taker may pick several
    options, so those rows add up to more).
    """

    item_id: str
    qtype: str
    n_pre: int
    n_post: int
    n_blank_pre: int
    n_blank_post: int
    blank_pct_pre: float | None
    blank_pct_post: float | None
    options: list[OptionRow]
    flags: tuple[str, ...]


# --------------------------------------------------------------------------- guidance

#: The interpretation guidance printed with the tables (§3.5.4), by statistic.
GUIDANCE: dict[str, Line] = {
    "average": Line(
        "average",
        "Trung bình: 50–75 % với một đề có khả năng phân loại.",
        "Average: 50–75 % for a discriminating test.",
    ),
    "sd": Line(
        "sd",
        "Độ lệch chuẩn: 12–18 %; nhỏ hơn = điểm dồn cục.",
        "SD: 12–18 %; smaller means scores are bunched.",
    ),
    "skewness": Line(
        "skewness",
        "Độ lệch: nên khoảng −1,0. Rất âm → phân loại kém ở nhóm khá; > +1 → phân loại kém "
        "quanh ngưỡng đạt/không đạt.",
        "Skewness: aim about −1.0. Very negative → weak discrimination among the better than "
        "average; > +1 → weak discrimination near the pass/fail border.",
    ),
    "kurtosis": Line(
        "kurtosis",
        "Độ nhọn: nên 0–1. > 1 → phân loại kém ở hai đầu.",
        "Kurtosis: aim 0–1. > 1 → poor discrimination at the extremes.",
    ),
    "cic": Line(
        "cic",
        "Hệ số nhất quán nội tại (CIC): ≈ 90 % là trần thực tế; > 75 % đạt; < 64 % không đạt.",
        "CIC: ≈ 90 % is the practical ceiling; > 75 % satisfactory; < 64 % unsatisfactory.",
    ),
    "facility": Line(
        "facility",
        "Độ dễ (%): ≤ 5 cực khó hoặc có lỗi; 6–10 rất khó; 11–20 khó; 20–34 khá khó; 35–64 vừa "
        "sức; 66–80 khá dễ; 81–89 dễ; 90–94 rất dễ; 95–100 cực dễ.",
        "Facility (%): ≤ 5 extremely difficult or something wrong; 6–10 very difficult; 11–20 "
        "difficult; 20–34 moderately difficult; 35–64 about right; 66–80 fairly easy; 81–89 "
        "easy; 90–94 very easy; 95–100 extremely easy.",
    ),
    "item_sd": Line(
        "item_sd",
        "SD của câu < ≈ 33 % điểm tối đa của câu: thường không đạt.",
        "Item SD under ≈ 33 % of the item maximum is generally unsatisfactory.",
    ),
    "rgs": Line(
        "rgs",
        "Điểm đoán ngẫu nhiên > 40 %: không đạt (hạn chế câu đúng/sai).",
        "Random guess score > 40 % is unsatisfactory (use true/false sparingly).",
    ),
    "weights": Line(
        "weights",
        "Trọng số hiệu dụng > dự kiến: câu chi phối độ phân tán điểm nhiều hơn dự kiến; "
        "< : ít hơn.",
        "Effective weight > intended: the item drives more of the score spread than intended; "
        "<: less.",
    ),
    "de": Line(
        "de",
        "Hiệu suất phân loại < 15 %: câu đáng ngờ, cần xem lại.",
        "Discriminative efficiency < 15 %: dubious, review the item.",
    ),
    "di": Line(
        "di",
        "Chỉ số phân loại < 30: rất cần xem lại; 30–50: nên xem lại.",
        "Discrimination index < 30: needs checking (very likely); 30–50: likely.",
    ),
    "mastery_caveat": Line(
        "mastery_caveat",
        "Bài sau khóa học hướng tới thành thạo: độ dễ cao và điểm dồn cục là mục tiêu, nên DI, "
        "DE và CIC bị kéo thấp (hiệu ứng trần). Xem phân tích câu của bài trước khóa học, gộp "
        "các lớp, và cần ≥ 20 lượt làm bài.",
        "Post-tests are mastery-oriented: high facility and bunched scores are the goal, so DI, "
        "DE and CIC are mechanically depressed (ceiling effect). Read the pre-test analysis, "
        "pool sessions, and require ≥ 20 attempts.",
    ),
    "one_attempt": Line(
        "one_attempt",
        "Các thống kê này dành cho bài kiểm tra tổng kết, mỗi học viên làm một lần.",
        "These statistics are designed for summative tests where students have one attempt.",
    ),
}

#: Facility bands (§3.5.4) as (code, upper bound inclusive, vi, en). The guide leaves gaps
#: (34–35, 64–66, 80–81, 89–90); each gap goes to the band above its lower edge's band.
FACILITY_BANDS: tuple[tuple[str, float, str, str], ...] = (
    ("extremely_difficult", 5, "cực khó hoặc có lỗi", "extremely difficult or something wrong"),
    ("very_difficult", 10, "rất khó", "very difficult"),
    ("difficult", 20, "khó", "difficult"),
    ("moderately_difficult", 35, "khá khó", "moderately difficult"),
    ("about_right", 65, "vừa sức", "about right for the average student"),
    ("fairly_easy", 80, "khá dễ", "fairly easy"),
    ("easy", 90, "dễ", "easy"),
    ("very_easy", 95, "rất dễ", "very easy"),
    ("extremely_easy", math.inf, "cực dễ", "extremely easy"),
)


def facility_band(facility_pct: float | None) -> str | None:
    """The §3.5.4 band of a facility in percent.

    Bounds are upper-inclusive up to 35 % and upper-exclusive from there, so that the guide's
    gaps close without overlap: ≤ 5, ≤ 10, ≤ 20, < 35, ≤ 65, ≤ 80, < 90, < 95, ≥ 95.

    :param facility_pct: facility × 100.
    :return: the band code (see :data:`FACILITY_BANDS`), None for None.
    """
    if facility_pct is None:
        return None
    f = facility_pct
    if f <= 5:
        return "extremely_difficult"
    if f <= 10:
        return "very_difficult"
    if f <= 20:
        return "difficult"
    if f < 35:
        return "moderately_difficult"
    if f <= 65:
        return "about_right"
    if f <= 80:
        return "fairly_easy"
    if f < 90:
        return "easy"
    return "very_easy" if f < 95 else "extremely_easy"


def needs_checking(discrimination_index: float | None) -> str | None:
    """The qbank "Needs checking?": ``very_likely`` (DI < 30), ``likely`` (< 50), ``unlikely``.

    :param discrimination_index: DI as Moodle stores it (× 100).
    :return: the code, None when DI is None.
    """
    if discrimination_index is None:
        return None
    if discrimination_index < NEEDS_CHECKING_DI[0]:
        return "very_likely"
    return "likely" if discrimination_index < NEEDS_CHECKING_DI[1] else "unlikely"


def inference_display(s: int) -> str:
    """Whether DI, DE and CIC are shown (``show``), greyed (``small_n``) or ``hidden`` (§3.5.4).

    :param s: attempts included.
    :return: the display code.
    """
    if s >= MIN_ATTEMPTS_SHOW:
        return "show"
    return "small_n" if s >= MIN_ATTEMPTS_GREYED else "hidden"


def random_guess_score(
    qtype: str, n_options: int | None = None, answer_fractions: Sequence[float] | None = None
) -> tuple[float | None, str | None]:
    """Moodle's ``get_random_guess_score()`` for our question types (0..1).

    Single answer: Σ(answer fractions)/#answers, i.e. 1/m with one correct option of m.
    True/false: 0.5. Multi-answer: None, as in Moodle ("pretty much impossible to compute").
    Anything else: 0, the base class default; also 0 for a single-answer item whose number of
    options is unknown (Moodle always knows it; we report it as ``unknown_options``).

    :param qtype: ``single``, ``tf``, ``multi`` or another type.
    :param n_options: options of a single-answer item.
    :param answer_fractions: per-option fractions when partial credit is configured.
    :return: ``(score, reason)``.
    """
    if qtype == "multi":
        return None, "multi_answer"
    if qtype == "tf":
        return 0.5, None
    if qtype == "single":
        if answer_fractions:
            return float(sum(answer_fractions)) / len(answer_fractions), None
        if n_options:
            return 1.0 / n_options, None
        return None, "unknown_options"
    return 0.0, None


# --------------------------------------------------------------------------- computation


def item_statistics(
    marks: Sequence[Sequence[float | None]] | np.ndarray,
    max_marks: Sequence[float],
    totals: Sequence[float] | None = None,
    *,
    item_ids: Sequence[str] | None = None,
    specs: Sequence[ItemSpec] | None = None,
    blanks: Sequence[Sequence[bool]] | np.ndarray | None = None,
) -> list[ItemStats]:
    """Per-item statistics of Moodle's quiz report (§3.5.2), one per column of ``marks``.

    An attempt without an item (None/NaN) is left out of that item's statistics, as Moodle
    counts ``s`` per item. R_a = T_a − x_a is the mark on the rest of the test; Cmax pairs the
    k-th smallest item mark with the k-th smallest rest mark (both lists sorted independently,
    Moodle's ``sort()`` + ``array_shift``). Effective weight: 100·√CT_i / Σ_{CT_j ≥ 0} √CT_j,
    None for items with negative covariance with the total (Moodle's "negcovar").

    :param marks: s × p marks (attempts × items).
    :param max_marks: M_i per item.
    :param totals: T_a per attempt (Moodle's ``sumgrades``); default the row sums.
    :param item_ids: names of the columns; default ``"1"``, ``"2"``, … (Moodle's slots).
    :param specs: the items' keys, for the random-guess score; none → RGS None.
    :param blanks: s × p booleans (item left blank), for the blank rate.
    :return: the statistics in column order.
    """
    x = np.asarray(marks, dtype=float)
    if x.ndim != 2:
        raise ValueError("marks must be an attempts × items matrix")
    p = x.shape[1]
    m = np.asarray(max_marks, dtype=float)
    t = np.nansum(x, axis=1) if totals is None else np.asarray(totals, dtype=float)
    ids = list(item_ids) if item_ids is not None else [str(i + 1) for i in range(p)]
    sum_max = float(m.sum())
    blank = None if blanks is None else np.asarray(blanks, dtype=bool)

    partial = []
    for i in range(p):
        present = ~np.isnan(x[:, i])
        xi, ti = x[present, i], t[present]
        s = int(xi.size)
        ri = ti - xi
        entry: dict[str, Any] = {"s": s, "mean": float(xi.mean()) if s else None}
        if s > 1:
            dx, dr, dt = xi - xi.mean(), ri - ri.mean(), ti - ti.mean()
            entry["var"] = float(dx @ dx) / (s - 1)
            entry["rvar"] = float(dr @ dr) / (s - 1)
            entry["cov"] = float(dx @ dr) / (s - 1)
            entry["ct"] = float(dx @ dt) / (s - 1)
            entry["cmax"] = float((np.sort(xi) - xi.mean()) @ (np.sort(ri) - ri.mean())) / (s - 1)
        partial.append(entry)

    roots = [math.sqrt(e["ct"]) for e in partial if e.get("ct") is not None and e["ct"] >= 0]
    sum_roots = float(sum(roots))

    result = []
    for i, e in enumerate(partial):
        spec = specs[i] if specs is not None else None
        mi = float(m[i])
        s, mean = e["s"], e["mean"]
        facility = mean / mi if (mean is not None and mi) else None
        var, rvar, cov = e.get("var"), e.get("rvar"), e.get("cov")
        ct, cmax = e.get("ct"), e.get("cmax")
        sd = math.sqrt(var) if var is not None else None
        di = de = ew = None
        di_reason = de_reason = ew_reason = "one_attempt" if s <= 1 else None
        negcovar = ct is not None and ct < 0
        if s > 1:
            if var * rvar > 0:
                di = 100 * cov / math.sqrt(var * rvar)
            else:
                di_reason = "zero_variance"
            if cmax:
                de = 100 * cov / cmax
            else:
                de_reason = "zero_covariance_max"
            if negcovar:
                ew_reason = "negative_covariance"
            elif sum_roots == 0:
                ew_reason = "zero_sum_of_roots"
            else:
                ew = 100 * math.sqrt(ct) / sum_roots
        rgs, rgs_reason = (None, "no_key")
        if spec is not None:
            rgs, rgs_reason = random_guess_score(spec.qtype, spec.n_options, spec.answer_fractions)
        sd_pct = 100 * sd / mi if (sd is not None and mi) else None
        band = facility_band(None if facility is None else 100 * facility)
        check = needs_checking(di)
        dubious = de is not None and de < DUBIOUS_DE
        flags = []
        if dubious:
            flags.append("dubious")
        if check in ("very_likely", "likely"):
            flags.append(f"needs_checking_{check}")
        if negcovar:
            flags.append("negative_covariance")
        if sd_pct is not None and sd_pct < LOW_SD_PCT:
            flags.append("low_sd")
        if rgs is not None and 100 * rgs > HIGH_RGS_PCT:
            flags.append("high_random_guess")
        if band in ("extremely_difficult", "extremely_easy"):
            flags.append(band)
        blank_pct = None
        if blank is not None and blank.shape[0]:
            blank_pct = 100.0 * float(blank[:, i].mean())
        result.append(
            ItemStats(
                item_id=ids[i],
                s=s,
                max_mark=mi,
                mark_mean=mean,
                facility=facility,
                facility_pct=None if facility is None else 100 * facility,
                facility_band=band,
                sd=sd,
                sd_pct=sd_pct,
                random_guess_score=rgs,
                random_guess_reason=rgs_reason,
                intended_weight_pct=100 * mi / sum_max if sum_max else None,
                effective_weight_pct=ew,
                effective_weight_reason=ew_reason,
                negative_covariance=negcovar,
                mark_variance=var,
                other_mark_variance=rvar,
                covariance=cov,
                covariance_max=cmax,
                covariance_with_total=ct,
                discrimination_index=di,
                discrimination_reason=di_reason,
                discriminative_efficiency=de,
                efficiency_reason=de_reason,
                is_dubious=dubious,
                needs_checking=check,
                blank_pct=blank_pct,
                flags=tuple(flags),
            )
        )
    return result


def quiz_statistics(
    marks: Sequence[Sequence[float | None]] | np.ndarray,
    max_marks: Sequence[float],
    totals: Sequence[float] | None = None,
    *,
    blanks: Sequence[Sequence[bool]] | np.ndarray | None = None,
    blank_share: float = 0.2,
) -> QuizStats:
    """Test-level statistics of Moodle's quiz report (§3.5.3).

    power_k = Σ (T_a − T̄)^k, m_k = power_k/s, k2 = s·m2/(s − 1) (the sample variance),
    k3 = s²·m3/((s − 1)(s − 2)), k4 = s²·((s + 1)·m4 − 3(s − 1)·m2²)/((s − 1)(s − 2)(s − 3));
    skewness = k3/k2^{3/2} (s > 2), kurtosis = k4/k2² (s > 3), both needing k2 ≠ 0.
    CIC = 100·p/(p − 1)·(1 − ΣV_i/k2) with the items' sample variances (p > 1, s > 2, k2 ≠ 0),
    ER = 100·√(1 − CIC/100), SE = ER·SD/100. Median: Moodle's (mean of the two middle values
    when s is even).

    :param marks: s × p marks (None/NaN where an attempt lacks an item).
    :param max_marks: M_i per item (their sum is the test's ``sumgrades`` for the % values).
    :param totals: T_a; default the row sums.
    :param blanks: s × p booleans, to count attempts with too many blanks (§3.10).
    :param blank_share: share of blank items above which an attempt counts as mostly blank.
    :return: the statistics.
    """
    x = np.asarray(marks, dtype=float)
    s, p = x.shape
    t = np.nansum(x, axis=1) if totals is None else np.asarray(totals, dtype=float)
    sum_max = float(np.sum(max_marks))
    pct = lambda v: None if v is None or not sum_max else 100 * v / sum_max  # noqa: E731
    out: dict[str, Any] = dict.fromkeys(QuizStats.__dataclass_fields__)
    out.update(s=s, p=p, sum_max=sum_max)
    if blanks is not None and s:
        b = np.asarray(blanks, dtype=bool)
        out["blank_test_share"] = float((b.mean(axis=1) > blank_share).mean())
    if s == 0:
        out["cic_reason"] = "too_few_attempts"
        return QuizStats(**out)
    average = float(t.mean())
    ordered = np.sort(t)
    median = float(ordered[s // 2]) if s % 2 else float((ordered[s // 2 - 1] + ordered[s // 2]) / 2)
    out.update(average=average, average_pct=pct(average), median=median, median_pct=pct(median))
    if s > 1:
        dev = t - average
        m2, m3, m4 = (float(np.sum(dev**k)) / s for k in (2, 3, 4))
        k2 = s * m2 / (s - 1)
        sd = math.sqrt(k2)
        out.update(sd=sd, sd_pct=pct(sd))
        if s > 2 and k2 != 0:
            k3 = s * s * m3 / ((s - 1) * (s - 2))
            out["skewness"] = k3 / k2**1.5
        if s > 3 and k2 != 0:
            k4 = s * s * ((s + 1) * m4 - 3 * (s - 1) * m2 * m2) / ((s - 1) * (s - 2) * (s - 3))
            out["kurtosis"] = k4 / (k2 * k2)
        variances = []
        for i in range(p):
            col = x[~np.isnan(x[:, i]), i]
            if col.size > 1:
                variances.append(float(col.var(ddof=1)))
        out["sum_item_variances"] = float(sum(variances))
        if p <= 1:
            out["cic_reason"] = "one_item"
        elif s <= 2:
            out["cic_reason"] = "too_few_attempts"
        elif k2 == 0:
            out["cic_reason"] = "zero_variance"
        else:
            cic = (100 * p / (p - 1)) * (1 - out["sum_item_variances"] / k2)
            error_ratio = 100 * math.sqrt(1 - cic / 100)
            se = error_ratio * sd / 100
            out.update(cic=cic, error_ratio=error_ratio, standard_error=se)
            out["standard_error_pct"] = pct(se)
    else:
        out["cic_reason"] = "too_few_attempts"
    return QuizStats(**out)


def analyse_items(
    marks: Sequence[Sequence[float | None]] | np.ndarray,
    items: Sequence[ItemSpec],
    totals: Sequence[float] | None = None,
    *,
    blanks: Sequence[Sequence[bool]] | np.ndarray | None = None,
    bank_id: str | None = None,
    bank_version: str | None = None,
    phase: str | None = None,
) -> ItemAnalysis:
    """Item analysis of one bank version and phase: items, test statistics and guidance.

    Dropped items (``status = dropped`` after review) are removed from the matrix and from the
    maximum before anything is computed; when they are, the totals are recomputed as row sums
    of the active items (the attempts were re-scored, §3.10), so ``totals`` is ignored.
    The caller passes first attempts only (§3.1), pooled across sessions of the bank version.

    :param marks: s × p marks, columns in the order of ``items``.
    :param items: the items' keys (dropped ones included, they are skipped).
    :param totals: T_a per attempt; default the row sums.
    :param blanks: s × p blank booleans.
    :param bank_id: the bank, carried into the result for §3.6 pairing.
    :param bank_version: the bank version.
    :param phase: ``pre`` or ``post``.
    :return: the analysis; the mastery caveat is added to the guidance for post-tests.
    """
    x = np.asarray(marks, dtype=float)
    if x.ndim != 2 or x.shape[1] != len(items):
        raise ValueError("marks must have one column per item")
    keep = [i for i, item in enumerate(items) if not item.dropped]
    active = [items[i] for i in keep]
    b = None if blanks is None else np.asarray(blanks, dtype=bool)[:, keep]
    if len(keep) != len(items):
        x, totals = x[:, keep], None
    max_marks = [item.max_mark for item in active]
    stats_items = item_statistics(
        x, max_marks, totals, item_ids=[i.item_id for i in active], specs=active, blanks=b
    )
    test = quiz_statistics(x, max_marks, totals, blanks=b)
    guidance = dict(GUIDANCE)
    if phase != "post":
        guidance.pop("mastery_caveat")
    return ItemAnalysis(
        bank_id=bank_id,
        bank_version=bank_version,
        phase=phase,
        test=test,
        items=stats_items,
        inference_display=inference_display(test.s),
        guidance=guidance,
    )


# --------------------------------------------------------------------------- §3.6


def compare_pre_post(
    pre: ItemAnalysis,
    post: ItemAnalysis,
    *,
    items: Sequence[ItemSpec] = (),
    matched: Mapping[str, Sequence[tuple[bool, bool]]] | None = None,
) -> PrePostComparison:
    """Table I2 (§3.6): facility pre and post per item, Δ, item gain, blanks, post DI/DE.

    Item gain = (F_post − F_pre)/(100 − F_pre), None when F_pre = 100. Flags: ``got_worse``
    (Δ < 0), ``not_learned`` (F_post < 50 %), ``already_known`` (F_pre ≥ 90 %). The optional
    McNemar test uses ``matched[item]``, the (correct pre, correct post) of each matched
    trainee. Items are paired by id only when both analyses are of the same bank and version.

    :param pre: the pre-test analysis.
    :param post: the post-test analysis.
    :param items: the keys, for topic and key columns.
    :param matched: per item, (correct before, correct after) of the matched trainees.
    :return: the rows, or none with ``different_bank_versions``.
    """
    if (pre.bank_id, pre.bank_version) != (post.bank_id, post.bank_version):
        return PrePostComparison(rows=[], reason="different_bank_versions")
    by_id = {i.item_id: i for i in items}
    post_items = {i.item_id: i for i in post.items}
    rows = []
    for before in pre.items:
        after = post_items.get(before.item_id)
        if after is None:
            continue
        f_pre, f_post = before.facility_pct, after.facility_pct
        delta = gain = None
        if f_pre is not None and f_post is not None:
            delta = f_post - f_pre
            gain = delta / (100 - f_pre) if f_pre < 100 else None
        flags = []
        if delta is not None and delta < 0:
            flags.append("got_worse")
        if f_post is not None and f_post < NOT_LEARNED_PCT:
            flags.append("not_learned")
        if f_pre is not None and f_pre >= ALREADY_KNOWN_PCT:
            flags.append("already_known")
        b = c = p = None
        if matched is not None and before.item_id in matched:
            pairs = matched[before.item_id]
            b = sum(1 for was, now in pairs if not was and now)
            c = sum(1 for was, now in pairs if was and not now)
            p = mcnemar_exact(b, c).p_value
        spec = by_id.get(before.item_id)
        rows.append(
            PrePostItemRow(
                item_id=before.item_id,
                topic=spec.topic if spec else None,
                key=spec.key if spec else (),
                facility_pre_pct=f_pre,
                facility_post_pct=f_post,
                delta_pp=delta,
                item_gain=gain,
                blank_pre_pct=before.blank_pct,
                blank_post_pct=after.blank_pct,
                discrimination_index_post=after.discrimination_index,
                discriminative_efficiency_post=after.discriminative_efficiency,
                mcnemar_b=b,
                mcnemar_c=c,
                mcnemar_p=p,
                flags=tuple(flags),
            )
        )
    return PrePostComparison(rows=rows, reason=None)


def rest_score_pct(
    marks: Sequence[Sequence[float]] | np.ndarray,
    max_marks: Sequence[float],
    totals: Sequence[float] | None = None,
) -> np.ndarray:
    """Each attempt's % on the rest of the test, per item: 100·(T_a − x_ai)/(ΣM − M_i).

    :param marks: s × p marks.
    :param max_marks: M_i.
    :param totals: T_a; default the row sums.
    :return: s × p array (NaN where the rest of the test is worth 0).
    """
    x = np.asarray(marks, dtype=float)
    m = np.asarray(max_marks, dtype=float)
    t = np.nansum(x, axis=1) if totals is None else np.asarray(totals, dtype=float)
    rest_max = m.sum() - m
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(rest_max > 0, 100 * (t[:, None] - x) / rest_max, np.nan)


def distractor_table(
    item: ItemSpec,
    options: Sequence[str],
    pre_responses: Sequence[Any] = (),
    pre_rest_pct: Sequence[float] = (),
    post_responses: Sequence[Any] = (),
    post_rest_pct: Sequence[float] = (),
) -> DistractorTable:
    """Table I3 (§3.6) for one item: who chose each option, before and after.

    A response is the option name, a list of names (or a space-separated string, ODK's
    ``select_multiple``) for a multi-answer item, or None/"" for a blank. Responses naming an
    option not in ``options`` are counted under their own name after the listed options.
    ``mean_rest_pct``: the mean rest-score % (:func:`rest_score_pct`) of the takers who chose
    the option. Heuristic flags (not Moodle's): ``non_functioning`` (a distractor chosen by
    < 5 % of pre-test takers) and ``possible_miskey`` (a distractor whose choosers have a higher
    mean rest-score than the key's choosers, pre-test, else post-test); the item gets
    ``possible_miskey`` too.

    :param item: the item's key.
    :param options: the option names in form order.
    :param pre_responses: one response per pre-test taker.
    :param pre_rest_pct: their rest-score %, aligned.
    :param post_responses: one response per post-test taker.
    :param post_rest_pct: their rest-score %, aligned.
    :return: the table.
    """
    pre = _tally(pre_responses, pre_rest_pct)
    post = _tally(post_responses, post_rest_pct)
    names = list(options) + sorted((set(pre[0]) | set(post[0])) - set(options))
    key = set(item.key)

    def key_rest(tally: tuple) -> float | None:
        values = [v for name in key for v in tally[1].get(name, [])]
        return float(np.mean(values)) if values else None

    use = pre if pre[2] else post
    key_mean = key_rest(use)
    rows, item_flags = [], []
    for name in names:
        n_pre, n_post = pre[0].get(name, 0), post[0].get(name, 0)
        rest_pre, rest_post = pre[1].get(name, []), post[1].get(name, [])
        flags = []
        is_key = name in key
        if not is_key:
            if pre[2] and 100 * n_pre / pre[2] < NON_FUNCTIONING_PCT:
                flags.append("non_functioning")
            chosen = use[1].get(name, [])
            if chosen and key_mean is not None and float(np.mean(chosen)) > key_mean:
                flags.append("possible_miskey")
                if "possible_miskey" not in item_flags:
                    item_flags.append("possible_miskey")
        rows.append(
            OptionRow(
                option=name,
                is_key=is_key,
                n_pre=n_pre,
                pct_pre=100 * n_pre / pre[2] if pre[2] else None,
                n_post=n_post,
                pct_post=100 * n_post / post[2] if post[2] else None,
                mean_rest_pct_pre=float(np.mean(rest_pre)) if rest_pre else None,
                mean_rest_pct_post=float(np.mean(rest_post)) if rest_post else None,
                flags=tuple(flags),
            )
        )
    return DistractorTable(
        item_id=item.item_id,
        qtype=item.qtype,
        n_pre=pre[2],
        n_post=post[2],
        n_blank_pre=pre[3],
        n_blank_post=post[3],
        blank_pct_pre=100 * pre[3] / pre[2] if pre[2] else None,
        blank_pct_post=100 * post[3] / post[2] if post[2] else None,
        options=rows,
        flags=tuple(item_flags),
    )


def _tally(
    responses: Sequence[Any], rest: Sequence[float]
) -> tuple[dict[str, int], dict[str, list[float]], int, int]:
    """Counts per option, rest scores per option, takers, blanks."""
    if rest and len(rest) != len(responses):
        raise ValueError("rest scores must align with responses")
    counts: dict[str, int] = {}
    rests: dict[str, list[float]] = {}
    blanks = 0
    for index, response in enumerate(responses):
        chosen = _chosen(response)
        if not chosen:
            blanks += 1
            continue
        for name in chosen:
            counts[name] = counts.get(name, 0) + 1
            if rest and not math.isnan(rest[index]):
                rests.setdefault(name, []).append(float(rest[index]))
    return counts, rests, len(responses), blanks


def _chosen(response: Any) -> list[str]:
    if response is None:
        return []
    if isinstance(response, list | tuple | set):
        return list(dict.fromkeys(str(r) for r in response if r not in (None, "")))
    return list(dict.fromkeys(str(response).split()))
