"""Reading one needs assessment (pure): ratings, straight-lining, the Vietnamese day."""

from __future__ import annotations

import datetime as dt

import pytest

from server.domain.tna import Rating, competencies, read_rating, read_response, straightlined


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", (3, False)),
        (5, (5, False)),
        ("1.0", (1, False)),
        ("na", (None, False)),
        ("NA", (None, False)),
        ("", (None, False)),
        (None, (None, False)),
        ("0", (None, True)),
        ("6", (None, True)),
        ("2.5", (None, True)),
        ("rất cao", (None, True)),
        (True, (None, True)),
    ],
)
def test_a_rating_is_1_to_5_and_nothing_else(value, expected):
    assert read_rating(value) == expected


def test_competencies_come_from_the_schema_in_form_order():
    fields = [{"name": "consent"}, {"name": "imp_c02"}, {"name": "perf_c02"}, {"name": "imp_c10"}]
    assert competencies(fields) == ("C02", "C10")
    assert competencies([{"name": "q01"}]) == ()


def test_straight_lining_needs_enough_identical_pairs():
    same = [Rating(f"C{n:02d}", 4, 3) for n in range(1, 5)]
    assert straightlined(same)
    assert not straightlined(same[:3])
    assert not straightlined([*same, Rating("C09", 4, 2)])
    assert straightlined([*same, Rating("C09", None, None)])


def test_the_day_is_vietnamese_and_the_wave_falls_back_to_the_year():
    received = dt.datetime(2026, 12, 31, 18, 0, tzinfo=dt.UTC)  # 01:00 on 1/1/2027 in Vietnam
    response = read_response({"g": {"staff_id": "_notlisted"}}, rated=(), received_at=received)
    assert (response.responded_on, response.wave) == (dt.date(2027, 1, 1), "2027")
    assert response.person_code is None
