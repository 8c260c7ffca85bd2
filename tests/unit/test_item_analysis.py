"""Item analysis of reports spec §3.5–§3.6: Moodle's own fixture reproduced to Moodle's tolerances."""

import csv
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from server.domain.item_analysis import (
    ItemSpec,
    analyse_items,
    compare_pre_post,
    distractor_table,
    facility_band,
    inference_display,
    item_statistics,
    needs_checking,
    quiz_statistics,
    random_guess_score,
    rest_score_pct,
)

MOODLE = Path(__file__).resolve().parents[1] / "data" / "moodle"

# Our field → Moodle's column in qstats00.csv.
QSTATS_FIELDS = {
    "facility": "facility",
    "sd": "sd",
    "effective_weight_pct": "effectiveweight",
    "covariance": "covariance",
    "mark_variance": "markvariance",
    "other_mark_variance": "othermarkvariance",
    "discrimination_index": "discriminationindex",
    "covariance_max": "covariancemax",
    "discriminative_efficiency": "discriminativeefficiency",
}
# assert_stat_equals in Moodle's stats_from_steps_walkthrough_test.php: delta = |expected| × this.
LOOSE = {"covariance", "discriminationindex", "discriminativeefficiency", "effectiveweight"}
# check_quiz_stats_for_quiz_00(): delta = |expected| × 1.5e-5.
QUIZ_EXPECTED = {
    "median": 4.5,
    "average": 4.617333332,
    "sd": 0.8117265554,
    "skewness": -0.092502502,
    "kurtosis": -0.7073968557,
    "cic": -87.2230935542,
    "error_ratio": 136.8294900795,
    "standard_error": 1.1106813066,
}


def read_results():
    with (MOODLE / "results00.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    marks = np.array([[float(r[f"slots.{i}.mark"]) for i in range(1, 8)] for r in rows])
    return marks, np.array([float(r["summarks"]) for r in rows])


def read_qstats():
    with (MOODLE / "qstats00.csv").open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def moodle_items():
    marks, _ = read_results()
    return item_statistics(marks, [1.0] * 7)


@pytest.mark.parametrize("slot", range(1, 8))
def test_moodle_fixture_item_stats_reproduced(moodle_items, slot):
    expected = read_qstats()[slot - 1]
    actual = moodle_items[slot - 1]
    assert actual.item_id == expected["slot"] and actual.s == 25
    for ours, theirs in QSTATS_FIELDS.items():
        value = float(expected[theirs])
        precision = 1e-5 if theirs in LOOSE else 1e-6
        assert getattr(actual, ours) == pytest.approx(value, rel=precision, abs=0), (slot, theirs)


def test_moodle_fixture_spec_values_to_printed_precision(moodle_items):
    slot1, slot6 = moodle_items[0], moodle_items[5]
    assert slot1.facility == pytest.approx(0.704, abs=1e-12)
    assert slot1.sd == pytest.approx(0.4513682901, abs=5e-11)
    assert slot1.discrimination_index == pytest.approx(-7.0650767526, abs=5e-11)
    assert slot1.discriminative_efficiency == pytest.approx(-9.4550536967, abs=5e-11)
    assert slot1.effective_weight_pct == pytest.approx(21.2922742344, abs=5e-11)
    assert slot6.discrimination_index == pytest.approx(-45.3785178421, abs=5e-11)
    assert slot6.discriminative_efficiency == pytest.approx(-56.9365974439, abs=5e-11)
    assert slot6.effective_weight_pct == pytest.approx(9.8081339177, abs=5e-11)


def test_moodle_fixture_quiz_stats_reproduced():
    marks, _ = read_results()
    quiz = quiz_statistics(marks, [1.0] * 7)
    assert (quiz.s, quiz.p) == (25, 7)
    for name, value in QUIZ_EXPECTED.items():
        assert getattr(quiz, name) == pytest.approx(value, rel=1.5e-5, abs=0), name
    # Negative CIC is shown, not clamped: ER > 100 and SE > SD.
    assert quiz.error_ratio > 100 and quiz.standard_error > quiz.sd


def test_moodle_fixture_with_the_csv_summarks_column_stays_within_tolerance():
    # results00.csv prints attempt 21's total rounded (4.33333 for 4.3333333): Moodle's expected
    # values come from the unrounded sum, and the rounding stays inside Moodle's tolerances.
    marks, totals = read_results()
    items = item_statistics(marks, [1.0] * 7, totals)
    for row, actual in zip(read_qstats(), items, strict=True):
        assert actual.discriminative_efficiency == pytest.approx(
            float(row["discriminativeefficiency"]), rel=1e-5
        )
    quiz = quiz_statistics(marks, [1.0] * 7, totals)
    for name, value in QUIZ_EXPECTED.items():
        assert getattr(quiz, name) == pytest.approx(value, rel=1.5e-5), name


# --------------------------------------------------------------------------- independent checks


def test_di_is_rest_correlation_and_cic_is_cronbach_alpha():
    rng = np.random.default_rng(3)
    ability = rng.normal(size=60)
    marks = (ability[:, None] + rng.normal(size=(60, 8)) > 0).astype(float)
    items = item_statistics(marks, [1.0] * 8)
    total = marks.sum(axis=1)
    for i, it in enumerate(items):
        r = stats.pearsonr(marks[:, i], total - marks[:, i]).statistic
        assert it.discrimination_index == pytest.approx(100 * r)
        assert it.sd == pytest.approx(marks[:, i].std(ddof=1))
    quiz = quiz_statistics(marks, [1.0] * 8)
    alpha = 8 / 7 * (1 - marks.var(axis=0, ddof=1).sum() / total.var(ddof=1))
    p = marks.mean(axis=0)
    kr20 = 8 / 7 * (1 - (p * (1 - p)).sum() / total.var(ddof=0))
    assert quiz.cic == pytest.approx(100 * alpha) == pytest.approx(100 * kr20)
    assert quiz.skewness == pytest.approx(stats.skew(total, bias=False))
    assert quiz.kurtosis == pytest.approx(stats.kurtosis(total, bias=False))
    assert quiz.standard_error == pytest.approx(total.std(ddof=1) * np.sqrt(1 - alpha))
    assert quiz.median == np.median(total)


def test_discriminative_efficiency_uses_independently_sorted_lists():
    marks = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 0], [1, 1, 1.0]])
    it = item_statistics(marks, [1.0] * 3)[0]
    x, rest = marks[:, 0], marks.sum(axis=1) - marks[:, 0]
    cmax = np.sum((np.sort(x) - x.mean()) * (np.sort(rest) - rest.mean())) / 4
    assert it.covariance_max == pytest.approx(cmax)
    assert it.discriminative_efficiency == pytest.approx(100 * np.cov(x, rest)[0, 1] / cmax)


def test_weights():
    marks = np.array([[2, 1, 0], [1, 1, 1], [2, 0, 1], [0, 0, 0]], dtype=float)
    items = item_statistics(marks, [2.0, 1.0, 1.0])
    assert [it.intended_weight_pct for it in items] == pytest.approx([50, 25, 25])
    total = marks.sum(axis=1)
    ct = [np.cov(marks[:, i], total)[0, 1] for i in range(3)]
    roots = sum(np.sqrt(c) for c in ct if c >= 0)
    for it, c in zip(items, ct, strict=True):
        assert it.covariance_with_total == pytest.approx(c)
        if c >= 0:
            assert it.effective_weight_pct == pytest.approx(100 * np.sqrt(c) / roots)


def test_negative_covariance_has_no_effective_weight():
    marks = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 1], [0, 1, 1], [0, 1, 0]], dtype=float)
    it = item_statistics(marks, [1.0] * 3)[0]
    assert it.negative_covariance and it.effective_weight_pct is None
    assert it.effective_weight_reason == "negative_covariance" and "negative_covariance" in it.flags


# --------------------------------------------------------------------------- §3.10 edge cases


def test_one_attempt_gives_nulls():
    it = item_statistics([[1, 0]], [1.0, 1.0])[0]
    assert it.s == 1 and it.facility == 1.0
    assert (it.sd, it.discrimination_index, it.discriminative_efficiency, it.covariance) == (
        None,
    ) * 4
    assert it.discrimination_reason == "one_attempt"
    quiz = quiz_statistics([[1, 0]], [1.0, 1.0])
    assert quiz.sd is None and quiz.cic is None and quiz.cic_reason == "too_few_attempts"
    assert quiz_statistics(np.empty((0, 2)), [1.0, 1.0]).average is None


def test_constant_item_has_no_di_or_de():
    marks = np.array([[1, 1, 0], [1, 0, 1], [1, 1, 1], [1, 0, 0]], dtype=float)
    it = item_statistics(marks, [1.0] * 3)[0]
    assert it.sd == 0 and it.discrimination_index is None and it.discriminative_efficiency is None
    assert (it.discrimination_reason, it.efficiency_reason) == (
        "zero_variance",
        "zero_covariance_max",
    )
    assert it.facility_band == "extremely_easy"


def test_constant_totals_give_no_cic():
    quiz = quiz_statistics(np.array([[1, 0], [0, 1], [1, 0.0]]), [1.0, 1.0])
    assert (
        quiz.sd == 0
        and quiz.cic is None
        and quiz.skewness is None
        and quiz.cic_reason == "zero_variance"
    )


def test_dropped_items_are_removed_and_totals_rescored():
    marks = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 0], [1, 1, 1.0]])
    items = [
        ItemSpec("q1", n_options=4),
        ItemSpec("q2", qtype="tf", dropped=True),
        ItemSpec("q3", qtype="multi"),
    ]
    analysis = analyse_items(marks, items, totals=marks.sum(axis=1))
    assert [it.item_id for it in analysis.items] == ["q1", "q3"]
    assert analysis.test.sum_max == 2.0
    direct = item_statistics(marks[:, [0, 2]], [1.0, 1.0])
    assert analysis.items[0].discrimination_index == pytest.approx(direct[0].discrimination_index)
    assert analysis.items[0].intended_weight_pct == 50


def test_random_guess_scores_like_moodle():
    assert random_guess_score("single", 4) == (0.25, None)
    assert random_guess_score("single", answer_fractions=(1, 0.5, 0, 0)) == (0.375, None)
    assert random_guess_score("tf") == (0.5, None)
    assert random_guess_score("multi", 5) == (None, "multi_answer")
    assert random_guess_score("essay") == (0.0, None)


def test_missing_item_in_some_attempts_counts_s_per_item():
    marks = np.array([[1, 0], [0, np.nan], [1, 1], [0, 1.0]])
    it = item_statistics(marks, [1.0, 1.0])[1]
    assert it.s == 3 and it.facility == pytest.approx(2 / 3)


def test_flags_bands_and_display_gate():
    assert needs_checking(29.9) == "very_likely" and needs_checking(30) == "likely"
    assert needs_checking(50) == "unlikely" and needs_checking(None) is None
    assert [facility_band(f) for f in (5, 6, 20, 34.5, 35, 65, 66, 89.5, 90, 95)] == [
        "extremely_difficult",
        "very_difficult",
        "difficult",
        "moderately_difficult",
        "about_right",
        "about_right",
        "fairly_easy",
        "easy",
        "very_easy",
        "extremely_easy",
    ]
    assert [inference_display(s) for s in (9, 10, 19, 20)] == [
        "hidden",
        "small_n",
        "small_n",
        "show",
    ]
    marks, _ = read_results()
    items = [ItemSpec(str(i), qtype="tf") for i in range(1, 8)]
    analysis = analyse_items(marks, items, phase="post")
    assert analysis.inference_display == "show" and "mastery_caveat" in analysis.guidance
    slot1 = analysis.items[0]
    assert slot1.is_dubious and "dubious" in slot1.flags and "high_random_guess" in slot1.flags


def test_blank_rates():
    marks = np.array([[1, 0], [0, 0], [1, 1], [0, 0.0]])
    blanks = np.array([[False, True], [True, True], [False, False], [False, True]])
    analysis = analyse_items(marks, [ItemSpec("a"), ItemSpec("b")], blanks=blanks)
    assert [it.blank_pct for it in analysis.items] == [25.0, 75.0]
    assert analysis.test.blank_test_share == 0.75  # > 20 % of items blank


# --------------------------------------------------------------------------- §3.6


def test_pre_post_comparison_rows_and_flags():
    items = [ItemSpec("q1", key=("b",), topic="TP01"), ItemSpec("q2"), ItemSpec("q3")]
    pre = analyse_items(
        np.array([[0, 1, 1], [0, 1, 0], [1, 1, 1], [0, 1, 0.0]]),
        items,
        bank_id="B",
        bank_version="1",
    )
    post = analyse_items(
        np.array([[1, 1, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0.0]]),
        items,
        bank_id="B",
        bank_version="1",
    )
    matched = {"q1": [(False, True), (False, True), (True, True), (False, False)]}
    rows = {r.item_id: r for r in compare_pre_post(pre, post, items=items, matched=matched).rows}
    q1 = rows["q1"]
    assert (q1.facility_pre_pct, q1.facility_post_pct, q1.delta_pp) == (25, 75, 50)
    assert q1.item_gain == pytest.approx(50 / 75) and q1.topic == "TP01" and q1.key == ("b",)
    assert (q1.mcnemar_b, q1.mcnemar_c, q1.mcnemar_p) == (2, 0, pytest.approx(0.5))
    assert rows["q2"].item_gain is None and "already_known" in rows["q2"].flags
    assert {"got_worse", "not_learned"} <= set(rows["q3"].flags)


def test_pre_post_not_paired_across_bank_versions():
    pre = analyse_items(np.ones((3, 1)), [ItemSpec("q1")], bank_id="B", bank_version="1")
    post = analyse_items(np.ones((3, 1)), [ItemSpec("q1")], bank_id="B", bank_version="2")
    result = compare_pre_post(pre, post)
    assert result.rows == [] and result.reason == "different_bank_versions"


def test_distractor_table_counts_and_flags():
    item = ItemSpec("q1", key=("b",), n_options=4)
    pre = [
        "a",
        "b",
        "c",
        "c",
        None,
        "b",
        "c",
        "b",
        "b",
        "b",
        "b",
        "b",
        "b",
        "b",
        "b",
        "b",
        "b",
        "b",
        "b",
        "b",
        "b",
    ]
    rest = [50.0] * len(pre)
    rest[2] = rest[3] = rest[6] = 90.0  # the "c" choosers are the strong ones
    table = distractor_table(item, ["a", "b", "c", "d"], pre, rest, ["b", "b", ""], [60, 70, 80])
    rows = {r.option: r for r in table.options}
    assert (table.n_pre, table.n_blank_pre, table.n_blank_post) == (21, 1, 1)
    assert (
        rows["b"].is_key and rows["b"].n_pre == 16 and rows["b"].pct_post == pytest.approx(200 / 3)
    )
    assert rows["c"].mean_rest_pct_pre == 90 and "possible_miskey" in rows["c"].flags
    assert "non_functioning" in rows["a"].flags and "non_functioning" in rows["d"].flags
    assert rows["d"].n_pre == 0 and rows["d"].mean_rest_pct_pre is None
    assert "possible_miskey" in table.flags


def test_distractor_table_multi_answer_counts_each_option():
    item = ItemSpec("q2", qtype="multi", key=("a", "c"))
    table = distractor_table(item, ["a", "b", "c"], ["a c", ["a", "b"], "c"], [70, 40, 60])
    rows = {r.option: r for r in table.options}
    assert (rows["a"].n_pre, rows["b"].n_pre, rows["c"].n_pre) == (2, 1, 2)
    assert rows["a"].mean_rest_pct_pre == 55


def test_rest_score_pct():
    marks = np.array([[1, 0, 2], [0, 1, 1.0]])
    rest = rest_score_pct(marks, [1, 1, 2])
    assert rest[0] == pytest.approx([100 * 2 / 3, 100 * 3 / 3, 100 * 1 / 2])
