"""The course report's PDF prints long tables cut to ``PDF_ROWS`` rows, and says so.

A 2,000-trainee course printed whole took 153 s and 3 GB in WeasyPrint (bench/evaluation.py);
the workbook keeps every row. The report itself (JSON, page, workbook) is not touched.
"""

from __future__ import annotations

import datetime as dt

from server.domain.report_model import Report, ReportColumn, ReportSection, ReportTable
from server.rendering import evaluation


def test_long_tables_are_cut_in_the_pdf_only(monkeypatch):
    rows = [{"trainee_id": f"HV{n}"} for n in range(evaluation.PDF_ROWS + 5)]
    long_table = ReportTable(
        "T1", "Học viên", "Trainees", [ReportColumn("trainee_id", "Mã", "Code")], rows
    )
    short_table = ReportTable(
        "P1", "Chủ đề", "Topics", [ReportColumn("topic", "Chủ đề", "Topic")], [{"topic": "TP01"}]
    )
    report = Report(
        kind="course_evaluation", parameters={}, as_of=dt.date(2026, 12, 1),
        generated_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC), unit_code="K", unit_name="K",
        sections=[ReportSection("T", "T", "T", [long_table, short_table])],
    )  # fmt: skip
    printed = []
    monkeypatch.setattr(evaluation, "printed", lambda render, lang, path="/": render())
    monkeypatch.setattr(evaluation, "render_course", lambda r, extra: printed.append(r) or "")
    evaluation.course_output(report).page()  # the printed page, which the PDF is made of
    cut, kept = printed[0].sections[0].tables
    assert len(cut.rows) == evaluation.PDF_ROWS
    assert f"{evaluation.PDF_ROWS} trên {len(rows)}" in cut.notes_vi[-1]
    assert "XLSX" in cut.notes_en[-1]
    assert kept is short_table
    assert len(report.sections[0].tables[0].rows) == len(rows)  # the report is unchanged
