"""The pure half of exports: a form's tables planned from its schemas, filled from records.

No app and no database: schemas are written here as the server stores them, records as a
service would supply them.
"""

from __future__ import annotations

import datetime as dt

import pytest

from exports import Column, FormTables, Record, iter_csv, union_fields
from tests.form_schemas import FIRST, ROOT, SECOND, TAIL, V1, V2, field, schema


def source(*records: Record, calls: list | None = None):
    def read(subtree):
        if calls is not None:
            calls.append(subtree)
        return iter(records)

    return read


def records() -> list[Record]:
    return [Record(FIRST, "uuid:1", None, ["uuid:1"]), Record(SECOND, "uuid:2", None, ["uuid:2"])]


def csv_text(table) -> str:
    return b"".join(iter_csv(table)).decode("utf-8").lstrip("\ufeff")


def test_union_keeps_form_order_and_every_choice():
    fields = union_fields([V1, V2])
    paths = [f["path"].removeprefix(f"/{ROOT}/") for f in fields]
    assert paths[:3] == ["name", "nick", "who"]
    assert "note_1" in paths  # a field only the old version had stays
    topics = next(f for f in fields if f["name"] == "topics")
    assert [c["name"] for c in topics["choices"]] == ["tp05", "tp01"]  # newest first


def test_main_table_is_exactly_the_planned_columns_and_cells():
    plan = FormTables("demo", [V1, V2], tail=TAIL)
    calls: list = []
    main, *_ = plan.tables(source(*records(), calls=calls))
    assert csv_text(main) == (
        "name,nick,who/age,topics,topics/tp05,topics/tp01,ok,dob,end (UTC+07:00),instanceID\r\n"
        "Nguyễn Thị Hoa,,34,tp01 tp05,1,1,yes,1990-05-01,2026-11-23T15:00:00+07:00,uuid:1\r\n"
        "Lê,B,,,,,,hôm qua,,uuid:2\r\n"
    )
    assert calls == [None]  # the main table reads whole records, once
    assert [c.kind for c in main.columns][:3] == ["text", "text", "integer"]
    assert plan.warnings == [] and not plan.labelled


def test_typed_cells_are_dates_and_aware_times():
    plan = FormTables("demo", [V2])
    row = next(iter(plan.tables(source(*records()))[0].rows))
    assert row[6] == dt.date(1990, 5, 1)
    assert row[7] == dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)


def test_labels_in_a_language_join_with_semicolons():
    plan = FormTables("demo", [V1, V2], lang="vi")
    row = next(iter(plan.tables(source(*records()))[0].rows))
    assert row[3:7] == ["Cơ bản; Truyền thông", 1, 1, "Có"]
    english = FormTables("demo", [V1, V2], lang="en")
    assert next(iter(english.tables(source(*records()))[0].rows))[6] == "Yes"


def test_a_missing_language_falls_back_to_codes_with_a_warning():
    plan = FormTables("demo", [schema(field("a"), languages=["Vietnamese (vi)"])], lang="en")
    assert plan.language is None
    assert plan.warnings == ["form 'demo' has no en labels; choice codes are exported instead"]


def test_repeats_are_keyed_like_central_and_nested_ones_too():
    plan = FormTables("demo", [V2])
    calls: list = []
    _, trainers, days = plan.tables(source(*records(), calls=calls))
    assert (trainers.name, days.name) == ("demo-tr", "demo-tr-day")
    assert csv_text(trainers) == (
        "PARENT_KEY,KEY,tr/tr_name\r\n"
        "uuid:1,uuid:1/tr[1],'=cmd|' /C calc'!A0\r\n"
        "uuid:1,uuid:1/tr[2],\r\n"  # an item that is not a group is an empty row
        "uuid:1,uuid:1/tr[3],Trần Văn An\r\n"
    )
    assert csv_text(days) == (
        "PARENT_KEY,KEY,tr/day/hours\r\nuuid:1/tr[1],uuid:1/tr[1]/day[1],1.5\r\n"
        "uuid:1/tr[1],uuid:1/tr[1]/day[2],2.0\r\n"
    )
    assert calls == [("tr",), ("tr",)]  # each repeat's pass asks only for its subtree


def test_a_source_may_hand_over_only_the_subtree():
    plan = FormTables("demo", [V2])

    def only_asked(subtree):
        for record in records():
            if subtree is None:
                yield record
            else:
                yield record._replace(data={"tr": record.data.get("tr")})

    main, trainers, _ = plan.tables(only_asked)
    assert len(list(trainers.rows)) == 3
    assert len(list(main.rows)) == 2


class Register:
    """Names of list codes as the register gives them, by day."""

    def label(self, file: str, code: str, on: dt.date) -> str | None:
        names = {"21583": "Xã Nhơn Bình" if on < dt.date(2025, 7, 1) else "Phường Quy Nhơn"}
        return names.get(code) if file == "communes.csv" else None


def test_list_codes_get_their_name_on_the_submissions_day():
    picked = schema(
        field("commune", "select_one", choice_file="communes.csv", choices=[]),
        field("units", "select_multiple", choice_file="communes.csv", choices=[]),
    )
    plan = FormTables("demo", [picked], lang="vi", tail=TAIL)
    assert plan.labelled and plan.list_files == {"communes.csv"}
    assert [c.key for c in plan.main_columns] == [
        "commune", "commune_label", "units", "units_label", "instance_id",
    ]  # fmt: skip
    data = {"commune": "21583", "units": ["21583", "99"]}
    old = Record(data, "a", dt.date(2024, 1, 1), ["a"])
    new = Record({"commune": "21583"}, "b", dt.date(2026, 1, 1), ["b"])
    rows = list(plan.tables(source(old, new), Register())[0].rows)
    assert rows == [
        ["21583", "Xã Nhơn Bình", "21583; 99", "Xã Nhơn Bình; 99", "a"],
        ["21583", "Phường Quy Nhơn", None, None, "b"],
    ]
    with pytest.raises(ValueError, match="labels are needed"):
        plan.tables(source(old))
    assert not FormTables("demo", [picked]).labelled  # codes: no name columns


def test_layout_nodes_and_ids_are_not_columns():
    generated = schema(
        field("generated_table_list_label_3", "note"),
        field("reserved_name_for_field_list_labels_4"),
        field("meta/deprecatedID", "calculate"),
        field("a"),
        field("a_2"),
    )
    plan = FormTables("demo", [generated], tail=[Column("a", "a (again)")])
    assert [(c.key, c.header) for c in plan.main_columns] == [
        ("a", "a"), ("a_2", "a_2"), ("a_3", "a (again)"),
    ]  # fmt: skip
