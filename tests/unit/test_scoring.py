"""Scoring rules of reports spec §3.1."""

import pytest

from server.domain.scoring import KeyItem, find_answers, fraction, score

KEY = [
    KeyItem("q01", "single", ("c",)),
    KeyItem("q02", "tf", ("true",)),
    KeyItem("q03", "multi", ("a", "b", "c")),
    KeyItem("q04", "single", ("a",), points=2),
    KeyItem("q05", "single", ("d",), dropped=True),
]


@pytest.mark.parametrize(
    ("picked", "expected"),
    [
        (["a", "b", "c"], 1.0),
        (["a", "b"], 2 / 3),
        (["a", "d"], 0.0),
        (["a", "b", "d"], 1 / 3),
        (["d", "e"], 0.0),
        ("a c", 2 / 3),
    ],
)
def test_multi_answer_is_right_minus_wrong_over_correct_clamped(picked, expected):
    assert fraction(KEY[2], picked) == pytest.approx(expected)


def test_score_totals_blanks_and_dropped_items():
    result = score({"q01": "c", "q02": "false", "q03": ["a", "b"], "q04": None, "q05": "d"}, KEY)
    assert result.maximum == 5  # q05 dropped
    assert result.marks == {"q01": 1.0, "q02": 0.0, "q03": 0.6667, "q04": 0.0}
    assert result.blank == ["q04"]
    assert result.raw == pytest.approx(1.6667)
    assert result.percent == pytest.approx(33.33)
    assert result.passed(70) is False
    assert result.passed(None) is None


def test_full_marks_pass():
    result = score({"q01": "c", "q02": "true", "q03": ["a", "b", "c"], "q04": "a"}, KEY)
    assert (result.raw, result.percent, result.passed(70)) == (5, 100.0, True)


def test_answers_are_found_inside_groups():
    data = {"g": {"q01": "c", "inner": {"q03": ["a"]}}, "q02": "true", "other": 1}
    assert find_answers(data, ["q01", "q02", "q03"]) == {"q01": "c", "q02": "true", "q03": ["a"]}
