"""Sections E, F and G of the needs report (reports spec §2.3): what the TNA answers say.

Competency gaps, topic demand, preferences and barriers, each built from the grouped counts of
``needs_answers`` and the pure statistics of ``server.domain`` (``needs_gap``, ``needs_topics``).
The register's side (B, C) and the annex (I) are in ``needs_sections``.
"""

from __future__ import annotations

from dataclasses import replace
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
from server.services import needs_answers
from server.services.needs_sections import level_label, level_rank, row_name

if TYPE_CHECKING:
    from server.services.needs_report import Context

TOPICS = catalogue.TOPICS


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
    for level in sorted(by_level, key=level_rank):
        rows = _gap_rows(ctx, by_level[level])
        gap_tables[level] = rows
        table = ReportTable(
            id=f"E1-{level}",
            vi=f"Khoảng trống năng lực – {level_label(ctx, level)}",
            en=f"Competency gaps – {level_label(ctx, level, 'en')}",
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
    levels = sorted(by_level, key=level_rank)
    e2 = ReportTable(
        id="E2",
        vi="MWDS theo năng lực và tuyến (bản đồ nhiệt)",
        en="MWDS by competency and level (heatmap)",
        columns=[ReportColumn("item", "Năng lực", "Competency")]
        + [
            ReportColumn(level, level_label(ctx, level), level_label(ctx, level, "en"), "decimal")
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
        vi=f"MWDS theo năng lực và đơn vị – {level_label(ctx, e3_level)}",
        en=f"MWDS by competency and unit – {level_label(ctx, e3_level, 'en')}",
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
        e3.rows.append({"unit": row_name(ctx, index), **values})
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
    for level in sorted(respondents, key=level_rank):
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
        "level": level_label(ctx, level),
        "level_en": level_label(ctx, level, "en"),
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
    levels = sorted({level for level, _ in answering}, key=level_rank)
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
                        level_label(ctx, level),
                        level_label(ctx, level, "en"),
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
        row = {"unit": row_name(ctx, index), "n": base}
        for code in barrier_codes:
            row[f"b_{code}"] = picked.get(code, 0) * 100 / base if base else None
        g2.rows.append(row)
    section.tables.append(g2)
    report.charts["N9"] = {
        "levels": [level_label(ctx, level) for level in levels],
        "rows": chart_rows,
    }
    section.charts = ["N9"]
    return section
