"""Charts of the trainers' evaluation report (reports spec §3): plain data in, SVG out.

The same rules as :mod:`exports.charts` (black-and-white print, Vietnamese numbers,
deterministic and CSP-safe SVG, a ``<title>`` and a ``<desc>`` listing the values), and its
drawing helpers. One function per chart:

* :func:`score_histograms`: pre- and post-test scores in 10-point bins (§3.2);
* :func:`pre_post_scatter`: each matched trainee's pre vs post score, the no-change diagonal;
* :func:`topic_pre_post`: mean pre and post % per topic (§3.4);
* :func:`difficulty_discrimination`: chart E1, facility bars and the DI line (§3.6);
* :func:`likert_diverging`: chart S1, agreement per item, diverging at neutral (§3.7.3);
* :func:`course_intervals`: chart S2 and the programme's per-course values with CIs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from exports.charts import (
    HATCHES,
    PALETTE,
    RankedValue,
    Svg,
    _drawing,
    _figure,
    _legend_below,
    _number_axis,
    _percent_axis,
    _render,
    _texts,
    diverging_bars,
    grouped_bars,
    ranked_bars_ci,
    vi_number,
    vi_percent,
)

__all__ = [
    "CourseValue",
    "ItemPoint",
    "LikertRow",
    "PrePostPoint",
    "course_intervals",
    "difficulty_discrimination",
    "likert_diverging",
    "pre_post_scatter",
    "score_histograms",
    "topic_pre_post",
]

_WORDS = {
    "vi": {
        "pre": "Trước khóa",
        "post": "Sau khóa",
        "trainees": "Số học viên",
        "score": "Điểm (% tối đa)",
        "pass": "Điểm đạt",
        "same": "Không đổi",
        "facility": "Độ dễ %",
        "di": "Chỉ số phân loại (DI)",
        "items": "Câu hỏi (xếp theo độ dễ)",
        "scale": ("Rất không đồng ý", "Không đồng ý", "Bình thường", "Đồng ý", "Rất đồng ý"),
    },
    "en": {
        "pre": "Pre-test",
        "post": "Post-test",
        "trainees": "Trainees",
        "score": "Score (% of maximum)",
        "pass": "Pass mark",
        "same": "No change",
        "facility": "Facility %",
        "di": "Discrimination index (DI)",
        "items": "Items (by facility)",
        "scale": ("Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"),
    },
}


@dataclass(frozen=True)
class PrePostPoint:
    """One matched trainee: pre and post % (the label is never drawn: no names on charts)."""

    label: str
    pre: float
    post: float


@dataclass(frozen=True)
class ItemPoint:
    """One item of chart E1: facility % and Moodle's discrimination index (None: not shown)."""

    label: str
    facility_pct: float | None
    discrimination: float | None


@dataclass(frozen=True)
class LikertRow:
    """One Likert item: shares of answers 1..5 (each 0..1) among its n answers."""

    label: str
    shares: tuple[float, float, float, float, float]
    n: int


@dataclass(frozen=True)
class CourseValue:
    """A course's value (a mean gain, a top-2-box %) with its confidence interval."""

    label: str
    value: float | None
    low: float | None
    high: float | None


def _words(lang: str) -> dict:
    _texts(lang)  # the same language check as every chart
    return _WORDS[lang]


def _bins(values: Sequence[float]) -> list[int]:
    """Counts in [0,10), [10,20) … [90,100]: 100 % goes in the last bin."""
    counts = [0] * 10
    for v in values:
        counts[min(int(max(v, 0) // 10), 9)] += 1
    return counts


@_drawing
def score_histograms(
    pre: Sequence[float],
    post: Sequence[float],
    *,
    title: str,
    lang: str = "vi",
    pass_mark: float | None = None,
) -> Svg:
    """Pre- and post-test % scores in 10-point bins, side by side, with the pass mark.

    :raises ValueError: when both lists are empty (the caller draws nothing).
    """
    words = _words(lang)
    if not pre and not post:
        raise ValueError("no scores to draw")
    fig, ax = _figure(2.8)
    series = [(words["pre"], _bins(pre), 0), (words["post"], _bins(post), 1)]
    series = [s for s, values in zip(series, (pre, post), strict=True) if values]
    width = 8.0 / len(series)
    for k, (name, counts, style) in enumerate(series):
        xs = [10 * b + 1 + width * k + width / 2 for b in range(10)]
        ax.bar(xs, counts, width=width * 0.95, label=name, color=PALETTE[style * 2],
               hatch=HATCHES[style], edgecolor="#000000", linewidth=0.5)  # fmt: skip
        for x, c in zip(xs, counts, strict=True):
            if c:
                ax.text(x, c, vi_number(c), ha="center", va="bottom", fontsize=7)
    if pass_mark is not None:
        ax.axvline(pass_mark, color="#000000", linestyle="--", linewidth=1)
        ax.text(pass_mark + 0.8, ax.get_ylim()[1] * 0.95,
                f"{words['pass']} {vi_percent(pass_mark, 0)}", fontsize=7.5, va="top")  # fmt: skip
    ax.set_xlim(0, 100)
    ax.set_xticks(range(0, 101, 10))
    ax.xaxis.set_major_formatter(_percent_axis())
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(words["score"])
    ax.set_ylabel(words["trainees"])
    _legend_below(ax, None, ncol=2)
    desc = "; ".join(
        f"{name}: " + ", ".join(f"{10 * b}–{10 * b + 10} %: {c}" for b, c in enumerate(counts))
        for name, counts, _ in series
    )
    return _render(fig, ax, title=title, desc=desc)


@_drawing
def pre_post_scatter(
    points: Sequence[PrePostPoint],
    *,
    title: str,
    lang: str = "vi",
    pass_mark: float | None = None,
) -> Svg:
    """Each matched trainee's pre % (x) against post % (y); above the diagonal = gained.

    Trainees with the same pair of scores share one marker sized by their number, so a class
    of forty with ten distinct results still shows everyone.
    """
    words = _words(lang)
    if not points:
        raise ValueError("no pairs to draw")
    fig, ax = _figure(3.0)
    counts: dict[tuple[float, float], int] = {}
    for p in points:
        counts[(p.pre, p.post)] = counts.get((p.pre, p.post), 0) + 1
    xs, ys, sizes = [], [], []
    for (x, y), c in sorted(counts.items()):
        xs.append(x)
        ys.append(y)
        sizes.append(22 + 18 * (c - 1))
    ax.plot([0, 100], [0, 100], color="#555555", linewidth=0.8, linestyle=":")
    ax.text(97, 93, words["same"], fontsize=7, ha="right", va="top", color="#555555")
    if pass_mark is not None:
        ax.axhline(pass_mark, color="#000000", linestyle="--", linewidth=0.8)
        ax.axvline(pass_mark, color="#000000", linestyle="--", linewidth=0.8)
        ax.text(1, pass_mark + 1, f"{words['pass']} {vi_percent(pass_mark, 0)}", fontsize=7)
    ax.scatter(xs, ys, s=sizes, facecolor=PALETTE[1], edgecolor="#000000", linewidth=0.6,
               alpha=0.85, zorder=3)  # fmt: skip
    for x, y, (_key, c) in zip(xs, ys, sorted(counts.items()), strict=True):
        if c > 1:
            ax.text(x, y, vi_number(c), ha="center", va="center", fontsize=6.5, zorder=4)
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.xaxis.set_major_formatter(_percent_axis())
    ax.yaxis.set_major_formatter(_percent_axis())
    ax.set_xlabel(words["pre"])
    ax.set_ylabel(words["post"])
    desc = "; ".join(
        f"{vi_percent(x, 0)} → {vi_percent(y, 0)}" + (f" ×{c}" if c > 1 else "")
        for (x, y), c in sorted(counts.items())
    )
    return _render(fig, ax, title=title, desc=desc)


def topic_pre_post(
    topics: Sequence[str],
    pre: Sequence[float | None],
    post: Sequence[float | None],
    *,
    title: str,
    lang: str = "vi",
) -> Svg:
    """Mean pre and post % per topic as grouped bars (a missing mean shows ``—``)."""
    words = _words(lang)
    if not topics:
        raise ValueError("no topics to draw")
    return grouped_bars(
        list(topics),
        {words["pre"]: list(pre), words["post"]: list(post)},
        title=title,
        lang=lang,
        axis_label=words["score"],
    )


@_drawing
def difficulty_discrimination(items: Sequence[ItemPoint], *, title: str, lang: str = "vi") -> Svg:
    """Chart E1: facility % bars sorted ascending and Moodle's DI as a line, DI 30/50 marked.

    DI runs from −100 to 100; the axis shows negatives only when an item has one.
    """
    words = _words(lang)
    if not items:
        raise ValueError("no items to draw")
    ordered = sorted(items, key=lambda i: (i.facility_pct is None, i.facility_pct or 0, i.label))
    xs = list(range(len(ordered)))
    fig, ax = _figure(3.2)
    ax.bar(xs, [i.facility_pct or 0 for i in ordered], width=0.7, color=PALETTE[3],
           edgecolor="#000000", linewidth=0.4, label=words["facility"])  # fmt: skip
    shown = [(x, i.discrimination) for x, i in zip(xs, ordered, strict=True)
             if i.discrimination is not None]  # fmt: skip
    handles = [Patch(facecolor=PALETTE[3], edgecolor="#000000", label=words["facility"])]
    low = min([0.0] + [d for _, d in shown])
    if shown:
        ax.plot([x for x, _ in shown], [d for _, d in shown], color="#000000", marker="o",
                markersize=3.5, linewidth=1, label=words["di"])  # fmt: skip
        handles.append(Line2D([], [], color="#000000", marker="o", markersize=3.5,
                              label=words["di"]))  # fmt: skip
    for level in (30, 50):
        ax.axhline(level, color="#777777", linewidth=0.6, linestyle=":")
        ax.text(len(ordered) - 0.4, level + 1, f"DI {level}", fontsize=6.5, ha="right",
                color="#555555")  # fmt: skip
    ax.axhline(0, color="#000000", linewidth=0.6)
    ax.set_xticks(xs, [i.label for i in ordered], rotation=90 if len(ordered) > 15 else 0,
                  fontsize=7 if len(ordered) > 30 else 8)  # fmt: skip
    ax.set_xlim(-0.7, len(ordered) - 0.3)
    ax.set_ylim(min(low * 1.1, 0) if low < 0 else 0, 105)
    ax.yaxis.set_major_formatter(_number_axis(0))
    ax.set_xlabel(words["items"])
    _legend_below(ax, handles, ncol=2)
    desc = "; ".join(
        f"{i.label}: {vi_percent(i.facility_pct, 0)}"
        + (f", DI {vi_number(i.discrimination, 1)}" if i.discrimination is not None else "")
        for i in ordered
    )
    return _render(fig, ax, title=title, desc=desc)


def likert_diverging(
    rows: Sequence[LikertRow],
    *,
    title: str,
    lang: str = "vi",
    scale_labels: tuple[str, ...] | None = None,
) -> Svg:
    """Chart S1: agreement per item, disagreement left of zero, neutral across it.

    Rows are sorted by top-2-box (answers 4 and 5), highest first; each label carries its n.
    """
    words = _words(lang)
    if not rows:
        raise ValueError("no items to draw")
    ordered = sorted(rows, key=lambda r: (-(r.shares[3] + r.shares[4]), r.label))
    return diverging_bars(
        [f"{r.label} (n = {vi_number(r.n)})" for r in ordered],
        list(scale_labels or words["scale"]),
        [[100 * s for s in r.shares] for r in ordered],
        title=title,
        lang=lang,
        negative=2,
        neutral=True,
    )


def course_intervals(
    points: Sequence[CourseValue],
    *,
    title: str,
    lang: str = "vi",
    percent: bool = True,
    reference: float | None = None,
    top: int = 30,
    axis_label: str = "",
) -> Svg:
    """Chart S2 and the programme's per-course chart: values ranked with CI whiskers.

    ``reference`` (e.g. the programme's mean) is written into the title; courses without a
    value are left out.
    """
    _words(lang)
    shown = [p for p in points if p.value is not None]
    if not shown:
        raise ValueError("no values to draw")
    if reference is not None:
        mark = vi_percent(reference, 1) if percent else vi_number(reference, 2)
        title = f"{title} ({'chung' if lang == 'vi' else 'overall'}: {mark})"
    return ranked_bars_ci(
        [RankedValue(p.label, p.value, p.low, p.high) for p in shown],
        title=title,
        lang=lang,
        top=top,
        decimals=1,
        axis_label=axis_label,
    )
