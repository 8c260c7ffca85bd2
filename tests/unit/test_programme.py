"""server/domain/programme.py: pooling trainee-course outcomes for the roll-up (spec §3.8)."""

from __future__ import annotations

import datetime as dt

import pytest

from server.domain.programme import (
    OutcomeAccumulator,
    TraineeOutcome,
    likert_answer,
    period_of,
)
from tests.factories import WORKED_POST, WORKED_PRE


def test_the_worked_example_pooled_as_one_group():
    acc = OutcomeAccumulator()
    for n, (pre, post) in enumerate(zip(WORKED_PRE, WORKED_POST, strict=True)):
        acc.add(TraineeOutcome(1, n, pre, post, post >= 70))
    for value in (5, 4, 4, 3, 5, 4, 2, 5):
        acc.add_rating(value)
    row = acc.summary().as_row()
    assert row["mean_post"] == pytest.approx(72.5)
    assert row["mean_gain"] == pytest.approx(16.5)
    assert (row["gain_low"], row["gain_high"]) == (
        pytest.approx(10.18, abs=0.005),
        pytest.approx(22.82, abs=0.005),
    )
    assert row["class_gain"] == pytest.approx(0.375)
    assert (row["pass_n"], row["pass_pct"]) == (10, pytest.approx(60))
    assert (row["sat_n"], row["sat_top2"]) == (8, pytest.approx(75))


def test_only_pre_or_only_post_and_nothing_at_all():
    acc = OutcomeAccumulator()
    acc.add(TraineeOutcome(1, 1, 50, None, None))  # only a pre-test: no post, no pair
    acc.add(TraineeOutcome(1, 2, None, 80, True))  # only a post-test: no pair
    row = acc.summary().as_row()
    assert (row["n_post"], row["n_pairs"], row["mean_post"]) == (1, 0, 80)
    assert row["mean_gain"] is None and row["class_gain"] is None
    empty = OutcomeAccumulator().summary().as_row()
    assert empty["n_post"] == 0 and empty["pass_pct"] is None and empty["sat_top2"] is None


def test_pre_at_ceiling_has_no_class_gain():
    acc = OutcomeAccumulator()
    acc.add(TraineeOutcome(1, 1, 100, 100, True))
    assert acc.summary().class_gain is None


@pytest.mark.parametrize(
    ("value", "expected"), [("4", 4), (5, 5), ("na", None), ("", None), ("7", None), (None, None)]
)
def test_likert_answers(value, expected):
    assert likert_answer(value) == expected


def test_periods():
    assert period_of(dt.date(2026, 9, 7), "year") == "2026"
    assert period_of(dt.date(2026, 9, 7), "quarter") == "2026-Q3"
    assert period_of(dt.date(2026, 1, 1), "quarter") == "2026-Q1"
