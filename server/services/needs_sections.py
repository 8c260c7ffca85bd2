"""Sections B, C, E, F, G and I of the needs report (reports spec §2.3).

Each is built from grouped counts (``needs_answers``, ``needs_workforce``) and the pure
statistics of ``server.domain``.
"""

from __future__ import annotations

from dataclasses import replace
from statistics import median
from typing import TYPE_CHECKING

from server.domain import catalogue
from server.domain.needs_gap import (
    gap_inference,
    gap_stats,
    gap_sums,
    gap_table,
    pair_table_from_counts,
)
from server.domain.needs_topics import TopicCounts, topic_demand
from server.domain.report_model import Report, ReportColumn, ReportSection, ReportTable
from server.services import needs_answers, needs_workforce

if TYPE_CHECKING:
    from server.services.needs_report import Context

LEVELS = ("province", "district", "commune", "village")
TOPICS = catalogue.TOPICS


def _level_label(ctx: Context, level: str | None, lang: str = "vi") -> str:
    return ctx.labels.get("level", level, lang)


def _row_name(ctx: Context, index: int) -> str:
    if 0 <= index < len(ctx.scope.rows):
        return ctx.scope.rows[index].unit.name
    return ctx.scope.whole.unit.name


# --- B: survey coverage -----------------------------------------------------------------------


def survey_section(ctx: Context, report: Report) -> ReportSection:
    """B1 roster vs respondents per unit and level; B2 respondents by category and level."""
    section = ReportSection("B", "Độ bao phủ khảo sát", "Survey coverage")
    roster = needs_workforce.roster_counts(ctx.session, ctx.scope, ctx.params.as_of, ctx.postings)
    answers = needs_answers.survey_coverage(ctx.session, ctx.answers)
    caution = float(ctx.settings["response_rate_caution"])
    table = ReportTable(
        id="B1",
        vi="Độ bao phủ khảo sát theo đơn vị và tuyến",
        en="Survey coverage by unit and level",
        columns=[
            ReportColumn("unit", "Đơn vị", "Unit"),
            ReportColumn("level", "Tuyến", "Level"),
            ReportColumn("roster", "Trong danh sách", "On the register", "count"),
            ReportColumn("respondents", "Người trả lời", "Respondents", "count"),
            ReportColumn("matched", "Khớp danh sách", "Matched", "count"),
            ReportColumn("response_rate", "Tỷ lệ trả lời %", "Response rate %", "pct"),
            ReportColumn("unmatched", "Không khớp", "Unmatched", "count"),
            ReportColumn("duplicates", "Trùng, đã loại", "Duplicates removed", "count"),
            ReportColumn("caution", "Lưu ý", "Caution"),
        ],
        denominator_vi=f"Người tại chức ngày {ctx.params.as_of:%d/%m/%Y}; phiếu trong kỳ",
        denominator_en=f"People in post on {ctx.params.as_of:%d/%m/%Y}; answers in the period",
        sources=["danh sách nhân lực / staff register", "phiếu TNA / TNA answers"],
        notes_vi=[f"Tỷ lệ trả lời dưới {caution:.0f} % được đánh dấu ⚠."],
        notes_en=[f"Response rates below {caution:.0f} % are marked ⚠."],
    )
    keys = sorted(set(roster) | set(answers), key=lambda k: (k[0], _level_rank(k[1])))
    total = {"roster": 0, "respondents": 0, "matched": 0, "unmatched": 0, "duplicates": 0}
    for index, level in keys:
        counts = answers.get((index, level), needs_answers.CoverageCounts())
        on_roster = roster.get((index, level), 0)
        rate = counts.matched * 100 / on_roster if on_roster else None
        table.rows.append(
            {
                "unit": _row_name(ctx, index),
                "level": _level_label(ctx, level),
                "level_en": _level_label(ctx, level, "en"),
                "roster": on_roster,
                "respondents": counts.respondents,
                "matched": counts.matched,
                "response_rate": rate,
                "unmatched": counts.unmatched,
                "duplicates": counts.duplicates,
                "caution": "⚠" if rate is not None and rate < caution else "",
            }
        )
        for key, value in (
            ("roster", on_roster),
            ("respondents", counts.respondents),
            ("matched", counts.matched),
            ("unmatched", counts.unmatched),
            ("duplicates", counts.duplicates),
        ):
            total[key] += value
    table.n = total["respondents"]
    if table.rows:
        table.rows.insert(
            0,
            {
                "unit": ctx.scope.whole.unit.name,
                "level": "Tổng",
                "level_en": "Total",
                **total,
                "response_rate": total["matched"] * 100 / total["roster"]
                if total["roster"]
                else None,
                "caution": "",
            },
        )
    else:
        table.empty_reason_vi = "Không có ai trong danh sách và không có phiếu trả lời."
        table.empty_reason_en = "Nobody on the register and no answers."
    section.tables.append(table)
    by_cat = needs_answers.distribution(ctx.session, ctx.answers, "staff_cat", by="level")
    b2 = _crosstab(
        ctx,
        "B2",
        "Người trả lời theo nhóm đối tượng và tuyến",
        "Respondents by staff category and level",
        by_cat,
        "staff_cat",
    )
    section.tables.append(b2)
    return section


def _level_rank(level: str | None) -> int:
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


def _crosstab(ctx, table_id, vi, en, counts: dict, list_name: str) -> ReportTable:
    """Rows: a code of ``list_name``; columns: levels (n and % of the level)."""
    levels = sorted(counts, key=_level_rank)
    columns = [ReportColumn("code", "Nhóm", "Group")]
    for level in levels:
        columns.append(
            ReportColumn(
                f"n_{level}", _level_label(ctx, level), _level_label(ctx, level, "en"), "count"
            )
        )
        columns.append(ReportColumn(f"pct_{level}", "%", "%", "pct"))
    table = ReportTable(id=table_id, vi=vi, en=en, columns=columns)
    totals = {level: sum(counts[level].values()) for level in levels}
    codes = sorted({code for level in levels for code in counts[level]}, key=lambda c: str(c))
    for code in codes:
        row = {
            "code": ctx.labels.get(list_name, code, "vi"),
            "code_en": ctx.labels.get(list_name, code, "en"),
        }
        for level in levels:
            n = counts[level].get(code, 0)
            row[f"n_{level}"] = n
            row[f"pct_{level}"] = n * 100 / totals[level] if totals[level] else None
        table.rows.append(row)
    table.n = sum(totals.values())
    if not table.rows:
        table.empty_reason_vi = "Không có phiếu trả lời trong kỳ."
        table.empty_reason_en = "No answers in the period."
    return table


# --- C: workforce profile ---------------------------------------------------------------------


def workforce_section(ctx: Context, report: Report) -> ReportSection:
    """C1 education × field, C2 certificates, C3 years in work and sex, C4 training days."""
    section = ReportSection("C", "Thực trạng đội ngũ", "Workforce profile")
    args = (ctx.session, ctx.scope, ctx.params.as_of, ctx.postings)
    roster = needs_workforce.roster_counts(*args)
    per_level: dict[str, int] = {}
    for (_, level), n in roster.items():
        per_level[level] = per_level.get(level, 0) + n
    levels = sorted(per_level, key=_level_rank)
    when = f"ngày {ctx.params.as_of:%d/%m/%Y}"

    education = needs_workforce.education(*args)
    c1 = ReportTable(
        id="C1",
        vi="Trình độ chuyên môn theo tuyến (y dược / ngành khác)",
        en="Education by level (medicine–pharmacy / other field)",
        columns=[ReportColumn("level", "Tuyến", "Level")]
        + [
            column
            for code in (*catalogue.EDUCATION, None)
            for column in (
                ReportColumn(
                    f"{code}_medpharm",
                    f"{_edu(ctx, code)}: y dược",
                    f"{_edu(ctx, code, 'en')}: med.",
                    "count",
                ),
                ReportColumn(
                    f"{code}_other",
                    f"{_edu(ctx, code)}: khác",
                    f"{_edu(ctx, code, 'en')}: other",
                    "count",
                ),
            )
        ]
        + [ReportColumn("total", "Tổng", "Total", "count")],
        denominator_vi=f"Người tại chức {when}",
        denominator_en=f"People in post on {ctx.params.as_of:%d/%m/%Y}",
        sources=["danh sách nhân lực / staff register"],
    )
    for level in levels:
        row = {"level": _level_label(ctx, level), "level_en": _level_label(ctx, level, "en")}
        for (edu, field), n in education.get(level, {}).items():
            kind = "medpharm" if field == "medpharm" else "other"
            key = f"{edu if edu in catalogue.EDUCATION else None}_{kind}"
            row[key] = row.get(key, 0) + n
        row["total"] = per_level[level]
        c1.rows.append(row)
    c1.n = sum(per_level.values())
    section.tables.append(c1)
    report.charts["N4"] = {
        "levels": [_level_label(ctx, level) for level in levels],
        "series": {
            _edu(ctx, code): [
                sum(n for (edu, _f), n in education.get(level, {}).items() if edu == code)
                for level in levels
            ]
            for code in catalogue.EDUCATION
        },
    }

    held = needs_workforce.certificates(*args)
    c2 = ReportTable(
        id="C2",
        vi="Chứng chỉ đang có theo tuyến",
        en="Certificates held by level",
        columns=[ReportColumn("certificate", "Chứng chỉ", "Certificate")]
        + [
            column
            for level in levels
            for column in (
                ReportColumn(
                    f"n_{level}", _level_label(ctx, level), _level_label(ctx, level, "en"), "count"
                ),
                ReportColumn(f"pct_{level}", "%", "%", "pct"),
            )
        ],
        n=sum(per_level.values()),
        denominator_vi=f"Người tại chức của tuyến, {when}",
        denominator_en="People in post at the level",
        sources=["danh sách nhân lực / staff register"],
    )
    for code in catalogue.CERTIFICATES:
        row = {
            "certificate": ctx.labels.get("certs", code, "vi"),
            "certificate_en": ctx.labels.get("certs", code, "en"),
        }
        for level in levels:
            n = held.get(level, {}).get(code, 0)
            row[f"n_{level}"] = n
            row[f"pct_{level}"] = n * 100 / per_level[level] if per_level[level] else None
        c2.rows.append(row)
    section.tables.append(c2)

    years = needs_workforce.years_in_work(*args)
    sexes = needs_workforce.sex_by_level(*args)
    c3 = ReportTable(
        id="C3",
        vi="Số năm làm công tác dân số, giới tính theo tuyến",
        en="Years in population work and sex by level",
        columns=[ReportColumn("level", "Tuyến", "Level")]
        + [
            ReportColumn(f"years_{label}", f"{label} năm", f"{label} years", "count")
            for label, _ in needs_workforce.YEAR_BANDS
        ]
        + [
            ReportColumn("female", "Nữ", "Women", "count"),
            ReportColumn("male", "Nam", "Men", "count"),
            ReportColumn("female_pct", "% nữ", "% women", "pct"),
            ReportColumn("total", "Tổng", "Total", "count"),
        ],
        n=sum(per_level.values()),
        denominator_vi=f"Người tại chức {when}; số năm tính từ vị trí đầu tiên trong danh sách",
        denominator_en="People in post; years from their first position on the register",
        notes_vi=["Dân tộc thiểu số: danh sách nhân lực không ghi; xem phiếu TNA (mục B2)."],
        notes_en=["Ethnic minority: the register has no such column; see the TNA answers."],
    )
    for level in levels:
        row = {"level": _level_label(ctx, level), "level_en": _level_label(ctx, level, "en")}
        for label, _ in needs_workforce.YEAR_BANDS:
            row[f"years_{label}"] = years.get(level, {}).get(label, 0)
        female, male = sexes.get(level, {}).get("f", 0), sexes.get(level, {}).get("m", 0)
        row.update(
            female=female,
            male=male,
            female_pct=female * 100 / per_level[level] if per_level[level] else None,
            total=per_level[level],
        )
        c3.rows.append(row)
    section.tables.append(c3)

    days = needs_workforce.training_days(*args)
    c4 = ReportTable(
        id="C4",
        vi="Số ngày được đào tạo trong 12 tháng qua",
        en="Training days received in the last 12 months",
        columns=[
            ReportColumn("level", "Tuyến", "Level"),
            ReportColumn("n", "n", "n", "count"),
            ReportColumn("mean", "Trung bình", "Mean", "decimal"),
            ReportColumn("median", "Trung vị", "Median", "decimal"),
            ReportColumn("zero_pct", "% không ngày nào", "% with 0 days", "pct"),
        ],
        n=sum(per_level.values()),
        denominator_vi="Người tại chức; ngày theo lịch của các khóa đã hoàn thành",
        denominator_en="People in post; calendar days of completed courses",
    )
    for level in levels:
        histogram = dict(days.get(level, {}))
        trained = sum(histogram.values())
        histogram[0] = histogram.get(0, 0) + max(per_level[level] - trained, 0)
        count = sum(histogram.values())
        mean = sum(d * n for d, n in histogram.items()) / count if count else None
        c4.rows.append(
            {
                "level": _level_label(ctx, level),
                "level_en": _level_label(ctx, level, "en"),
                "n": count,
                "mean": mean,
                "median": _histogram_median(histogram),
                "zero_pct": histogram.get(0, 0) * 100 / count if count else None,
            }
        )
    section.tables.append(c4)
    section.charts = ["N4"]
    return section


def _edu(ctx: Context, code: str | None, lang: str = "vi") -> str:
    if code is None:
        return "Chưa rõ" if lang == "vi" else "Unknown"
    return ctx.labels.get("edu_level", code, lang)


def _histogram_median(histogram: dict[int, int]) -> float | None:
    total = sum(histogram.values())
    if not total:
        return None
    ordered = sorted(histogram.items())
    positions = ((total - 1) // 2, total // 2)
    found = []
    for position in positions:
        seen = 0
        for value, n in ordered:
            seen += n
            if position < seen:
                found.append(value)
                break
    return float(median(found))


# --- E: competency gaps -----------------------------------------------------------------------

GAP_COLUMNS = [
    ReportColumn("item", "Mã", "Code"),
    ReportColumn("competency", "Năng lực", "Competency"),
    ReportColumn("n", "n", "n", "count"),
    ReportColumn("mean_importance", "Ī", "Ī", "decimal"),
    ReportColumn("mean_performance", "P̄", "P̄", "decimal"),
    ReportColumn("mean_gap", "D̄", "D̄", "decimal"),
    ReportColumn("gap_ci_low", "D̄ KTC 95 % thấp", "D̄ 95 % CI low", "decimal"),
    ReportColumn("gap_ci_high", "D̄ KTC 95 % cao", "D̄ 95 % CI high", "decimal"),
    ReportColumn("normalised_gap", "Khoảng cách chuẩn hóa", "Normalised gap", "decimal"),
    ReportColumn("need_prevalence", "Tỷ lệ có nhu cầu %", "Need prevalence %", "pct"),
    ReportColumn("mwds", "MWDS", "MWDS", "decimal"),
    ReportColumn("mwds_ci_low", "MWDS KTC thấp", "MWDS CI low", "decimal"),
    ReportColumn("mwds_ci_high", "MWDS KTC cao", "MWDS CI high", "decimal"),
    ReportColumn("rank", "Hạng", "Rank", "count"),
    ReportColumn("p_holm", "p (Holm)", "p (Holm)", "p"),
    ReportColumn("quadrant", "Góc phần tư", "Quadrant"),
]


def _gap_rows(ctx: Context, by_item: dict[str, list]) -> list:
    stats, inference = {}, {}
    for item in sorted(by_item, key=str.upper):
        table = pair_table_from_counts(by_item[item])
        stats[item.upper()] = gap_stats(gap_sums(table), min_cell=ctx.min_cell)
        if stats[item.upper()].n:
            inference[item.upper()] = gap_inference(table)
    return [row for row in gap_table(stats, inference) if row.n > 0]


def _gap_dicts(ctx: Context, rows) -> list[dict]:
    result = []
    for row in rows:
        values = {column.key: getattr(row, column.key, None) for column in GAP_COLUMNS}
        values["item"] = row.item
        values["competency"] = ctx.labels.get("competency", row.item, "vi")
        values["competency_en"] = ctx.labels.get("competency", row.item, "en")
        if values["need_prevalence"] is not None:
            values["need_prevalence"] *= 100
        values["suppressed"] = row.suppressed
        values["significant"] = row.significant
        values["p_reason"] = row.p_reason
        result.append(values)
    return result


def gaps_section(ctx: Context, report: Report, gap_tables: dict[str, list]) -> ReportSection:
    """E1 per level, E2 competency × level heatmap, E3 competency × unit (collaborators)."""
    section = ReportSection("E", "Khoảng trống năng lực", "Competency gaps")
    by_level = needs_answers.rating_counts(ctx.session, ctx.answers, by="level")
    heat: dict[str, dict[str, float | None]] = {}
    for level in sorted(by_level, key=_level_rank):
        rows = _gap_rows(ctx, by_level[level])
        gap_tables[level] = rows
        table = ReportTable(
            id=f"E1-{level}",
            vi=f"Khoảng trống năng lực – {_level_label(ctx, level)}",
            en=f"Competency gaps – {_level_label(ctx, level, 'en')}",
            columns=GAP_COLUMNS,
            rows=_gap_dicts(ctx, rows),
            n=max((r.n for r in rows), default=0),
            denominator_vi="Người trả lời có cả hai điểm (quan trọng, làm được) của năng lực",
            denominator_en="Respondents rating both importance and performance of the item",
            sources=["phiếu TNA / TNA answers"],
            notes_vi=[
                f"Ô có n < {ctx.min_cell} hiển thị “—”. MWDS = D̄ × Ī (Borich), KTC bootstrap "
                "2.000 lần. p: Wilcoxon, hiệu chỉnh Holm trong bảng. Q1 ưu tiên cao, Q2 duy trì, "
                "Q3 theo dõi, Q4 thấp."
            ],
            notes_en=[
                f"Cells with n < {ctx.min_cell} show “—”. MWDS = D̄ × Ī (Borich), bootstrap CI of "
                "2,000 resamples. p: Wilcoxon, Holm-adjusted within the table."
            ],
        )
        section.tables.append(table)
        for row in rows:
            heat.setdefault(row.item, {})[level] = None if row.suppressed else row.mwds
        report.charts[f"N5-{level}"] = {
            "points": [
                {"label": r.item, "x": r.mean_performance, "y": r.mean_importance}
                for r in rows
                if not r.suppressed and r.mean_importance is not None
            ]
        }
        report.charts[f"N6-{level}"] = {
            "rows": [
                {"label": r.item, "value": r.mwds, "low": r.mwds_ci_low, "high": r.mwds_ci_high}
                for r in rows
                if r.rank is not None
            ][:10]
        }
    levels = sorted(by_level, key=_level_rank)
    e2 = ReportTable(
        id="E2",
        vi="MWDS theo năng lực và tuyến (bản đồ nhiệt)",
        en="MWDS by competency and level (heatmap)",
        columns=[ReportColumn("item", "Năng lực", "Competency")]
        + [
            ReportColumn(level, _level_label(ctx, level), _level_label(ctx, level, "en"), "decimal")
            for level in levels
        ],
        rows=[{"item": item, **values} for item, values in sorted(heat.items())],
        denominator_vi="Như bảng E1 của từng tuyến",
        denominator_en="As each level's table E1",
    )
    section.tables.append(e2)
    report.charts["N7"] = {"rows": sorted(heat), "columns": levels, "values": heat}
    e3_level = "village" if "village" in levels else (levels[-1] if levels else "village")
    # E3 shows MWDS only: sums per unit and item, no bootstrap or test for its ~3,000 cells.
    by_row = needs_answers.rating_sums(
        ctx.session, replace(ctx.answers, levels=(e3_level,)), by="row"
    )
    e3 = ReportTable(
        id="E3",
        vi=f"MWDS theo năng lực và đơn vị – {_level_label(ctx, e3_level)}",
        en=f"MWDS by competency and unit – {_level_label(ctx, e3_level, 'en')}",
        columns=[ReportColumn("unit", "Đơn vị", "Unit")]
        + [ReportColumn(f"c{n:02d}", f"C{n:02d}", f"C{n:02d}", "decimal") for n in range(1, 22)],
        denominator_vi="Người trả lời của đơn vị có cả hai điểm",
        denominator_en="The unit's respondents rating both",
    )
    for index in sorted(k for k in by_row if k is not None):
        sums = by_row[index]
        stats = {
            item.upper(): gap_stats(sums[item], min_cell=ctx.min_cell)
            for item in sorted(sums, key=str.upper)
        }
        rows = [row for row in gap_table(stats) if row.n > 0]
        values = {f"c{int(r.item[1:]):02d}": (None if r.suppressed else r.mwds) for r in rows}
        e3.rows.append({"unit": _row_name(ctx, index), **values})
    section.tables.append(e3)
    if not by_level:
        for table in section.tables:
            table.empty_reason_vi = (
                "Không có phiếu đánh giá nhu cầu nào trong kỳ và đơn vị đã chọn."
            )
            table.empty_reason_en = "No needs assessment in the chosen period and unit."
    section.charts = ["N5", "N6", "N7"]
    return section


# --- F: topic demand --------------------------------------------------------------------------


def topics_section(ctx: Context, report: Report, gap_tables: dict[str, list]):
    """F1 topic × level: demand, top-1, gap support; F2 demand by job for the top 10 topics."""
    section = ReportSection("F", "Nhu cầu chủ đề", "Topic demand")
    questions = ("topics_wanted", "topic_top1")
    picks = needs_answers.choice_counts(ctx.session, ctx.answers, questions, by="level")
    answering = needs_answers.answering_counts(ctx.session, ctx.answers, questions, by="level")
    respondents = needs_answers.respondent_counts(ctx.session, ctx.answers, by="level")
    single = needs_answers.single_pick_counts(ctx.session, ctx.answers, by="level")
    by_level: dict[str, list] = {}
    table = ReportTable(
        id="F1",
        vi="Nhu cầu chủ đề theo tuyến",
        en="Topic demand by level",
        columns=[
            ReportColumn("topic", "Chủ đề", "Topic"),
            ReportColumn("level", "Tuyến", "Level"),
            ReportColumn("n_selected", "Số người chọn", "Selected by", "count"),
            ReportColumn("n_answering", "Số người trả lời", "Answering", "count"),
            ReportColumn("demand_share", "Tỷ lệ yêu cầu %", "Demand %", "pct"),
            ReportColumn("top1_share", "Ưu tiên số 1 %", "Top-1 %", "pct"),
            ReportColumn(
                "gap_support", "MWDS liên quan cao nhất", "Highest linked MWDS", "decimal"
            ),
            ReportColumn("n_missing", "Không trả lời", "No answer", "count"),
        ],
        denominator_vi="Người trả lời câu hỏi chủ đề (chọn nhiều: tổng có thể vượt 100 %)",
        denominator_en="Respondents answering the question (multi-select: may add up past 100 %)",
        sources=["phiếu TNA / TNA answers"],
    )
    totals = TopicCounts(0, 0, 0, {}, {})
    all_selected: dict[str, int] = {}
    all_top1: dict[str, int] = {}
    for level in sorted(respondents, key=_level_rank):
        selected = {c.upper(): n for c, n in picks.get((level, "topics_wanted"), {}).items()}
        top1 = {c.upper(): n for c, n in picks.get((level, "topic_top1"), {}).items()}
        for code, n in single.get(level, {}).items():
            top1[code.upper()] = top1.get(code.upper(), 0) + n
        n_answering = answering.get((level, "topics_wanted"), 0)
        n_top1 = answering.get((level, "topic_top1"), 0) + sum(single.get(level, {}).values())
        counts = TopicCounts(respondents[level], n_answering, n_top1, selected, top1)
        mwds = {r.item: (None if r.suppressed else r.mwds) for r in gap_tables.get(level, [])}
        rows = topic_demand(
            counts,
            TOPICS,
            competency_topics=catalogue.COMPETENCY_TOPICS,
            mwds_by_item=mwds,
            min_cell=ctx.min_cell,
        )
        by_level[level] = rows
        for row in rows:
            if row.n_selected or row.gap_support is not None:
                table.rows.append(_topic_row(ctx, row, level))
        totals = TopicCounts(
            totals.n_respondents + counts.n_respondents,
            totals.n_answering + counts.n_answering,
            totals.n_top1_answering + counts.n_top1_answering,
        )
        for code, n in selected.items():
            all_selected[code] = all_selected.get(code, 0) + n
        for code, n in top1.items():
            all_top1[code] = all_top1.get(code, 0) + n
    overall = topic_demand(
        TopicCounts(
            totals.n_respondents,
            totals.n_answering,
            totals.n_top1_answering,
            all_selected,
            all_top1,
        ),
        TOPICS,
        min_cell=ctx.min_cell,
    )
    by_level["all"] = overall
    table.n = totals.n_answering
    if not table.rows:
        table.empty_reason_vi = "Không có phiếu trả lời câu hỏi chủ đề trong kỳ."
        table.empty_reason_en = "No answers to the topic question in the period."
    section.tables.append(table)
    report.charts["N8"] = {
        "rows": [
            {
                "label": ctx.labels.get("topic", r.topic, "vi"),
                "demand": r.demand_share,
                "top1": r.top1_share,
            }
            for r in sorted(overall, key=lambda r: -(r.demand_share or 0))
            if r.n_selected
        ][:10]
    }
    top10 = [r.topic for r in sorted(overall, key=lambda r: -(r.n_selected or 0)) if r.n_selected][
        :10
    ]
    by_job = needs_answers.choice_counts(
        ctx.session, ctx.answers, ("topics_wanted",), by="job_position"
    )
    jobs = needs_answers.respondent_counts(ctx.session, ctx.answers, by="job_position")
    f2 = ReportTable(
        id="F2",
        vi="Nhu cầu theo vị trí việc làm (10 chủ đề đầu)",
        en="Demand by job position (top 10 topics)",
        columns=[
            ReportColumn("job", "Vị trí việc làm", "Job position"),
            ReportColumn("n", "n", "n", "count"),
        ]
        + [ReportColumn(topic.lower(), topic, topic, "pct") for topic in top10],
        denominator_vi="Người trả lời theo vị trí việc làm",
        denominator_en="Respondents by job position",
    )
    for job in sorted((j for j in jobs if j is not None), key=str):
        chosen = {c.upper(): n for c, n in by_job.get((job, "topics_wanted"), {}).items()}
        row = {
            "job": ctx.labels.get("job", job, "vi"),
            "job_en": ctx.labels.get("job", job, "en"),
            "n": jobs[job],
        }
        for topic in top10:
            row[topic.lower()] = chosen.get(topic, 0) * 100 / jobs[job] if jobs[job] else None
        f2.rows.append(row)
    section.tables.append(f2)
    section.charts = ["N8"]
    return section, by_level


def _topic_row(ctx: Context, row, level: str) -> dict:
    return {
        "topic": f"{row.topic} {ctx.labels.get('topic', row.topic, 'vi')}",
        "topic_en": f"{row.topic} {ctx.labels.get('topic', row.topic, 'en')}",
        "level": _level_label(ctx, level),
        "level_en": _level_label(ctx, level, "en"),
        "n_selected": row.n_selected,
        "n_answering": row.n_answering,
        "demand_share": None if row.demand_share is None else row.demand_share * 100,
        "top1_share": None if row.top1_share is None else row.top1_share * 100,
        "gap_support": row.gap_support,
        "n_missing": row.n_missing,
        "suppressed": row.suppressed,
    }


# --- G: preferences and barriers --------------------------------------------------------------


def preferences_section(ctx: Context, report: Report) -> ReportSection:
    """G1 format, duration, place by level; G2 barriers and devices by level."""
    section = ReportSection("G", "Hình thức, thời gian, rào cản", "Preferences and barriers")
    questions = {
        "pref_format": ("format", "Hình thức phù hợp", "Preferred format"),
        "pref_duration": ("duration", "Thời lượng phù hợp", "Preferred duration"),
        "pref_place": ("place", "Địa điểm phù hợp", "Preferred place"),
        "barriers": ("barrier", "Khó khăn khi tham gia", "Barriers"),
        "device_access": ("device", "Phương tiện học trực tuyến", "Devices for online learning"),
    }
    picks = needs_answers.choice_counts(ctx.session, ctx.answers, tuple(questions), by="level")
    answering = needs_answers.answering_counts(
        ctx.session, ctx.answers, tuple(questions), by="level"
    )
    levels = sorted({level for level, _ in answering}, key=_level_rank)
    chart_rows = []
    for question, (list_name, vi, en) in questions.items():
        table_id = "G1-" + question if question.startswith("pref") else "G2-" + question
        table = ReportTable(
            id=table_id,
            vi=f"{vi} theo tuyến",
            en=f"{en} by level",
            columns=[ReportColumn("option", "Lựa chọn", "Option")]
            + [
                column
                for level in levels
                for column in (
                    ReportColumn(
                        f"n_{level}",
                        _level_label(ctx, level),
                        _level_label(ctx, level, "en"),
                        "count",
                    ),
                    ReportColumn(f"pct_{level}", "%", "%", "pct"),
                )
            ],
            denominator_vi="Người trả lời câu hỏi của tuyến",
            denominator_en="Respondents answering the question at the level",
            sources=["phiếu TNA / TNA answers"],
        )
        codes = sorted({c for level in levels for c in picks.get((level, question), {})}, key=str)
        for code in codes:
            row = {
                "option": ctx.labels.get(list_name, code, "vi"),
                "option_en": ctx.labels.get(list_name, code, "en"),
            }
            for level in levels:
                n = picks.get((level, question), {}).get(code, 0)
                base = answering.get((level, question), 0)
                row[f"n_{level}"] = n
                row[f"pct_{level}"] = n * 100 / base if base else None
            table.rows.append(row)
            if question == "barriers":
                chart_rows.append(
                    {
                        "label": row["option"],
                        "values": [row[f"pct_{level}"] or 0 for level in levels],
                    }
                )
        table.n = sum(answering.get((level, question), 0) for level in levels)
        if not table.rows:
            table.empty_reason_vi = "Không có câu trả lời trong kỳ."
            table.empty_reason_en = "No answers in the period."
        section.tables.append(table)
    by_row = needs_answers.choice_counts(ctx.session, ctx.answers, ("barriers",), by="row")
    rows_answering = needs_answers.answering_counts(
        ctx.session, ctx.answers, ("barriers",), by="row"
    )
    g2 = ReportTable(
        id="G2-barriers-unit",
        vi="Khó khăn khi tham gia theo đơn vị",
        en="Barriers by unit",
        columns=[ReportColumn("unit", "Đơn vị", "Unit"), ReportColumn("n", "n", "n", "count")],
        denominator_vi="Người trả lời câu hỏi của đơn vị",
        denominator_en="The unit's respondents answering",
    )
    barrier_codes = sorted({c for (_, _q), picked in by_row.items() for c in picked}, key=str)
    g2.columns += [
        ReportColumn(
            f"b_{code}",
            ctx.labels.get("barrier", code, "vi"),
            ctx.labels.get("barrier", code, "en"),
            "pct",
        )
        for code in barrier_codes
    ]
    for (index, _q), picked in sorted(by_row.items(), key=lambda kv: kv[0][0]):
        base = rows_answering.get((index, "barriers"), 0)
        row = {"unit": _row_name(ctx, index), "n": base}
        for code in barrier_codes:
            row[f"b_{code}"] = picked.get(code, 0) * 100 / base if base else None
        g2.rows.append(row)
    section.tables.append(g2)
    report.charts["N9"] = {
        "levels": [_level_label(ctx, level) for level in levels],
        "rows": chart_rows,
    }
    section.charts = ["N9"]
    return section


# --- I: annex ---------------------------------------------------------------------------------


def annex_section(ctx: Context, report: Report) -> ReportSection:
    """Data quality and the definitions of the indicators."""
    section = ReportSection("I", "Phụ lục", "Annex")
    quality = needs_answers.quality(ctx.session, ctx.answers)
    q = ReportTable(
        id="I1",
        vi="Chất lượng dữ liệu",
        en="Data quality",
        columns=[
            ReportColumn("measure", "Chỉ số", "Measure"),
            ReportColumn("n", "Số phiếu", "Answers", "count"),
            ReportColumn("pct", "%", "%", "pct"),
        ],
        n=quality.respondents,
        denominator_vi="Phiếu được tính trong kỳ",
        denominator_en="Counted answers in the period",
    )
    base = quality.respondents
    for vi, en, n in (
        (
            "Trả lời giống hệt nhau mọi năng lực",
            "Straight-lined (identical ratings)",
            quality.straightlined,
        ),
        ("Thời gian làm phiếu dưới 5 phút", "Completed in under 5 minutes", quality.short_duration),
        ("Điểm ngoài thang 1–5 (đã loại)", "Ratings outside 1–5 (excluded)", quality.out_of_range),
    ):
        q.rows.append(
            {"measure": vi, "measure_en": en, "n": n, "pct": n * 100 / base if base else None}
        )
    section.tables.append(q)
    missing = needs_answers.rating_counts(ctx.session, ctx.answers, by="all").get("all", {})
    m = ReportTable(
        id="I2",
        vi="Tỷ lệ thiếu theo năng lực",
        en="Missing rate by competency",
        columns=[
            ReportColumn("item", "Năng lực", "Competency"),
            ReportColumn("asked", "Số phiếu có câu hỏi", "Asked", "count"),
            ReportColumn("missing", "Không áp dụng / thiếu", "N/A or missing", "count"),
            ReportColumn("missing_pct", "% thiếu", "% missing", "pct"),
        ],
        denominator_vi="Phiếu có ghi nhận năng lực",
        denominator_en="Answers recording the competency",
    )
    for item in sorted(missing, key=str.upper):
        asked = sum(n for _i, _p, n in missing[item])
        absent = sum(n for i, p, n in missing[item] if i is None or p is None)
        m.rows.append(
            {
                "item": item.upper(),
                "asked": asked,
                "missing": absent,
                "missing_pct": absent * 100 / asked if asked else None,
            }
        )
    section.tables.append(m)
    return section
