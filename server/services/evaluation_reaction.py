"""Reaction (Kirkpatrick L1) sections of the evaluation report: satisfaction and comments.

Spec §3.7. The satisfaction form is read through its own schema, not a list of names: Likert
items are single-choice questions answered 1–5; the scale is the group holding most of them
(``g_sat`` in the standard form); items inside a repeat are per-trainer items, grouped by the
trainer picked in the repeat; ``overall`` is the overall-satisfaction item; free-text
questions are the open comments. So a department's own variant of the form still reports.

Comments are coded by keywords with the starter code frame unless a trainer recoded them on
the page (``comment_codes`` holds those codes and they win). Quotes have names, phone numbers
and unit names removed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.domain.report_model import ReportColumn, ReportSection, ReportTable
from server.domain.satisfaction import (
    CODE_FRAME,
    CodedComment,
    LikertSummary,
    breakdown,
    code_comment,
    is_no_comment,
    reaction_line,
    summarise_comments,
    summarise_item,
    summarise_scale,
)
from server.domain.scoring import find_answers
from server.models import CommentCode, Course, Person
from server.services import evaluation_data as data
from server.services.evaluation_words import REASONS, word

C = ReportColumn
OVERALL = "overall"
FRAME = {code.number: code for code in CODE_FRAME}


def reaction_sections(
    session: Session, course: Course, loaded: data.CourseData, *, rows: bool
) -> tuple[list[ReportSection], ReportTable | None, list[dict]]:
    """Sections L (satisfaction) and C (comments), the L1 line of the summary, chart L1 data."""
    answers = data.satisfaction_answers(session, course)
    schema = data.satisfaction_schema(session, course.satisfaction_form_id or "")
    form = _FormShape.of(schema)
    satisfaction = ReportSection("L", "Mức độ hài lòng", "Satisfaction", charts=["L1"])
    comments_section = ReportSection("C", "Ý kiến góp ý", "Open comments")
    if not course.satisfaction_form_id or not schema:
        return [], None, []
    flat = [(sid, _flatten(values, form)) for sid, values in answers]
    responses = [values for _sid, values in flat]
    scale = summarise_scale(responses, form.scale)
    overall = (
        summarise_item([r.get(OVERALL) for r in responses], item=OVERALL)
        if form.has_overall
        else None
    )
    satisfaction.tables.append(_items_table(form, scale, overall, responses))
    satisfaction.tables.append(_scale_table(scale, len(responses)))
    if form.trainer_items:
        satisfaction.tables.append(_trainer_table(session, form, answers))
    if form.level_field:
        satisfaction.tables.append(_level_table(form, responses))
    if form.topics_field:
        satisfaction.tables.append(_topics_table(form, responses))
    coded = _coded_comments(session, form, flat)
    names = [t.name for t in loaded.trainees if t.name] + _trainer_names(session, course)
    summary = summarise_comments(
        coded, n_respondents=len(responses), names=names, units=loaded.unit_names
    )
    comments_section.tables.append(_themes_table(summary))
    if rows:
        comments_section.tables.append(_verbatims_table(coded, form))
    line = reaction_line(scale, overall, summary.n_comments)
    shown = [s for s in scale.items if s.n] + ([overall] if overall and overall.n else [])
    chart_rows = [
        {
            "label": form.labels.get(s.item, (s.item, s.item)),
            "shares": [s.distribution.get(k, 0.0) for k in range(1, 6)],
            "n": s.n,
        }
        for s in shown
    ]
    return [satisfaction, comments_section], _line_table(line, len(responses)), chart_rows


class _FormShape:
    """Which questions of the satisfaction form play which part."""

    def __init__(self) -> None:
        self.scale: list[str] = []
        self.others: list[str] = []
        self.trainer_items: list[str] = []
        self.trainer_field: str | None = None
        self.repeat: str | None = None
        self.comments: list[str] = []
        self.level_field: str | None = None
        self.topics_field: str | None = None
        self.has_overall = False
        self.labels: dict[str, tuple[str, str]] = {}
        self.choice_labels: dict[str, dict[str, tuple[str, str]]] = {}

    @classmethod
    def of(cls, schema: dict[str, dict]) -> _FormShape:
        shape = cls()
        by_parent: dict[str, list[str]] = defaultdict(list)
        for name, f in schema.items():
            shape.labels[name] = data.label_pair(f.get("labels") or {})
            shape.choice_labels[name] = {
                str(c["name"]): data.label_pair(c.get("labels") or {})
                for c in f.get("choices") or []
            }
            if f.get("repeat"):
                shape.repeat = f["repeat"].rsplit("/", 1)[-1]
                if f.get("choice_file") and shape.trainer_field is None:
                    shape.trainer_field = name
                elif _is_likert(f):
                    shape.trainer_items.append(name)
                continue
            if name == OVERALL and _is_likert(f):
                shape.has_overall = True
            elif _is_likert(f) and not name.startswith("conf_"):
                by_parent[f["path"].rsplit("/", 1)[0]].append(name)
            elif f.get("kind") == "text" and not name.startswith("fb_"):
                shape.comments.append(name)
            elif name in ("resp_level", "level") and f.get("kind") == "select_one":
                shape.level_field = name
            elif f.get("kind") == "select_multiple" and "topic" in name:
                shape.topics_field = name
        if by_parent:
            scale_parent = max(by_parent, key=lambda p: len(by_parent[p]))
            shape.scale = by_parent.pop(scale_parent)
            shape.others = [n for names in by_parent.values() for n in names]
        return shape


def _is_likert(f: dict) -> bool:
    """A single choice answered 1–5; not the header row pyxform adds to a table-list group."""
    names = {str(c.get("name")) for c in f.get("choices") or []}
    header = (f.get("appearance") or "") == "label"
    return f.get("kind") == "select_one" and not header and {"1", "2", "3", "4", "5"} <= names


def _flatten(values: dict[str, Any], form: _FormShape) -> dict[str, Any]:
    """The answers a summary needs, found wherever they sit (groups)."""
    wanted = [*form.scale, *form.others, *form.comments, OVERALL]
    wanted.extend(extra for extra in (form.level_field, form.topics_field) if extra)
    return find_answers(values, wanted)


def _repeats(values: dict[str, Any], name: str) -> list[dict]:
    pending = [values]
    while pending:
        current = pending.pop()
        for key, value in current.items():
            if key == name and isinstance(value, list):
                return [v for v in value if isinstance(v, dict)]
            if isinstance(value, dict):
                pending.append(value)
    return []


_LIKERT_COLUMNS = [
    C("label", "Nội dung", "Item"),
    C("n", "n", "n", "count"),
    C("n_missing", "Không trả lời / Không áp dụng", "Missing / N/A", "count"),
    *[C(f"pct{k}", f"{k} %", f"{k} %", "pct") for k in range(1, 6)],
    C("mean", "Trung bình", "Mean", "decimal"),
    C("sd", "SD", "SD", "decimal"),
    C("median", "Trung vị", "Median", "decimal"),
    C("top2", "Đồng ý (4–5) %", "Top-2-box %", "pct"),
    C("top2_low", "KTC 95 % dưới", "95 % CI low", "pct"),
    C("top2_high", "KTC 95 % trên", "95 % CI high", "pct"),
    C("bottom2", "Không đồng ý (1–2) %", "Bottom-2-box %", "pct"),
    C("net", "Ròng (điểm %)", "Net (pp)", "decimal"),
]


def _likert_row(s: LikertSummary, label: tuple[str, str]) -> dict:
    row = {
        "item": s.item,
        "label": label[0],
        "label_en": label[1],
        "n": s.n,
        "n_missing": s.n_missing,
        "mean": s.mean,
        "sd": s.sd,
        "median": s.median,
        "top2": None if s.top2.share is None else 100 * s.top2.share,
        "top2_low": None if s.top2.ci_low is None else 100 * s.top2.ci_low,
        "top2_high": None if s.top2.ci_high is None else 100 * s.top2.ci_high,
        "bottom2": None if s.bottom2_share is None else 100 * s.bottom2_share,
        "net": s.net_pp,
    }
    for k in range(1, 6):
        share = s.distribution.get(k)
        row[f"pct{k}"] = None if share is None or not s.n else 100 * share
    return row


def _items_table(form, scale, overall, responses) -> ReportTable:
    rows = [_likert_row(s, form.labels.get(s.item, (s.item, s.item))) for s in scale.items]
    if overall is not None:
        rows.append(_likert_row(overall, form.labels.get(OVERALL, (OVERALL, OVERALL))))
    for name in form.others:
        s = summarise_item([r.get(name) for r in responses], item=name)
        rows.append(_likert_row(s, form.labels.get(name, (name, name))))
    return ReportTable(
        "L1",
        "Từng câu đánh giá (1 = rất không đồng ý … 5 = rất đồng ý)",
        "Each item (1 = strongly disagree … 5 = strongly agree)",
        _LIKERT_COLUMNS,
        rows,
        n=len(responses),
        denominator_vi="người trả lời câu đó (không tính 'không áp dụng')",
        denominator_en="respondents who answered the item ('not applicable' excluded)",
        notes_vi=["Khoảng tin cậy của tỷ lệ đồng ý theo Wilson. Ròng = đồng ý − không đồng ý."],
        notes_en=["Wilson interval of the top-2-box. Net = top-2-box − bottom-2-box."],
        empty_reason_vi="Chưa có phiếu đánh giá khóa học nào.",
        empty_reason_en="No course evaluation form received yet.",
    )


def _scale_table(scale, n: int) -> ReportTable:
    rows = [
        {
            "statistic": "Điểm hài lòng tổng hợp (trung bình của người trả lời ≥ 70 % câu)",
            "statistic_en": "Satisfaction composite (respondents with ≥ 70 % of items)",
            "value": scale.composite_mean,
            "low": scale.composite_ci_low,
            "high": scale.composite_ci_high,
            "n": scale.n_composite,
            "note": word(REASONS, scale.composite_reason, "vi") or "",
            "note_en": word(REASONS, scale.composite_reason, "en") or "",
        },
        {
            "statistic": "Độ lệch chuẩn của điểm tổng hợp",
            "statistic_en": "SD of the composite",
            "value": scale.composite_sd,
            "n": scale.n_composite,
        },
        {
            "statistic": "Trung bình của các trung bình câu",
            "statistic_en": "Mean of the item means",
            "value": scale.composite_of_item_means,
            "n": n,
        },
        {
            "statistic": "Cronbach α (độ nhất quán nội tại)",
            "statistic_en": "Cronbach's α (internal consistency)",
            "value": scale.alpha,
            "n": scale.alpha_n,
            "note": word(REASONS, scale.alpha_reason, "vi") or "hiện khi n ≥ 20",
            "note_en": word(REASONS, scale.alpha_reason, "en") or "shown when n ≥ 20",
        },
    ]
    return ReportTable(
        "L2",
        "Thang đo hài lòng",
        "Satisfaction scale",
        [
            C("statistic", "Chỉ số", "Statistic"),
            C("n", "n", "n", "count"),
            C("value", "Giá trị", "Value", "decimal"),
            C("low", "KTC 95 % dưới", "95 % CI low", "decimal"),
            C("high", "KTC 95 % trên", "95 % CI high", "decimal"),
            C("note", "Ghi chú", "Note"),
        ],
        rows,
        n=n,
    )


def _trainer_table(session: Session, form, answers) -> ReportTable:
    responses, groups = [], []
    for _sid, values in answers:
        for entry in _repeats(values, form.repeat or ""):
            responses.append(entry)
            groups.append(entry.get(form.trainer_field) if form.trainer_field else None)
    by_trainer = breakdown(responses, groups, form.trainer_items)
    names = _person_names(session, [g for g in by_trainer if g])
    rows = []
    for trainer, summary in by_trainer.items():
        row = {
            "trainer": names.get(trainer, trainer),
            "n": summary.n_respondents,
            "composite": summary.composite_mean,
            "low": summary.composite_ci_low,
            "high": summary.composite_ci_high,
        }
        for s in summary.items:
            row[f"mean_{s.item}"] = s.mean
            row[f"top2_{s.item}"] = None if s.top2.share is None else 100 * s.top2.share
        rows.append(row)
    columns = [
        C("trainer", "Giảng viên", "Trainer"),
        C("n", "n", "n", "count"),
        C("composite", "Điểm tổng hợp", "Composite", "decimal"),
        C("low", "KTC 95 % dưới", "95 % CI low", "decimal"),
        C("high", "KTC 95 % trên", "95 % CI high", "decimal"),
    ]
    for item in form.trainer_items:
        vi, en = form.labels.get(item, (item, item))
        columns.append(C(f"mean_{item}", f"{vi}: TB", f"{en}: mean", "decimal"))
        columns.append(C(f"top2_{item}", f"{vi}: đồng ý %", f"{en}: top-2 %", "pct"))
    return ReportTable(
        "L3",
        "Theo giảng viên",
        "By trainer",
        columns,
        rows,
        n=len(responses),
        denominator_vi="lượt đánh giá giảng viên",
        denominator_en="trainer ratings given",
        empty_reason_vi="Chưa có đánh giá giảng viên.",
        empty_reason_en="No trainer ratings yet.",
    )


def _level_table(form, responses) -> ReportTable:
    groups = [r.get(form.level_field) for r in responses]
    rows = []
    for level, summary in breakdown(responses, groups, form.scale).items():
        vi, en = form.choice_labels.get(form.level_field, {}).get(str(level), (level, level))
        rows.append(
            {
                "group": vi,
                "group_en": en,
                "n": summary.n_respondents,
                "composite": summary.composite_mean,
                "low": summary.composite_ci_low,
                "high": summary.composite_ci_high,
            }
        )
    return ReportTable(
        "L4",
        "Theo tuyến của người trả lời",
        "By respondents' level",
        [
            C("group", "Tuyến", "Level"),
            C("n", "n", "n", "count"),
            C("composite", "Điểm tổng hợp", "Composite", "decimal"),
            C("low", "KTC 95 % dưới", "95 % CI low", "decimal"),
            C("high", "KTC 95 % trên", "95 % CI high", "decimal"),
        ],
        rows,
        n=len(responses),
    )


def _topics_table(form, responses) -> ReportTable:
    counts: Counter[str] = Counter()
    for r in responses:
        value = r.get(form.topics_field)
        picked = value if isinstance(value, list) else str(value or "").split()
        counts.update(set(picked))
    labels = form.choice_labels.get(form.topics_field, {})
    rows = [
        {
            "topic": code,
            "label": labels.get(code, (code, code))[0],
            "label_en": labels.get(code, (code, code))[1],
            "n": n,
            "pct": 100 * n / len(responses) if responses else None,
        }
        for code, n in counts.most_common()
    ]
    return ReportTable(
        "L5",
        "Chủ đề muốn học tiếp",
        "Topics wanted next",
        [
            C("topic", "Mã", "Code"),
            C("label", "Chủ đề", "Topic"),
            C("n", "Số người chọn", "Chosen by", "count"),
            C("pct", "% người trả lời", "% of respondents", "pct"),
        ],
        rows,
        n=len(responses),
        empty_reason_vi="Chưa ai chọn chủ đề.",
        empty_reason_en="Nobody picked a topic.",
    )


def _coded_comments(session: Session, form, flat) -> list[CodedComment]:
    manual: dict[tuple[int, str], list[int]] = defaultdict(list)
    sids = [sid for sid, _values in flat]
    if sids:
        for sid, question, code in session.execute(
            sa.select(CommentCode.submission_id, CommentCode.question, CommentCode.code)
            .where(CommentCode.submission_id.in_(sids))
            .order_by(CommentCode.code)
        ):
            manual[(sid, question)].append(code)
    coded = []
    for sid, values in flat:
        for question in form.comments:
            text = values.get(question)
            if not isinstance(text, str) or not text.strip():
                continue
            auto = code_comment(text, submission_id=str(sid), question=question)
            codes = manual.get((sid, question))
            if codes and not is_no_comment(text):
                auto = CodedComment(
                    auto.submission_id, question, auto.text, tuple(codes), auto.topics
                )
            coded.append(auto)
    return coded


def _themes_table(summary) -> ReportTable:
    rows = [
        {
            "code": r.code,
            "label": r.label_vi,
            "label_en": r.label_en,
            "n_mentions": r.n_mentions,
            "n_respondents": r.n_respondents,
            "pct": r.pct_of_commenting,
            "quotes": " | ".join(q.text for q in r.quotes),
            "topics": ", ".join(r.topics),
        }
        for r in summary.rows
    ]
    notes_vi = [
        f"Tỷ lệ góp ý: {summary.n_commenting}/{summary.n_respondents} người trả lời."
        if summary.n_respondents
        else "Chưa có phiếu đánh giá."
    ]
    notes_en = [
        f"Comment rate: {summary.n_commenting}/{summary.n_respondents} respondents."
        if summary.n_respondents
        else "No forms yet."
    ]
    if summary.other_too_large:
        notes_vi.append("Nhóm 'Khác' vượt 10 % ý kiến đã mã hóa: nên bổ sung mã.")
        notes_en.append("'Other' is over 10 % of coded comments: extend the code frame.")
    notes_vi.append("Trích dẫn đã bỏ tên người, số điện thoại và tên đơn vị.")
    notes_en.append("Quotes have names, phone numbers and unit names removed.")
    return ReportTable(
        "C1",
        "Chủ đề của ý kiến góp ý",
        "Themes of the comments",
        [
            C("code", "Mã", "Code", "count"),
            C("label", "Chủ đề", "Theme"),
            C("n_mentions", "Lượt nhắc", "Mentions", "count"),
            C("n_respondents", "Số người", "Respondents", "count"),
            C("pct", "% người góp ý", "% of commenting", "pct"),
            C("quotes", "Trích dẫn tiêu biểu", "Representative quotes"),
            C("topics", "Chủ đề TP", "TP topics"),
        ],
        rows,
        n=summary.n_commenting,
        denominator_vi="người có ít nhất một ý kiến",
        denominator_en="respondents with at least one comment",
        notes_vi=notes_vi,
        notes_en=notes_en,
    )


def _verbatims_table(coded: list[CodedComment], form: _FormShape) -> ReportTable:
    rows = [
        {
            "submission_id": int(c.submission_id),
            "question": form.labels.get(c.question, (c.question, c.question))[0],
            "question_en": form.labels.get(c.question, (c.question, c.question))[1],
            "question_name": c.question,
            "text": c.text,
            "codes": ", ".join(str(n) for n in c.codes),
            "code_list": list(c.codes),
            "themes": "; ".join(FRAME[n].label_vi for n in c.codes if n in FRAME),
            "themes_en": "; ".join(FRAME[n].label_en for n in c.codes if n in FRAME),
        }
        for c in coded
        if not is_no_comment(c.text)
    ]
    return ReportTable(
        "C2",
        "Nguyên văn ý kiến và mã",
        "Verbatim comments and their codes",
        [
            C("submission_id", "Phiếu", "Form", "count"),
            C("question", "Câu hỏi", "Question"),
            C("text", "Ý kiến", "Comment"),
            C("codes", "Mã", "Codes"),
            C("themes", "Chủ đề", "Themes"),
        ],
        rows,
        n=len(rows),
        notes_vi=["Mã gán tự động theo từ khóa; giảng viên có thể sửa mã, mã đã sửa được lưu."],
        notes_en=["Codes are assigned by keywords; trainers may recode, and their codes are kept."],
        empty_reason_vi="Chưa có ý kiến nào.",
        empty_reason_en="No comments yet.",
    )


def _line_table(line, n: int) -> ReportTable:
    top2 = line.overall_top2
    return ReportTable(
        "S5",
        "Phản hồi của học viên (mức 1)",
        "Trainees' reaction (level 1)",
        [
            C("statistic", "Chỉ số", "Statistic"),
            C("value", "Giá trị", "Value", "decimal"),
            C("low", "KTC 95 % dưới", "95 % CI low", "decimal"),
            C("high", "KTC 95 % trên", "95 % CI high", "decimal"),
        ],
        [
            {
                "statistic": "Điểm hài lòng (trung bình các câu, 1–5)",
                "statistic_en": "Satisfaction composite (mean of item means, 1–5)",
                "value": line.composite,
            },
            {
                "statistic": "Hài lòng chung: % đồng ý (4–5)",
                "statistic_en": "Overall satisfaction: top-2-box %",
                "value": None if top2 is None or top2.share is None else 100 * top2.share,
                "low": None if top2 is None or top2.ci_low is None else 100 * top2.ci_low,
                "high": None if top2 is None or top2.ci_high is None else 100 * top2.ci_high,
            },
            {
                "statistic": "Số ý kiến góp ý",
                "statistic_en": "Comments",
                "value": line.n_comments,
            },
        ],
        n=n,
        denominator_vi="phiếu đánh giá khóa học",
        denominator_en="course evaluation forms",
    )


def _trainer_names(session: Session, course: Course) -> list[str]:
    return list(_person_names(session, course.trainers or []).values())


def _person_names(session: Session, codes) -> dict[str, str]:
    codes = [str(c) for c in codes if c]
    if not codes:
        return {}
    query = sa.select(Person.code, Person.full_name).where(Person.code.in_(codes))
    return {row.code: row.full_name for row in session.execute(query)}


def comment_frame() -> list[dict]:
    """The code frame as plain data (the recoding form's choices)."""
    return [asdict(code) | {"keywords": list(code.keywords)} for code in CODE_FRAME]
