"""Satisfaction summaries and comment coding of reports spec §3.7."""

import math

import numpy as np
import pytest
from scipy import stats

from server.domain.redaction import redact
from server.domain.satisfaction import (
    CODE_FRAME,
    NO_COMMENT_CODE,
    OTHER_CODE,
    breakdown,
    code_comment,
    fold,
    is_no_comment,
    likert_value,
    reaction_line,
    summarise_comments,
    summarise_item,
    summarise_scale,
)

# §3.7.1 example.
EXAMPLE = [5, 4, 4, 3, 5, 4, 2, 5, 4, 4]


def test_spec_example_item():
    s = summarise_item(EXAMPLE, item="sat_01")
    assert (s.n, s.mean, round(s.sd, 2), s.median) == (10, 4.0, 0.94, 4.0)
    assert s.top2.share == 0.8
    assert (round(100 * s.top2.ci_low, 1), round(100 * s.top2.ci_high, 1)) == (49.0, 94.3)
    assert s.bottom2_share == pytest.approx(0.1) and s.net_pp == pytest.approx(70)
    assert s.distribution == {1: 0.0, 2: 0.1, 3: 0.1, 4: 0.5, 5: 0.3}


def test_item_matches_numpy_and_scipy_with_missing():
    values = [5, None, "4", 3, float("nan"), "na", 9, 1, 2, 5, 5]
    s = summarise_item(values)
    codes = np.array([5, 4, 3, 1, 2, 5, 5.0])
    assert (s.n, s.n_missing) == (7, 4)
    assert (s.mean, s.sd, s.median) == pytest.approx(
        (codes.mean(), codes.std(ddof=1), np.median(codes))
    )
    ci = stats.binomtest(4, 7).proportion_ci(method="wilson")
    assert (s.top2.ci_low, s.top2.ci_high) == pytest.approx((ci.low, ci.high))


def test_item_edge_cases():
    empty = summarise_item([None, "na"])
    assert (
        empty.n == 0
        and empty.mean is None
        and empty.top2.reason == "no_trials"
        and empty.reason == "no_answers"
    )
    one = summarise_item([4])
    assert one.sd is None and one.reason == "one_answer"
    assert [likert_value(v) for v in (True, 0, 6, 2.5, " 3 ", 4.0)] == [
        None,
        None,
        None,
        None,
        3,
        4,
    ]


def respondents(n=25, seed=1):
    rng = np.random.default_rng(seed)
    base = rng.integers(3, 6, n)
    return [
        {f"sat_{i:02d}": int(np.clip(b + rng.integers(-1, 2), 1, 5)) for i in range(1, 6)}
        for b in base
    ]


def test_scale_composite_alpha_and_threshold():
    rows = respondents()
    rows.append(
        {"sat_01": 5, "sat_02": None, "sat_03": None, "sat_04": 4, "sat_05": None}
    )  # 40 %: no composite
    rows.append(
        {"sat_01": 5, "sat_02": 4, "sat_03": 4, "sat_04": None, "sat_05": 3}
    )  # 80 %: composite
    items = [f"sat_{i:02d}" for i in range(1, 6)]
    s = summarise_scale(rows, items)
    assert s.n_respondents == 27 and s.n_composite == 26
    matrix = np.array([[r[i] for i in items] for r in rows[:25]], dtype=float)
    composites = [*matrix.mean(axis=1), 4.0]
    assert s.composite_mean == pytest.approx(np.mean(composites))
    half = stats.t.ppf(0.975, 25) * np.std(composites, ddof=1) / math.sqrt(26)
    assert s.composite_ci_high - s.composite_mean == pytest.approx(half)
    alpha = 5 / 4 * (1 - matrix.var(axis=0, ddof=1).sum() / matrix.sum(axis=1).var(ddof=1))
    assert s.alpha_n == 25 and s.alpha == pytest.approx(alpha)
    assert s.composite_of_item_means == pytest.approx(np.mean([it.mean for it in s.items]))


def test_alpha_hidden_below_twenty():
    s = summarise_scale(respondents(12), [f"sat_{i:02d}" for i in range(1, 6)])
    assert s.alpha is None and s.alpha_reason == "too_few_respondents"
    assert summarise_scale(respondents(30), ["sat_01"]).alpha_reason == "one_item"
    assert summarise_scale([], ["sat_01", "sat_02"]).composite_reason == "no_scores"


def test_breakdown_by_trainer():
    rows = respondents(6)
    groups = ["GV1", "GV2", "GV1", None, "GV2", "GV1"]
    by = breakdown(rows, groups, ["sat_01", "sat_02"])
    assert list(by) == ["GV1", "GV2"]
    assert by["GV1"].n_respondents == 3
    assert by["GV1"].items[0].mean == pytest.approx(np.mean([rows[i]["sat_01"] for i in (0, 2, 5)]))
    with pytest.raises(ValueError, match="align"):
        breakdown(rows, ["GV1"], ["sat_01"])


def test_reaction_line():
    scale = summarise_scale(respondents(), ["sat_01", "sat_02"])
    line = reaction_line(scale, scale.items[0], 7)
    assert (
        line.composite == scale.composite_of_item_means and line.overall_top2 == scale.items[0].top2
    )
    assert line.n_comments == 7


# --------------------------------------------------------------------------- comments


def test_code_frame_is_complete_and_bilingual():
    numbers = [c.number for c in CODE_FRAME]
    assert numbers == [*range(1, 11), 98, 99]
    assert all(
        c.label_vi and c.label_en and c.definition_vi and c.definition_en for c in CODE_FRAME
    )
    assert all(kw == fold(kw) for c in CODE_FRAME for kw in c.keywords)  # keywords are folded


def test_fold_keeps_offsets():
    text = "Đào tạo thực hành ĐƯỢC"
    assert fold(text) == "dao tao thuc hanh duoc" and len(fold(text)) == len(text)


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("Cần thêm thời gian thực hành", (2, 3)),
        ("can them thoi gian thuc hanh", (2, 3)),
        ("CẦN THÊM THỜI GIAN THỰC HÀNH!", (2, 3)),
        ("Giảng viên truyền đạt dễ hiểu, tài liệu đầy đủ", (4, 5)),
        ("Hội trường nóng, phụ cấp thấp", (6,)),
        ("Nên có phiên dịch tiếng dân tộc cho đồng bào", (7,)),
        ("Muốn được thực hành trên phần mềm báo cáo", (2, 8)),
        ("Cần giám sát hỗ trợ sau tập huấn", (9,)),
        ("Nội dung thiết thực, áp dụng được ngay", (1,)),
        ("Rất vui được tham gia", (OTHER_CODE,)),
        ("Không có ý kiến", (NO_COMMENT_CODE,)),
        ("ko", (NO_COMMENT_CODE,)),
        ("  -  ", (NO_COMMENT_CODE,)),
    ],
)
def test_keyword_coder(text, codes):
    assert code_comment(text).codes == codes


def test_topic_request_links_tp_codes():
    c = code_comment("Muốn học tiếp TP5 và tp-12", topic_keywords={"TP07": ["tư vấn"]})
    assert 10 in c.codes and c.topics == ("TP05", "TP12")
    c = code_comment("Lớp về tu van KHHGĐ", topic_keywords={"TP07": ["tư vấn"]})
    assert c.topics == ("TP07",) and 10 in c.codes


def test_word_boundaries_avoid_false_matches():
    # "loa" (loudspeaker, code 6) must not match inside "loai"; "gv" not inside "gvhd2"
    assert 6 not in code_comment("phân loại đối tượng").codes


def test_is_no_comment():
    assert is_no_comment(None) and is_no_comment("Không.") and is_no_comment("Chưa có ý kiến")
    assert not is_no_comment("Không đủ thời gian")


def test_redact_names_units_and_phones():
    text = (
        "Cô Lan dạy hay (Nguyễn Thị Lan, 0912 345 678). Trạm Y tế xã Tân Lập nhờ thay Hùng gọi "
        "+84 912.345.678 hoặc (0206) 3852 123; xa tan lap xa lam. Chương trình 2 ngày, 100000 đồng."
    )
    out = redact(
        text, names=["Nguyễn Thị Lan", "Trần Văn Hùng"], units=["Trạm Y tế xã Tân Lập", "Tân Lập"]
    )
    assert "Lan" not in out and "Hùng" not in out and "Tân Lập" not in out and "tan lap" not in out
    assert "0912" not in out and "912.345" not in out and "3852" not in out
    assert out.startswith("Cô [tên] dạy hay ([tên], [SĐT]). [đơn vị] nhờ thay [tên] gọi [SĐT]")
    assert "2 ngày, 100000 đồng" in out  # ordinary numbers stay


def test_comment_summary_counts_quotes_and_rate():
    names, units = ["Lê Văn Minh"], ["xã Hòa Bình"]
    raw = [
        ("r1", "Cần thêm thực hành, thầy Minh giảng hay"),
        ("r1", "Muốn học TP05"),
        ("r2", "thuc hanh nhieu hon o xã Hòa Bình"),
        ("r3", "Không"),
        ("r4", "Tài liệu tốt"),
        ("r5", "Rất vui"),
    ]
    coded = [code_comment(t, submission_id=s) for s, t in raw]
    summary = summarise_comments(coded, n_respondents=8, names=names, units=units)
    assert (summary.n_commenting, summary.n_comments) == (4, 5)
    assert summary.comment_rate == pytest.approx(4 / 8)
    rows = {r.code: r for r in summary.rows}
    practice = rows[2]
    assert (practice.n_mentions, practice.n_respondents) == (2, 2)
    assert practice.pct_of_commenting == pytest.approx(50)
    assert 1 <= len(practice.quotes) <= 3
    assert all("Minh" not in q.text and "Hòa Bình" not in q.text for q in practice.quotes)
    assert rows[10].topics == ("TP05",) and rows[4].n_mentions == 1
    assert NO_COMMENT_CODE not in rows
    assert summary.other_share == pytest.approx(1 / 5) and summary.other_too_large
