"""Item sections of the evaluation report: item analysis, pre vs post, key changes.

Section I is Moodle's item analysis (§3.5), D the pre vs post comparison by item and the
distractors (§3.6), K the key changes that re-scored the course (§3.10).

Each bank version the course's attempts used is analysed per phase on the course's first
attempts. The pooled analysis over every course that used the version (§3.5: "use the first
attempts of all sessions that used the same bank_id + bank_version") is the bank's own report
(:mod:`server.services.bank_report`): it reads every course's attempts, so a course report does
not pay for it. DI, DE and CIC are hidden under 10 attempts and marked "n nhỏ" from 10 to 19
(§3.5.4).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.domain.item_analysis import (
    MIN_ATTEMPTS_GREYED,
    ItemAnalysis,
    analyse_items,
    compare_pre_post,
    distractor_table,
    rest_score_pct,
)
from server.domain.report_model import Report, ReportColumn, ReportSection, ReportTable
from server.models import AnswerKeyChange, FormVersion, User
from server.services import evaluation_data as data
from server.services.evaluation_words import FLAGS, REASONS, both, word

C = ReportColumn
PHASE_WORDS = {"pre": ("trước khóa", "pre-test"), "post": ("sau khóa", "post-test")}
_HIDDEN = ("discrimination_index", "discriminative_efficiency")


def item_sections(
    session: Session, loaded: data.CourseData, report: Report, *, rows: bool
) -> list[ReportSection]:
    """Sections I and D for every bank version the course used."""
    analysis = ReportSection("I", "Phân tích câu hỏi", "Item analysis", charts=["E1"])
    comparison = ReportSection(
        "D", "So sánh trước–sau theo câu và phương án nhiễu", "Pre vs post by item, distractors"
    )
    for bank in loaded.banks.values():
        course_runs = {}
        for phase in ("pre", "post"):
            matrix = data.item_matrix(session, bank, phase, loaded.attempts, loaded.item_rows)
            if matrix is None:
                continue
            result = analyse(matrix, bank, phase)
            course_runs[phase] = (matrix, result)
            analysis.tables.extend(analysis_tables(bank, phase, result, scope="course"))
            chart = f"E1-{phase}" if len(loaded.banks) == 1 else f"E1-{phase}-{bank.bank_id}"
            report.charts[chart] = dd_chart(bank, result, phase)
        if course_runs:
            comparison.tables.extend(_comparison_tables(bank, course_runs))
    if not analysis.tables:
        analysis.tables.append(_empty("I0"))
    if not comparison.tables:
        comparison.tables.append(_empty("D0"))
    return [analysis, comparison]


def analyse(matrix: data.ItemMatrix, bank: data.Bank, phase: str) -> ItemAnalysis:
    """Moodle's item analysis of one matrix of first attempts."""
    return analyse_items(
        matrix.marks,
        bank.items,
        matrix.totals,
        blanks=matrix.blanks,
        bank_id=bank.bank_id,
        bank_version=bank.bank_version,
        phase=phase,
    )


def _empty(table_id: str) -> ReportTable:
    return ReportTable(
        table_id,
        "Chưa có bài kiểm tra được chấm",
        "No scored test yet",
        [C("item", "Câu", "Item")],
        [],
        empty_reason_vi="Chưa có bài kiểm tra nào được chấm theo đáp án cho khóa này.",
        empty_reason_en="No test of this course has been scored against a key yet.",
    )


def _bank_name(bank: data.Bank) -> str:
    return f"{bank.bank_id or '?'} {bank.bank_version or ''}".strip()


_ITEM_COLUMNS = [
    C("item_id", "Câu", "Item"),
    C("label", "Nội dung", "Question"),
    C("topic", "Chủ đề", "Topic"),
    C("s", "s", "s", "count"),
    C("facility_pct", "Độ dễ %", "Facility %", "pct"),
    C("sd_pct", "SD %", "SD %", "pct"),
    C("rgs_pct", "Đoán ngẫu nhiên %", "Random guess %", "pct"),
    C("intended_weight_pct", "Trọng số dự kiến %", "Intended weight %", "pct"),
    C("effective_weight_pct", "Trọng số hiệu dụng %", "Effective weight %", "pct"),
    C("discrimination_index", "Chỉ số phân loại (DI)", "Discrimination index", "decimal"),
    C("discriminative_efficiency", "Hiệu suất phân loại %", "Discriminative efficiency %", "pct"),
    C("blank_pct", "Bỏ trống %", "Blank %", "pct"),
    C("band", "Mức độ", "Difficulty"),
    C("needs_checking", "Cần xem lại?", "Needs checking?"),
    C("flags", "Cảnh báo", "Flags"),
]


def analysis_tables(
    bank: data.Bank, phase: str, result: ItemAnalysis, *, scope: str
) -> list[ReportTable]:
    """The item table and the test table of one analysis (``scope``: course or pooled)."""
    vi_phase, en_phase = PHASE_WORDS[phase]
    where_vi = "khóa này" if scope == "course" else "gộp mọi khóa dùng đề"
    where_en = "this course" if scope == "course" else "pooled over every course using the bank"
    hidden = result.inference_display == "hidden"
    small = result.inference_display == "small_n"
    rows = []
    for s in result.items:
        row = {
            **asdict(s),
            "label": bank.labels.get(s.item_id, ("", ""))[0],
            "label_en": bank.labels.get(s.item_id, ("", ""))[1],
            "topic": next((i.topic for i in bank.items if i.item_id == s.item_id), None),
            "rgs_pct": None if s.random_guess_score is None else 100 * s.random_guess_score,
            **both(FLAGS, "band", s.facility_band),
            **both(FLAGS, "needs_checking", s.needs_checking),
            **both(FLAGS, "flags", [f for f in s.flags if f != s.facility_band]),
            "greyed": small,
        }
        if hidden:
            for key in _HIDDEN:
                row[key] = None
        rows.append(row)
    notes_vi = [line.vi for line in result.guidance.values()]
    notes_en = [line.en for line in result.guidance.values()]
    if hidden:
        notes_vi.insert(0, f"Dưới {MIN_ATTEMPTS_GREYED} lượt làm: DI, DE và CIC không hiển thị.")
        notes_en.insert(0, f"Under {MIN_ATTEMPTS_GREYED} attempts: DI, DE and CIC are not shown.")
    elif small:
        notes_vi.insert(0, "n nhỏ (10–19 lượt làm): DI, DE và CIC chỉ để tham khảo (chữ mờ).")
        notes_en.insert(0, "Small n (10–19 attempts): DI, DE and CIC are indicative (greyed).")
    suffix = f"{phase}-{scope}" + ("" if bank.bank_id is None else f"-{bank.bank_id}")
    items = ReportTable(
        f"I-{suffix}",
        f"Câu hỏi – bài {vi_phase}, {where_vi} (đề {_bank_name(bank)})",
        f"Items – {en_phase}, {where_en} (bank {_bank_name(bank)})",
        _ITEM_COLUMNS,
        rows,
        n=result.test.s,
        denominator_vi="lần làm đầu tiên của mỗi học viên (s); câu đã loại không tính",
        denominator_en="each trainee's first attempt (s); dropped items left out",
        notes_vi=notes_vi,
        notes_en=notes_en,
        sources=["Moodle quiz statistics (core_question\\statistics\\questions\\calculator)"],
    )
    return [items, _test_table(result, suffix, vi_phase, en_phase, where_vi, where_en, hidden)]


def _test_table(result, suffix, vi_phase, en_phase, where_vi, where_en, hidden) -> ReportTable:
    t = result.test
    guide = result.guidance

    def row(key, vi, en, value, kind_note=None):
        line = guide.get(key)
        return {
            "statistic": vi,
            "statistic_en": en,
            "value": value,
            "guidance": line.vi if line else (kind_note or ""),
            "guidance_en": line.en if line else (kind_note or ""),
        }

    cic = None if hidden else t.cic
    rows = [
        row("count", "Số lượt làm (s)", "Attempts (s)", t.s),
        row("items", "Số câu (p)", "Items (p)", t.p),
        row("average", "Trung bình %", "Average %", t.average_pct),
        row("median", "Trung vị %", "Median %", t.median_pct),
        row("sd", "Độ lệch chuẩn %", "Standard deviation %", t.sd_pct),
        row("skewness", "Độ lệch (skewness)", "Skewness", t.skewness),
        row("kurtosis", "Độ nhọn (kurtosis)", "Kurtosis", t.kurtosis),
        row("cic", "Hệ số nhất quán nội tại (CIC) %", "Internal consistency (CIC) %", cic),
        row(
            "error_ratio", "Tỷ lệ sai số (ER) %", "Error ratio %", None if hidden else t.error_ratio
        ),
        row(
            "standard_error",
            "Sai số chuẩn %",
            "Standard error %",
            None if hidden else t.standard_error_pct,
        ),
    ]
    notes_vi, notes_en = [], []
    if t.cic_reason:
        notes_vi.append(f"CIC: {word(REASONS, t.cic_reason, 'vi')}.")
        notes_en.append(f"CIC: {word(REASONS, t.cic_reason, 'en')}.")
    return ReportTable(
        f"IT-{suffix}",
        f"Thống kê toàn bài – {vi_phase}, {where_vi}",
        f"Test statistics – {en_phase}, {where_en}",
        [
            C("statistic", "Chỉ số", "Statistic"),
            C("value", "Giá trị", "Value", "decimal"),
            C("guidance", "Hướng dẫn đọc", "Guidance"),
        ],
        rows,
        n=t.s,
        notes_vi=notes_vi,
        notes_en=notes_en,
    )


def dd_chart(bank: data.Bank, result: ItemAnalysis, phase: str) -> dict:
    """Chart E1's data: facility and DI per item (DI left out when hidden under 10 attempts)."""
    return {
        "phase": phase,
        "bank": _bank_name(bank),
        "items": [
            {
                "label": s.item_id,
                "facility_pct": s.facility_pct,
                "discrimination": None
                if result.inference_display == "hidden"
                else s.discrimination_index,
            }
            for s in result.items
        ],
    }


def _comparison_tables(bank: data.Bank, runs: dict) -> list[ReportTable]:
    tables = []
    if "pre" in runs and "post" in runs:
        (pre_m, pre_a), (post_m, post_a) = runs["pre"], runs["post"]
        matched = _matched_correct(bank, pre_m, post_m)
        comparison = compare_pre_post(pre_a, post_a, items=bank.items, matched=matched)
        rows = [
            {
                **asdict(r),
                "label": bank.labels.get(r.item_id, ("", ""))[0],
                "label_en": bank.labels.get(r.item_id, ("", ""))[1],
                "key": " ".join(r.key),
                **both(FLAGS, "flags", r.flags),
            }
            for r in comparison.rows
        ]
        tables.append(
            ReportTable(
                f"D1-{bank.bank_id}",
                f"Độ dễ trước và sau khóa theo câu (đề {_bank_name(bank)})",
                f"Facility before and after by item (bank {_bank_name(bank)})",
                [
                    C("item_id", "Câu", "Item"),
                    C("label", "Nội dung", "Question"),
                    C("topic", "Chủ đề", "Topic"),
                    C("key", "Đáp án", "Key"),
                    C("facility_pre_pct", "Độ dễ trước %", "Facility pre %", "pct"),
                    C("facility_post_pct", "Độ dễ sau %", "Facility post %", "pct"),
                    C("delta_pp", "Δ (điểm %)", "Δ (pp)", "decimal"),
                    C("item_gain", "Tiến bộ chuẩn hóa", "Item normalised gain", "decimal"),
                    C("blank_pre_pct", "Bỏ trống trước %", "Blank pre %", "pct"),
                    C("blank_post_pct", "Bỏ trống sau %", "Blank post %", "pct"),
                    C("discrimination_index_post", "DI sau", "DI post", "decimal"),
                    C("discriminative_efficiency_post", "DE sau %", "DE post %", "pct"),
                    C("mcnemar_p", "McNemar p", "McNemar p", "p"),
                    C("flags", "Cảnh báo", "Flags"),
                ],
                rows,
                n=len(rows),
                empty_reason_vi=word(REASONS, comparison.reason, "vi") or "",
                empty_reason_en=word(REASONS, comparison.reason, "en") or "",
                notes_vi=[
                    "Kém đi: Δ < 0; chưa học được: độ dễ sau < 50 %; đã biết: độ dễ trước ≥ 90 %."
                ],
                notes_en=[
                    "Got worse: Δ < 0; not learned: post facility < 50 %; already known: pre "
                    "facility ≥ 90 %."
                ],
            )
        )
    tables.append(_distractors(bank, runs))
    return tables


def _matched_correct(bank, pre_m, post_m) -> dict[str, list[tuple[bool, bool]]]:
    """Per item, (full mark before, full mark after) of each trainee with both tests."""
    pre_rows = {t: r for r, t in enumerate(pre_m.trainee_ids) if not t.startswith("?")}
    post_rows = {t: r for r, t in enumerate(post_m.trainee_ids) if not t.startswith("?")}
    both_ids = sorted(pre_rows.keys() & post_rows.keys())
    out = {}
    for j, item in enumerate(bank.items):
        if item.dropped:
            continue
        full = item.max_mark - 1e-9
        out[item.item_id] = [
            (pre_m.marks[pre_rows[t], j] >= full, post_m.marks[post_rows[t], j] >= full)
            for t in both_ids
        ]
    return out


def _distractors(bank: data.Bank, runs: dict) -> ReportTable:
    rest = {}
    for phase, (matrix, _a) in runs.items():
        weights = [0.0 if i.dropped else i.max_mark for i in bank.items]
        rest[phase] = rest_score_pct(matrix.marks, weights, matrix.totals)
    rows = []
    for j, item in enumerate(bank.items):
        if item.dropped:
            continue

        def column(phase: str, j: int = j) -> tuple[Sequence, Sequence]:
            if phase not in runs:
                return (), ()
            matrix = runs[phase][0]
            return [r[j] for r in matrix.responses], np.asarray(rest[phase])[:, j].tolist()

        pre_r, pre_rest = column("pre")
        post_r, post_rest = column("post")
        table = distractor_table(
            item, bank.options.get(item.item_id, []), pre_r, pre_rest, post_r, post_rest
        )
        labels = bank.option_labels.get(item.item_id, {})
        for option in table.options:
            vi, en = labels.get(option.option, (option.option, option.option))
            rows.append(
                {
                    "item_id": item.item_id,
                    "option": option.option,
                    "option_label": vi,
                    "option_label_en": en,
                    **{k: v for k, v in asdict(option).items() if k not in {"flags", "option"}},
                    "is_key": "✓" if option.is_key else "",
                    **both(FLAGS, "flags", [*option.flags]),
                }
            )
        rows.append(
            {
                "item_id": item.item_id,
                "option": "",
                "option_label": "(bỏ trống)",
                "option_label_en": "(blank)",
                "n_pre": table.n_blank_pre,
                "pct_pre": table.blank_pct_pre,
                "n_post": table.n_blank_post,
                "pct_post": table.blank_pct_post,
            }
        )
    return ReportTable(
        f"D2-{bank.bank_id}",
        f"Phân tích phương án trả lời (đề {_bank_name(bank)})",
        f"Analysis of responses (bank {_bank_name(bank)})",
        [
            C("item_id", "Câu", "Item"),
            C("option", "Phương án", "Option"),
            C("option_label", "Nội dung", "Text"),
            C("is_key", "Đáp án", "Key"),
            C("n_pre", "Chọn trước", "Chosen pre", "count"),
            C("pct_pre", "% trước", "% pre", "pct"),
            C("n_post", "Chọn sau", "Chosen post", "count"),
            C("pct_post", "% sau", "% post", "pct"),
            C("mean_rest_pct_pre", "Điểm phần còn lại trước %", "Rest score pre %", "pct"),
            C("mean_rest_pct_post", "Điểm phần còn lại sau %", "Rest score post %", "pct"),
            C("flags", "Cảnh báo", "Flags"),
        ],
        rows,
        n=len(rows),
        denominator_vi="người làm bài của từng lần kiểm tra (lần đầu)",
        denominator_en="takers of each test (first attempts)",
        notes_vi=[
            "Phương án nhiễu được < 5 % người chọn ở bài trước: không hiệu quả. Người chọn "
            "phương án nhiễu có điểm phần còn lại cao hơn người chọn đáp án: có thể sai đáp án "
            "(quy tắc kinh nghiệm, không phải của Moodle)."
        ],
        notes_en=[
            "A distractor chosen by < 5 % of pre-test takers is non-functioning. Choosers of a "
            "distractor with a higher rest score than the key's: possible mis-key (rules of "
            "thumb, not Moodle's)."
        ],
    )


def key_change_section(session: Session, loaded: data.CourseData) -> ReportSection | None:
    """Section K: items dropped or restored after review ("rescored on <date>")."""
    version_ids = sorted({v for b in loaded.banks.values() for v in b.version_ids})
    if not version_ids:
        return None
    rows = session.execute(
        sa.select(AnswerKeyChange, FormVersion.version, User.username)
        .join(FormVersion, FormVersion.id == AnswerKeyChange.form_version_id)
        .outerjoin(User, User.id == AnswerKeyChange.user_id)
        .where(AnswerKeyChange.form_version_id.in_(version_ids))
        .order_by(AnswerKeyChange.changed_at, AnswerKeyChange.id)
    ).all()
    if not rows:
        return None
    section = ReportSection("K", "Thay đổi đáp án và chấm lại", "Key changes and re-scoring")
    section.tables.append(
        ReportTable(
            "K1",
            "Câu đã loại hoặc khôi phục sau khi xem xét",
            "Items dropped or restored after review",
            [
                C("changed_on", "Chấm lại ngày", "Rescored on", "date"),
                C("version", "Phiên bản", "Version"),
                C("item", "Câu", "Item"),
                C("change", "Thay đổi", "Change"),
                C("reason", "Lý do", "Reason"),
                C("who", "Người quyết định", "Decided by"),
                C("rescored", "Số bài chấm lại", "Attempts re-scored", "count"),
            ],
            [
                {
                    "changed_on": change.changed_at.date(),
                    "version": version,
                    "item": change.item,
                    "change": "loại" if change.change == "dropped" else "khôi phục",
                    "change_en": change.change,
                    "reason": change.reason,
                    "who": who or "(dòng lệnh)",
                    "who_en": who or "(command line)",
                    "rescored": change.rescored,
                }
                for change, version, who in rows
            ],
            n=len(rows),
            notes_vi=["Câu đã loại không tính vào điểm của bài lẫn điểm tối đa."],
            notes_en=["A dropped item counts in neither the marks nor the maximum."],
        )
    )
    return section
