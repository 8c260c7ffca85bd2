"""Satisfaction (Kirkpatrick L1) summaries and open comments of the evaluation report (§3.7).

Per Likert item (1 = rất không đồng ý … 5 = rất đồng ý; "Không áp dụng" is missing): n, the
distribution, mean, SD and median of the codes, top-2-box with its Wilson interval,
bottom-2-box and net (§3.7.1). Per scale: the respondent composite (mean of the answered items,
for respondents who answered at least 70 % of them), its course mean with a t interval, and
Cronbach's α with the CIC formula of the item analysis (§3.7.2). Breakdowns by any grouping
(trainer, session, level, …) reuse the same summaries (§3.7.3).

Open comments (§3.7.4): the starter code frame as data (vi/en), a keyword coder that works on
Vietnamese typed with or without diacritics, counts per theme and up to three quotes per theme
with names, units and phone numbers removed. The coder is a first pass that the trainers'
reading corrects; the codes it stores are meant to be reviewed, and two-coder agreement is a
human step.

Results are plain values, unrounded; shares 0..1, ``*_pct`` 0..100, ``*_pp`` point
differences. ``None`` values carry a reason: ``no_answers``, ``one_answer``,
``too_few_respondents``, ``one_item``, ``zero_variance``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from server.domain.evaluation_stats import Proportion, describe_scores, wilson_interval
from server.domain.item_analysis import quiz_statistics
from server.domain.redaction import Redactor, fold

#: Share of the items a respondent must answer to get a composite (§3.7.2).
MIN_ANSWERED_SHARE = 0.7
#: Respondents (complete on every item) needed to show Cronbach's α (§3.7.2).
MIN_ALPHA_N = 20
#: "Other" should stay at or under this share of coded comments (§3.7.4).
MAX_OTHER_SHARE = 0.1
OTHER_CODE = 98
NO_COMMENT_CODE = 99
TOPIC_REQUEST_CODE = 10


# --------------------------------------------------------------------------- Likert


@dataclass(frozen=True)
class LikertSummary:
    """§3.7.1 for one item. ``distribution`` maps each code 1..k to its share of n."""

    item: str
    n: int
    n_missing: int
    counts: dict[int, int]
    distribution: dict[int, float]
    mean: float | None
    sd: float | None
    median: float | None
    top2: Proportion
    bottom2_share: float | None
    net_pp: float | None
    reason: str | None


@dataclass(frozen=True)
class ScaleSummary:
    """§3.7.2: the items, the respondent composite and Cronbach's α.

    ``composite_of_item_means`` is the course-level figure of the L1 line (mean of the item
    means, §3.2); ``composite_mean`` is the mean of the respondents' composites (§3.7.2).
    ``alpha`` is on 0..1 (CIC/100), computed on respondents who answered every item.
    """

    n_respondents: int
    n_composite: int
    composite_mean: float | None
    composite_sd: float | None
    composite_ci_low: float | None
    composite_ci_high: float | None
    composite_reason: str | None
    composite_of_item_means: float | None
    alpha: float | None
    alpha_n: int
    alpha_reason: str | None
    items: list[LikertSummary]


@dataclass(frozen=True)
class ReactionLine:
    """The course-level L1 line of the summary (§3.2)."""

    composite: float | None
    overall_top2: Proportion | None
    n_comments: int


def likert_value(value: Any, *, scale_points: int = 5) -> int | None:
    """A Likert answer as an integer code 1..k, or None when missing or not applicable.

    Strings of digits are accepted ("4"); anything else (None, NaN, "na", 0, 9 …) is missing.

    :param value: the stored answer.
    :param scale_points: k.
    :return: the code or None.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit():
            return None
        value = int(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(number) or number != int(number) or not 1 <= number <= scale_points:
        return None
    return int(number)


def summarise_item(
    values: Iterable[Any], *, item: str = "", scale_points: int = 5, confidence: float = 0.95
) -> LikertSummary:
    """Summarise one Likert item (§3.7.1).

    Top-2-box: codes k − 1 and k; bottom-2-box: 1 and 2; net = T2B − B2B in points. On a 5-point
    scale that is "agree + strongly agree" (MeasuringU).

    :param values: one answer per respondent (missing and N/A included; they count in
        ``n_missing``).
    :param item: the item's name.
    :param scale_points: k.
    :param confidence: level of the Wilson interval of T2B.
    :return: the summary.
    """
    raw = list(values)
    codes = [c for c in (likert_value(v, scale_points=scale_points) for v in raw) if c is not None]
    n = len(codes)
    counts = {k: codes.count(k) for k in range(1, scale_points + 1)}
    top = counts[scale_points] + counts[scale_points - 1]
    bottom = counts[1] + counts[2]
    top2 = wilson_interval(top, n, confidence=confidence)
    if n == 0:
        reason = "no_answers"
    elif n == 1:
        reason = "one_answer"
    else:
        reason = None
    arr = np.asarray(codes, dtype=float)
    return LikertSummary(
        item=item,
        n=n,
        n_missing=len(raw) - n,
        counts=counts,
        distribution={k: c / n for k, c in counts.items()} if n else {},
        mean=float(arr.mean()) if n else None,
        sd=float(arr.std(ddof=1)) if n > 1 else None,
        median=float(np.median(arr)) if n else None,
        top2=top2,
        bottom2_share=bottom / n if n else None,
        net_pp=100 * (top - bottom) / n if n else None,
        reason=reason,
    )


def summarise_scale(
    responses: Sequence[Mapping[str, Any]],
    items: Sequence[str],
    *,
    scale_points: int = 5,
    min_answered_share: float = MIN_ANSWERED_SHARE,
    min_alpha_n: int = MIN_ALPHA_N,
    confidence: float = 0.95,
) -> ScaleSummary:
    """Summarise a satisfaction scale (§3.7.2).

    Cronbach's α uses the CIC formula of §3.5.3 on the complete respondents (sample
    variances; α = p/(p − 1)·(1 − ΣV_i/V_T)); it is computed from 3 complete respondents but
    ``alpha_reason`` is ``too_few_respondents`` (and α None) under ``min_alpha_n``.

    :param responses: one mapping item → answer per respondent.
    :param items: the scale's items (trainer items may be a separate scale).
    :param scale_points: k.
    :param min_answered_share: share of items needed for a composite.
    :param min_alpha_n: complete respondents needed to show α.
    :param confidence: level of the intervals.
    :return: the summary.
    """
    matrix = np.array(
        [
            [
                np.nan if (c := likert_value(r.get(i), scale_points=scale_points)) is None else c
                for i in items
            ]
            for r in responses
        ],
        dtype=float,
    ).reshape(len(responses), len(items))
    item_summaries = [
        summarise_item(
            (r.get(i) for r in responses), item=i, scale_points=scale_points, confidence=confidence
        )
        for i in items
    ]
    answered = (~np.isnan(matrix)).sum(axis=1) if len(items) else np.zeros(len(responses))
    enough = answered >= min_answered_share * len(items) - 1e-9
    enough &= answered > 0
    composites = [float(np.nanmean(row)) for row in matrix[enough]]
    described = describe_scores(composites, confidence=confidence)
    means = [s.mean for s in item_summaries if s.mean is not None]

    complete = matrix[~np.isnan(matrix).any(axis=1)] if len(items) else matrix
    alpha, alpha_reason = None, None
    if len(items) < 2:
        alpha_reason = "one_item"
    elif complete.shape[0] < min_alpha_n:
        alpha_reason = "too_few_respondents"
    else:
        quiz = quiz_statistics(complete, [scale_points] * len(items))
        if quiz.cic is None:
            alpha_reason = quiz.cic_reason
        else:
            alpha = quiz.cic / 100
    return ScaleSummary(
        n_respondents=len(responses),
        n_composite=len(composites),
        composite_mean=described.mean,
        composite_sd=described.sd,
        composite_ci_low=described.ci_low,
        composite_ci_high=described.ci_high,
        composite_reason=described.reason,
        composite_of_item_means=float(np.mean(means)) if means else None,
        alpha=alpha,
        alpha_n=int(complete.shape[0]),
        alpha_reason=alpha_reason,
        items=item_summaries,
    )


def breakdown(
    responses: Sequence[Mapping[str, Any]],
    groups: Sequence[Hashable],
    items: Sequence[str],
    **options: Any,
) -> dict[Hashable, ScaleSummary]:
    """Summarise the scale per group (§3.7.3): by course, trainer, session, level, staff_cat.

    :param responses: the respondents' answers.
    :param groups: each respondent's group, aligned with ``responses`` (None = no group, left
        out).
    :param items: the items of the scale (for a trainer breakdown, the trainer items only).
    :param options: passed to :func:`summarise_scale`.
    :return: group → summary, groups in first-seen order.
    """
    if len(groups) != len(responses):
        raise ValueError("groups must align with responses")
    members: dict[Hashable, list[Mapping[str, Any]]] = defaultdict(list)
    for response, group in zip(responses, groups, strict=True):
        if group is not None:
            members[group].append(response)
    return {g: summarise_scale(rs, items, **options) for g, rs in members.items()}


def reaction_line(
    scale: ScaleSummary, overall: LikertSummary | None, n_comments: int
) -> ReactionLine:
    """The L1 line of the course summary: composite, T2B of "overall satisfaction", comments.

    :param scale: :func:`summarise_scale` of the satisfaction items.
    :param overall: :func:`summarise_item` of the overall-satisfaction item, if the form has it.
    :param n_comments: number of (non-empty) comments.
    :return: the line's data.
    """
    return ReactionLine(
        composite=scale.composite_of_item_means,
        overall_top2=overall.top2 if overall else None,
        n_comments=n_comments,
    )


# --------------------------------------------------------------------------- comments


@dataclass(frozen=True)
class Code:
    """One code of the frame: number, labels and definitions in both languages, keywords.

    Keywords are written without diacritics and in lower case; they match whole words of the
    folded comment (see :func:`fold`), so "thực hành" and "thuc hanh" both match "thuc hanh".
    """

    number: int
    label_vi: str
    label_en: str
    definition_vi: str
    definition_en: str
    keywords: tuple[str, ...] = ()


#: The starter code frame (§3.7.4), plus 98 Other and 99 No comment.
CODE_FRAME: tuple[Code, ...] = (
    Code(
        1,
        "Nội dung phù hợp, thiết thực",
        "Content relevance",
        "Nhận xét về mức phù hợp, hữu ích, áp dụng được của nội dung.",
        "Remarks on how relevant, useful or applicable the content is.",
        (
            "noi dung",
            "thiet thuc",
            "phu hop",
            "sat thuc te",
            "thuc te",
            "huu ich",
            "ap dung",
            "bo ich",
            "relevant",
            "useful",
            "practical",
            "content",
        ),
    ),
    Code(
        2,
        "Thêm thực hành, đóng vai",
        "More practice / role-play",
        "Muốn thêm hoặc khen phần thực hành, đóng vai, bài tập tình huống.",
        "Wants more of, or praises, practice, role-play, case exercises.",
        (
            "thuc hanh",
            "dong vai",
            "bai tap",
            "tinh huong",
            "thao tac",
            "practice",
            "role play",
            "roleplay",
            "exercise",
            "hands on",
        ),
    ),
    Code(
        3,
        "Thêm thời gian, thời lượng",
        "More time / duration",
        "Thời lượng khóa học, số ngày, nhịp độ quá nhanh.",
        "Length of the course, number of days, pace too fast.",
        (
            "thoi gian",
            "thoi luong",
            "them ngay",
            "keo dai",
            "ngan qua",
            "voi qua",
            "nhanh qua",
            "qua gap",
            "more time",
            "too short",
            "duration",
            "longer",
        ),
    ),
    Code(
        4,
        "Tài liệu, giáo trình",
        "Materials / handouts",
        "Tài liệu phát tay, giáo trình, slide, bản in.",
        "Handouts, manuals, slides, printed materials.",
        (
            "tai lieu",
            "giao trinh",
            "slide",
            "slides",
            "ban in",
            "handout",
            "handouts",
            "material",
            "materials",
            "so tay",
        ),
    ),
    Code(
        5,
        "Giảng viên truyền đạt rõ",
        "Trainer clarity",
        "Cách giảng viên giảng giải, truyền đạt, trả lời câu hỏi.",
        "How the trainer explains, presents and answers questions.",
        (
            "giang vien",
            "gv",
            "bao cao vien",
            "truyen dat",
            "giang day",
            "giai thich",
            "de hieu",
            "kho hieu",
            "nhiet tinh",
            "trainer",
            "facilitator",
            "explain",
            "explained",
            "clear",
        ),
    ),
    Code(
        6,
        "Hậu cần, địa điểm, chế độ",
        "Logistics / venue / allowance",
        "Phòng học, thiết bị, ăn ở, đi lại, phụ cấp, công tác phí.",
        "Room, equipment, food and lodging, travel, allowances.",
        (
            "hoi truong",
            "phong hoc",
            "dia diem",
            "an uong",
            "an o",
            "nha nghi",
            "di lai",
            "phu cap",
            "cong tac phi",
            "tien an",
            "may chieu",
            "am thanh",
            "loa",
            "venue",
            "room",
            "allowance",
            "per diem",
            "logistics",
        ),
    ),
    Code(
        7,
        "Ngôn ngữ địa phương, đồng bào dân tộc",
        "Local language / ethnic-minority adaptation",
        "Điều chỉnh cho người dân tộc thiểu số, tiếng địa phương, phiên dịch.",
        "Adaptation for ethnic minorities, local language, interpretation.",
        (
            "dan toc",
            "dong bao",
            "tieng dia phuong",
            "tieng dan toc",
            "phien dich",
            "thong dich",
            "ngon ngu",
            "ethnic",
            "minority",
            "local language",
            "interpreter",
        ),
    ),
    Code(
        8,
        "Thực hành phần mềm, MIS",
        "Software / MIS hands-on",
        "Thực hành phần mềm báo cáo, nhập liệu, máy tính.",
        "Hands-on with reporting software, data entry, computers.",
        (
            "phan mem",
            "may tinh",
            "nhap lieu",
            "nhap so lieu",
            "bao cao dien tu",
            "mis",
            "dhis",
            "dhis2",
            "excel",
            "software",
            "computer",
            "online",
        ),
    ),
    Code(
        9,
        "Theo dõi, giám sát sau tập huấn",
        "Follow-up / supervision",
        "Hỗ trợ, giám sát, tập huấn nhắc lại sau khóa học.",
        "Support, supervision, refresher training after the course.",
        (
            "giam sat",
            "theo doi",
            "ho tro sau",
            "ho tro ky thuat",
            "tap huan lai",
            "nhac lai",
            "dinh ky",
            "follow up",
            "supervision",
            "refresher",
            "coaching",
        ),
    ),
    Code(
        10,
        "Đề nghị chủ đề học tiếp",
        "Request for a topic",
        "Chủ đề muốn được tập huấn tiếp (gắn mã TP khi nêu được).",
        "A topic the respondent wants next (linked to a TP code where possible).",
        (
            "muon hoc",
            "hoc them",
            "hoc tiep",
            "chu de",
            "tap huan them",
            "mo them",
            "mo lop",
            "lop ve",
            "topic",
            "next course",
            "would like to learn",
        ),
    ),
    Code(OTHER_CODE, "Khác", "Other", "Không thuộc mã nào ở trên.", "Fits no code above."),
    Code(
        NO_COMMENT_CODE,
        "Không có ý kiến",
        "No comment",
        'Để trống, "không", "không có ý kiến".',
        'Empty, "no", "no comment".',
    ),
)

#: Answers that say nothing (compared folded, punctuation removed).
NO_COMMENT_ANSWERS = frozenset(
    {
        "",
        "khong",
        "ko",
        "k",
        "kg",
        "khong co",
        "khong co y kien",
        "ko co",
        "ko co y kien",
        "chua",
        "chua co",
        "chua co y kien",
        "het",
        "none",
        "no",
        "nil",
        "na",
        "n a",
        "khong y kien",
        "khong gop y",
        "khong co gop y",
        "no comment",
        "nothing",
    }
)

_TP_CODE = re.compile(r"\bTP\s?-?(\d{1,2})\b", re.IGNORECASE)


@dataclass(frozen=True)
class CodedComment:
    """A comment with its codes (one or more) and any TP topic codes it names."""

    submission_id: str
    question: str | None
    text: str
    codes: tuple[int, ...]
    topics: tuple[str, ...]


@dataclass(frozen=True)
class Quote:
    """A representative quote, redacted; ``gloss_en`` is left for the translator."""

    submission_id: str
    text: str
    gloss_en: str | None = None


@dataclass(frozen=True)
class ThemeRow:
    """Table C1: one code, its mentions, % of commenting respondents and quotes."""

    code: int
    label_vi: str
    label_en: str
    n_mentions: int
    n_respondents: int
    pct_of_commenting: float | None
    quotes: tuple[Quote, ...]
    topics: tuple[str, ...]


@dataclass(frozen=True)
class CommentSummary:
    """Table C1 and the comment rate (§3.7.4). ``other_too_large``: "Other" > 10 % of coded."""

    n_respondents: int
    n_commenting: int
    comment_rate: float | None
    n_comments: int
    rows: list[ThemeRow]
    other_share: float | None
    other_too_large: bool


def _words(text: str) -> str:
    """Folded text with every run of non-letters turned into one space, padded."""
    return " " + " ".join(re.findall(r"[\w']+", fold(text))) + " "


def is_no_comment(text: str | None) -> bool:
    """Whether an answer says nothing ("", "không", "ko có ý kiến", "-", …) (§3.7.4 step 1).

    :param text: the answer.
    :return: True for an empty or contentless answer.
    """
    if text is None:
        return True
    return _words(text).strip() in NO_COMMENT_ANSWERS


def code_comment(
    text: str,
    *,
    submission_id: str = "",
    question: str | None = None,
    frame: Sequence[Code] = CODE_FRAME,
    topic_keywords: Mapping[str, Sequence[str]] | None = None,
) -> CodedComment:
    """Assign codes to one comment by keywords (whole words, with or without diacritics).

    No keyword → 98 "Other"; a contentless answer → 99 only. A ``TPnn`` written in the comment,
    or a keyword of ``topic_keywords``, links the topic and adds code 10.

    :param text: the verbatim comment.
    :param submission_id: the respondent's submission id, exported with the verbatim.
    :param question: which open question it answers.
    :param frame: the code frame (the starter frame by default; a course may extend it).
    :param topic_keywords: TP code → keywords without diacritics (e.g. {"TP05": ["tu van"]}).
    :return: the coded comment (text NFC-normalised, not redacted).
    """
    text = unicodedata.normalize("NFC", text or "").strip()
    if is_no_comment(text):
        return CodedComment(submission_id, question, text, (NO_COMMENT_CODE,), ())
    words = _words(text)
    codes = [code.number for code in frame if any(f" {kw} " in words for kw in code.keywords)]
    topics = [f"TP{int(m):02d}" for m in _TP_CODE.findall(text)]
    for tp, keywords in (topic_keywords or {}).items():
        if any(f" {fold(kw).strip()} " in words for kw in keywords):
            topics.append(tp)
    topics = list(dict.fromkeys(topics))
    if topics and TOPIC_REQUEST_CODE not in codes:
        codes.append(TOPIC_REQUEST_CODE)
    if not codes:
        codes = [OTHER_CODE]
    return CodedComment(submission_id, question, text, tuple(sorted(codes)), tuple(topics))


def summarise_comments(
    comments: Sequence[CodedComment],
    *,
    n_respondents: int,
    names: Iterable[str] = (),
    units: Iterable[str] = (),
    frame: Sequence[Code] = CODE_FRAME,
    max_quotes: int = 3,
) -> CommentSummary:
    """Table C1 (§3.7.4): mentions and % of commenting respondents per code, redacted quotes.

    A respondent who wrote several comments (three open questions) counts once per code in the
    % and once in the comment rate. Quotes: up to ``max_quotes`` per code, preferring comments
    carrying that code alone, then lengths near 100 characters, then input order; each one is
    redacted (:func:`redact`) and distinct.

    :param comments: :func:`code_comment` results (contentless ones included; they are not
        counted as comments).
    :param n_respondents: respondents of the form (the comment rate's denominator).
    :param names: names to remove from quotes.
    :param units: unit names to remove from quotes.
    :param frame: the code frame, for labels and order.
    :param max_quotes: quotes per code (1–3).
    :return: the summary; codes without mentions are listed with 0 (99 excluded).
    """
    redactor = Redactor(names, units)
    real = [c for c in comments if c.codes != (NO_COMMENT_CODE,)]
    commenting = {c.submission_id for c in real}
    rows = []
    for code in frame:
        if code.number == NO_COMMENT_CODE:
            continue
        carrying = [c for c in real if code.number in c.codes]
        who = {c.submission_id for c in carrying}
        ranked = sorted(
            enumerate(carrying),
            key=lambda ic: (len(ic[1].codes), abs(len(ic[1].text) - 100), ic[0]),
        )
        quotes: list[Quote] = []
        seen: set[str] = set()
        for _, comment in ranked:
            if comment.text in seen:  # the same words again: the same quote
                continue
            seen.add(comment.text)
            cleaned = redactor(comment.text)
            if cleaned not in {q.text for q in quotes}:
                quotes.append(Quote(comment.submission_id, cleaned))
            if len(quotes) >= max_quotes:
                break
        topics = tuple(dict.fromkeys(t for c in carrying for t in c.topics))
        rows.append(
            ThemeRow(
                code=code.number,
                label_vi=code.label_vi,
                label_en=code.label_en,
                n_mentions=len(carrying),
                n_respondents=len(who),
                pct_of_commenting=100 * len(who) / len(commenting) if commenting else None,
                quotes=tuple(quotes),
                topics=topics,
            )
        )
    other = sum(1 for c in real if OTHER_CODE in c.codes)
    other_share = other / len(real) if real else None
    return CommentSummary(
        n_respondents=n_respondents,
        n_commenting=len(commenting),
        comment_rate=len(commenting) / n_respondents if n_respondents else None,
        n_comments=len(real),
        rows=rows,
        other_share=other_share,
        other_too_large=other_share is not None and other_share > MAX_OTHER_SHARE,
    )
