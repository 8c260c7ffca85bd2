"""Schemas and answers of a two-version form, as the server stores them, for export tests.

Version 2 adds a field in the middle and a choice; the answers hold what exports must survive:
a formula in a repeat, an item that is not a group, a group that is not one, a date that is
not a date.
"""

from __future__ import annotations

from exports import Column

ROOT = "data"


def field(path: str, kind: str = "text", **extra) -> dict:
    name = path.rsplit("/", 1)[-1]
    return {"path": f"/{ROOT}/{path}", "name": name, "kind": kind, **extra}


def choice(name: str, vi: str, en: str | None = None) -> dict:
    labels = {"Vietnamese (vi)": vi} | ({"English (en)": en} if en else {})
    return {"name": name, "labels": labels}


def schema(*fields: dict, languages=("Vietnamese (vi)", "English (en)")) -> dict:
    return {"root": ROOT, "fields": list(fields), "languages": list(languages)}


V1 = schema(
    field("name"),
    field("who", "group"),
    field("who/age", "integer", type="int"),
    field("topics", "select_multiple", choices=[choice("tp01", "Cơ bản", "Basics")]),
    field("ok", "select_one", choices=[choice("yes", "Có", "Yes"), choice("no", "Không")]),
    field("dob", "date", type="date"),
    field("end", "end", type="dateTime"),
    field("tr", "repeat"),
    field("tr/tr_name", repeat=f"/{ROOT}/tr"),
    field("tr/day", "repeat", repeat=f"/{ROOT}/tr"),
    field("tr/day/hours", "decimal", type="decimal", repeat=f"/{ROOT}/tr/day"),
    field("note_1", "note"),
    field("meta", "group"),
    field("meta/instanceID", "calculate"),
)
V2 = schema(
    field("name"),
    field("nick"),  # new in version 2: right after "name"
    field("who", "group"),
    field("who/age", "integer", type="int"),
    field("topics", "select_multiple", choices=[choice("tp05", "Truyền thông", "Media")]),
    field("ok", "select_one", choices=[choice("yes", "Có", "Yes"), choice("no", "Không")]),
    field("dob", "date", type="date"),
    field("end", "end", type="dateTime"),
    field("tr", "repeat"),
    field("tr/tr_name", repeat=f"/{ROOT}/tr"),
    field("tr/day", "repeat", repeat=f"/{ROOT}/tr"),
    field("tr/day/hours", "decimal", type="decimal", repeat=f"/{ROOT}/tr/day"),
    field("meta", "group"),
    field("meta/instanceID", "calculate"),
)
TAIL = [Column("instance_id", "instanceID")]
FIRST = {
    "name": "Nguyễn Thị Hoa",
    "who": {"age": 34},
    "topics": ["tp01", "tp05"],
    "ok": "yes",
    "dob": "1990-05-01",
    "end": "2026-11-23T08:00:00.000Z",
    "tr": [
        {"tr_name": "=cmd|' /C calc'!A0", "day": [{"hours": 1.5}, {"hours": 2.0}]},
        "not an item",
        {"tr_name": "Trần Văn An"},
    ],
}
SECOND = {"name": "Lê", "nick": "B", "who": "not a group", "dob": "hôm qua", "tr": {"x": 1}}
