"""The needs report's targets and settings, as data a department can change (spec §1.2, §1.9).

Both live in tables keyed by province: the rows with province ``''`` are the defaults every
province inherits (seeded from the Gia Lai plan and the spec's defaults by migration 0010), and
a province's own rows replace them.

* **Targets** (``kpi_targets``): a KPI, a period, a target percentage and an optional baseline.
  A province's target replaces every default target of the same KPI whose period overlaps it;
  within one province, periods of one KPI never overlap (a period starting on the same day is
  the same target, updated).
* **Settings** (``report_settings``): :data:`SETTINGS` names every key, its type and default.
  The value of a key for a province is its own row, else the ``''`` row, else the default here.

Bad input raises the catalogue's ``InvalidRequest`` (422.1) naming each bad field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.errors import InvalidRequest
from server.models import AdminUnit, KpiTarget, ReportSetting
from server.models.needs import ALL_PROVINCES

#: The coverage KPIs of spec §1.2 (KPI-09 is monitored without a percentage target).
KPIS = tuple(f"KPI-{n:02d}" for n in range(1, 10))
#: Leave a target's field as it is (or as inherited) when setting the others.
KEEP: Any = type("Keep", (), {"__repr__": lambda self: "KEEP"})()


# --- Settings -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One report setting: its default, how a value is checked, and what it means."""

    key: str
    default: object
    #: Returns the value to store, or raises ValueError saying what is expected.
    check: Callable[[object], object]
    #: Turns command-line text into a value (then checked).
    parse: Callable[[str], object]
    help: str


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value


def _optional_boolean(value: object) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise ValueError("null, true or false")
    return value


def _one_of(*choices: str) -> Callable[[object], str]:
    def check(value: object) -> str:
        if value not in choices:
            raise ValueError(" or ".join(repr(c) for c in choices))
        return value

    return check


def _positive_integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("a whole number of at least 1")
    return value


def _percentage(value: object) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise ValueError("a number from 0 to 100")
    return value


def _form_id(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 64:
        raise ValueError("a form id (1 to 64 characters)")
    return value.strip()


_TRUE, _FALSE = {"true", "yes", "1", "co", "có"}, {"false", "no", "0", "khong", "không"}


def _text_boolean(text: str) -> object:
    word = text.strip().lower()
    if word in {"null", "none", ""}:
        return None
    return True if word in _TRUE else False if word in _FALSE else text


def _text_number(text: str) -> object:
    try:
        number = float(text.strip().replace(",", "."))
    except ValueError:
        return text
    return int(number) if number.is_integer() else number


SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting(
            "kpi03_counts_vc_standard",
            None,
            _optional_boolean,
            _text_boolean,
            "KPI-03 counts the older 'đạt chuẩn viên chức dân số' certificate too (true), only "
            "the professional-title grades hạng II–IV (false), or both series are shown "
            "(null) — spec §1.9.1",
        ),
        Setting(
            "stock_or_flow",
            "stock",
            _one_of("stock", "flow"),
            str.strip,
            "KPI-01…05: staff in post with a qualifying course on any date (stock) or completed "
            "within the period (flow) — spec §1.9.3",
        ),
        Setting(
            "kpi04_requires_pass",
            True,
            _boolean,
            _text_boolean,
            "KPI-04 needs the TP04 course and a passed post-test (true) or completion only "
            "(false) — spec §1.9.4",
        ),
        Setting(
            "ctv_denominator",
            "dec31",
            _one_of("dec31", "average"),
            str.strip,
            "KPI-06 denominator: collaborators active on 31/12 (dec31) or the average of 1/1 "
            "and 31/12 (average) — spec §1.9.5",
        ),
        Setting(
            "class_size_ctv",
            40,
            _positive_integer,
            _text_number,
            "people per class when planning collaborator courses",
        ),
        Setting(
            "class_size_other",
            30,
            _positive_integer,
            _text_number,
            "people per class for everyone else",
        ),
        Setting(
            "min_cell",
            5,
            _positive_integer,
            _text_number,
            "smallest group whose figures are shown (smaller ones show '—' and n)",
        ),
        Setting(
            "response_rate_caution",
            60,
            _percentage,
            _text_number,
            "a unit whose TNA response rate is below this percentage gets a caution mark",
        ),
        Setting(
            "tna_form_id",
            "tna_dskhhgd",
            _form_id,
            str.strip,
            "the form id of the training-needs assessment the report reads",
        ),
    )
}


@dataclass(frozen=True)
class SettingValue:
    """A setting's value for a province, and where it comes from."""

    key: str
    value: object
    #: 'province' (the province's own row), 'all' (the '' row) or 'default' (this module).
    source: str
    help: str


def list_settings(session: Session, *, province: str = ALL_PROVINCES) -> list[SettingValue]:
    """Every setting's value for a province (or the defaults, for ``''``).

    :param session: the database session.
    :param province: a province code, or ``''`` for the values every province inherits.
    :return: one value per key of :data:`SETTINGS`, in that order.
    """
    province = _province(session, province)
    stored: dict[tuple[str, str], object] = {
        (row.province_code, row.key): row.value
        for row in session.execute(
            sa.select(ReportSetting).where(
                ReportSetting.province_code.in_({ALL_PROVINCES, province})
            )
        ).scalars()
    }
    values = []
    for key, setting in SETTINGS.items():
        if province and (province, key) in stored:
            value, source = stored[(province, key)], "province"
        elif (ALL_PROVINCES, key) in stored:
            value, source = stored[(ALL_PROVINCES, key)], "all"
        else:
            value, source = setting.default, "default"
        values.append(SettingValue(key, value, source, setting.help))
    return values


def settings_for(session: Session, *, province: str = ALL_PROVINCES) -> dict[str, object]:
    """The settings a report for a province uses: {key: value}.

    :param session: the database session.
    :param province: the report's province code (``''``: the defaults).
    :return: every key of :data:`SETTINGS`.
    """
    return {s.key: s.value for s in list_settings(session, province=province)}


def check_settings(values: Mapping[str, object]) -> dict[str, object]:
    """Check setting values (as JSON would carry them).

    :param values: {key: value}.
    :return: the values to store.
    :raises InvalidRequest: unknown keys and bad values, each named.
    """
    problems: dict[str, list[str]] = {}
    checked: dict[str, object] = {}
    for key, value in values.items():
        setting = SETTINGS.get(key)
        if setting is None:
            problems[key] = [f"unknown setting; known: {', '.join(SETTINGS)}"]
            continue
        try:
            checked[key] = setting.check(value)
        except ValueError as exc:
            problems[key] = [f"expected {exc}, got {value!r}"]
    if problems:
        raise _invalid(problems)
    return checked


def parse_setting(key: str, text: str) -> object:
    """Turn command-line text into a setting's value ("true", "40", "null", "flow"…).

    :param key: the setting.
    :param text: what was typed.
    :return: the checked value.
    :raises InvalidRequest: unknown key or a value of the wrong kind.
    """
    setting = SETTINGS.get(key)
    value = setting.parse(text) if setting else text
    return check_settings({key: value})[key]


def set_settings(
    session: Session,
    values: Mapping[str, object],
    *,
    province: str = ALL_PROVINCES,
    now: dt.datetime,
) -> list[SettingValue]:
    """Store settings for a province (or for every province, ``''``): all or nothing (flushes).

    :param session: the database session.
    :param values: {key: value}, as JSON carries them.
    :param province: a province code, or ``''``.
    :param now: the time of the change.
    :return: the province's settings afterwards.
    :raises InvalidRequest: unknown keys, bad values or an unknown province.
    """
    province = _province(session, province)
    for key, value in check_settings(values).items():
        row = session.get(ReportSetting, (province, key))
        if row is None:
            row = ReportSetting(province_code=province, key=key)
            session.add(row)
        row.value, row.updated_at = value, now
    session.flush()
    return list_settings(session, province=province)


def clear_setting(session: Session, key: str, *, province: str = ALL_PROVINCES) -> bool:
    """Remove a stored value, so the province inherits it again (``''``: the built-in default).

    :param session: the database session.
    :param key: the setting.
    :param province: a province code, or ``''``.
    :return: whether there was a value to remove.
    :raises InvalidRequest: unknown key.
    """
    if key not in SETTINGS:
        check_settings({key: None})
    row = session.get(ReportSetting, (_province(session, province), key))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


# --- Targets ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A target as it applies to a province."""

    kpi: str
    period_start: dt.date
    period_end: dt.date
    target_pct: float
    baseline_pct: float | None
    baseline_date: dt.date | None
    source: str
    #: The province of the row it comes from ('' = the default every province inherits).
    province_code: str
    #: True when the province asked for has no target of its own here.
    inherited: bool
    updated_at: dt.datetime


def _target(row: KpiTarget, province: str) -> Target:
    return Target(
        kpi=row.kpi,
        period_start=row.period_start,
        period_end=row.period_end,
        target_pct=row.target_pct,
        baseline_pct=row.baseline_pct,
        baseline_date=row.baseline_date,
        source=row.source,
        province_code=row.province_code,
        inherited=row.province_code != province,
        updated_at=row.updated_at,
    )


def _overlaps(a: KpiTarget | Target, b: KpiTarget | Target) -> bool:
    return a.period_start <= b.period_end and b.period_start <= a.period_end


def list_targets(
    session: Session, *, province: str = ALL_PROVINCES, kpi: str | None = None
) -> list[Target]:
    """The targets that apply to a province: its own, and the defaults it does not replace.

    :param session: the database session.
    :param province: a province code, or ``''`` for the defaults alone.
    :param kpi: only this KPI.
    :return: targets ordered by KPI and period.
    """
    province = _province(session, province)
    query = sa.select(KpiTarget).where(KpiTarget.province_code.in_({ALL_PROVINCES, province}))
    if kpi is not None:
        query = query.where(KpiTarget.kpi == kpi)
    rows = list(session.execute(query).scalars())
    own = [r for r in rows if r.province_code == province]
    inherited = [
        r
        for r in rows
        if r.province_code != province and not any(o.kpi == r.kpi and _overlaps(o, r) for o in own)
    ]
    return sorted(
        (_target(r, province) for r in own + inherited), key=lambda t: (t.kpi, t.period_start)
    )


def target_for(
    session: Session, kpi: str, *, on: dt.date, province: str = ALL_PROVINCES
) -> Target | None:
    """The target of a KPI whose period contains a day (for a report as of that day).

    :param session: the database session.
    :param kpi: KPI-01 … KPI-09.
    :param on: the day.
    :param province: a province code, or ``''``.
    :return: the target, or None when no period contains the day.
    """
    return next(
        (
            t
            for t in list_targets(session, province=province, kpi=kpi)
            if t.period_start <= on <= t.period_end
        ),
        None,
    )


_PERIOD = re.compile(r"^\s*(\d{4})\s*(?:[-–/]|\.\.)\s*(\d{4})\s*$")


def parse_period(text: str) -> tuple[dt.date, dt.date]:
    """A period as written in plans: "2022-2025" (1/1/2022–31/12/2025) or one year "2026".

    :param text: the period.
    :return: (first day, last day).
    :raises InvalidRequest: anything else, or a reversed period.
    """
    text = (text or "").strip()
    if re.fullmatch(r"\d{4}", text):
        first = last = int(text)
    elif match := _PERIOD.match(text):
        first, last = int(match.group(1)), int(match.group(2))
    else:
        raise _invalid({"period": [f"expected YYYY-YYYY (e.g. 2022-2025) or YYYY, got {text!r}"]})
    if last < first or not 1900 <= first <= 2200 or not 1900 <= last <= 2200:
        raise _invalid({"period": [f"the period {text!r} is reversed or out of range"]})
    return dt.date(first, 1, 1), dt.date(last, 12, 31)


def set_target(
    session: Session,
    kpi: str,
    *,
    period: str | tuple[dt.date, dt.date],
    target_pct: float | None = KEEP,
    baseline_pct: float | None = KEEP,
    baseline_date: dt.date | None = KEEP,
    source: str = KEEP,
    province: str = ALL_PROVINCES,
    now: dt.datetime,
) -> Target:
    """Set a province's (or the default) target of a KPI for a period (flushes).

    A period that starts on the day an existing target of that KPI and province starts updates
    it; fields left as :data:`KEEP` stay as they were, or, for a province's first target of
    that period, as the default target it replaces.

    :param session: the database session.
    :param kpi: KPI-01 … KPI-09.
    :param period: "2022-2025", or (first day, last day).
    :param target_pct: 0–100.
    :param baseline_pct: 0–100, or None (computed from the register at ``baseline_date``).
    :param baseline_date: the day the baseline describes (within or before the period).
    :param source: where the figure comes from (a plan's number and article).
    :param province: a province code, or ``''`` for the default.
    :param now: the time of the change.
    :return: the target as it now applies to the province.
    :raises InvalidRequest: unknown KPI or province, bad numbers or dates, a period that
        overlaps another of the same KPI and province, or no target for a new period.
    """
    province = _province(session, province)
    problems: dict[str, list[str]] = {}
    if kpi not in KPIS:
        problems["kpi"] = [f"unknown KPI {kpi!r}; known: {', '.join(KPIS)}"]
    start, end = parse_period(period) if isinstance(period, str) else period
    if end < start:
        problems["period"] = ["the period ends before it starts"]
    for name, value in (("target_pct", target_pct), ("baseline_pct", baseline_pct)):
        if value is KEEP or (value is None and name == "baseline_pct"):
            continue
        try:
            _percentage(value)
        except ValueError as exc:
            problems[name] = [f"expected {exc}, got {value!r}"]
    if baseline_date not in (KEEP, None) and baseline_date > end:
        problems["baseline_date"] = ["the baseline date is after the end of the period"]
    if source is not KEEP and (not isinstance(source, str) or len(source) > 255):
        problems["source"] = ["a text of at most 255 characters"]
    if problems:
        raise _invalid(problems)
    rows = list(
        session.execute(
            sa.select(KpiTarget).where(
                KpiTarget.kpi == kpi, KpiTarget.province_code.in_({ALL_PROVINCES, province})
            )
        ).scalars()
    )
    mine = next((r for r in rows if r.province_code == province and r.period_start == start), None)
    clash = [
        r
        for r in rows
        if r.province_code == province
        and r is not mine
        and r.period_start <= end
        and start <= r.period_end
    ]
    if clash:
        other = clash[0]
        raise _invalid(
            {
                "period": [
                    f"overlaps the {kpi} target of {other.period_start.year}–"
                    f"{other.period_end.year}; change that one (same start year) instead"
                ]
            }
        )
    if mine is None:
        model = next(
            (
                r
                for r in rows
                if r.province_code == ALL_PROVINCES
                and province != ALL_PROVINCES
                and r.period_start == start
            ),
            None,
        )
        if target_pct is KEEP and model is None:
            raise _invalid({"target_pct": ["required for a new target"]})
        mine = KpiTarget(
            kpi=kpi,
            province_code=province,
            period_start=start,
            target_pct=model.target_pct if model else None,
            baseline_pct=model.baseline_pct if model else None,
            baseline_date=model.baseline_date if model else None,
            source=model.source if model else "",
        )
        session.add(mine)
    mine.period_end = end
    for name, value in (
        ("target_pct", target_pct),
        ("baseline_pct", baseline_pct),
        ("baseline_date", baseline_date),
        ("source", source),
    ):
        if value is not KEEP:
            number = name.endswith("_pct") and value is not None
            setattr(mine, name, float(value) if number else value)
    if mine.baseline_date is not None and mine.baseline_date > end:
        raise _invalid({"baseline_date": ["the baseline date is after the end of the period"]})
    mine.updated_at = now
    session.flush()
    return _target(mine, province)


def _province(session: Session, code: str | None) -> str:
    """A province code that names a province (of any period), or ``''``."""
    code = (code or "").strip()
    if not code:
        return ALL_PROVINCES
    known = session.execute(
        sa.select(AdminUnit.id)
        .where(AdminUnit.level == "province", AdminUnit.code == code)
        .limit(1)
    ).first()
    if known is None:
        raise _invalid({"province": [f"no province has the code {code!r}"]})
    return code


def _invalid(fields: dict[str, list[str]]) -> InvalidRequest:
    return InvalidRequest(reason="targets", fields=fields)
