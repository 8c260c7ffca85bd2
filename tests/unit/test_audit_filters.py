"""The audit log's filters as a page or a link gives them, and an event's details as one line."""

from __future__ import annotations

import datetime as dt

import pytest

from server.domain.policy import ADMIN, PLANNER, TRAINER, Action, Subject, decide
from server.errors import InvalidRequest
from server.services.audit import CONSOLE, AuditFilters, describe, parse_filters


def test_days_are_read_the_vietnamese_way_or_as_iso():
    filters = parse_filters({"since": "01/11/2026", "until": "2026-11-30", "actor": "7"})
    assert filters == AuditFilters(actor=7, since=dt.date(2026, 11, 1), until=dt.date(2026, 11, 30))
    # links carry the days as people write them
    assert filters.query_args() == {"actor": "7", "since": "01/11/2026", "until": "30/11/2026"}
    assert parse_filters({"actor": CONSOLE, "action": " user.role "}) == AuditFilters(
        actor=CONSOLE, action="user.role"
    )
    assert parse_filters({}) == AuditFilters()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"since": "31/02/2026"}, "since"),
        ({"until": "hôm qua"}, "until"),
        ({"actor": "lan"}, "actor"),
        ({"actor": "1234567890"}, "actor"),
        ({"since": "02/11/2026", "until": "01/11/2026"}, "since"),
    ],
)
def test_bad_filters_name_the_parameter(values, field):
    with pytest.raises(InvalidRequest) as caught:
        parse_filters(values)
    assert field in caught.value.details["fields"]


def test_details_read_as_one_line():
    assert (
        describe({"from": "trainer", "to": "admin", "comment": None}) == "from: trainer; to: admin"
    )
    assert describe({"forms": ["a", "b"], "units": []}) == "forms: a, b"


@pytest.mark.parametrize(
    "action", [Action.USERS_MANAGE, Action.AUDIT_READ_ALL, Action.UNITS_IMPORT]
)
def test_only_administrators_manage_people_read_the_log_and_import_units(action):
    assert decide(Subject(role=ADMIN), action)
    for role in (TRAINER, PLANNER, "collector", "device", None):
        assert not decide(Subject(role=role), action)
    for role in (ADMIN, TRAINER, PLANNER):
        assert decide(Subject(role=role), Action.UNITS_READ)
