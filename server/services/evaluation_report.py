"""The trainers' evaluation report of one course (reports spec §3): "did this course work?".

Built as a :class:`~server.domain.report_model.Report` like the needs report, so the page, the
JSON, the workbook and the PDF are the same tables. Sections: S summary (§3.2), T trainees
(§3.3, individual rows: only for readers the policy lets see them), P topics (§3.4), I item
analysis (§3.5), D pre vs post by item and distractors (§3.6), L satisfaction (§3.7.1–3),
C open comments (§3.7.4), K key changes ("rescored on <date>"). Numbers stay unrounded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

import numpy as np
from sqlalchemy.orm import Session

from server.domain import catalogue
from server.domain.evaluation_stats import (
    ATTENDANCE_MIN_PCT,
    CourseSummary,
    course_summary,
    select_attempts,
    topic_table,
    trainee_table,
)
from server.domain.report_model import Report, ReportColumn, ReportSection, ReportTable
from server.models import Course
from server.services import evaluation_data as data
from server.services import reconciliation
from server.services.evaluation_items import item_sections, key_change_section
from server.services.evaluation_reaction import reaction_sections
from server.services.evaluation_words import BANDS, FLAGS, REASONS, both, word

C = ReportColumn
#: Days are Vietnam days (UTC+07:00, no daylight saving).
VIETNAM_OFFSET = dt.timedelta(hours=7)
#: Tables of the workbook only (too wide for a page: raw response strings, for audit).
FILES_ONLY = ("T2",)


def build_course_report(
    session: Session, course: Course, *, now: dt.datetime, rows: bool, lang: str = "vi"
) -> Report:
    """The whole evaluation report of one course.

    :param session: the database session.
    :param course: the course.
    :param now: when the report is made.
    :param rows: whether the reader may see individual trainees (the course's trainer and
        admins); without it, aggregates only (planners).
    :param lang: the language of the automatic comment coding's quotes is always Vietnamese;
        this only chooses nothing today but is kept for the charts' data labels.
    :return: the report.
    """
    loaded = data.load_course(session, course)
    summary = course_summary(
        loaded.trainees,
        loaded.attempts,
        pass_mark_pct=course.pass_mark,
        attendance_min_pct=ATTENDANCE_MIN_PCT,
    )
    topic_bank = _topic_bank(loaded)
    topic_items = topic_bank.topic_items() if topic_bank else []
    report = Report(
        kind="course_evaluation",
        parameters={
            "course": course.code,
            "title": course.title,
            "start_date": course.start_date,
            "end_date": course.end_date,
            "pass_mark": course.pass_mark,
            "pre_form": course.pre_form_id,
            "post_form": course.post_form_id,
            "rows": rows,
            "files_only": list(FILES_ONLY),
            "banks": [
                {"bank_id": b.bank_id, "bank_version": b.bank_version, "items": len(b.items)}
                for b in loaded.banks.values()
            ],
        },
        as_of=now.date(),
        generated_at=now,
        unit_code=course.code,
        unit_name=course.title,
    )
    reaction, reaction_line_rows, likert = reaction_sections(session, course, loaded, rows=rows)
    if likert:
        report.charts["L1"] = {"rows": likert}
    report.sections.append(_summary_section(summary, reaction_line_rows, report, loaded))
    if rows:
        report.sections.append(_trainee_section(loaded, topic_items, course))
        report.sections[-1].tables.append(_waiting_table(session, course))
    report.sections.append(_topic_section(loaded, topic_items, report))
    report.sections.extend(item_sections(session, loaded, report, rows=rows))
    report.sections.extend(reaction)
    changes = key_change_section(session, loaded)
    if changes is not None:
        report.sections.append(changes)
    _plain_numbers(report)
    report.findings_vi = [line.vi for line in summary.lines]
    report.findings_en = [line.en for line in summary.lines]
    if not loaded.attempts and not loaded.trainees:
        report.empty_reason_vi = "Khóa học chưa có học viên và chưa có bài kiểm tra nào."
        report.empty_reason_en = "The course has no trainees and no tests yet."
    return report


def _plain_numbers(report: Report) -> None:
    """Make numpy scalars (from scipy/numpy results) Python numbers in every row.

    The workbook writer and the JSON encoder take Python numbers; a ``np.float64`` reaching
    them would be written as its repr. Converting once here keeps every surface honest.
    """
    for table in report.tables():
        for row in table.rows:
            for key, value in row.items():
                if isinstance(value, np.generic):
                    row[key] = value.item()


def _topic_bank(loaded: data.CourseData) -> data.Bank | None:
    ranked = sorted(
        loaded.banks.values(),
        key=lambda b: -sum((a.bank_id, a.bank_version) == b.key for a in loaded.attempts),
    )
    return next((b for b in ranked if b.topic_items()), None)


# --------------------------------------------------------------------------- S summary


def _summary_section(
    summary: CourseSummary, reaction_rows, report: Report, loaded: data.CourseData
) -> ReportSection:
    section = ReportSection("S", "Tóm tắt khóa học", "Course summary", charts=["S1", "S2"])
    section.tables.append(_enrolment_table(summary))
    section.tables.append(_scores_table(summary))
    section.tables.append(_gain_table(summary))
    section.tables.append(_pass_table(summary))
    if reaction_rows is not None:
        section.tables.append(reaction_rows)
    firsts = {key: pa.first for key, pa in select_attempts(loaded.attempts).items()}
    roster = {t.trainee_id for t in loaded.trainees}
    report.charts["S1"] = {
        "pre": [a.pct for (_, ph), a in firsts.items() if ph == "pre"],
        "post": [a.pct for (_, ph), a in firsts.items() if ph == "post"],
        "pass_mark": summary.pass_mark_pct,
    }
    report.charts["S2"] = {
        "points": [
            {"pre": firsts[(tid, "pre")].pct, "post": a.pct}  # no names: planners read it
            for (tid, ph), a in firsts.items()
            if ph == "post"
            and tid in roster
            and (tid, "pre") in firsts
            and not a.is_fallback_identity
        ],
        "pass_mark": summary.pass_mark_pct,
    }
    return section


def _enrolment_table(s: CourseSummary) -> ReportTable:
    def row(key, vi, en, n, pct=None, note=None):
        return {"measure": vi, "measure_en": en, "n": n, "pct": pct, "key": key} | (note or {})

    share = (lambda k: 100 * k / s.n_enrolled) if s.n_enrolled else (lambda k: None)
    rows = [
        row("enrolled", "Học viên ghi danh", "Enrolled", s.n_enrolled),
        row(
            "attended",
            "Dự học đủ",
            "Attended",
            None if s.n_attendance_unknown == s.n_enrolled else s.n_attended,
            None if s.n_attendance_unknown == s.n_enrolled else share(s.n_attended),
        ),
        row("pre", "Làm bài trước khóa", "Took the pre-test", s.n_pre),
        row("post", "Làm bài sau khóa", "Took the post-test", s.n_post),
        row("matched", "Cặp trước–sau", "Matched pairs", s.n_matched, share(s.n_matched)),
        row("unmatched_pre", "Chỉ làm bài trước", "Pre-test only", s.n_unmatched_pre),
        row("unmatched_post", "Chỉ làm bài sau", "Post-test only", s.n_unmatched_post),
        row(
            "fallback",
            "Ngoài danh sách (chờ đối chiếu)",
            "Not on the roster (to reconcile)",
            s.n_fallback_identities,
        ),
        row(
            "completion",
            "Tỷ lệ hoàn thành (làm bài sau / ghi danh)",
            "Completion (post-test takers / enrolled)",
            s.n_post_enrolled,
            None if s.completion_rate is None else 100 * s.completion_rate,
        ),
    ]
    if s.n_attendance_unknown:
        rows.append(
            row(
                "attendance_unknown",
                "Chưa ghi nhận điểm danh",
                "Attendance not recorded",
                s.n_attendance_unknown,
            )
        )
    return ReportTable(
        "S1",
        "Ghi danh và hoàn thành",
        "Enrolment and completion",
        [
            C("measure", "Chỉ tiêu", "Measure"),
            C("n", "Số người", "People", "count"),
            C("pct", "% ghi danh", "% of enrolled", "pct"),
        ],
        rows,
        n=s.n_enrolled,
        denominator_vi="học viên ghi danh của khóa",
        denominator_en="trainees enrolled in the course",
    )


_SCORE_COLUMNS = [
    C("group", "Nhóm", "Group"),
    C("n", "n", "n", "count"),
    C("mean", "Trung bình %", "Mean %", "pct"),
    C("sd", "Độ lệch chuẩn", "SD", "decimal"),
    C("median", "Trung vị %", "Median %", "pct"),
    C("q1", "Q1 %", "Q1 %", "pct"),
    C("q3", "Q3 %", "Q3 %", "pct"),
    C("minimum", "Thấp nhất %", "Min %", "pct"),
    C("maximum", "Cao nhất %", "Max %", "pct"),
    C("ci_low", "KTC 95 % dưới", "95 % CI low", "pct"),
    C("ci_high", "KTC 95 % trên", "95 % CI high", "pct"),
    C("reason", "Ghi chú", "Note"),
]


def _scores_table(s: CourseSummary) -> ReportTable:
    groups = [
        ("Trước khóa – mọi người làm", "Pre-test – all takers", s.pre_all),
        ("Sau khóa – mọi người làm", "Post-test – all takers", s.post_all),
        ("Trước khóa – cặp trước–sau", "Pre-test – matched pairs", s.pre_matched),
        ("Sau khóa – cặp trước–sau", "Post-test – matched pairs", s.post_matched),
    ]
    rows = []
    for vi, en, d in groups:
        values = asdict(d)
        values.pop("iqr", None)
        rows.append({**values, "group": vi, "group_en": en, **both(REASONS, "reason", d.reason)})
    return ReportTable(
        "S2",
        "Điểm trước và sau khóa (% điểm tối đa)",
        "Pre- and post-test scores (% of the maximum)",
        _SCORE_COLUMNS,
        rows,
        n=s.n_pre + s.n_post,
        denominator_vi="lần làm bài đầu tiên của mỗi người (lần làm lại chỉ để cấp chứng nhận)",
        denominator_en="each person's first attempt (retakes only count for certification)",
        notes_vi=["Khoảng tin cậy 95 % của trung bình theo phân phối t (ddof = 1)."],
        notes_en=["95 % confidence interval of the mean from the t distribution (ddof = 1)."],
    )


def _gain_table(s: CourseSummary) -> ReportTable:
    g = s.gain
    rows = [
        _stat(
            "mean_gain",
            "Tiến bộ trung bình (điểm %)",
            "Mean gain (pp)",
            g.mean_gain,
            g.gain_ci_low,
            g.gain_ci_high,
            reason=g.sd_reason if g.mean_gain is None else None,
        ),
        _stat("sd_gain", "Độ lệch chuẩn của tiến bộ", "SD of gain", g.sd_gain, reason=g.sd_reason),
        _stat(
            "median_gain",
            "Trung vị tiến bộ [Q1; Q3]",
            "Median gain [Q1; Q3]",
            g.median_gain,
            g.gain_q1,
            g.gain_q3,
        ),
        _stat(
            "paired_t",
            "Kiểm định t ghép cặp",
            "Paired t-test",
            g.t_statistic,
            p=g.p_t,
            note_vi=f"bậc tự do {g.df}" if g.df is not None else None,
            note_en=f"df {g.df}" if g.df is not None else None,
            reason=g.t_reason,
        ),
        _stat(
            "wilcoxon",
            "Kiểm định Wilcoxon (hạng có dấu)",
            "Wilcoxon signed-rank",
            g.wilcoxon_statistic,
            p=g.p_wilcoxon,
            note_vi=f"n = {g.wilcoxon_n} khác 0; {g.wilcoxon_method or ''}",
            note_en=f"n = {g.wilcoxon_n} non-zero; {g.wilcoxon_method or ''}",
            reason=g.wilcoxon_reason,
        ),
        _stat("d_z", "Cohen d_z", "Cohen's d_z", g.d_z, band=g.d_z_band, reason=g.effect_reason),
        _stat(
            "d_av", "Cohen d_av", "Cohen's d_av", g.d_av, band=g.d_av_band, reason=g.effect_reason
        ),
        _stat("g_av", "Hedges g_av (hiệu chỉnh J)", "Hedges' g_av (J-corrected)", g.g_av),
        _stat(
            "class_gain",
            "Tiến bộ chuẩn hóa của lớp ⟨g⟩ (Hake)",
            "Class normalised gain ⟨g⟩",
            g.class_gain,
            band=g.class_gain_band,
            reason=g.class_gain_reason,
        ),
        _stat(
            "individual_gain",
            "Trung bình tiến bộ cá nhân ḡ",
            "Mean individual gain ḡ",
            g.mean_individual_gain,
            band=g.individual_gain_band,
            note_vi=f"n = {g.n_individual_gain}",
            note_en=f"n = {g.n_individual_gain}",
            reason=g.individual_gain_reason,
        ),
        _stat(
            "normalised_change",
            "Thay đổi chuẩn hóa trung bình c̄ (Marx–Cummings)",
            "Mean normalised change c̄ (Marx–Cummings)",
            g.mean_normalised_change,
            note_vi=f"n = {g.n_normalised_change}",
            note_en=f"n = {g.n_normalised_change}",
        ),
    ]
    return ReportTable(
        "S3",
        "Tiến bộ trên các cặp trước–sau",
        "Gain over matched pairs",
        [
            C("statistic", "Chỉ số", "Statistic"),
            C("value", "Giá trị", "Value", "decimal"),
            C("low", "KTC 95 % dưới / Q1", "95 % CI low / Q1", "decimal"),
            C("high", "KTC 95 % trên / Q3", "95 % CI high / Q3", "decimal"),
            C("p", "p", "p", "p"),
            C("note", "Ghi chú", "Note"),
        ],
        rows,
        n=g.n,
        denominator_vi="học viên có cả bài trước và bài sau (d = sau − trước, điểm %)",
        denominator_en="trainees with both tests (d = post − pre, percentage points)",
        notes_vi=[line.vi for line in (*s.lines, *s.caveats)],
        notes_en=[line.en for line in (*s.lines, *s.caveats)],
    )


def _stat(
    key,
    vi,
    en,
    value,
    low=None,
    high=None,
    *,
    p=None,
    band=None,
    note_vi=None,
    note_en=None,
    reason=None,
) -> dict:
    parts_vi = [x for x in (word(BANDS, band, "vi"), note_vi) if x]
    parts_en = [x for x in (word(BANDS, band, "en"), note_en) if x]
    if value is None and reason:
        parts_vi.append(word(REASONS, reason, "vi"))
        parts_en.append(word(REASONS, reason, "en"))
    return {
        "key": key,
        "statistic": vi,
        "statistic_en": en,
        "value": value,
        "low": low,
        "high": high,
        "p": p,
        "band": band,
        "reason": reason if value is None else None,
        "note": "; ".join(parts_vi),
        "note_en": "; ".join(parts_en),
    }


def _pass_table(s: CourseSummary) -> ReportTable:
    rows = []
    for key, vi, en, prop in (
        ("pre", "Đạt trước khóa – mọi người", "Pass pre – all takers", s.pass_pre),
        ("post", "Đạt sau khóa – mọi người", "Pass post – all takers", s.pass_post),
        ("pre_matched", "Đạt trước khóa – cặp", "Pass pre – matched", s.pass_pre_matched),
        ("post_matched", "Đạt sau khóa – cặp", "Pass post – matched", s.pass_post_matched),
    ):
        rows.append(
            {
                "key": key,
                "group": vi,
                "group_en": en,
                "k": prop.k,
                "n": prop.n,
                "share": None if prop.share is None else 100 * prop.share,
                "ci_low": None if prop.ci_low is None else 100 * prop.ci_low,
                "ci_high": None if prop.ci_high is None else 100 * prop.ci_high,
                "p": None,
                **both(REASONS, "note", prop.reason),
            }
        )
    m = s.mcnemar
    rows.append(
        {
            "key": "mcnemar",
            "group": f"McNemar chính xác: không đạt→đạt b = {m.b}, đạt→không đạt c = {m.c}",
            "group_en": f"Exact McNemar: fail→pass b = {m.b}, pass→fail c = {m.c}",
            "k": None,
            "n": m.b + m.c,
            "p": m.p_value,
            **both(REASONS, "note", m.reason),
        }
    )
    return ReportTable(
        "S4",
        f"Tỷ lệ đạt (≥ {s.pass_mark_pct:g} %)",
        f"Pass rates (≥ {s.pass_mark_pct:g} %)",
        [
            C("group", "Nhóm", "Group"),
            C("k", "Đạt", "Passed", "count"),
            C("n", "n", "n", "count"),
            C("share", "Tỷ lệ %", "Rate %", "pct"),
            C("ci_low", "KTC 95 % dưới (Wilson)", "95 % CI low (Wilson)", "pct"),
            C("ci_high", "KTC 95 % trên (Wilson)", "95 % CI high (Wilson)", "pct"),
            C("p", "p", "p", "p"),
            C("note", "Ghi chú", "Note"),
        ],
        rows,
        n=s.n_post,
        denominator_vi="người làm bài của từng nhóm; điểm đạt của khóa",
        denominator_en="takers of each group; the course's pass mark",
    )


# --------------------------------------------------------------------------- T trainees


_T1_LEFT_OUT = frozenset({"pre_responses", "post_responses", "topics_pre", "topics_post"})


def _trainee_section(loaded: data.CourseData, topic_items, course: Course) -> ReportSection:
    table_rows = trainee_table(
        loaded.trainees, loaded.attempts, items=topic_items, pass_mark_pct=course.pass_mark
    )
    topics = sorted({t.topic for t in topic_items})
    columns = [
        C("trainee_id", "Mã", "Code"),
        C("name", "Họ và tên", "Name"),
        C("unit", "Đơn vị", "Unit"),
        C("level", "Tuyến", "Level"),
        C("staff_cat", "Nhóm", "Category"),
        C("attendance_pct", "Dự học %", "Attendance %", "pct"),
        C("pre_raw", "Trước (điểm)", "Pre (marks)", "decimal"),
        C("pre_pct", "Trước %", "Pre %", "pct"),
        C("post_raw", "Sau (điểm)", "Post (marks)", "decimal"),
        C("max", "Tối đa", "Max", "decimal"),
        C("post_pct", "Sau %", "Post %", "pct"),
        C("score10", "Thang 10", "Out of 10", "decimal"),
        C("gain_pp", "Tiến bộ (điểm %)", "Gain (pp)", "decimal"),
        C("normalised_change", "c", "c", "decimal"),
        C("pass_pre", "Đạt trước", "Pass pre"),
        C("pass_post", "Đạt sau", "Pass post"),
        C("certificate", "Đủ điều kiện chứng nhận", "Certificate"),
    ]
    for topic in topics:
        columns.append(C(f"pre_{topic}", f"{topic} trước %", f"{topic} pre %", "pct"))
        columns.append(C(f"post_{topic}", f"{topic} sau %", f"{topic} post %", "pct"))
    columns.append(C("flags", "Cảnh báo", "Flags"))
    rows, audit = [], []
    for r in table_rows:
        level = catalogue.LEVELS.get(r.level or "", (r.level, r.level))
        category = catalogue.STAFF_CATEGORIES.get(r.staff_cat or "", (r.staff_cat, r.staff_cat))
        row = {
            # shallow (asdict deep-copies); the response strings go to T2 and the topic
            # dicts are flattened below, so neither is repeated in every row
            **{k: v for k, v in vars(r).items() if k not in _T1_LEFT_OUT},
            "level": level[0],
            "level_en": level[1],
            "staff_cat": category[0],
            "staff_cat_en": category[1],
            "max": r.post_max if r.post_max is not None else r.pre_max,
            **_yes_no("pass_pre", r.pass_pre),
            **_yes_no("pass_post", r.pass_post),
            **_yes_no("certificate", r.certificate_eligible),
            **both(FLAGS, "flags", r.flags),
            "flag_codes": list(r.flags),
        }
        for topic in topics:
            row[f"pre_{topic}"] = r.topics_pre.get(topic)
            row[f"post_{topic}"] = r.topics_post.get(topic)
        rows.append(row)
        for phase, text in (("pre", r.pre_responses), ("post", r.post_responses)):
            if text:
                audit.append({"trainee_id": r.trainee_id, "phase": phase, "responses": text})
    section = ReportSection("T", "Kết quả từng học viên", "Results by trainee")
    section.tables.append(
        ReportTable(
            "T1",
            "Bảng kết quả học viên",
            "Trainee results",
            columns,
            rows,
            n=len(rows),
            denominator_vi="học viên ghi danh, cộng người làm bài ngoài danh sách",
            denominator_en="enrolled trainees, plus takers not on the roster",
            notes_vi=[
                "Trước/sau: lần làm đầu tiên; chứng nhận: lần làm tốt nhất và dự học "
                f"≥ {ATTENDANCE_MIN_PCT:g} %. c: thay đổi chuẩn hóa (Marx–Cummings)."
            ],
            notes_en=[
                "Pre/post: first attempts; certificate: best attempt and attendance "
                f"≥ {ATTENDANCE_MIN_PCT:g} %. c: normalised change (Marx–Cummings)."
            ],
        )
    )
    section.tables.append(
        ReportTable(
            "T2",
            "Chuỗi trả lời (để đối chiếu)",
            "Response strings (audit)",
            [
                C("trainee_id", "Mã", "Code"),
                C("phase", "Bài", "Test"),
                C("responses", "Trả lời", "Responses"),
            ],
            audit,
            n=len(audit),
        )
    )
    return section


def _waiting_table(session: Session, course: Course) -> ReportTable:
    rows = [
        {
            **row,
            "sent_at": (row["sent_at"] + VIETNAM_OFFSET).date() if row["sent_at"] else None,
            "phase_en": row["phase"],
            "phase": "trước" if row["phase"] == "pre" else "sau",
        }
        for row in reconciliation.waiting(session, course)
    ]
    return ReportTable(
        "T3",
        "Bài làm chờ đối chiếu danh tính",
        "Tests waiting for an identity",
        [
            C("submission_id", "Bài", "Test", "count"),
            C("phase", "Lần", "Phase"),
            C("sent_at", "Gửi lúc", "Sent", "date"),
            C("fb_name", "Tên đã nhập", "Name typed"),
            C("fb_birth_year", "Năm sinh", "Birth year"),
            C("fb_phone", "Điện thoại", "Phone"),
            C("fb_unit", "Đơn vị đã nhập", "Unit typed"),
            C("percent", "Điểm %", "Score %", "pct"),
        ],
        rows,
        n=len(rows),
        notes_vi=[
            "Bài làm bằng tên ngoài danh sách chỉ tính vào thống kê của từng lần, chưa ghép cặp "
            "trước–sau cho đến khi được đối chiếu với một học viên."
        ],
        notes_en=[
            "Tests sent under a name not on the roster count in their phase's descriptives "
            "only, and join no matched analysis until linked to a trainee."
        ],
        empty_reason_vi="Không có bài nào chờ đối chiếu.",
        empty_reason_en="No test is waiting for an identity.",
    )


def _yes_no(key: str, value: bool | None) -> dict:
    if value is None:
        return {key: None, f"{key}_en": None}
    return {key: "Đạt" if value else "Không", f"{key}_en": "Yes" if value else "No"}


# --------------------------------------------------------------------------- P topics


def _topic_section(loaded: data.CourseData, topic_items, report: Report) -> ReportSection:
    section = ReportSection("P", "Điểm theo chủ đề", "Scores by topic", charts=["P1"])
    rows = [
        {
            **asdict(r),
            "note": word(REASONS, r.class_gain_reason, "vi")
            if r.class_gain is None and r.class_gain_reason
            else ("" if not r.suppressed else word(REASONS, "too_few_items", "vi")),
            "note_en": word(REASONS, r.class_gain_reason, "en")
            if r.class_gain is None and r.class_gain_reason
            else ("" if not r.suppressed else word(REASONS, "too_few_items", "en")),
            "suppressed": r.suppressed,
        }
        for r in topic_table(loaded.trainees, loaded.attempts, topic_items)
    ]
    section.tables.append(
        ReportTable(
            "P1",
            "Điểm trung bình theo chủ đề",
            "Mean scores by topic",
            [
                C("topic", "Chủ đề", "Topic"),
                C("n_items", "Số câu", "Items", "count"),
                C("n_pre", "n trước", "n pre", "count"),
                C("mean_pre", "Trước %", "Pre %", "pct"),
                C("n_post", "n sau", "n post", "count"),
                C("mean_post", "Sau %", "Post %", "pct"),
                C("n_matched", "Cặp", "Pairs", "count"),
                C("mean_gain", "Tiến bộ (điểm %)", "Gain (pp)", "decimal"),
                C("class_gain", "⟨g⟩", "⟨g⟩", "decimal"),
                C("note", "Ghi chú", "Note"),
            ],
            rows,
            n=len(rows),
            denominator_vi="lần làm đầu tiên; tiến bộ và ⟨g⟩ trên các cặp trước–sau",
            denominator_en="first attempts; gain and ⟨g⟩ over matched pairs",
            notes_vi=["Chủ đề dưới 3 câu không hiển thị điểm: quá ít câu để tin cậy."],
            notes_en=["Topics with fewer than 3 items are not scored: too unreliable."],
            empty_reason_vi="Đáp án chưa gắn chủ đề cho câu hỏi nào.",
            empty_reason_en="No keyed item has a topic.",
        )
    )
    shown = [r for r in rows if not r["suppressed"]]
    if shown:
        report.charts["P1"] = {
            "topics": [r["topic"] for r in shown],
            "pre": [r["mean_pre"] for r in shown],
            "post": [r["mean_post"] for r in shown],
        }
    return section
