"""Learning statistics of reports spec §3.2–§3.4 and §3.10, each formula checked against scipy/numpy."""

import math
from datetime import datetime, timedelta

import numpy as np
import pytest
from scipy import stats

from server.domain.evaluation_stats import (
    Attempt,
    TopicItem,
    Trainee,
    class_gain,
    course_summary,
    describe_scores,
    effect_size_band,
    gain_band,
    interpret_gain,
    mcnemar_exact,
    normalised_change,
    normalised_gain,
    paired_gain,
    score10,
    select_attempts,
    topic_subscores,
    topic_table,
    trainee_table,
    vietnamese_sort_key,
    wilson_interval,
)

# §3.11 worked example (computed with scipy 1.17.1).
PRE = [40, 55, 60, 70, 50, 65, 45, 80, 35, 60]
POST = [70, 75, 80, 85, 65, 90, 60, 85, 55, 60]
T0 = datetime(2026, 3, 2, 8, 0)


def course(pre=PRE, post=POST):
    trainees = [
        Trainee(f"T{i:02d}", name=f"Học viên {i}", attendance_pct=100) for i in range(len(pre))
    ]
    attempts = [Attempt(f"T{i:02d}", "pre", v, 100, submitted_at=T0) for i, v in enumerate(pre)]
    attempts += [
        Attempt(f"T{i:02d}", "post", v, 100, submitted_at=T0 + timedelta(days=3))
        for i, v in enumerate(post)
    ]
    return trainees, attempts


# --------------------------------------------------------------------------- §3.11 exactly


def test_worked_example_gain_matches_spec_table():
    g = paired_gain(PRE, POST)
    assert g.n == 10
    assert (round(g.mean_pre, 1), round(g.sd_pre, 2)) == (56.0, 13.90)
    assert (round(g.mean_post, 1), round(g.sd_post, 2)) == (72.5, 12.30)
    assert (g.mean_gain, round(g.sd_gain, 3)) == (16.5, 8.835)
    assert (round(g.gain_ci_low, 2), round(g.gain_ci_high, 2)) == (10.18, 22.82)
    assert round(g.t_critical, 3) == 2.262
    assert (round(g.t_statistic, 3), g.df, round(g.p_t, 5)) == (5.906, 9, 0.00023)
    assert (g.wilcoxon_statistic, g.wilcoxon_n, round(g.p_wilcoxon, 4)) == (0.0, 9, 0.0039)
    assert (g.median_gain, g.gain_q1, g.gain_q3) == (17.5, 15.0, 20.0)
    assert (round(g.d_z, 3), round(g.d_av, 3), round(g.d_rm, 3)) == (1.868, 1.259, 1.241)
    assert round(g.r_pre_post, 3) == 0.779
    assert (round(g.class_gain, 3), round(g.mean_individual_gain, 3)) == (0.375, 0.379)
    assert g.class_gain_band == g.individual_gain_band == "medium"


def test_worked_example_pass_rates_and_mcnemar():
    s = course_summary(*course(), pass_mark_pct=70)
    assert (s.pass_pre.k, s.pass_pre.n, s.pass_post.k) == (2, 10, 6)
    assert (round(100 * s.pass_pre.ci_low, 1), round(100 * s.pass_pre.ci_high, 1)) == (5.7, 51.0)
    assert (round(100 * s.pass_post.ci_low, 1), round(100 * s.pass_post.ci_high, 1)) == (31.3, 83.2)
    assert (s.mcnemar.b, s.mcnemar.c, s.mcnemar.p_value) == (4, 0, 0.125)
    assert s.n_matched == 10 and s.completion_rate == 1.0
    assert [line.code for line in s.lines] == ["gain_significant", "effect_large", "hake_medium"]
    assert "d_z_not_between_group" in [c.code for c in s.caveats]


# --------------------------------------------------------------------------- formulas vs scipy


def test_paired_gain_matches_scipy_on_random_data():
    rng = np.random.default_rng(7)
    pre = rng.integers(20, 80, 40).astype(float)
    post = np.clip(pre + rng.normal(10, 12, 40).round(), 0, 100)
    g = paired_gain(pre, post)
    d = post - pre
    t = stats.ttest_rel(post, pre)
    w = stats.wilcoxon(post, pre)
    assert g.t_statistic == pytest.approx(t.statistic) and g.p_t == pytest.approx(t.pvalue)
    assert g.wilcoxon_statistic == pytest.approx(w.statistic) and g.p_wilcoxon == pytest.approx(
        w.pvalue
    )
    assert g.wilcoxon_method == "asymptotic"
    half = stats.t.ppf(0.975, 39) * d.std(ddof=1) / math.sqrt(40)
    assert (g.gain_ci_low, g.gain_ci_high) == pytest.approx((d.mean() - half, d.mean() + half))
    assert g.d_z == pytest.approx(d.mean() / d.std(ddof=1))
    assert g.d_av == pytest.approx(d.mean() / ((pre.std(ddof=1) + post.std(ddof=1)) / 2))
    r = stats.pearsonr(pre, post).statistic
    assert g.d_rm == pytest.approx(g.d_z * math.sqrt(2 * (1 - r)))
    j = 1 - 3 / (4 * 39 - 1)
    assert (g.g_z, g.g_av) == pytest.approx((j * g.d_z, j * g.d_av))


def test_wilcoxon_permutation_shortcut_equals_scipy():
    # ties and a zero at n ≤ 13: scipy's auto method runs its permutation test
    pre, post = [40, 50, 60, 70, 55, 65], [50, 60, 60, 65, 75, 70]
    g = paired_gain(pre, post)
    w = stats.wilcoxon(post, pre)
    assert g.wilcoxon_method == "permutation"
    assert (g.wilcoxon_statistic, g.p_wilcoxon) == pytest.approx((w.statistic, w.pvalue))


def test_wilcoxon_exact_without_ties():
    pre, post = [10, 20, 30, 40, 50], [11, 23, 34, 35, 56]
    g = paired_gain(pre, post)
    w = stats.wilcoxon(post, pre, method="exact")
    assert g.wilcoxon_method == "exact" and g.p_wilcoxon == pytest.approx(w.pvalue)


def test_float_noise_does_not_hide_a_zero_difference():
    pre = [100 * 2 / 3, 50, 40]
    post = [100 * (1 / 3 + 1 / 3), 70, 60]  # first pair equal on paper
    g = paired_gain(pre, post)
    assert g.wilcoxon_n == 2


def test_describe_scores_matches_numpy():
    x = np.array([35, 40, 45, 50, 55, 60, 60, 65, 70, 80.0])
    d = describe_scores(x)
    half = stats.t.ppf(0.975, 9) * x.std(ddof=1) / math.sqrt(10)
    assert (d.mean, d.sd, d.median) == pytest.approx((x.mean(), x.std(ddof=1), np.median(x)))
    assert (d.q1, d.q3) == pytest.approx(tuple(np.percentile(x, [25, 75])))
    assert (d.ci_low, d.ci_high) == pytest.approx((x.mean() - half, x.mean() + half))
    assert (d.minimum, d.maximum) == (35, 80)


def test_wilson_matches_scipy_and_handles_zero_trials():
    ci = stats.binomtest(3, 17).proportion_ci(method="wilson")
    p = wilson_interval(3, 17)
    assert (p.ci_low, p.ci_high) == pytest.approx((ci.low, ci.high))
    assert wilson_interval(0, 0).reason == "no_trials"


def test_mcnemar_is_binomial_on_discordant_pairs():
    assert mcnemar_exact(7, 2).p_value == pytest.approx(stats.binomtest(2, 9, 0.5).pvalue)
    assert mcnemar_exact(0, 0).reason == "no_discordant_pairs"


def test_gain_and_change_definitions():
    assert normalised_gain(40, 70) == pytest.approx(0.5)
    assert normalised_gain(100, 90) is None
    assert normalised_change(40, 70) == (pytest.approx(0.5), None)
    assert normalised_change(80, 60) == (pytest.approx(-0.25), None)  # (post − pre)/pre
    assert normalised_change(50, 50) == (0.0, None)
    assert normalised_change(100, 100) == (0.0, None)  # §3.10
    assert normalised_change(0, 0) == (None, "zero_pre_and_post")
    assert class_gain(100, 100) is None


def test_bands():
    assert [gain_band(g) for g in (-0.2, 0.29, 0.3, 0.7, 0.71)] == [
        "low",
        "low",
        "medium",
        "medium",
        "high",
    ]
    assert [effect_size_band(d) for d in (0.1, -0.3, 0.5, 0.79, 0.8)] == [
        "negligible",
        "small",
        "medium",
        "medium",
        "large",
    ]


def test_score10_rounds_halves_up():
    assert score10(29, 40) == 7.3  # 7.25 → 7.3, not banker's 7.2
    assert score10(7, 10) == 7.0
    assert score10(1, 0) is None


# --------------------------------------------------------------------------- §3.10 edge cases


def test_only_pre_or_only_post_trainees_are_unmatched():
    trainees, attempts = course()
    attempts = [a for a in attempts if not (a.trainee_id == "T00" and a.phase == "post")]
    attempts = [a for a in attempts if not (a.trainee_id == "T01" and a.phase == "pre")]
    s = course_summary(trainees, attempts)
    assert (s.n_pre, s.n_post, s.n_matched) == (9, 9, 8)
    assert (s.n_unmatched_pre, s.n_unmatched_post) == (1, 1)
    assert s.pre_all.n == 9 and s.gain.n == 8
    assert s.pre_all.mean == pytest.approx(np.mean(PRE[:1] + PRE[2:]))
    rows = {r.trainee_id: r for r in trainee_table(trainees, attempts)}
    assert "missing_post" in rows["T00"].flags and rows["T00"].gain_pp is None
    assert rows["T00"].normalised_change_reason == "missing_phase"


def test_first_attempt_for_statistics_best_for_certification():
    trainees = [Trainee("A", name="An", attendance_pct=90)]
    attempts = [
        Attempt("A", "pre", 50, 100, submitted_at=T0),
        Attempt("A", "post", 60, 100, submitted_at=T0 + timedelta(hours=5), attempt_id="1"),
        Attempt("A", "post", 90, 100, submitted_at=T0 + timedelta(hours=6), attempt_id="2"),
    ]
    chosen = select_attempts(attempts)
    assert chosen[("A", "post")].first.raw == 60 and chosen[("A", "post")].best.raw == 90
    row = trainee_table(trainees, attempts)[0]
    assert row.post_pct == 60 and row.gain_pp == 10 and row.pass_post is False
    assert row.pass_post_best is True and row.certificate_eligible is True
    assert "retake_post" in row.flags
    assert course_summary(trainees, attempts).post_all.mean == 60


def test_pre_at_100_percent():
    g = paired_gain([100, 50, 60], [100, 80, 70])
    assert g.n_individual_gain == 2  # g_i undefined at pre = 100
    assert g.mean_individual_gain == pytest.approx(np.mean([0.6, 0.25]))
    assert g.n_normalised_change == 2  # class mean drops 100 → 100 (Marx & Cummings)
    ceiling = paired_gain([100, 100], [100, 90])
    assert ceiling.class_gain is None and ceiling.class_gain_reason == "pre_at_ceiling"
    assert ceiling.individual_gain_reason == "pre_at_ceiling"


def test_all_gains_zero_gives_dashes_without_warnings():
    g = paired_gain([50, 60, 70], [50, 60, 70])
    assert g.sd_gain == 0.0 and g.t_statistic is None and g.p_wilcoxon is None and g.d_z is None
    assert g.t_reason == g.wilcoxon_reason == g.effect_reason == "all_differences_zero"
    assert interpret_gain(g)[0].code == "gain_all_zero"


def test_constant_nonzero_gain_has_no_t_or_d_z():
    g = paired_gain([50, 60, 70], [60, 70, 80])
    assert g.sd_gain == 0.0 and g.t_reason == "constant_differences" and g.d_z is None
    assert g.d_av is not None and g.p_wilcoxon is not None


def test_fewer_than_two_pairs():
    one = paired_gain([50], [70])
    assert one.mean_gain == 20 and one.sd_gain is None and one.t_reason == "one_pair"
    none = paired_gain([], [])
    assert none.mean_gain is None and none.sd_reason == "no_pairs"
    assert describe_scores([]).reason == "no_scores" and describe_scores([5]).sd is None
    assert interpret_gain(one)[0].code == "gain_not_testable"
    s = course_summary([Trainee("A")], [])
    assert s.gain.n == 0 and s.pass_pre.reason == "no_trials" and s.mcnemar.p_value is None


def test_fallback_identity_is_in_descriptives_not_in_pairs():
    trainees, attempts = course()
    attempts += [
        Attempt("X99", "pre", 30, 100, submitted_at=T0, is_fallback_identity=True),
        Attempt(
            "X99", "post", 90, 100, submitted_at=T0 + timedelta(days=3), is_fallback_identity=True
        ),
    ]
    s = course_summary(trainees, attempts)
    assert (s.n_pre, s.n_matched, s.n_fallback_identities) == (11, 10, 1)
    assert s.gain.mean_gain == 16.5
    row = next(r for r in trainee_table(trainees, attempts) if r.trainee_id == "X99")
    assert (
        "fallback_identity" in row.flags
        and row.gain_pp is None
        and row.certificate_eligible is None
    )


def test_different_bank_versions_flagged():
    trainees = [Trainee("A", attendance_pct=100)]
    attempts = [
        Attempt("A", "pre", 5, 10, submitted_at=T0, bank_id="B1", bank_version="1"),
        Attempt(
            "A", "post", 16, 20, submitted_at=T0 + timedelta(days=1), bank_id="B1", bank_version="2"
        ),
    ]
    s = course_summary(trainees, attempts)
    assert s.n_pairs_different_versions == 1 and s.gain.mean_gain == 30
    assert "different_bank_versions" in [c.code for c in s.caveats]
    assert "different_bank_versions" in trainee_table(trainees, attempts)[0].flags


def test_unscorable_attempt_is_counted_not_crashing():
    s = course_summary([Trainee("A")], [Attempt("A", "pre", 0, 0)])
    assert s.n_unscorable == 1 and s.n_pre == 0


def test_unknown_phase_rejected():
    with pytest.raises(ValueError, match="phase"):
        select_attempts([Attempt("A", "mid", 1, 2)])


# --------------------------------------------------------------------------- §3.3 table


def test_trainee_table_flags_and_sorting():
    trainees = [
        Trainee("1", name="Đỗ Văn Bình", unit="Xã B", attendance_pct=100, session="S1"),
        Trainee("2", name="Dương Thị An", unit="Xã B", attendance_pct=70, session="S1"),
        Trainee("3", name="Ánh", unit="Xã A", attendance_pct=100, session="S1"),
    ]
    pattern = "a b c d a b c d a b"
    attempts = [
        Attempt(
            "1",
            "pre",
            8,
            10,
            submitted_at=T0,
            started_at=T0,
            ended_at=T0 + timedelta(minutes=2),
            n_items=10,
            responses=pattern,
        ),
        Attempt(
            "1",
            "post",
            6,
            10,
            submitted_at=T0 + timedelta(days=1),
            n_items=10,
            blank_items=("q1", "q2", "q3"),
            responses="a",
        ),
        Attempt("2", "pre", 5, 10, submitted_at=T0, n_items=10, responses=pattern),
        Attempt("2", "post", 9, 10, submitted_at=T0 + timedelta(days=1), n_items=10, responses="b"),
    ]
    rows = trainee_table(trainees, attempts)
    assert [r.trainee_id for r in rows] == ["3", "2", "1"]  # unit, then name: D before Đ
    by_id = {r.trainee_id: r for r in rows}
    flags1 = by_id["1"].flags
    assert {"post_below_pre", "too_fast_pre", "blank_post", "identical_pre"} <= set(flags1)
    assert "identical_pre" in by_id["2"].flags
    assert by_id["2"].certificate_eligible is False  # attendance 70 < 80
    assert by_id["2"].score10 == 9.0 and by_id["2"].normalised_change == pytest.approx(0.8)
    assert set(by_id["3"].flags) == {"missing_pre", "missing_post"}


def test_vietnamese_sort_key_orders_letters():
    words = ["Đức", "Dung", "Ánh", "Anh", "Ăn", "Bình", "Ơn", "Ông", "Ổn"]
    assert sorted(words, key=vietnamese_sort_key) == [
        "Anh",
        "Ánh",
        "Ăn",
        "Bình",
        "Dung",
        "Đức",
        "Ổn",
        "Ông",
        "Ơn",
    ]


# --------------------------------------------------------------------------- §3.4 topics


ITEMS = [
    TopicItem(f"q{i}", "TP01" if i < 4 else ("TP02" if i < 7 else "TP03"), 1.0) for i in range(1, 9)
]


def test_topic_subscores_and_suppression():
    marks = {"q1": 1, "q2": 0, "q3": 1, "q4": 1, "q5": 0.5, "q7": 1}
    scores = topic_subscores(marks, ITEMS)
    assert scores["TP01"].pct == pytest.approx(100 * 2 / 3)
    assert scores["TP02"].pct == pytest.approx(50)  # q6 missing counts 0
    assert scores["TP03"].pct is None and scores["TP03"].reason == "too_few_items"


def test_topic_table_gain_and_class_gain():
    trainees = [Trainee("A"), Trainee("B")]
    attempts = [
        Attempt("A", "pre", 0, 8, submitted_at=T0, marks={"q1": 1}),
        Attempt("A", "post", 0, 8, submitted_at=T0, marks={"q1": 1, "q2": 1, "q3": 1}),
        Attempt("B", "pre", 0, 8, submitted_at=T0, marks={}),
        Attempt("B", "post", 0, 8, submitted_at=T0, marks={"q1": 1, "q2": 1}),
    ]
    rows = {r.topic: r for r in topic_table(trainees, attempts, ITEMS)}
    tp1 = rows["TP01"]
    pre_mean, post_mean = np.mean([100 / 3, 0]), np.mean([100, 200 / 3])
    assert (tp1.mean_pre, tp1.mean_post) == pytest.approx((pre_mean, post_mean))
    assert tp1.mean_gain == pytest.approx(post_mean - pre_mean)
    assert tp1.class_gain == pytest.approx((post_mean - pre_mean) / (100 - pre_mean))
    assert rows["TP03"].suppressed and rows["TP03"].mean_pre is None
