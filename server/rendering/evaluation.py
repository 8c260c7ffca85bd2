"""The evaluation report as a page, its charts, its PDF and the trainees' scorecards.

Numbers are formatted by the needs report's ``cell`` (one Vietnamese number style for every
report). Charts come from ``exports.evaluation_charts``, imported when a page is drawn so that
building the app never loads matplotlib.
"""

from __future__ import annotations

from dataclasses import replace

from flask import g, render_template

from exports import Output, Page
from server.domain.report_model import Report, ReportColumn, ReportTable
from server.rendering.printing import printed, report_output
from server.rendering.reports import STATUS, cell, is_numeric

PHASES = {"pre": ("trước khóa", "pre-test"), "post": ("sau khóa", "post-test")}


def chart_svgs(report: Report, lang: str) -> dict[str, str]:
    """Every chart the report has data for, titles in ``lang``."""
    from exports import evaluation_charts as charts

    vi = lang != "en"
    data = report.charts
    drawn: dict[str, str] = {}
    scores = data.get("S1", {})
    if scores.get("pre") or scores.get("post"):
        drawn["S1"] = charts.score_histograms(
            [v for v in scores.get("pre", []) if v is not None],
            [v for v in scores.get("post", []) if v is not None],
            title="Phân bố điểm trước và sau khóa" if vi else "Scores before and after",
            lang=lang,
            pass_mark=scores.get("pass_mark"),
        )
    pairs = data.get("S2", {}).get("points", [])
    if len(pairs) >= 2:
        drawn["S2"] = charts.pre_post_scatter(
            [charts.PrePostPoint("", p["pre"], p["post"]) for p in pairs],
            title="Điểm trước và sau của từng học viên"
            if vi
            else "Each trainee's pre- and post-test",
            lang=lang,
            pass_mark=data.get("S2", {}).get("pass_mark"),
        )
    topics = data.get("P1")
    if topics:
        drawn["P1"] = charts.topic_pre_post(
            topics["topics"],
            topics["pre"],
            topics["post"],
            title="Điểm trung bình theo chủ đề" if vi else "Mean score by topic",
            lang=lang,
        )
    for key, value in data.items():
        if key.startswith("E1") and value.get("items"):
            vi_phase, en_phase = PHASES.get(value["phase"], ("", ""))
            drawn[key] = charts.difficulty_discrimination(
                [
                    charts.ItemPoint(i["label"], i["facility_pct"], i["discrimination"])
                    for i in value["items"]
                ],
                title=(
                    f"Độ dễ và độ phân loại – bài {vi_phase} ({value['bank']})"
                    if vi
                    else f"Facility and discrimination – {en_phase} ({value['bank']})"
                ),
                lang=lang,
            )
    courses = data.get("R4", {}).get("courses", [])
    if courses:
        drawn["R4"] = charts.course_intervals(
            [charts.CourseValue(c["label"], c["value"], c["low"], c["high"]) for c in courses],
            title="Tiến bộ trung bình từng khóa (KTC 95 %)"
            if vi
            else "Mean gain by course (95 % CI)",
            lang=lang,
            percent=False,
            axis_label="điểm %" if vi else "pp",
        )
    likert = data.get("L1", {}).get("rows", [])
    if likert:
        drawn["L1"] = charts.likert_diverging(
            [
                charts.LikertRow(r["label"][1 if not vi else 0], tuple(r["shares"]), r["n"])
                for r in likert
            ],
            title="Mức độ đồng ý theo câu" if vi else "Agreement by item",
            lang=lang,
        )
    return drawn


def _page(template: str, report: Report, **context) -> str:
    """A report page: the report, its charts and the number formatting every report uses."""
    return render_template(
        template,
        report=report,
        svgs=chart_svgs(report, g.lang),
        cell=cell,
        is_numeric=is_numeric,
        status_words=STATUS,
        **context,
    )


def render_course(report: Report, *, extra: dict | None = None) -> str:
    """The course evaluation page (or the PDF's HTML when ``g.pdf`` is set)."""
    extra = extra or {}
    return _page(
        "reports/course.html",
        report,
        files_only=set(report.parameters.get("files_only", ())),
        can_code=extra.get("can_code", False),
        can_drop=extra.get("can_drop", False),
        can_bank=extra.get("can_bank", False),
        can_link=extra.get("can_link", False),
        frame=extra.get("frame", []),
        download=extra.get("download", True),
    )


def render_bank(report: Report) -> str:
    """The pooled item analysis page of a bank version."""
    return _page("reports/bank.html", report)


def render_programme(report: Report, *, extra: dict | None = None, download: bool = True) -> str:
    """The programme roll-up page (or the PDF's HTML)."""
    return _page("reports/programme.html", report, download=download, **(extra or {}))


def programme_output(report: Report, *, lang: str = "vi", extra: dict | None = None) -> Output:
    """The roll-up as a file: tables, JSON model, and the page printed from its template."""
    return report_output(
        report,
        lang=lang,
        page=lambda: printed(lambda: render_programme(report, extra=extra, download=False), lang),
    )


#: Rows of one table a PDF prints; the workbook has them all. A 2,000-trainee course printed in
#: full took 153 s and 3 GB in WeasyPrint (bench/evaluation.py); 300 rows are ten pages.
PDF_ROWS = 300


def course_output(report: Report, *, lang: str = "vi") -> Output:
    """The evaluation as a file: tables, JSON model, and the printed page (long tables cut)."""
    return report_output(report, lang=lang, page=lambda: _course_page(report, lang))


def _course_page(report: Report, lang: str) -> Page:
    cut = replace(
        report,
        sections=[replace(s, tables=[_cut(t) for t in s.tables]) for s in report.sections],
    )
    return printed(lambda: render_course(cut, extra={"download": False}), lang, "/reports/courses")


def _cut(table: ReportTable) -> ReportTable:
    if len(table.rows) <= PDF_ROWS:
        return table
    return replace(
        table,
        rows=table.rows[:PDF_ROWS],
        notes_vi=[
            *table.notes_vi,
            f"Bản in có {PDF_ROWS} trên {len(table.rows)} dòng đầu; bảng đầy đủ trong tệp XLSX.",
        ],
        notes_en=[
            *table.notes_en,
            f"The print shows the first {PDF_ROWS} of {len(table.rows)} rows; the XLSX has them "
            "all.",
        ],
    )


def scorecards_output(report: Report, *, lang: str = "vi") -> Output:
    """One printable page per trainee (a page only: what a trainer hands out after a course)."""
    table = next((t for t in report.tables() if t.id == "T1"), None)
    rows = table.rows if table else []
    # the topic columns of T1 (pre_TP01, post_TP01, …) in their order
    topics = [c.key[5:] for c in table.columns if c.key.startswith("post_")] if table else []

    def render() -> str:
        return render_template(
            "reports/scorecards.html",
            report=report,
            rows=rows,
            topics=topics,
            cell=cell,
            col=lambda key, kind: ReportColumn(key, "", "", kind),
        )

    return Output(page=lambda: printed(render, lang, "/reports/courses"))
