"""Read a training-needs assessment (reports spec §4.2, Form A) into the rows the report counts.

Pure: the answers come in as the typed data of a submission (``domain.instances.typed_data``)
and leave as plain values. A form is a needs assessment when its schema has competency
ratings (``imp_cNN`` / ``perf_cNN``), whatever its form id, so a department's own copy of the
form with another id or fewer competencies is read the same way.

Rules (spec §2.2.3): ratings are 1–5; "na" (không áp dụng) and blanks are missing; a value
outside 1–5 (an edited form, a broken client) is excluded, never clipped, and counted in
``out_of_range``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from server.domain.instances import finished_at, unit_code

#: ``imp_c01`` / ``perf_c21``: the two self-ratings of one competency (spec §1.8).
RATING_FIELD = re.compile(r"^(imp|perf)_c(\d{2})$")
SCALE = range(1, 6)
NOT_APPLICABLE = "na"
#: The register's "not on the list" row of the staff picker.
NOT_LISTED = "_notlisted"
#: Questions whose picked options become one choice row each (select_one or select_multiple).
CHOICE_QUESTIONS = (
    "topics_wanted",
    "topic_top1",
    "topics_24m",
    "certs",
    "barriers",
    "device_access",
    "pref_format",
    "pref_duration",
    "pref_place",
    "ctv_roles",
)
#: A response is straight-lined when at least this many competencies carry both ratings and
#: they all share one importance and one performance value (with fewer, a flat profile is
#: not evidence of anything).
STRAIGHTLINE_MIN_ITEMS = 4
#: Vietnam has kept UTC+7 all year since 1975; days of the reports are Vietnamese days.
VIETNAM = dt.timezone(dt.timedelta(hours=7))


@dataclass(frozen=True)
class Rating:
    """One competency's two self-ratings; None = not applicable, blank or out of range."""

    competency: str
    importance: int | None
    performance: int | None


@dataclass(frozen=True)
class TnaResponse:
    """A needs assessment as the report reads it."""

    level: str | None
    staff_cat: str | None
    job_position: str | None
    unit_code: str | None
    province_code: str | None
    district_code: str | None
    commune_code: str | None
    #: The staff code picked from the register list; None for "not on the list" or blank.
    person_code: str | None
    sex: str | None
    ethnic_minority: bool | None
    birth_year: int | None
    years_pop: int | None
    edu_level: str | None
    edu_field: str | None
    cdnn_rank: str | None
    days_12m: int | None
    responded_on: dt.date
    wave: str
    duration_seconds: int | None
    straightlined: bool
    out_of_range: int
    ratings: tuple[Rating, ...]
    #: (question, option code) pairs, each once.
    choices: tuple[tuple[str, str], ...]


def competencies(fields: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """The competencies a form rates, from its schema: ``C01``… in form order.

    :param fields: the ``fields`` of a stored form schema (each with a ``name``).
    :return: competency codes; empty when the form is not a needs assessment.
    """
    found: dict[str, None] = {}
    for spec in fields:
        match = RATING_FIELD.match(str(spec.get("name") or ""))
        if match:
            found[f"C{match.group(2)}"] = None
    return tuple(found)


def flatten(data: Mapping[str, Any]) -> dict[str, Any]:
    """Every answer by its name, wherever its group puts it (the first one wins; repeats skipped).

    :param data: typed answers.
    :return: {name: value}.
    """
    found: dict[str, Any] = {}
    pending = [data]
    while pending:
        current = pending.pop(0)
        for name, value in current.items():
            if isinstance(value, dict):
                pending.append(value)
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                continue  # a repeat: the needs form has none
            else:
                found.setdefault(name, value)
    return found


def read_rating(value: Any) -> tuple[int | None, bool]:
    """One rating: (value 1–5 or None, whether it was out of range).

    :param value: the answer as typed ("3", 3, "na", None, "7", "x"…).
    :return: the rating and the out-of-range flag; "na" and blanks are (None, False).
    """
    if value is None or isinstance(value, bool):
        return None, value is not None
    text = str(value).strip()
    if not text or text.lower() == NOT_APPLICABLE:
        return None, False
    try:
        number = float(text)
    except ValueError:
        return None, True
    if number.is_integer() and int(number) in SCALE:
        return int(number), False
    return None, True


def declined(data: Mapping[str, Any]) -> bool:
    """Whether the respondent said no to taking part (``consent`` = no): nothing to read.

    :param data: typed answers.
    :return: True when consent was refused; a form without the question never declines.
    """
    return _code(flatten(data).get("consent")) == "no"


def read_response(
    data: Mapping[str, Any], *, rated: Iterable[str], received_at: dt.datetime
) -> TnaResponse:
    """Read one needs assessment.

    :param data: the submission's typed answers.
    :param rated: the competencies the form version rates (:func:`competencies`).
    :param received_at: when the server received it (aware), for the day when ``end`` is absent.
    :return: the respondent, the ratings (one per competency of the form) and the choices.
    """
    answers = flatten(data)
    ratings, out_of_range = [], 0
    for code in rated:
        suffix = code[1:]
        importance, bad_i = read_rating(answers.get(f"imp_c{suffix}"))
        performance, bad_p = read_rating(answers.get(f"perf_c{suffix}"))
        out_of_range += bad_i + bad_p
        ratings.append(Rating(code, importance, performance))
    end = finished_at(answers)
    responded_on = (end or received_at).astimezone(VIETNAM).date()
    wave = _code(answers.get("tna_wave")) or str(responded_on.year)
    staff = _code(answers.get("staff_id"))
    return TnaResponse(
        level=_code(answers.get("level"), 16),
        staff_cat=_code(answers.get("staff_cat")),
        job_position=_code(answers.get("job_position")),
        unit_code=unit_code(data),
        province_code=_code(answers.get("province")),
        district_code=_code(answers.get("district")),
        commune_code=_code(answers.get("commune")),
        person_code=None if staff == NOT_LISTED else staff,
        sex=_code(answers.get("sex"), 8),
        ethnic_minority={"yes": True, "no": False}.get(_code(answers.get("ethnic_minority"))),
        birth_year=_integer(answers.get("birth_year")),
        years_pop=_integer(answers.get("years_pop")),
        edu_level=_code(answers.get("edu_level")),
        edu_field=_code(answers.get("edu_field")),
        cdnn_rank=_code(answers.get("cdnn_rank")),
        days_12m=_integer(answers.get("days_12m")),
        responded_on=responded_on,
        wave=wave,
        duration_seconds=_duration(answers.get("start"), end),
        straightlined=straightlined(ratings),
        out_of_range=out_of_range,
        ratings=tuple(ratings),
        choices=tuple(_choices(answers)),
    )


def straightlined(ratings: Iterable[Rating]) -> bool:
    """Whether every competency rated on both scales got the same pair of values.

    :param ratings: one response's ratings.
    :return: True when at least :data:`STRAIGHTLINE_MIN_ITEMS` pairs are all identical.
    """
    pairs = [(r.importance, r.performance) for r in ratings]
    pairs = [p for p in pairs if None not in p]
    return len(pairs) >= STRAIGHTLINE_MIN_ITEMS and len(set(pairs)) == 1


def _choices(answers: Mapping[str, Any]) -> list[tuple[str, str]]:
    picked: dict[tuple[str, str], None] = {}
    for question in CHOICE_QUESTIONS:
        value = answers.get(question)
        options = value if isinstance(value, list) else str(value or "").split()
        for option in options:
            code = _code(option)
            if code:
                picked[(question, code)] = None
    return list(picked)


def _code(value: Any, length: int = 32) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text[:length] or None


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return int(number) if number.is_integer() and abs(number) < 2**31 else None


def _duration(start: Any, end: dt.datetime | None) -> int | None:
    began = finished_at({"end": start}) if isinstance(start, str) else None
    if began is None or end is None or end < began:
        return None
    return int((end - began).total_seconds())
