"""The evaluation report's stable codes (reasons, flags, bands) in words, Vietnamese and English.

The statistics return codes (``one_pair``, ``post_below_pre``, ``medium``) so that JSON readers
and tests can rely on them; people read these words instead. A code without words here is shown
as itself, which a test guards against.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Why a value is "—" (spec §3.10 and the domain modules' ``*_reason`` codes).
REASONS: dict[str, tuple[str, str]] = {
    "no_scores": ("chưa có bài làm", "no attempts yet"),
    "one_score": ("chỉ có 1 bài làm", "only one attempt"),
    "no_pairs": ("chưa có học viên làm cả hai bài", "no trainee took both tests"),
    "one_pair": ("chỉ có 1 cặp trước–sau", "only one matched pair"),
    "all_differences_zero": ("mọi chênh lệch bằng 0", "every difference is zero"),
    "constant_differences": ("mọi chênh lệch bằng nhau", "every difference is the same"),
    "zero_sd": ("độ lệch chuẩn bằng 0", "the SD is zero"),
    "pre_at_ceiling": ("điểm trước khóa đã 100 %", "pre-test at 100 %"),
    "no_trials": ("không có ai để tính", "nobody to count"),
    "no_discordant_pairs": ("không có cặp thay đổi kết quả", "no discordant pairs"),
    "zero_maximum": ("đề chưa có câu được chấm", "nothing keyed"),
    "too_few_items": ("ít hơn 3 câu: không đủ tin cậy", "fewer than 3 items: too unreliable"),
    "unknown_attendance": ("chưa ghi nhận điểm danh", "attendance not recorded"),
    "fallback_identity": ("chưa đối chiếu được danh tính", "identity not reconciled"),
    "zero_pre_and_post": ("trước và sau đều 0 %", "0 % before and after"),
    "equal_at_ceiling": ("trước và sau đều 100 %", "100 % before and after"),
    "one_attempt": ("chỉ có 1 lượt làm", "only one attempt"),
    "zero_variance": ("mọi người cùng điểm câu này", "everyone has the same mark"),
    "zero_covariance_max": ("không thể phân loại", "no covariance possible"),
    "negative_covariance": (
        "hiệp phương sai âm với tổng điểm",
        "negative covariance of grade with total attempt grade",
    ),
    "zero_sum_of_roots": ("không tính được trọng số", "weights cannot be computed"),
    "multi_answer": ("câu nhiều đáp án: không tính", "multi-answer: not computed"),
    "zero_max_mark": ("điểm tối đa bằng 0", "maximum mark is zero"),
    "too_few_attempts": ("quá ít lượt làm", "too few attempts"),
    "one_item": ("đề chỉ có 1 câu", "one item only"),
    "different_bank_versions": (
        "trước và sau khác phiên bản đề: không ghép câu",
        "pre and post on different bank versions: items not paired",
    ),
    "too_few_respondents": ("quá ít người trả lời", "too few respondents"),
    "no_respondents": ("chưa có phiếu đánh giá", "no evaluation forms yet"),
    "no_answers": ("không ai trả lời câu này", "nobody answered this item"),
}

#: Flags of the trainee table (§3.3), item tables (§3.5–3.6) and distractors.
FLAGS: dict[str, tuple[str, str]] = {
    "missing_pre": ("thiếu bài trước", "no pre-test"),
    "missing_post": ("thiếu bài sau", "no post-test"),
    "post_below_pre": ("sau thấp hơn trước ≥ 10 điểm %", "post ≥ 10 pp below pre"),
    "too_fast_pre": ("làm bài trước quá nhanh", "pre-test too fast"),
    "too_fast_post": ("làm bài sau quá nhanh", "post-test too fast"),
    "fallback_identity": ("ngoài danh sách, cần đối chiếu", "not on the roster: reconcile"),
    "identical_pre": ("bài trước giống hệt người khác", "pre-test identical to another"),
    "identical_post": ("bài sau giống hệt người khác", "post-test identical to another"),
    "blank_pre": ("bỏ trống > 20 % bài trước", "> 20 % blank in pre-test"),
    "blank_post": ("bỏ trống > 20 % bài sau", "> 20 % blank in post-test"),
    "different_bank_versions": ("khác phiên bản đề", "different bank versions"),
    "retake_pre": ("làm lại bài trước", "pre-test retaken"),
    "retake_post": ("làm lại bài sau", "post-test retaken"),
    "dubious": ("đáng ngờ (DE < 15 %)", "dubious (DE < 15 %)"),
    "needs_checking_very_likely": ("rất cần xem lại", "needs checking: very likely"),
    "needs_checking_likely": ("nên xem lại", "needs checking: likely"),
    "low_sd": ("SD thấp", "low SD"),
    "high_random_guess": ("dễ đoán mò", "high random-guess score"),
    "got_worse": ("kém đi sau khóa", "got worse"),
    "not_learned": ("chưa học được (< 50 % sau)", "not learned (< 50 % after)"),
    "already_known": ("đã biết từ trước (≥ 90 %)", "already known (≥ 90 %)"),
    "non_functioning": ("phương án nhiễu không hiệu quả", "non-functioning distractor"),
    "possible_miskey": ("có thể sai đáp án", "possible mis-key"),
    "extremely_difficult": ("cực khó hoặc có lỗi", "extremely difficult or wrong"),
    "very_difficult": ("rất khó", "very difficult"),
    "difficult": ("khó", "difficult"),
    "moderately_difficult": ("khá khó", "moderately difficult"),
    "about_right": ("vừa sức", "about right"),
    "fairly_easy": ("khá dễ", "fairly easy"),
    "easy": ("dễ", "easy"),
    "very_easy": ("rất dễ", "very easy"),
    "extremely_easy": ("cực dễ", "extremely easy"),
    "very_likely": ("rất cần xem lại", "very likely"),
    "likely": ("nên xem lại", "likely"),
    "unlikely": ("không", "unlikely"),
}

#: How scipy's Wilcoxon test computed its p (``method="auto"``).
METHODS: dict[str, tuple[str, str]] = {
    "exact": ("p chính xác", "exact p"),
    "permutation": ("p chính xác (hoán vị dấu)", "exact p (sign flips)"),
    "asymptotic": ("p xấp xỉ chuẩn", "normal approximation"),
}

#: Bands of Cohen's d and Hake's gain.
BANDS: dict[str, tuple[str, str]] = {
    "negligible": ("không đáng kể", "negligible"),
    "small": ("nhỏ", "small"),
    "medium": ("trung bình", "medium"),
    "large": ("lớn", "large"),
    "low": ("thấp", "low"),
    "high": ("cao", "high"),
}


def word(table: dict[str, tuple[str, str]], code: str | None, lang: str) -> str | None:
    """The words of one code in ``lang`` (the code itself when it has none)."""
    if code is None:
        return None
    pair = table.get(code)
    return code if pair is None else pair[1 if lang == "en" else 0]


def words(table: dict[str, tuple[str, str]], codes: Iterable[str], lang: str) -> str:
    """Several codes as one cell: "thiếu bài trước; làm lại bài sau"."""
    return "; ".join(word(table, c, lang) or "" for c in codes)


def both(table: dict[str, tuple[str, str]], key: str, value) -> dict:
    """``{key: vi words, key_en: en words}``: a row's cell in both languages."""
    if isinstance(value, list | tuple):
        return {key: words(table, value, "vi"), f"{key}_en": words(table, value, "en")}
    return {key: word(table, value, "vi"), f"{key}_en": word(table, value, "en")}
