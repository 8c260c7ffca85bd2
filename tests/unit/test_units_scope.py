"""What a filter on a unit code covers across the 2025 reform (pure, no database)."""

import datetime as dt

from server.domain.units import UnitPeriod, unit_scope

END = dt.date(2025, 6, 30)
START = dt.date(2025, 7, 1)
EARLY = dt.date(1900, 1, 1)
UNITS = [
    UnitPeriod(1, "64", None, EARLY, END),  # former province
    UnitPeriod(2, "627", 1, EARLY, END),  # its district
    UnitPeriod(3, "23722", 2, EARLY, END),  # its commune
    UnitPeriod(4, "52", None, START, None),  # the merged province
    UnitPeriod(5, "23722", 4, START, None),  # the new commune that reused the code
    UnitPeriod(6, "52", None, EARLY, END),  # the former province that had 52
]
SUCCESSORS = {1: {4}, 2: {4}, 3: {5}, 6: {4}}


def test_a_2025_unit_covers_its_former_units():
    scope = unit_scope(UNITS, SUCCESSORS, "52")
    assert scope.covered == {1, 2, 3, 4, 5, 6}
    assert scope.until_end == set()
    assert scope.code_windows() == [(frozenset({"64", "627", "23722", "52"}), None, None)]


def test_a_former_unit_counts_under_itself_until_the_reform():
    scope = unit_scope(UNITS, SUCCESSORS, "64")
    assert scope.covered == {1, 2, 3}
    assert scope.ids_on(dt.date(2024, 1, 1)) == {1, 2, 3}
    assert scope.ids_on(dt.date(2026, 1, 1)) == set()
    assert scope.code_windows() == [(frozenset({"64", "627", "23722"}), None, END)]


def test_unknown_code_covers_nothing():
    scope = unit_scope(UNITS, SUCCESSORS, "99")
    assert scope.covered == set()
    assert scope.code_windows() == []
