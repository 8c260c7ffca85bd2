"""Sections B, C and I of the needs report (reports spec §2.3): the register's side.

Survey coverage, the workforce profile and the annex, built from grouped counts
(``needs_answers``, ``needs_workforce``); the sections about what the answers say (E, F, G)
are in ``needs_answer_sections``. The level and row helpers here are shared by both.
"""

from __future__ import annotations

from statistics import median
from typing import TYPE_CHECKING

from server.domain import catalogue
from server.domain.report_model import Report, ReportColumn, ReportSection, ReportTable
from server.services import needs_answers, needs_workforce

if TYPE_CHECKING:
    from server.services.needs_report import Context

LEVELS = ("province", "district", "commune", "village")
TOPICS = catalogue.TOPICS


def level_label(ctx: Context, level: str | None, lang: str = "vi") -> str:
    """A level's name in ``lang`` (the form's label)."""
    return ctx.labels.get("level", level, lang)


def row_name(ctx: Context, index: int) -> str:
    """The name of report row ``index`` (the whole unit for -1 and unplaced answers)."""
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
    keys = sorted(set(roster) | set(answers), key=lambda k: (k[0], level_rank(k[1])))
    total = {"roster": 0, "respondents": 0, "matched": 0, "unmatched": 0, "duplicates": 0}
    for index, level in keys:
        counts = answers.get((index, level), needs_answers.CoverageCounts())
        on_roster = roster.get((index, level), 0)
        rate = counts.matched * 100 / on_roster if on_roster else None
        table.rows.append(
            {
                "unit": row_name(ctx, index),
                "level": level_label(ctx, level),
                "level_en": level_label(ctx, level, "en"),
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


def level_rank(level: str | None) -> int:
    """Sort key: province, district, commune, village, then anything else."""
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


def _crosstab(ctx, table_id, vi, en, counts: dict, list_name: str) -> ReportTable:
    """Rows: a code of ``list_name``; columns: levels (n and % of the level)."""
    levels = sorted(counts, key=level_rank)
    columns = [ReportColumn("code", "Nhóm", "Group")]
    for level in levels:
        columns.append(
            ReportColumn(
                f"n_{level}", level_label(ctx, level), level_label(ctx, level, "en"), "count"
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
    levels = sorted(per_level, key=level_rank)
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
        row = {"level": level_label(ctx, level), "level_en": level_label(ctx, level, "en")}
        for (edu, field), n in education.get(level, {}).items():
            kind = "medpharm" if field == "medpharm" else "other"
            key = f"{edu if edu in catalogue.EDUCATION else None}_{kind}"
            row[key] = row.get(key, 0) + n
        row["total"] = per_level[level]
        c1.rows.append(row)
    c1.n = sum(per_level.values())
    section.tables.append(c1)
    report.charts["N4"] = {
        "levels": [level_label(ctx, level) for level in levels],
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
                    f"n_{level}", level_label(ctx, level), level_label(ctx, level, "en"), "count"
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
        row = {"level": level_label(ctx, level), "level_en": level_label(ctx, level, "en")}
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
                "level": level_label(ctx, level),
                "level_en": level_label(ctx, level, "en"),
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
