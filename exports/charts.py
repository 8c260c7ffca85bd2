"""Report charts as small, deterministic, self-contained SVG: plain data in, SVG text out.

One function per chart of the needs report (spec §2.4, N1–N9); the trainee report reuses them.
Nothing here knows Flask or the database: a service computes the numbers, a view puts the
returned :class:`Svg` into a page (Jinja inserts it as markup, it is already escaped) and the
same page becomes the PDF (``exports/pdf.py``).

The rules every chart keeps:

* **Black-and-white print**: series differ by hatching, markers and direct labels, never by
  colour alone; the palette also steps in lightness so a grey printer keeps it apart.
* **Vietnamese numbers** on axes and labels: ``92,3 %``, ``1.234``, ``4,50``.
* **Deterministic**: the same data gives byte-identical SVG (no date, fixed ``svg.hashsalt``,
  element ids named from the content), so tests compare output and pages cache well.
* **Safe inline**: every text, submission labels included, is XML-escaped by the serialiser;
  math parsing is off (``$`` in a label stays a dollar sign). The SVG carries no ``<style>``
  element and no ``style`` attribute (matplotlib's are turned into presentation attributes),
  so it can sit inline in a page under a CSP without ``'unsafe-inline'``.
* **Accessible**: ``role="img"``, a ``<title>`` and a ``<desc>`` that lists the values.

matplotlib draws (Agg-free: only its SVG backend, no pyplot and so no global figure state); a
lock serialises rendering because matplotlib's rc settings are process-wide.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import re
import textwrap
import threading
import xml.etree.ElementTree as ET  # serialising only; parsing goes through defusedxml
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib
from defusedxml.ElementTree import fromstring
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator

__all__ = [
    "Bar",
    "KpiBullet",
    "RankedValue",
    "ScatterPoint",
    "Svg",
    "diverging_bars",
    "grouped_bars",
    "heatmap",
    "importance_performance",
    "kpi_bullets",
    "ranked_bars_ci",
    "sorted_bars",
    "stacked_bars",
    "time_series",
    "vi_number",
    "vi_percent",
]

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)  # serialise <svg xmlns=…>, not <ns0:svg>
ET.register_namespace("xlink", XLINK_NS)

#: Dark to light, each step apart in lightness too (greyscale printers keep series apart).
PALETTE = ("#0b5d7a", "#9cc3d5", "#3b3b3b", "#d9d9d9", "#5f8f3e", "#e6b655")
#: One hatch per series, so colour is never the only difference.
HATCHES = ("", "///", "\\\\\\", "xxx", "---", "|||")  # lines only: dots bloat the SVG
STATUS_STYLE = {  # colour and hatch per KPI status (DHIS2-style traffic light)
    "green": ("#1b7a3a", ""),
    "amber": ("#d08c00", "\\\\\\"),
    "red": ("#a4161a", "xxx"),
}
WIDTH_IN = 7.2  # about the text width of an A4 portrait page

_TEXT = {
    "vi": {
        "target": "Mục tiêu",
        "target_2025": "Mục tiêu 2025",
        "target_2030": "Mục tiêu 2030",
        "expected": "Mức cần đạt hiện nay",
        "coverage": "Độ bao phủ",
        "green": "đạt",
        "amber": "chậm",
        "red": "không đạt",
        "importance": "Mức quan trọng (Ī)",
        "performance": "Mức thực hiện (P̄)",
        "diagonal": "Ī = P̄ (không có khoảng trống)",
        "median": "Trung vị",
        "gap": "Khoảng trống ≥ 1",
        "no_gap": "Khoảng trống < 1",
        "ci": "KTC 95 %",
        "suppressed": "— bị ẩn (n nhỏ)",
        "below_target": "Dưới mục tiêu",
        "at_target": "Đạt mục tiêu",
        "no_data": "không có dữ liệu",
    },
    "en": {
        "target": "Target",
        "target_2025": "Target 2025",
        "target_2030": "Target 2030",
        "expected": "Expected now",
        "coverage": "Coverage",
        "green": "on track",
        "amber": "behind",
        "red": "off track",
        "importance": "Importance (Ī)",
        "performance": "Performance (P̄)",
        "diagonal": "Ī = P̄ (no gap)",
        "median": "Median",
        "gap": "Gap ≥ 1",
        "no_gap": "Gap < 1",
        "ci": "95 % CI",
        "suppressed": "— suppressed (small n)",
        "below_target": "Below target",
        "at_target": "At target",
        "no_data": "no data",
    },
}

_RC = {
    "font.family": "sans-serif",
    # DejaVu Sans ships with matplotlib and covers every Vietnamese letter (tests check).
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 9,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#333333",
    "axes.labelcolor": "#1d2733",
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "text.color": "#1d2733",
    "text.parse_math": False,  # "$5" in a label is money, not TeX
    "text.usetex": False,
    "hatch.linewidth": 0.6,
    "hatch.color": "#000000",
    "legend.frameon": False,
    "legend.fontsize": 8,
    "svg.fonttype": "none",  # real <text>: small, searchable, readable by screen readers
    "svg.hashsalt": "taphuan",
    "svg.image_inline": True,
    "path.simplify": True,
}
_LOCK = threading.Lock()


def _drawing(chart):
    """Draw under the house rc settings; one chart at a time (matplotlib's rc is global)."""

    @functools.wraps(chart)
    def draw(*args, **kwargs):
        with _LOCK, matplotlib.rc_context(_RC):
            return chart(*args, **kwargs)

    return draw


class Svg(str):
    """SVG text that Jinja inserts as markup (``__html__``): every text in it is escaped."""

    __slots__ = ()

    def __html__(self) -> str:
        return str(self)


# --- inputs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiBullet:
    """One KPI row of the bullet chart (N1). Percentages are 0–100.

    ``status`` is ``"green"``, ``"amber"``, ``"red"`` or None (no data yet).
    """

    label: str
    value: float | None
    target: float
    expected: float | None = None
    target_2030: float | None = None
    status: str | None = None
    n: int | None = None


@dataclass(frozen=True)
class Bar:
    """One bar: a label, a value (None = suppressed or missing) and the n behind it."""

    label: str
    value: float | None
    n: int | None = None


@dataclass(frozen=True)
class ScatterPoint:
    """One competency on the importance–performance plot (N5): means on the rating scale."""

    label: str
    performance: float
    importance: float
    n: int | None = None


@dataclass(frozen=True)
class RankedValue:
    """A value with its confidence interval (N6), e.g. MWDS with its bootstrap 95 % CI."""

    label: str
    value: float
    low: float | None = None
    high: float | None = None
    n: int | None = None


# --- numbers the Vietnamese way ------------------------------------------------------------


def vi_number(value: float | None, decimals: int = 0) -> str:
    """A number with dot thousands and decimal comma: ``1.234``, ``4,50``.

    :param value: the number; None gives ``—``.
    :param decimals: digits after the comma.
    :return: the text.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def vi_percent(value: float | None, decimals: int = 1) -> str:
    """A percentage (0–100) the Vietnamese way: ``92,3 %``; None gives ``—``."""
    if value is None:
        return "—"
    return f"{vi_number(value, decimals)} %"


def _with_n(text: str, n: int | None) -> str:
    return text if n is None else f"{text} (n={vi_number(n)})"


def _percent_axis(decimals: int = 0) -> FuncFormatter:
    return FuncFormatter(lambda v, _pos: vi_percent(v, decimals))


def _number_axis(decimals: int) -> FuncFormatter:
    return FuncFormatter(lambda v, _pos: vi_number(v, decimals))


def _value_text(value: float | None, *, percent: bool, decimals: int) -> str:
    return vi_percent(value, decimals) if percent else vi_number(value, decimals)


def _wrap(label: str, width: int = 34) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


def _texts(lang: str) -> dict[str, str]:
    if lang not in _TEXT:
        raise ValueError(f"unknown language {lang!r}: use 'vi' or 'en'")
    return _TEXT[lang]


# --- the charts ----------------------------------------------------------------------------


@_drawing
def kpi_bullets(kpis: Sequence[KpiBullet], *, title: str, lang: str = "vi") -> Svg:
    """N1: one bullet row per KPI: bar = coverage, tick = expected now, band = targets.

    The bar's fill and hatch give the status (solid = on track, stripes = behind, crosses = off
    track) and the label at its end names it, so a grey print keeps the meaning.

    :param kpis: the rows, drawn top to bottom.
    :param title: the chart title, already in ``lang``.
    :param lang: ``"vi"`` or ``"en"`` for the chart's own words.
    :return: the SVG.
    """
    words = _texts(lang)
    fig, ax = _figure(max(1.8, 0.9 + 0.55 * len(kpis)))
    ys = list(range(len(kpis)))[::-1]
    for y, kpi in zip(ys, kpis, strict=True):
        ax.barh(y, 100, height=0.7, color="#f0f0f0", zorder=0)
        if kpi.target_2030 is not None:
            low, high = sorted((kpi.target, kpi.target_2030))
            ax.barh(y, high - low, left=low, height=0.7, color="#cfcfcf", zorder=1)
        ax.plot([kpi.target, kpi.target], [y - 0.35, y + 0.35], color="#000000", lw=2, zorder=4)
        if kpi.value is not None:
            colour, hatch = STATUS_STYLE.get(kpi.status or "", ("#555555", ""))
            ax.barh(
                y,
                kpi.value,
                height=0.3,
                color=colour,
                hatch=hatch,
                edgecolor="#000000",
                linewidth=0.6,
                zorder=3,
            )
        if kpi.expected is not None:
            ax.plot(
                [kpi.expected],
                [y],
                marker="|",
                markersize=16,
                markeredgewidth=2.5,
                color="#000000",
                zorder=5,
            )
        label = _with_n(vi_percent(kpi.value), kpi.n)
        if kpi.status in STATUS_STYLE:
            label += f" · {words[kpi.status]}"
        ax.text(101, y, label, va="center", ha="left", fontsize=8)
    ax.set_yticks(ys, [_wrap(k.label, 30) for k in kpis])
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.6, len(kpis) - 0.4)
    ax.xaxis.set_major_formatter(_percent_axis())
    ax.set_xlabel(words["coverage"])
    handles = [
        Patch(
            facecolor=STATUS_STYLE[s][0],
            hatch=STATUS_STYLE[s][1],
            edgecolor="#000000",
            label=words[s],
        )
        for s in ("green", "amber", "red")
    ]
    handles.append(Patch(facecolor="#cfcfcf", label=f"{words['target_2025']}–2030"))
    expected = Line2D(
        [],
        [],
        marker="|",
        markersize=10,
        markeredgewidth=2.5,
        color="#000000",
        linestyle="",
        label=words["expected"],
    )
    target = Line2D([], [], color="#000000", lw=2, label=words["target_2025"])
    handles += [target, expected]
    _legend_below(ax, handles, ncol=3)
    fig.subplots_adjust(right=0.78)
    desc = "; ".join(
        f"{k.label}: {vi_percent(k.value)} / {words['target']} {vi_percent(k.target, 0)}"
        for k in kpis
    )
    return _render(fig, ax, title=title, desc=desc)


@_drawing
def sorted_bars(
    bars: Sequence[Bar],
    *,
    title: str,
    lang: str = "vi",
    target: float | None = None,
    percent: bool = True,
    decimals: int = 1,
    axis_label: str | None = None,
) -> Svg:
    """N2: horizontal bars sorted from the highest down, with an optional target line.

    Bars under the target are striped (and say so in the legend); a None value shows ``—``.

    :param bars: one per unit (district, commune, …), in any order.
    :param title: the chart title, already in ``lang``.
    :param lang: ``"vi"`` or ``"en"``.
    :param target: where to draw the target line (same unit as the values), or None.
    :param percent: values are percentages (0–100): ``%`` on axis and labels.
    :param decimals: decimals of the value labels.
    :param axis_label: the value axis label (default: "Coverage" in ``lang`` for percentages).
    :return: the SVG.
    """
    words = _texts(lang)
    ordered = sorted(bars, key=lambda b: (b.value is None, -(b.value or 0), b.label))
    labels = [_wrap(b.label, 30) for b in ordered]
    fig, ax = _figure(max(1.8, 1.0 + len(ordered) * max(0.3, _row_height(labels))))
    ys = list(range(len(ordered)))[::-1]
    top = max([b.value or 0 for b in ordered] + [target or 0, 1])
    for y, bar in zip(ys, ordered, strict=True):
        below = target is not None and bar.value is not None and bar.value < target
        if bar.value is not None:
            ax.barh(
                y,
                bar.value,
                height=0.65,
                color=PALETTE[1] if below else PALETTE[0],
                hatch="///" if below else "",
                edgecolor="#000000",
                linewidth=0.5,
            )
        text = _with_n(_value_text(bar.value, percent=percent, decimals=decimals), bar.n)
        ax.text((bar.value or 0) + top * 0.01, y, text, va="center", ha="left", fontsize=8)
    handles = []
    if target is not None:
        ax.axvline(target, color="#000000", linestyle="--", linewidth=1.2)
        ax.annotate(
            _value_text(target, percent=percent, decimals=0),
            (target, 1),
            xycoords=("data", "axes fraction"),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=7.5,
        )
        target_text = f"{words['target']} {_value_text(target, percent=percent, decimals=0)}"
        handles = [
            Line2D([], [], color="#000000", linestyle="--", label=target_text),
            Patch(facecolor=PALETTE[0], edgecolor="#000000", label=words["at_target"]),
            Patch(
                facecolor=PALETTE[1], hatch="///", edgecolor="#000000", label=words["below_target"]
            ),
        ]
    ax.set_yticks(ys, labels)
    ax.set_xlim(0, top * 1.18)
    ax.set_ylim(-0.6, len(ordered) - 0.4)
    ax.xaxis.set_major_formatter(_percent_axis() if percent else _number_axis(0))
    ax.set_xlabel(axis_label or (words["coverage"] if percent else ""))
    if handles:
        _legend_below(ax, handles, ncol=3)
    desc = "; ".join(
        f"{b.label}: {_value_text(b.value, percent=percent, decimals=decimals)}" for b in ordered
    )
    return _render(fig, ax, title=title, desc=desc, title_pad=14 if target is not None else 6)


@_drawing
def time_series(
    points: Sequence[tuple[int, float | None]],
    *,
    title: str,
    lang: str = "vi",
    targets: Sequence[tuple[int, float]] = (),
    milestones: Sequence[tuple[float, str]] = (),
    series_label: str | None = None,
    percent: bool = True,
    decimals: int = 1,
) -> Svg:
    """N3: a yearly series with its (stepwise) target and milestone markers.

    :param points: ``(year, value)``; None is a year without data (a gap, not a zero).
    :param title: the chart title, already in ``lang``.
    :param lang: ``"vi"`` or ``"en"``.
    :param targets: ``(year, target)`` per year, e.g. 30 for 2022–2025 and 40 for 2026–2030;
        drawn as a dashed step line.
    :param milestones: ``(x, label)`` vertical markers, e.g. ``(2023, "R3")``.
    :param series_label: the legend name of the series.
    :param percent: values are percentages.
    :param decimals: decimals of the point labels.
    :return: the SVG.
    """
    words = _texts(lang)
    fig, ax = _figure(3.2)
    xs = [x for x, _ in points]
    ys = [math.nan if v is None else v for _, v in points]
    ax.plot(
        xs,
        ys,
        marker="o",
        color=PALETTE[0],
        linewidth=2,
        markersize=6,
        markerfacecolor="#ffffff",
        markeredgewidth=1.5,
        label=series_label or words["coverage"],
    )
    for x, v in points:
        if v is not None:
            ax.annotate(
                _value_text(v, percent=percent, decimals=decimals),
                (x, v),
                textcoords="offset points",
                xytext=(0, 7),
                ha="center",
                fontsize=8,
            )
    if targets:
        tx = [x for x, _ in targets]
        ty = [v for _, v in targets]
        ax.step(
            tx,
            ty,
            where="mid",
            color="#000000",
            linestyle="--",
            linewidth=1.2,
            label=words["target"],
        )
    top = max([v for v in ys if not math.isnan(v)] + [v for _, v in targets] + [1])
    ax.set_ylim(0, top * 1.25)
    for x, label in milestones:
        ax.axvline(x, color="#555555", linestyle=":", linewidth=1)
        ax.text(x, top * 1.22, f" {label}", va="top", ha="left", fontsize=8, color="#333333")
    all_x = sorted({*xs, *(x for x, _ in targets)})
    ax.set_xticks(all_x, [str(x) for x in all_x])
    ax.yaxis.set_major_formatter(_percent_axis() if percent else _number_axis(0))
    _legend_below(ax, None, ncol=2)
    desc = "; ".join(
        f"{x}: {_value_text(v, percent=percent, decimals=decimals)}" for x, v in points
    )
    return _render(fig, ax, title=title, desc=desc)


@_drawing
def stacked_bars(
    categories: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    lang: str = "vi",
    percent: bool = False,
    decimals: int = 0,
    axis_label: str = "",
) -> Svg:
    """N4: horizontal stacked bars, one bar per category, one segment per series.

    :param categories: the bars (e.g. levels), top to bottom.
    :param series: segment name -> one value per category (e.g. "ĐH · y dược" -> counts);
        None counts as 0 in the stack and is labelled ``—``.
    :param title: the chart title, already in ``lang``.
    :param lang: ``"vi"`` or ``"en"``.
    :param percent: values are percentages.
    :param decimals: decimals of the segment labels.
    :param axis_label: the value axis label.
    :return: the SVG.
    """
    _texts(lang)
    _check_lengths(categories, series)
    fig, ax = _figure(max(2.0, 1.2 + 0.45 * len(categories)))
    ys = list(range(len(categories)))[::-1]
    left = [0.0] * len(categories)
    totals = [sum(v or 0 for v in column) for column in zip(*series.values(), strict=True)]
    top = max([*totals, 1])
    for i, (name, values) in enumerate(series.items()):
        widths = [v or 0 for v in values]
        ax.barh(
            ys,
            widths,
            left=left,
            height=0.6,
            label=name,
            color=PALETTE[i % len(PALETTE)],
            hatch=HATCHES[i % len(HATCHES)],
            edgecolor="#000000",
            linewidth=0.5,
        )
        for y, start, width in zip(ys, left, widths, strict=True):
            if width >= top * 0.06:
                _segment_label(ax, start + width / 2, y, width, i, percent, decimals)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    for y, total in zip(ys, totals, strict=True):
        ax.text(
            total + top * 0.01,
            y,
            _value_text(total, percent=percent, decimals=decimals),
            va="center",
            ha="left",
            fontsize=8,
        )
    ax.set_yticks(ys, [_wrap(c, 24) for c in categories])
    ax.set_xlim(0, top * 1.12)
    ax.xaxis.set_major_formatter(_percent_axis() if percent else _number_axis(0))
    ax.set_xlabel(axis_label)
    _legend_below(ax, None, ncol=min(3, len(series)))
    desc = "; ".join(
        f"{c}: "
        + ", ".join(
            f"{name} {_value_text(values[i], percent=percent, decimals=decimals)}"
            for name, values in series.items()
        )
        for i, c in enumerate(categories)
    )
    return _render(fig, ax, title=title, desc=desc)


@_drawing
def importance_performance(
    points: Sequence[ScatterPoint],
    *,
    title: str,
    lang: str = "vi",
    scale: tuple[float, float] = (1, 5),
    gap: float = 1.0,
) -> Svg:
    """N5: importance (y) against performance (x), one labelled point per competency.

    The diagonal is "no gap"; points far above it are the needs. Dotted lines at the medians
    of both means split the quadrants. Points with a gap (Ī − P̄) of at least ``gap`` are filled,
    the others hollow, so the reading does not rest on colour.

    :param points: the competencies (label = a short code such as ``C07``).
    :param title: the chart title, already in ``lang``.
    :param lang: ``"vi"`` or ``"en"``.
    :param scale: the rating scale's ends (both axes).
    :param gap: the gap from which a point is drawn filled.
    :return: the SVG.
    """
    words = _texts(lang)
    fig = Figure(figsize=(WIDTH_IN * 0.75, WIDTH_IN * 0.68))
    ax = fig.add_subplot()
    low, high = scale
    ax.plot(
        [low, high],
        [low, high],
        color="#555555",
        linestyle="--",
        linewidth=1,
        label=words["diagonal"],
    )
    if points:
        mx = _median([p.performance for p in points])
        my = _median([p.importance for p in points])
        ax.axvline(mx, color="#777777", linestyle=":", linewidth=1)
        ax.axhline(my, color="#777777", linestyle=":", linewidth=1, label=words["median"])
    big = [p for p in points if p.importance - p.performance >= gap]
    small = [p for p in points if p.importance - p.performance < gap]
    ax.scatter(
        [p.performance for p in big],
        [p.importance for p in big],
        s=30,
        marker="o",
        color=PALETTE[0],
        edgecolor="#000000",
        zorder=3,
        label=words["gap"],
    )
    ax.scatter(
        [p.performance for p in small],
        [p.importance for p in small],
        s=30,
        marker="o",
        facecolor="#ffffff",
        edgecolor="#000000",
        zorder=3,
        label=words["no_gap"],
    )
    for i, p in enumerate(sorted(points, key=lambda p: (p.performance, p.importance))):
        dy = 6 if i % 2 == 0 else -11  # alternate above/below: neighbours rarely collide
        ax.annotate(
            p.label,
            (p.performance, p.importance),
            textcoords="offset points",
            xytext=(4, dy),
            fontsize=7.5,
        )
    pad = (high - low) * 0.04
    ax.set_xlim(low - pad, high + pad)
    ax.set_ylim(low - pad, high + pad)
    ax.set_aspect("equal")
    ax.xaxis.set_major_formatter(_number_axis(1))
    ax.yaxis.set_major_formatter(_number_axis(1))
    ax.set_xlabel(words["performance"])
    ax.set_ylabel(words["importance"])
    ax.legend(loc="lower right", fontsize=7.5)
    desc = "; ".join(
        f"{p.label}: Ī {vi_number(p.importance, 2)}, P̄ {vi_number(p.performance, 2)}"
        for p in points
    )
    return _render(fig, ax, title=title, desc=desc)


@_drawing
def ranked_bars_ci(
    items: Sequence[RankedValue],
    *,
    title: str,
    lang: str = "vi",
    top: int = 10,
    decimals: int = 2,
    axis_label: str = "MWDS",
) -> Svg:
    """N6: the ``top`` highest values as ranked bars with confidence-interval whiskers.

    :param items: the values (e.g. MWDS per competency) in any order.
    :param title: the chart title, already in ``lang``.
    :param lang: ``"vi"`` or ``"en"``.
    :param top: how many to show (the rest are left out).
    :param decimals: decimals of the value labels.
    :param axis_label: the value axis label.
    :return: the SVG.
    """
    words = _texts(lang)
    ranked = sorted(items, key=lambda r: (-r.value, r.label))[:top]
    labels = [_wrap(r.label, 34) for r in ranked]
    fig, ax = _figure(max(1.8, 1.1 + len(ranked) * max(0.3, _row_height(labels))))
    ys = list(range(len(ranked)))[::-1]
    values = [r.value for r in ranked]
    ax.barh(ys, values, height=0.6, color=PALETTE[1], edgecolor="#000000", linewidth=0.5)
    has_ci = [r for r in ranked if r.low is not None and r.high is not None]
    for y, r in zip(ys, ranked, strict=True):
        if r.low is not None and r.high is not None:
            ax.errorbar(
                r.value,
                y,
                xerr=[[r.value - r.low], [r.high - r.value]],
                fmt="none",
                ecolor="#000000",
                elinewidth=1,
                capsize=3,
            )
    right = max([r.high if r.high is not None else r.value for r in ranked] + [0.0])
    left = min([r.low if r.low is not None else r.value for r in ranked] + [0.0])
    span = (right - left) or 1
    for y, r in zip(ys, ranked, strict=True):
        end = r.high if r.high is not None else r.value
        ax.text(
            max(end, 0) + span * 0.015,
            y,
            _with_n(vi_number(r.value, decimals), r.n),
            va="center",
            ha="left",
            fontsize=8,
        )
    ax.axvline(0, color="#000000", linewidth=0.8)
    ax.set_yticks(ys, labels)
    ax.set_xlim(min(left * 1.1, 0), right + span * 0.22)
    ax.set_ylim(-0.6, len(ranked) - 0.4)
    ax.xaxis.set_major_formatter(_number_axis(1))
    ax.xaxis.set_major_locator(MaxNLocator(6))
    ax.set_xlabel(axis_label)
    if has_ci:
        whisker = Line2D([], [], color="#000000", marker="|", markersize=8, label=words["ci"])
        _legend_below(ax, [whisker], ncol=1)
    desc = "; ".join(
        f"{r.label}: {vi_number(r.value, decimals)}"
        + (
            f" [{vi_number(r.low, decimals)}; {vi_number(r.high, decimals)}]"
            if r.low is not None and r.high is not None
            else ""
        )
        for r in ranked
    )
    return _render(fig, ax, title=title, desc=desc)


@_drawing
def heatmap(
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    title: str,
    lang: str = "vi",
    decimals: int = 2,
) -> Svg:
    """N7: a grid of values (e.g. MWDS, competency × level), each cell also written out.

    A None cell is suppressed (n under ``min_cell``) or missing: it stays white, hatched, with
    ``—``; it is never drawn as a zero.

    :param rows: row labels (e.g. competencies), top to bottom.
    :param columns: column labels (e.g. levels).
    :param values: one list per row, one value per column.
    :param title: the chart title, already in ``lang``.
    :param lang: ``"vi"`` or ``"en"``.
    :param decimals: decimals of the cell labels.
    :return: the SVG.
    """
    words = _texts(lang)
    if len(values) != len(rows) or any(len(r) != len(columns) for r in values):
        raise ValueError("values must have one row per row label and one value per column")
    present = [v for row in values for v in row if v is not None]
    low, high = (min(present), max(present)) if present else (0.0, 1.0)
    cmap = matplotlib.colormaps["Blues"]
    fig = Figure(figsize=(WIDTH_IN, max(2.0, 1.1 + 0.32 * len(rows))))
    ax = fig.add_subplot()
    for i, row in enumerate(values):
        y = len(rows) - 1 - i
        for j, v in enumerate(row):
            if v is None:
                rect = Rectangle(
                    (j - 0.5, y - 0.5),
                    1,
                    1,
                    facecolor="#ffffff",
                    hatch="///",
                    edgecolor="#999999",
                    lw=0.5,
                )
                ax.add_patch(rect)
                ax.text(j, y, "—", ha="center", va="center", fontsize=8)
                continue
            share = 0.15 + 0.75 * ((v - low) / (high - low) if high > low else 0.5)
            colour = cmap(share)
            rect = Rectangle((j - 0.5, y - 0.5), 1, 1, facecolor=colour, edgecolor="#ffffff", lw=1)
            ax.add_patch(rect)
            ax.text(
                j,
                y,
                vi_number(v, decimals),
                ha="center",
                va="center",
                fontsize=8,
                color="#ffffff" if share > 0.55 else "#000000",
            )
    ax.set_xlim(-0.5, len(columns) - 0.5)
    ax.set_ylim(-0.5, len(rows) - 0.5)
    ax.set_xticks(range(len(columns)), [_wrap(c, 14) for c in columns])
    ax.set_yticks(range(len(rows)), [_wrap(r, 40) for r in rows][::-1])
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for side in ("left", "bottom", "top", "right"):
        ax.spines[side].set_visible(False)
    if any(v is None for row in values for v in row):
        fig.text(0.01, 0.01, words["suppressed"], fontsize=7.5)
    desc = "; ".join(
        f"{r}: "
        + ", ".join(f"{c} {vi_number(v, decimals)}" for c, v in zip(columns, row, strict=True))
        for r, row in zip(rows, values, strict=True)
    )
    return _render(fig, ax, title=title, desc=desc, title_pad=22)


@_drawing
def grouped_bars(
    categories: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    lang: str = "vi",
    percent: bool = True,
    decimals: int = 1,
    axis_label: str = "",
) -> Svg:
    """N8: horizontal grouped bars, e.g. per topic: demand share % and top-1 share %.

    :param categories: the groups (e.g. topics), top to bottom.
    :param series: bar name -> one value per category; None is drawn as ``—`` (no bar).
    :param title: the chart title, already in ``lang``.
    :param lang: ``"vi"`` or ``"en"``.
    :param percent: values are percentages.
    :param decimals: decimals of the value labels.
    :param axis_label: the value axis label.
    :return: the SVG.
    """
    _texts(lang)
    _check_lengths(categories, series)
    k = max(1, len(series))
    fig, ax = _figure(max(2.0, 1.0 + 0.22 * len(categories) * k + 0.1 * len(categories)))
    height = 0.8 / k
    top = max([v or 0 for values in series.values() for v in values] + [1])
    base = list(range(len(categories)))[::-1]
    for i, (name, values) in enumerate(series.items()):
        ys = [b + 0.4 - height * (i + 0.5) for b in base]
        ax.barh(
            ys,
            [v or 0 for v in values],
            height=height * 0.95,
            label=name,
            color=PALETTE[i % len(PALETTE)],
            hatch=HATCHES[i % len(HATCHES)],
            edgecolor="#000000",
            linewidth=0.5,
        )
        for y, v in zip(ys, values, strict=True):
            ax.text(
                (v or 0) + top * 0.01,
                y,
                _value_text(v, percent=percent, decimals=decimals),
                va="center",
                ha="left",
                fontsize=7.5,
            )
    ax.set_yticks(base, [_wrap(c, 30) for c in categories])
    ax.set_xlim(0, top * 1.15)
    ax.set_ylim(-0.6, len(categories) - 0.4)
    ax.xaxis.set_major_formatter(_percent_axis() if percent else _number_axis(0))
    ax.set_xlabel(axis_label)
    _legend_below(ax, None, ncol=min(3, k))
    desc = "; ".join(
        f"{c}: "
        + ", ".join(
            f"{name} {_value_text(values[i], percent=percent, decimals=decimals)}"
            for name, values in series.items()
        )
        for i, c in enumerate(categories)
    )
    return _render(fig, ax, title=title, desc=desc)


@_drawing
def diverging_bars(
    categories: Sequence[str],
    levels: Sequence[str],
    shares: Sequence[Sequence[float]],
    *,
    title: str,
    lang: str = "vi",
    negative: int,
    neutral: bool = False,
    decimals: int = 0,
) -> Svg:
    """N9: diverging stacked bars (Likert-style), negative answers left of zero.

    :param categories: the bars (e.g. barriers), top to bottom.
    :param levels: answer levels ordered from most negative to most positive.
    :param shares: per category, one percentage per level (rows add up to about 100).
    :param title: the chart title, already in ``lang``.
    :param lang: ``"vi"`` or ``"en"``.
    :param negative: how many of the first levels lie left of zero.
    :param neutral: the level right after the negative ones is neutral and straddles zero.
    :param decimals: decimals of the segment labels.
    :return: the SVG.
    """
    _texts(lang)
    if len(shares) != len(categories) or any(len(r) != len(levels) for r in shares):
        raise ValueError("shares must have one row per category and one value per level")
    if not 0 <= negative <= len(levels) - (1 if neutral else 0):
        raise ValueError("negative must count levels that exist")
    fig, ax = _figure(max(2.0, 1.2 + 0.42 * len(categories)))
    ys = list(range(len(categories)))[::-1]
    neg_colours = ("#8c510a", "#d8b365", "#f0dcb4")
    pos_colours = ("#5ab4ac", "#01665e", "#003c30")
    styles = []  # (colour, hatch) per level
    for i in range(len(levels)):
        if i < negative:
            styles.append((neg_colours[i % 3], "///" if i % 2 == 0 else "\\\\\\"))
        elif neutral and i == negative:
            styles.append(("#e0e0e0", "---"))
        else:
            styles.append((pos_colours[(i - negative - (1 if neutral else 0)) % 3], ""))
    extent = 1.0
    for y, row in zip(ys, shares, strict=True):
        half = row[negative] / 2 if neutral else 0.0
        # Left side, from zero outwards: the neutral half, then negatives nearest zero first.
        start = -half - sum(row[:negative])
        extent = max(extent, -start)
        x = start
        for i in range(len(levels)):
            width = row[i]
            colour, hatch = styles[i]
            ax.barh(
                y,
                width,
                left=x,
                height=0.6,
                color=colour,
                hatch=hatch,
                edgecolor="#000000",
                linewidth=0.5,
                label=levels[i] if y == ys[0] else None,
            )
            if width >= 6:
                ax.text(
                    x + width / 2,
                    y,
                    vi_number(width, decimals),
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color="#ffffff" if i > negative + 1 or i == 0 else "#000000",
                    bbox={"facecolor": "#ffffff", "edgecolor": "none", "pad": 0.6, "alpha": 0.0},
                )
            x += width
        extent = max(extent, x)
    ax.axvline(0, color="#000000", linewidth=1)
    limit = math.ceil(extent / 10) * 10 + 5
    ax.set_xlim(-limit, limit)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: vi_percent(abs(v), 0)))
    ax.set_yticks(ys, [_wrap(c, 28) for c in categories])
    ax.set_ylim(-0.6, len(categories) - 0.4)
    _legend_below(ax, None, ncol=min(5, len(levels)))
    desc = "; ".join(
        f"{c}: "
        + ", ".join(f"{lv} {vi_percent(v, decimals)}" for lv, v in zip(levels, row, strict=True))
        for c, row in zip(categories, shares, strict=True)
    )
    return _render(fig, ax, title=title, desc=desc)


# --- drawing and SVG clean-up --------------------------------------------------------------


def _figure(height: float):
    fig = Figure(figsize=(WIDTH_IN, height))
    return fig, fig.add_subplot()


def _legend_below(ax, handles, *, ncol: int) -> None:
    """A legend under the plot, clear of the tick labels and the axis label."""
    fig = ax.figure
    height = fig.get_figheight() * (fig.subplotpars.top - fig.subplotpars.bottom)
    gap_in = 0.5 if ax.get_xlabel() else 0.32
    kwargs = {"handles": handles} if handles else {}
    ax.legend(
        **kwargs,
        loc="upper center",
        bbox_to_anchor=(0.5, -gap_in / height),
        ncol=ncol,
        handlelength=1.8,
        fontsize=7.5,
    )


def _row_height(labels: Sequence[str]) -> float:
    """Inches per bar row: wrapped labels need room."""
    lines = max([label.count("\n") + 1 for label in labels] + [1])
    return 0.14 + 0.16 * lines


def _segment_label(ax, x, y, width, index, percent, decimals) -> None:
    dark = index % len(PALETTE) in (0, 2, 4)
    ax.text(
        x,
        y,
        _value_text(width, percent=percent, decimals=decimals),
        ha="center",
        va="center",
        fontsize=7.5,
        color="#ffffff" if dark else "#000000",
    )


def _check_lengths(categories: Sequence[str], series: Mapping[str, Sequence]) -> None:
    for name, values in series.items():
        if len(values) != len(categories):
            raise ValueError(
                f"series {name!r} has {len(values)} values for {len(categories)} categories"
            )


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _render(fig: Figure, ax, *, title: str, desc: str, title_pad: float = 6) -> Svg:
    """Title, tight layout, SVG out, then the clean-up that makes it inline- and CSP-safe."""
    ax.set_title(title, pad=title_pad)
    buf = io.StringIO()
    FigureCanvasSVG(fig)
    fig.savefig(
        buf,
        format="svg",
        metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
        bbox_inches="tight",
        pad_inches=0.08,
    )
    return _clean(buf.getvalue(), title=title, desc=desc)


_STYLE_DECL = re.compile(r"\s*([a-z-]+)\s*:\s*([^;]+?)\s*(?:;|$)")
_ID_REF = re.compile(r"url\(#([^)]+)\)")


def _clean(svg: str, *, title: str, desc: str) -> Svg:
    """Make matplotlib's SVG inline-ready: no DOCTYPE, metadata, <style> or style=."""
    svg = re.sub(r"<!DOCTYPE[^>]*>", "", svg, count=1)
    root = fromstring(svg.encode("utf-8"))
    q = f"{{{SVG_NS}}}"
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in (q + "metadata", q + "style"):
                parent.remove(child)
    # What matplotlib's <style> said for every element, as inherited attributes on the root.
    root.set("stroke-linejoin", "round")
    root.set("stroke-linecap", "butt")
    for element in root.iter():
        style = element.attrib.pop("style", None)
        if style:
            for name, value in _STYLE_DECL.findall(style):
                element.set(name, value)
    # Keep only referenced ids, renamed after the content so two charts on a page never clash.
    referenced = set()
    for element in root.iter():
        for key, value in element.attrib.items():
            referenced.update(_ID_REF.findall(value))
            if key == f"{{{XLINK_NS}}}href" and value.startswith("#"):
                referenced.add(value[1:])
    for element in root.iter():
        element.text = element.text if element.text and element.text.strip() else None
        element.tail = None
        if "id" in element.attrib and element.attrib["id"] not in referenced:
            del element.attrib["id"]
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    body = ET.tostring(root, encoding="unicode")
    prefix = "c" + hashlib.sha256(f"{title}\0{desc}\0{body}".encode()).hexdigest()[:8] + "-"
    for element in root.iter():
        for key, value in list(element.attrib.items()):
            if key == "id":
                element.set(key, prefix + value)
            elif key == f"{{{XLINK_NS}}}href" and value.startswith("#"):
                element.set(key, "#" + prefix + value[1:])
            elif "url(#" in value:
                element.set(key, _ID_REF.sub(lambda m: f"url(#{prefix}{m.group(1)})", value))
    title_el = ET.Element(q + "title", {"id": prefix + "title"})
    title_el.text = title
    desc_el = ET.Element(q + "desc", {"id": prefix + "desc"})
    desc_el.text = desc
    root.insert(0, desc_el)
    root.insert(0, title_el)
    root.set("role", "img")
    root.set("aria-labelledby", f"{prefix}title {prefix}desc")
    root.set("class", "chart")
    root.attrib.pop("version", None)
    # ElementTree's namespace map is global and other libraries change it (importing
    # WeasyPrint drops the SVG entry), so it is set again right before each serialisation:
    # an <ns0:svg> is not SVG to an HTML page.
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    return Svg(ET.tostring(root, encoding="unicode"))
