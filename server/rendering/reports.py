"""The needs report as a page: values in the Vietnamese way, charts N1–N9, the PDF.

Numbers are formatted here and only here (reports spec §2.5): percentages with one decimal,
rating means with two, p-values with three or "< 0,001", counts with the dot for thousands,
and "—" for a suppressed or missing value; the JSON and the workbook keep them unrounded.
"""

from __future__ import annotations

from typing import Any

from flask import render_template

from exports import Output, Page
from server.domain.report_model import Report, ReportTable
from server.rendering.printing import printed, report_output

DASH = "—"
STATUS = {
    "green": ("Đúng tiến độ", "On track"),
    "amber": ("Chậm", "Behind"),
    "red": ("Chậm nhiều", "Off track"),
}
MILESTONES = ((2023, "R2"), (2025, "R3"), (2026, "R4"), (2030, "R5"))
LEVEL_WORDS = {
    "province": ("tỉnh", "province"),
    "district": ("huyện", "district"),
    "commune": ("xã", "commune"),
    "village": ("CTV", "collaborators"),
}


def cell(row: dict[str, Any], column, lang: str) -> str:
    """One table cell as shown: the value formatted the Vietnamese way, or "—"."""
    value = row.get(f"{column.key}_en") if lang == "en" else None
    if value is None:
        value = row.get(column.key)
    numeric = column.kind in {"pct", "decimal", "p"}
    if value is None or value == "" or (numeric and row.get("suppressed")):
        return DASH if column.kind != "text" or value is None else ""
    if column.key == "status" and value in STATUS:
        return STATUS[value][1 if lang == "en" else 0]
    if column.kind == "count":
        return _number(value, 0, lang)
    if column.kind == "pct":
        return _number(value, 1, lang) + " %"
    if column.kind == "decimal":
        # a count in a column of decimals (attempts, items, comments) is shown as a count
        whole = isinstance(value, int) and not isinstance(value, bool)
        return _number(value, 0 if whole else 2, lang)
    if column.kind == "p":
        return (
            ("< 0,001" if lang == "vi" else "< 0.001") if value < 0.001 else _number(value, 3, lang)
        )
    if column.kind == "date":
        return value.strftime("%d/%m/%Y") if hasattr(value, "strftime") else str(value)
    return str(value)


def _number(value: float, decimals: int, lang: str) -> str:
    text = f"{value:,.{decimals}f}"
    if lang == "vi":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def is_numeric(column) -> bool:
    """Whether a column is right-aligned (numbers)."""
    return column.kind != "text"


def chart_svgs(report: Report, lang: str) -> dict[str, str]:
    """Draw every chart whose data the report carries (spec §2.4), titles in ``lang``.

    matplotlib is imported here, not at the top: every CLI command and worker builds the app,
    and only a report page pays for the plotting library (about half a second).
    """
    from exports import charts

    vi = lang != "en"
    data = report.charts
    drawn: dict[str, charts.Svg] = {}
    rows = [r for r in data.get("N1", {}).get("rows", []) if r.get("target") is not None]
    if rows:
        drawn["N1"] = charts.kpi_bullets(
            [
                charts.KpiBullet(
                    label=r["kpi"],
                    value=r["coverage"],
                    target=r["target"],
                    expected=r["expected"],
                    status=r["status"],
                )
                for r in rows
            ],
            title="Độ bao phủ so với chỉ tiêu" if vi else "Coverage against targets",
            lang=lang,
        )
    bars = data.get("N2", {}).get("rows", [])
    if bars:
        drawn["N2"] = charts.sorted_bars(
            [charts.Bar(b["label"], b["value"]) for b in bars],
            title=(
                f"{data['N2']['kpi'][2:]} theo đơn vị" if vi else f"{data['N2']['kpi'][2:]} by unit"
            ),
            lang=lang,
            target=data["N2"].get("target"),
        )
    years = data.get("N3", {}).get("rows", [])
    if any(p["value"] is not None for p in years):
        drawn["N3"] = charts.time_series(
            [(p["year"], p["value"]) for p in years],
            targets=[(p["year"], p["target"]) for p in years if p["target"] is not None],
            milestones=[m for m in MILESTONES if years[0]["year"] <= m[0] <= years[-1]["year"]],
            title="KPI-06 CTV được tập huấn mỗi năm"
            if vi
            else "KPI-06 collaborators trained per year",
            lang=lang,
        )
    education = data.get("N4")
    if education and education.get("levels") and any(any(v) for v in education["series"].values()):
        drawn["N4"] = charts.stacked_bars(
            education["levels"],
            {k: v for k, v in education["series"].items() if any(v)},
            title="Trình độ chuyên môn theo tuyến" if vi else "Education by level",
            lang=lang,
        )
    for level, (word_vi, word_en) in LEVEL_WORDS.items():
        points = data.get(f"N5-{level}", {}).get("points", [])
        if len(points) >= 2:
            drawn[f"N5-{level}"] = charts.importance_performance(
                [charts.ScatterPoint(p["label"], p["x"], p["y"]) for p in points],
                title=(
                    f"Quan trọng – làm được ({word_vi})"
                    if vi
                    else f"Importance vs performance ({word_en})"
                ),
                lang=lang,
            )
        ranked = data.get(f"N6-{level}", {}).get("rows", [])
        if ranked:
            drawn[f"N6-{level}"] = charts.ranked_bars_ci(
                [charts.RankedValue(r["label"], r["value"], r["low"], r["high"]) for r in ranked],
                title=(
                    f"Năng lực ưu tiên – MWDS ({word_vi})"
                    if vi
                    else f"Priority competencies – MWDS ({word_en})"
                ),
                lang=lang,
            )
    heat = data.get("N7")
    if heat and heat["rows"] and heat["columns"]:
        drawn["N7"] = charts.heatmap(
            heat["rows"],
            [LEVEL_WORDS.get(c, (c, c))[1 if not vi else 0] for c in heat["columns"]],
            [[heat["values"][r].get(c) for c in heat["columns"]] for r in heat["rows"]],
            title="MWDS theo năng lực và tuyến" if vi else "MWDS by competency and level",
            lang=lang,
        )
    topics = data.get("N8", {}).get("rows", [])
    if topics:
        drawn["N8"] = charts.grouped_bars(
            [t["label"] for t in topics],
            {
                ("Tỷ lệ yêu cầu" if vi else "Demand"): [_pct(t["demand"]) for t in topics],
                ("Ưu tiên số 1" if vi else "Top priority"): [_pct(t["top1"]) for t in topics],
            },
            title="Chủ đề được yêu cầu nhiều nhất" if vi else "Most wanted topics",
            lang=lang,
        )
    barriers = data.get("N9", {})
    if barriers.get("rows"):
        drawn["N9"] = charts.grouped_bars(
            [r["label"] for r in barriers["rows"]],
            {
                level: [r["values"][i] for r in barriers["rows"]]
                for i, level in enumerate(barriers["levels"])
            },
            title="Khó khăn khi tham gia đào tạo" if vi else "Barriers to attending training",
            lang=lang,
        )
    return drawn


def _pct(share: float | None) -> float | None:
    return None if share is None else share * 100


def table_empty(table: ReportTable) -> bool:
    """Whether a table has nothing to show."""
    return not table.rows


def render_needs(
    report: Report | None,
    *,
    lang: str,
    form: dict,
    error: str | None = None,
    extra: dict | None = None,
) -> str:
    """The needs report page (the form alone when there is no report yet).

    :param extra: what only the live page has (unit picker, download links).
    """
    extra = extra or {"unit_choices": [], "levels": {}, "download_args": {}, "can_list": False}
    return render_template(
        "reports/needs.html",
        **extra,
        report=report,
        form=form,
        error=error,
        svgs=chart_svgs(report, lang) if report is not None else {},
        cell=cell,
        is_numeric=is_numeric,
        status_words=STATUS,
    )


def needs_page(report: Report, *, lang: str = "vi") -> Page:
    """The needs report page laid out for print, from the same template (request or CLI)."""
    return printed(lambda: render_needs(report, lang=lang, form=_form_of(report)), lang,
                   "/reports/needs")  # fmt: skip


def needs_output(report: Report, *, lang: str = "vi") -> Output:
    """The needs report as a file: tables, JSON model, printed page."""
    return report_output(report, lang=lang, page=lambda: needs_page(report, lang=lang))


def _form_of(report: Report) -> dict:
    params = report.parameters
    return {
        key: (value.isoformat() if hasattr(value, "isoformat") else value)
        for key, value in params.items()
    }
