"""Topic demand of reports spec §2.2.4."""

import numpy as np
import pytest

from server.domain.needs_topics import TopicCounts, count_topic_answers, gap_support, topic_demand

TOPICS = [f"TP{i:02d}" for i in range(1, 18)]
# §1.8: competency → topics (a subset)
LINKS = {
    "C01": ["TP03"],
    "C02": ["TP03", "TP15"],
    "C03": ["TP03"],
    "C05": ["TP05"],
    "C19": ["TP01"],
}


def test_shares_are_of_answering_respondents_and_missing_is_counted_apart():
    answers = [
        (["TP01", "TP05"], "TP05"),
        (["TP05"], None),  # one topic: it is the implied top-1 (topic_top1 was not asked)
        (["TP01", "TP05", "TP06"], "TP01"),
        (None, None),  # did not answer
        ([], None),  # never reached the question
        (["TP01", "TP06"], None),  # skipped topic_top1
    ]
    counts = count_topic_answers(answers)
    assert (counts.n_respondents, counts.n_answering, counts.n_missing) == (6, 4, 2)
    assert (counts.n_top1_answering, counts.n_top1_missing) == (3, 3)
    rows = {r.topic: r for r in topic_demand(counts, TOPICS, min_cell=1)}
    assert rows["TP05"].demand_share == 3 / 4
    assert rows["TP01"].demand_share == 3 / 4
    assert rows["TP06"].demand_share == 2 / 4
    assert rows["TP05"].top1_share == 2 / 3
    assert rows["TP01"].top1_share == 1 / 3
    assert rows["TP02"].demand_share == 0
    assert sum(r.demand_share for r in rows.values()) > 1  # multi-select: more than 100 %
    assert sum(r.top1_share for r in rows.values()) == pytest.approx(1)


def test_single_topic_is_not_implied_as_top1_when_turned_off():
    counts = count_topic_answers(
        [(["TP05"], None), (["TP01", "TP05"], "TP01")], imply_single_top1=False
    )
    assert counts.top1 == {"TP01": 1}
    assert counts.n_top1_answering == 1


def test_a_topic_picked_twice_counts_once():
    counts = count_topic_answers([(["TP01", "TP01"], None)])
    assert counts.selected == {"TP01": 1}


def test_demand_shares_equal_column_means_of_the_selection_matrix():
    rng = np.random.default_rng(4)
    picked = rng.random((400, 17)) < rng.uniform(0.05, 0.5, 17)
    answered = picked.any(axis=1)
    answers = [([TOPICS[j] for j in np.flatnonzero(row)] or None, None) for row in picked]
    rows = topic_demand(count_topic_answers(answers), TOPICS)
    assert [r.demand_share for r in rows] == pytest.approx(
        list(picked[answered].mean(axis=0)), rel=1e-12
    )
    assert {r.n_missing for r in rows} == {int((~answered).sum())}


def test_nobody_answering_gives_no_shares_and_a_suppressed_row():
    rows = topic_demand(count_topic_answers([(None, None)] * 3), TOPICS)
    assert all(r.demand_share is None and r.top1_share is None and r.suppressed for r in rows)
    assert rows[0].n_missing == 3


def test_small_groups_are_suppressed_with_their_values():
    counts = TopicCounts(
        n_respondents=4, n_answering=4, n_top1_answering=4, selected={"TP01": 2}, top1={"TP01": 4}
    )
    row = topic_demand(counts, ["TP01"])[0]
    assert row.suppressed
    assert (row.demand_share, row.top1_share) == (0.5, 1.0)


def test_gap_support_is_the_largest_linked_mwds():
    mwds = {"C01": 3.2, "C02": 7.9, "C03": 5.0, "C05": None, "C19": 2.0}
    assert gap_support("TP03", LINKS, mwds) == (7.9, "C02")
    assert gap_support("TP15", LINKS, mwds) == (7.9, "C02")
    assert gap_support("TP05", LINKS, mwds) == (None, None)  # only linked item suppressed
    assert gap_support("TP17", LINKS, mwds) == (None, None)  # no linked competency


def test_gap_support_ties_go_to_the_lowest_code_and_negative_gaps_count():
    assert gap_support("TP03", LINKS, {"C03": 4.0, "C01": 4.0}) == (4.0, "C01")
    assert gap_support("TP01", LINKS, {"C19": -1.5}) == (-1.5, "C19")


def test_topic_rows_carry_gap_support():
    counts = count_topic_answers([(["TP03"], None)] * 6)
    rows = {
        r.topic: r
        for r in topic_demand(counts, TOPICS, competency_topics=LINKS, mwds_by_item={"C01": 6.0})
    }
    assert (rows["TP03"].gap_support, rows["TP03"].gap_support_item) == (6.0, "C01")
    assert rows["TP01"].gap_support is None
    assert [r.topic for r in topic_demand(counts, TOPICS)] == TOPICS
