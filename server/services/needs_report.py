"""The planners' needs-assessment report (reports spec §2): parameters in, a :class:`Report` out.

This module decides *what* each table holds; the counting is done in the database by
``needs_kpis`` (register and training records), ``needs_answers`` (the TNA projection) and
``needs_workforce`` (the register's profile), and the statistics by the pure
``server.domain.needs_gap``, ``needs_topics`` and ``coverage``. Sections follow §2.3: A summary,
B survey coverage, C workforce, D coverage vs targets, E competency gaps, F topic demand,
G preferences and barriers, H suggested plan, I annex. The working list (D-list) is
:func:`working_list`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.domain import catalogue
from server.domain.coverage import (
    PlanCandidate,
    build_training_plan,
    evaluate_kpi,
    kpi_status,
    mwds_top_quartile_cut,
    persons_to_target,
    three_findings,
)
from server.domain.report_model import Report, ReportColumn, ReportSection, ReportTable
from server.errors import InvalidRequest
from server.models import AdminUnit
from server.services import needs_answers, needs_kpis, needs_workforce
from server.services.needs_answer_sections import (
    gaps_section,
    preferences_section,
    topics_section,
)
from server.services.needs_answers import AnswerFilter
from server.services.needs_kpis import KPIS, PostingFilter
from server.services.needs_labels import Labels, load_labels
from server.services.needs_sections import annex_section, survey_section, workforce_section
from server.services.report_scope import ReportScope, load_report_scope
from server.services.report_targets import Target, list_targets, settings_for

LEVEL_ORDER = ("province", "district", "commune", "village")
PERSON_KPIS = ("KPI-01", "KPI-02", "KPI-03", "KPI-04", "KPI-05")


@dataclass(frozen=True)
class NeedsParams:
    """What the planner asked for (spec §2.1)."""

    as_of: dt.date
    period_from: dt.date
    period_to: dt.date
    unit: str
    levels: tuple[str, ...] = ()
    staff_cats: tuple[str, ...] = ()
    job_positions: tuple[str, ...] = ()

    def check(self) -> None:
        """Refuse a reversed period (422 naming the parameter)."""
        if self.period_from > self.period_to:
            raise InvalidRequest(
                reason="period_reversed", fields={"period_from": ["after period_to"]}
            )
        bad = [level for level in self.levels if level not in LEVEL_ORDER]
        if bad:
            raise InvalidRequest(reason="unknown_level", levels=bad, fields={"level": ["unknown"]})


@dataclass
class Context:
    """Everything the sections share: the scope, settings, labels and filters."""

    session: Session
    params: NeedsParams
    scope: ReportScope
    province: str
    settings: dict
    labels: Labels
    answers: AnswerFilter
    postings: PostingFilter

    @property
    def min_cell(self) -> int:
        """Cells below this n are suppressed (shown as "—")."""
        return int(self.settings["min_cell"])


def report_settings(session: Session, province: str) -> dict:
    """The settings in force for a province (its own, else the default row, else the spec's)."""
    return settings_for(session, province=province)


def province_of(session: Session, code: str, as_of: dt.date) -> str:
    """The province a unit belonged to on ``as_of`` (its own code for a province)."""
    unit = (
        session.execute(
            sa.select(AdminUnit)
            .where(AdminUnit.code == code, AdminUnit.valid_from <= as_of)
            .order_by(AdminUnit.valid_from.desc())
        )
        .scalars()
        .first()
        or session.execute(
            sa.select(AdminUnit).where(AdminUnit.code == code).order_by(AdminUnit.valid_from)
        )
        .scalars()
        .first()
    )
    while unit is not None and unit.parent is not None:
        unit = unit.parent
    return unit.code if unit is not None else ""


def targets_of(session: Session, province: str) -> dict[str, list[Target]]:
    """Each KPI's targets for a province, by period (a province's own replace the default's)."""
    result: dict[str, list[Target]] = {}
    for target in sorted(list_targets(session, province=province), key=lambda t: t.period_start):
        result.setdefault(target.kpi, []).append(target)
    return result


def build_context(session: Session, params: NeedsParams) -> Context:
    """Resolve the unit, settings and labels of a report (422 for an unknown unit)."""
    params.check()
    scope = load_report_scope(session, params.unit, params.as_of)
    province = province_of(session, params.unit, params.as_of)
    settings = report_settings(session, province)
    return Context(
        session=session,
        params=params,
        scope=scope,
        province=province,
        settings=settings,
        labels=load_labels(session, settings["tna_form_id"]),
        answers=AnswerFilter(
            scope=scope,
            period_from=params.period_from,
            period_to=params.period_to,
            levels=params.levels,
            staff_cats=params.staff_cats,
            job_positions=params.job_positions,
        ),
        postings=PostingFilter(levels=params.levels, staff_cats=params.staff_cats),
    )


def build_needs_report(session: Session, params: NeedsParams, *, now: dt.datetime) -> Report:
    """Compute the whole needs-assessment report.

    :param session: the database session (read only).
    :param params: the planner's parameters.
    :param now: when the report is generated (aware UTC).
    :return: the report, every figure unrounded.
    :raises InvalidRequest: unknown unit, reversed period, unknown level.
    """
    ctx = build_context(session, params)
    report = Report(
        kind="needs",
        parameters={
            "as_of": params.as_of,
            "period_from": params.period_from,
            "period_to": params.period_to,
            "unit": params.unit,
            "level": list(params.levels),
            "staff_cat": list(params.staff_cats),
            "job_position": list(params.job_positions),
            "province": ctx.province,
            "settings": ctx.settings,
        },
        as_of=params.as_of,
        generated_at=now,
        unit_code=ctx.scope.whole.unit.code,
        unit_name=ctx.scope.whole.unit.name,
    )
    kpis, coverage_section = _coverage_section(ctx, report)
    gap_tables: dict[str, list] = {}
    gaps = gaps_section(ctx, report, gap_tables)
    topics, topic_rows = topics_section(ctx, report, gap_tables)
    sections = [
        _summary_section(ctx, report, kpis, gap_tables, topic_rows, coverage_section),
        survey_section(ctx, report),
        workforce_section(ctx, report),
        coverage_section,
        gaps,
        topics,
        preferences_section(ctx, report),
        _plan_section(ctx, report, kpis, gap_tables, topic_rows),
        annex_section(ctx, report),
    ]
    report.sections = sections
    respondents = sum(needs_answers.respondent_counts(session, ctx.answers, by="all").values())
    in_post = sum(
        needs_workforce.roster_counts(session, ctx.scope, params.as_of, ctx.postings).values()
    )
    if respondents == 0 and in_post == 0:
        report.empty_reason_vi = (
            "Không có dữ liệu: đơn vị này không có ai trong danh sách nhân lực vào ngày báo cáo "
            "và không có phiếu đánh giá nhu cầu nào trong kỳ."
        )
        report.empty_reason_en = (
            "No data: nobody of this unit is in the staff register on the report date and no "
            "needs assessment was received in the period."
        )
    return report


# --- D: coverage against the targets ----------------------------------------------------------


def period_for(targets: list[Target], as_of: dt.date) -> Target | None:
    """The target period in force on ``as_of`` (else the next one, else the last)."""
    for target in targets:
        if target.period_start <= as_of <= target.period_end:
            return target
    later = [t for t in targets if t.period_start > as_of]
    return later[0] if later else (targets[-1] if targets else None)


def _target_by_year(targets: list[Target], year: int) -> float | None:
    return next((t.target_pct for t in targets if t.period_end.year == year), None)


def _class_size(ctx: Context, kpi: str) -> int:
    key = "class_size_ctv" if kpi in {"KPI-06", "KPI-09"} else "class_size_other"
    return int(ctx.settings[key])


def kpi03_readings(ctx: Context) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """KPI-03's readings (spec §1.9): both series until the department decides."""
    cdnn = ("KPI-03", "chỉ CDNN", "CDNN only", needs_kpis.CDNN)
    both = (
        "KPI-03b",
        "CDNN hoặc đạt chuẩn VC",
        "CDNN or VC standard",
        (*needs_kpis.CDNN, "vc_std"),
    )
    choice = ctx.settings.get("kpi03_counts_vc_standard")
    if choice is None:
        return [cdnn, both]
    return [both if choice else cdnn]


def _coverage_section(ctx: Context, report: Report):
    session, params = ctx.session, ctx.params
    targets = targets_of(session, ctx.province)
    section = ReportSection(
        "D", "Độ bao phủ đào tạo so với chỉ tiêu", "Training coverage vs targets"
    )
    results = []
    series: list[tuple[str, str, str, tuple[str, ...] | None, str]] = []
    for code in PERSON_KPIS:
        if code == "KPI-03":
            series += [(key, vi, en, certs, code) for key, vi, en, certs in kpi03_readings(ctx)]
        else:
            series.append((code, "", "", None, code))
    chart_rows = []
    for key, reading_vi, reading_en, certs, code in series:
        rule = KPIS[code]
        period = period_for(targets.get(code, []), params.as_of)
        since = period.period_start if period else dt.date(params.as_of.year, 1, 1)
        counts = needs_kpis.count_kpi(
            session,
            ctx.scope,
            rule,
            as_of=params.as_of,
            since=since,
            settings=ctx.settings,
            extra=ctx.postings,
            certificates=certs,
        )
        if ctx.settings.get("stock_or_flow") == "flow":
            counts = _flow(counts)
        baseline_pct, baseline_date = _baseline(ctx, rule, period, certs)
        result = _evaluate(ctx, key, counts.numerator, counts.denominator, period, baseline_pct,
                           baseline_date)  # fmt: skip
        results.append((key, reading_vi, reading_en, rule, result, counts, targets.get(code, [])))
        chart_rows.append(
            {
                "kpi": key,
                "coverage": result.coverage_pct,
                "expected": result.expected_pct,
                "target": result.target_pct,
                "status": result.status,
            }
        )
        section.tables.append(
            _kpi_table(ctx, key, reading_vi, reading_en, rule, counts, result, period)
        )
    section.tables.append(_collaborator_table(ctx, report, targets.get("KPI-06", [])))
    structural = _structural_table(ctx, targets)
    section.tables.append(structural)
    report.charts["N1"] = {"rows": chart_rows}
    report.charts["N2"] = _by_unit_chart(section.tables[0])
    section.charts = ["N2", "N3"]
    return results, section


def _flow(counts: needs_kpis.KpiCounts) -> needs_kpis.KpiCounts:
    """The ``flow`` reading (§1.9): only qualifications dated within the target period count."""
    rows = {index: _flow(part) for index, part in counts.rows.items()}
    return needs_kpis.KpiCounts(
        denominator=counts.denominator,
        numerator=counts.within_period,
        self_reported_only=0,  # a self-report carries no date
        within_period=counts.within_period,
        rows=rows,
    )


def _baseline(ctx: Context, rule, period: Target | None, certs):
    """The period's baseline: as set for the province, else the register's figure on its date."""
    if period is None or period.baseline_date is None:
        return None, None
    if period.baseline_pct is not None:
        return period.baseline_pct, period.baseline_date
    counts = needs_kpis.count_kpi(
        ctx.session,
        ctx.scope,
        rule,
        as_of=period.baseline_date,
        since=period.period_start,
        settings=ctx.settings,
        extra=ctx.postings,
        certificates=certs,
    )
    if counts.denominator == 0:
        return None, None
    return counts.numerator * 100 / counts.denominator, period.baseline_date


def _evaluate(ctx: Context, key, numerator, denominator, period, baseline_pct, baseline_date):
    return evaluate_kpi(
        key,
        numerator=numerator,
        denominator=denominator,
        target_pct=period.target_pct if period else 100,
        target_year=period.period_end.year if period else ctx.params.as_of.year,
        as_of=ctx.params.as_of,
        class_size=_class_size(ctx, key),
        baseline_pct=baseline_pct,
        baseline_date=baseline_date,
    )


KPI_COLUMNS = [
    ReportColumn("unit", "Đơn vị", "Unit"),
    ReportColumn("denominator", "Mẫu số (người)", "Denominator (persons)", "count"),
    ReportColumn("numerator", "Đạt (người)", "Qualified (persons)", "count"),
    ReportColumn("self_reported", "Trong đó chỉ tự khai", "Of which self-reported only", "count"),
    ReportColumn("within_period", "Đạt trong kỳ chỉ tiêu", "Qualified within the period", "count"),
    ReportColumn("coverage", "Tỷ lệ %", "Coverage %", "pct"),
    ReportColumn("target", "Chỉ tiêu %", "Target %", "pct"),
    ReportColumn("persons_to_target", "Số người cần đào tạo", "Persons still to train", "count"),
    ReportColumn("per_year", "Mỗi năm", "Per year", "count"),
    ReportColumn("classes", "Số lớp", "Classes", "count"),
    ReportColumn("status", "Trạng thái", "Status"),
]


def _kpi_table(ctx, key, reading_vi, reading_en, rule, counts, result, period) -> ReportTable:
    title_vi = f"{key[:6]} {rule.vi}" + (f" ({reading_vi})" if reading_vi else "")
    title_en = f"{key[:6]} {rule.en}" + (f" ({reading_en})" if reading_en else "")
    table = ReportTable(
        id=f"D-{key}",
        vi=title_vi,
        en=title_en,
        columns=KPI_COLUMNS,
        n=counts.denominator,
        denominator_vi=f"{rule.denominator_vi}, vào ngày {ctx.params.as_of:%d/%m/%Y}",
        denominator_en=f"{rule.denominator_en}, on {ctx.params.as_of:%d/%m/%Y}",
        sources=[
            "danh sách nhân lực / staff register",
            "khóa học / courses",
            "phiếu TNA (tự khai)",
        ],
    )
    table.rows.append(_kpi_row(ctx, ctx.scope.whole.unit.name, counts, result))
    for index, part in enumerate(ctx.scope.rows):
        row_counts = counts.rows.get(index)
        if row_counts is None or row_counts.denominator == 0:
            continue
        row_result = _evaluate(ctx, key, row_counts.numerator, row_counts.denominator, period,
                               result.baseline_pct, _date(result.baseline_date))  # fmt: skip
        table.rows.append(_kpi_row(ctx, part.unit.name, row_counts, row_result))
    if counts.denominator == 0:
        table.empty_reason_vi = (
            "Mẫu số bằng 0: không có ai thuộc nhóm này trong danh sách nhân lực."
        )
        table.empty_reason_en = "Zero denominator: nobody of this group is in the staff register."
    table.notes_vi.append(
        "Tính theo tồn lượng: người đang tại chức có ít nhất một chứng chỉ hoặc khóa học đạt "
        "yêu cầu đến ngày báo cáo; ưu tiên nguồn: chứng chỉ > hoàn thành khóa học > tự khai."
    )
    table.notes_en.append(
        "Stock: people in post with at least one qualifying certificate or completion up to the "
        "report date; sources by trust: certificate > completion > self-report."
    )
    return table


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _kpi_row(ctx, name, counts, result) -> dict:
    return {
        "unit": name,
        "denominator": counts.denominator,
        "numerator": counts.numerator,
        "self_reported": counts.self_reported_only,
        "within_period": counts.within_period,
        "coverage": result.coverage_pct,
        "target": result.target_pct,
        "persons_to_target": result.persons_to_target,
        "per_year": result.per_year_needed,
        "classes": result.classes_needed,
        "status": result.status or ("—" if result.reason else None),
        "reason": result.reason,
    }


def _by_unit_chart(table: ReportTable) -> dict:
    rows = [r for r in table.rows[1:] if r["coverage"] is not None]
    return {
        "kpi": table.id,
        "target": table.rows[0]["target"] if table.rows else None,
        "rows": [{"label": r["unit"], "value": r["coverage"]} for r in rows],
    }


def _collaborator_table(ctx: Context, report: Report, targets: list[Target]) -> ReportTable:
    params = ctx.params
    first_year = min((t.period_start.year for t in targets), default=params.as_of.year)
    table = ReportTable(
        id="D-KPI-06",
        vi="KPI-06 Cộng tác viên dân số được tập huấn trong năm",
        en="KPI-06 Population collaborators trained during the year",
        columns=[
            ReportColumn("year", "Năm", "Year"),
            ReportColumn("denominator", "CTV tại chức", "Collaborators in post", "count"),
            ReportColumn("trained", "CTV được tập huấn (người)", "Trained (persons)", "count"),
            ReportColumn("coverage", "Tỷ lệ %", "Coverage %", "pct"),
            ReportColumn("person_times", "Lượt người", "Person-times", "count"),
            ReportColumn("target", "Chỉ tiêu %/năm", "Target %/year", "pct"),
            ReportColumn("needed", "Cần tập huấn/năm", "To train per year", "count"),
        ],
        denominator_vi="CTV đang tại chức ngày 31/12 (năm hiện tại: ngày báo cáo)",
        denominator_en="Collaborators in post on 31/12 (current year: the report date)",
        sources=["danh sách nhân lực / staff register", "khóa học / courses"],
    )
    series = []
    for year in range(first_year, params.as_of.year + 1):
        flow = needs_kpis.count_collaborator_flow(
            ctx.session, ctx.scope, year=year, as_of=params.as_of, settings=ctx.settings,
            extra=ctx.postings,
        )  # fmt: skip
        target = next(
            (t.target_pct for t in targets if t.period_start.year <= year <= t.period_end.year),
            None,
        )
        coverage = flow.trained * 100 / flow.denominator if flow.denominator else None
        needed = None
        if target is not None and flow.denominator:
            needed = persons_to_target(0, flow.denominator, target)
        table.rows.append(
            {
                "year": str(year),
                "denominator": flow.denominator,
                "trained": flow.trained,
                "coverage": coverage,
                "person_times": flow.person_times,
                "target": target,
                "needed": needed,
            }
        )
        series.append({"year": year, "value": coverage, "target": target})
    table.n = table.rows[-1]["denominator"] if table.rows else 0
    table.notes_vi.append("Người: mỗi CTV tính một lần trong năm; lượt người: mỗi lần hoàn thành.")
    table.notes_en.append("Persons: each collaborator once a year; person-times: each completion.")
    report.charts["N3"] = {"rows": series, "milestones": [2023, 2025, 2026, 2030]}
    return table


def _structural_table(ctx: Context, targets: dict[str, list[Target]]) -> ReportTable:
    as_of = ctx.params.as_of
    table = ReportTable(
        id="D-structure",
        vi="KPI-07…09 Mạng lưới: trạm có người làm dân số, thôn có CTV, CTV kiêm nhiệm",
        en="KPI-07…09 Network: stations with population staff, hamlets with a CTV, dual-role CTV",
        columns=[
            ReportColumn("kpi", "Chỉ số", "KPI"),
            ReportColumn("denominator", "Mẫu số", "Denominator", "count"),
            ReportColumn("numerator", "Đạt", "Met", "count"),
            ReportColumn("coverage", "Tỷ lệ %", "Coverage %", "pct"),
            ReportColumn("target", "Chỉ tiêu %", "Target %", "pct"),
            ReportColumn("note", "Ghi chú", "Note"),
        ],
        denominator_vi="Đơn vị hành chính và CTV vào ngày báo cáo",
        denominator_en="Administrative units and collaborators on the report date",
    )
    stations = needs_kpis.count_units_with_staff(
        ctx.session, ctx.scope, level="commune", categories=("vc_commune",), as_of=as_of
    )
    hamlets = needs_kpis.count_units_with_staff(
        ctx.session, ctx.scope, level="hamlet", categories=needs_kpis.COLLABORATORS, as_of=as_of
    )
    dual = needs_kpis.count_dual_role(ctx.session, ctx.scope, as_of=as_of, extra=ctx.postings)
    for code, (total, met), name_vi, name_en, note_vi in (
        ("KPI-07", stations, "Trạm y tế xã có người làm dân số", "Communes with population staff",
         ""),
        ("KPI-08", hamlets, "Thôn, tổ dân phố có CTV dân số", "Hamlets with a collaborator",
         "" if hamlets[0] else "Chưa nạp danh sách thôn, tổ dân phố"),
        ("KPI-09", dual, "CTV kiêm 3 nhiệm vụ", "Collaborators holding all three roles",
         "Chỉ theo dõi, không có chỉ tiêu %"),
    ):  # fmt: skip
        period = period_for(targets.get(code, []), as_of)
        table.rows.append(
            {
                "kpi": code,
                "name": name_vi,
                "name_en": name_en,
                "denominator": total,
                "numerator": met,
                "coverage": met * 100 / total if total else None,
                "target": period.target_pct if period else None,
                "note": note_vi or ("—" if not total else ""),
            }
        )
    return table


# --- A: summary -------------------------------------------------------------------------------


def _summary_section(ctx, report, kpis, gap_tables, topic_rows, coverage) -> ReportSection:
    section = ReportSection("A", "Tóm tắt", "Summary")
    table = ReportTable(
        id="A-scorecard",
        vi="Bảng điểm các chỉ số",
        en="KPI scorecard",
        columns=[
            ReportColumn("kpi", "Chỉ số", "KPI"),
            ReportColumn("name", "Nội dung", "Indicator"),
            ReportColumn("baseline", "Đầu kỳ %", "Baseline %", "pct"),
            ReportColumn("baseline_date", "Ngày đầu kỳ", "Baseline date", "date"),
            ReportColumn("coverage", "Hiện tại %", "Now %", "pct"),
            ReportColumn("n", "n", "n", "count"),
            ReportColumn("target_2025", "Chỉ tiêu 2025 %", "Target 2025 %", "pct"),
            ReportColumn("target_2030", "Chỉ tiêu 2030 %", "Target 2030 %", "pct"),
            ReportColumn("expected", "Kỳ vọng hiện tại %", "Expected now %", "pct"),
            ReportColumn("status", "Trạng thái", "Status"),
            ReportColumn("persons_to_target", "Còn phải đào tạo", "Still to train", "count"),
            ReportColumn("per_year", "Mỗi năm", "Per year", "count"),
            ReportColumn("classes", "Số lớp", "Classes", "count"),
        ],
        n=None,
        denominator_vi="Xem từng bảng mục D",
        denominator_en="See each table of section D",
    )
    for key, reading_vi, reading_en, rule, result, _counts, kpi_targets in kpis:
        table.rows.append(
            {
                "kpi": key,
                "name": rule.vi + (f" ({reading_vi})" if reading_vi else ""),
                "name_en": rule.en + (f" ({reading_en})" if reading_en else ""),
                "baseline": result.baseline_pct,
                "baseline_date": _date(result.baseline_date),
                "coverage": result.coverage_pct,
                "n": result.denominator,
                "target_2025": _target_by_year(kpi_targets, 2025),
                "target_2030": _target_by_year(kpi_targets, 2030),
                "expected": result.expected_pct,
                "status": result.status,
                "persons_to_target": result.persons_to_target,
                "per_year": result.per_year_needed,
                "classes": result.classes_needed,
                "reason": result.reason,
            }
        )
    table.rows += _network_rows(ctx, coverage)
    section.tables.append(table)
    findings = three_findings(
        [r for _, _, _, _, r, _, _ in kpis],
        {
            "CTV": gap_tables.get("village", []),
            "xã": gap_tables.get("commune", []),
        },
        topic_rows.get("all", []),
    )
    report.findings_vi, report.findings_en = _finding_lines(ctx, findings)
    section.charts = ["N1"]
    return section


def _network_rows(ctx: Context, coverage: ReportSection) -> list[dict]:
    """Scorecard rows of the KPIs that are not stocks of people: KPI-06 (this year), 07, 08."""
    rows = []
    as_of = ctx.params.as_of
    flow = next(t for t in coverage.tables if t.id == "D-KPI-06")
    this_year = flow.rows[-1] if flow.rows else None
    if this_year is not None and this_year["target"] is not None:
        start = dt.date(as_of.year, 1, 1)
        days = (dt.date(as_of.year, 12, 31) - start).days + 1
        expected = this_year["target"] * ((as_of - start).days + 1) / days
        persons = max((this_year["needed"] or 0) - this_year["trained"], 0)
        rows.append(
            {
                "kpi": "KPI-06",
                "name": f"CTV được tập huấn trong năm {as_of.year}",
                "name_en": f"Collaborators trained in {as_of.year}",
                "coverage": this_year["coverage"],
                "n": this_year["denominator"],
                "target_2025": _target_year(flow, 2025),
                "target_2030": _target_year(flow, 2030),
                "expected": expected,
                "status": _status(this_year["coverage"], expected),
                "persons_to_target": persons,
                "classes": -(-persons // int(ctx.settings["class_size_ctv"])),
            }
        )
    structure = next(t for t in coverage.tables if t.id == "D-structure")
    for row in structure.rows:
        if row["kpi"] == "KPI-09":
            continue
        rows.append(
            {
                "kpi": row["kpi"],
                "name": row["name"],
                "name_en": row["name_en"],
                "coverage": row["coverage"],
                "n": row["denominator"],
                "target_2030": row["target"],
                "expected": row["target"],
                "status": _status(row["coverage"], row["target"]),
                "reason": None if row["denominator"] else "zero_denominator",
            }
        )
    return rows


def _target_year(flow: ReportTable, year: int) -> float | None:
    return next((r["target"] for r in flow.rows if r["year"] == str(year)), None)


def _status(coverage: float | None, expected: float | None) -> str | None:
    if coverage is None or expected is None:
        return None
    return kpi_status(round(coverage, 9), round(expected, 9))


def _finding_lines(ctx: Context, findings) -> tuple[list[str], list[str]]:
    vi, en = [], []
    worst = findings.worst_kpi
    if worst is not None and worst.coverage_pct is not None:
        vi.append(
            f"Chỉ số chậm nhất: {worst.kpi_code} đạt {_pct(worst.coverage_pct)} so với chỉ tiêu "
            f"{_pct(worst.target_pct)}; còn {worst.persons_to_target} người cần đào tạo."
        )
        en.append(
            f"Furthest behind: {worst.kpi_code} at {worst.coverage_pct:.1f} % against "
            f"{worst.target_pct:.0f} %; {worst.persons_to_target} people still to train."
        )
    for group, rows in findings.top_competencies.items():
        if rows:
            names_vi = "; ".join(ctx.labels.get("competency", r.item, "vi") for r in rows)
            names_en = "; ".join(ctx.labels.get("competency", r.item, "en") for r in rows)
            vi.append(f"Năng lực ưu tiên nhất của {group}: {names_vi}.")
            en.append(f"Top-priority competencies ({group}): {names_en}.")
    if findings.top_topics:
        vi.append(
            "Chủ đề được yêu cầu nhiều nhất: "
            + "; ".join(ctx.labels.get("topic", t.topic, "vi") for t in findings.top_topics)
            + "."
        )
        en.append(
            "Most wanted topics: "
            + "; ".join(ctx.labels.get("topic", t.topic, "en") for t in findings.top_topics)
            + "."
        )
    if not vi:
        vi.append("Chưa đủ dữ liệu để rút ra nhận định.")
        en.append("Not enough data for findings yet.")
    return vi, en


def _pct(value: float) -> str:
    return f"{value:.1f}".replace(".", ",") + " %"


# --- H: suggested training plan ---------------------------------------------------------------


def _plan_section(ctx, report, kpis, gap_tables, topic_rows) -> ReportSection:
    section = ReportSection("H", "Đề xuất kế hoạch đào tạo", "Suggested training plan")
    status_of_topic: dict[str, tuple[str | None, int]] = {}
    for key, _vi, _en, _rule, result, _counts, _t in kpis:
        for topic, codes in catalogue.TOPIC_KPIS.items():
            if key[:6] in codes and result.persons_to_target:
                status, persons = status_of_topic.get(topic, (None, 0))
                worse = result.status if result.status in ("red", "amber") else status
                status_of_topic[topic] = (worse, max(persons, result.persons_to_target))
    candidates = []
    mwds_values = []
    for level, rows in gap_tables.items():
        by_topic: dict[str, object] = {}
        for row in rows:
            if row.mwds is None or row.suppressed:
                continue
            mwds_values.append(row.mwds)
            for topic in catalogue.COMPETENCY_TOPICS.get(row.item.upper(), ()):
                best = by_topic.get(topic)
                if best is None or row.mwds > best.mwds:
                    by_topic[topic] = row
        demand = {t.topic.upper(): t for t in topic_rows.get(level, [])}
        for topic in sorted(set(by_topic) | set(demand)):
            row = by_topic.get(topic)
            wanted = demand.get(topic)
            status, kpi_persons = status_of_topic.get(topic, (None, 0))
            persons = kpi_persons or (wanted.n_selected if wanted else 0)
            if not persons:
                continue
            candidates.append(
                PlanCandidate(
                    topic=topic,
                    group=level,
                    unit=ctx.scope.whole.unit.code,
                    persons=persons,
                    class_size=int(
                        ctx.settings["class_size_ctv" if level == "village" else "class_size_other"]
                    ),
                    course=catalogue.TOPIC_COURSES.get(topic, "CR11"),
                    kpi_status=status,
                    quadrant=row.quadrant if row else None,
                    mwds=row.mwds if row else None,
                    demand_share=wanted.demand_share if wanted else None,
                )
            )
    plan = build_training_plan(candidates, mwds_cut=mwds_top_quartile_cut(mwds_values))
    table = ReportTable(
        id="H-plan",
        vi="Đề xuất kế hoạch đào tạo (để thảo luận)",
        en="Suggested training plan (for discussion)",
        columns=[
            ReportColumn("priority", "Ưu tiên", "Priority"),
            ReportColumn("topic", "Chủ đề", "Topic"),
            ReportColumn("group", "Đối tượng", "Target group"),
            ReportColumn("persons", "Số người", "Persons", "count"),
            ReportColumn("course", "Loại khóa", "Course type"),
            ReportColumn("classes", "Số lớp", "Classes", "count"),
        ],
        n=len(plan),
        denominator_vi="Số người: từ chỉ số mục D nếu có, nếu không là số người chọn chủ đề",
        denominator_en="Persons: from section D where a KPI applies, else respondents asking",
        notes_vi=[
            "Ưu tiên: P1 chỉ tiêu chưa đạt; P2 góc phần tư Q1 và MWDS thuộc 25 % cao nhất; "
            "P3 tỷ lệ yêu cầu ≥ 30 %; P4 còn lại."
        ],
        notes_en=[
            "Priority: P1 target behind; P2 quadrant Q1 with MWDS in the top quartile; "
            "P3 demand ≥ 30 %; P4 otherwise."
        ],
    )
    for line in plan:
        table.rows.append(
            {
                "priority": line.priority,
                "topic": f"{line.topic} {ctx.labels.get('topic', line.topic, 'vi')}",
                "topic_en": f"{line.topic} {ctx.labels.get('topic', line.topic, 'en')}",
                "group": ctx.labels.get("level", line.group, "vi"),
                "group_en": ctx.labels.get("level", line.group, "en"),
                "persons": line.persons,
                "course": line.course,
                "classes": line.classes,
            }
        )
    if not plan:
        table.empty_reason_vi = "Chưa có chỉ tiêu chưa đạt hay nhu cầu nào để đề xuất."
        table.empty_reason_en = "No target behind and no need to propose from yet."
    section.tables.append(table)
    return section
