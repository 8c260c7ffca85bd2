"""Administrative units as rows: official 2025 and pre-reform lists, mapping, CSV files.

The pre-reform list and its mapping to the 2025 units make 2022–2025 records comparable with
later ones; :class:`UnitScope` says what a filter on a unit code covers across the reform.

A CSV import is all-or-nothing, so this module reads the whole file and reports every bad row
(by its row number in the file, header = row 1) before anything touches the database. Headers
may be written in English or Vietnamese (``level`` or ``cấp``), values too (``commune`` or
``xã``); dates as ``2025-07-01`` or ``01/07/2025``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from server.errors import EmptyFile, InvalidUnitsFile

LEVELS = ("province", "district", "commune", "hamlet")
#: Rank of each level: a parent's rank is always lower than its child's.
LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}
#: Day the two-tier local government (34 provinces, ~3,300 communes) took effect.
OFFICIAL_VALID_FROM = dt.date(2025, 7, 1)
#: Last day of the pre-reform units (63 provinces, their districts and communes).
LEGACY_VALID_TO = OFFICIAL_VALID_FROM - dt.timedelta(days=1)
#: valid_from of a unit whose start is unknown ("before our records").
EARLIEST = dt.date(1900, 1, 1)
MAX_ERRORS = 200

_LEVEL_WORDS = {
    "province": "province",
    "tỉnh": "province",
    "tinh": "province",
    "district": "district",
    "huyện": "district",
    "huyen": "district",
    "commune": "commune",
    "xã": "commune",
    "xa": "commune",
    "hamlet": "hamlet",
    "thôn": "hamlet",
    "thon": "hamlet",
    "village": "hamlet",
}
_HEADER_WORDS = {
    "level": "level",
    "cấp": "level",
    "cap": "level",
    "code": "code",
    "mã": "code",
    "ma": "code",
    "name": "name",
    "tên": "name",
    "ten": "name",
    "kind": "kind",
    "loại": "kind",
    "loai": "kind",
    "parent_code": "parent_code",
    "mã cấp trên": "parent_code",
    "ma cap tren": "parent_code",
    "parent_level": "parent_level",
    "cấp trên": "parent_level",
    "cap tren": "parent_level",
    "valid_from": "valid_from",
    "hiệu lực từ": "valid_from",
    "hieu luc tu": "valid_from",
    "valid_to": "valid_to",
    "hiệu lực đến": "valid_to",
    "hieu luc den": "valid_to",
}
REQUIRED_COLUMNS = ("level", "code", "name")


@dataclass(frozen=True)
class UnitRow:
    """One unit as read from a source, before its parent is resolved to a database row."""

    row: int
    level: str
    code: str
    name: str
    kind: str | None = None
    parent_code: str | None = None
    parent_level: str | None = None
    valid_from: dt.date = EARLIEST
    valid_to: dt.date | None = None

    @property
    def key(self) -> tuple[str, str, dt.date]:
        """Identity of the unit: (level, code, valid_from)."""
        return (self.level, self.code, self.valid_from)


def official_units() -> Iterator[UnitRow]:
    """Yield the current official units (34 provinces, 3,321 communes/wards).

    The list comes from the ``vietnam-provinces`` package (no network). Codes are the
    official ones, zero-padded: 2 digits for provinces, 5 for communes.

    :return: provinces first, then communes with their province as parent.
    """
    from vietnam_provinces import Province, Ward

    for province in Province.iter_all():
        yield UnitRow(
            row=0,
            level="province",
            code=f"{province.code.value:02d}",
            name=nfc(province.name),
            kind=province.division_type.value,
            valid_from=OFFICIAL_VALID_FROM,
        )
    for ward in Ward.iter_all():
        yield UnitRow(
            row=0,
            level="commune",
            code=f"{ward.code.value:05d}",
            name=nfc(ward.name),
            kind=ward.division_type.value,
            parent_code=f"{ward.province_code.value:02d}",
            parent_level="province",
            valid_from=OFFICIAL_VALID_FROM,
        )


def official_data_version() -> str:
    """Return the date of the official list shipped by ``vietnam-provinces``."""
    import vietnam_provinces

    return str(getattr(vietnam_provinces, "__data_version__", vietnam_provinces.__version__))


@dataclass(frozen=True)
class Succession:
    """One pre-reform unit that became (part of) a 2025 unit on ``OFFICIAL_VALID_FROM``.

    ``is_primary`` marks the successor that took the largest share when a commune was divided
    (the package's "default" ward), so that reports can count a former unit once.
    """

    old_level: str
    old_code: str
    new_level: str
    new_code: str
    is_primary: bool = True


def legacy_units() -> Iterator[UnitRow]:
    """Yield the pre-reform units: 63 provinces, 696 districts, 10,035 communes.

    They come from the ``vietnamadminunits`` package (GSO codes: 2 digits province, 3 district,
    5 commune), valid until 30/06/2025; their start is "before our records" (1900-01-01)
    because the package does not date earlier changes.

    :return: provinces, then districts, then communes, each with its parent's code and level.
    """
    provinces: dict[str, UnitRow] = {}
    districts: dict[str, UnitRow] = {}
    communes: list[UnitRow] = []
    for row in _legacy_dataset():
        province, district, ward, d_type, w_type, p_code, d_code, w_code = row
        if p_code not in provinces:
            provinces[p_code] = UnitRow(
                row=0,
                level="province",
                code=p_code,
                name=nfc(province),
                kind="thành phố trung ương" if province.startswith("Thành phố") else "tỉnh",
                valid_to=LEGACY_VALID_TO,
            )
        if d_code not in districts:
            districts[d_code] = UnitRow(
                row=0,
                level="district",
                code=d_code,
                name=nfc(district),
                kind=nfc(d_type).lower(),
                parent_code=p_code,
                parent_level="province",
                valid_to=LEGACY_VALID_TO,
            )
        if w_code:  # five island districts had no communes
            communes.append(
                UnitRow(
                    row=0,
                    level="commune",
                    code=w_code,
                    name=nfc(ward),
                    kind=nfc(w_type or "xã").lower(),
                    parent_code=d_code,
                    parent_level="district",
                    valid_to=LEGACY_VALID_TO,
                )
            )
    yield from provinces.values()
    yield from districts.values()
    yield from communes


def legacy_successions() -> Iterator[Succession]:
    """Yield how each pre-reform unit maps onto the 2025 units.

    A former province and a former district each become part of exactly one new province (the
    package's data has no district split across provinces). A former commune becomes part of
    one new commune, or of several when it was divided (471 of them), the largest share marked
    primary. The package keys its mapping by unit *names*; the new communes are matched to the
    ``vietnam-provinces`` codes by name within their province, because the two packages
    disagree on about a hundred new codes and the 2025 units we store come from the latter.

    :return: successions, provinces first.
    :raises LookupError: if a mapped 2025 commune has no counterpart in ``vietnam-provinces``
        (the packages drifted apart: pin them again).
    """
    import json
    import sqlite3

    data_dir = _legacy_data_dir()
    mapping = json.loads((data_dir / "converter_2025.json").read_text(encoding="utf-8"))
    with sqlite3.connect(f"file:{data_dir / 'dataset.db'}?mode=ro", uri=True) as conn:
        old = {
            f"{pk}_{dk}_{wk or ''}": (pc, dc, wc)
            for pk, dk, wk, pc, dc, wc in conn.execute(
                "SELECT provinceKey, districtKey, wardKey, provinceCode, districtCode, wardCode"
                " FROM admin_units_legacy"
            )
        }
        new = {
            (pk, wk): (pc, wc, ward)
            for pk, wk, pc, wc, ward in conn.execute(
                "SELECT provinceKey, wardKey, provinceCode, wardCode, ward FROM admin_units"
            )
        }
    conn.close()
    official = _official_commune_codes()

    def new_commune(province_key: str, ward_key: str) -> tuple[str, str]:
        p_code, _, name = new[(province_key, ward_key)]
        code = official.get((p_code, _name_key(name)))
        if code is None:
            raise LookupError(f"2025 commune {name!r} ({p_code}) is not in vietnam-provinces")
        return p_code, code

    edges: dict[tuple[str, str, str, str], bool] = {}

    def add(old_level, old_code, new_level, new_code, primary) -> None:
        key = (old_level, old_code, new_level, new_code)
        edges[key] = edges.get(key, False) or primary

    def add_commune(old_key: str, province_key: str, ward_key: str, primary: bool) -> None:
        p_old, d_old, w_old = old[old_key]
        p_new, w_new = new_commune(province_key, ward_key)
        add("province", p_old, "province", p_new, True)
        add("district", d_old, "province", p_new, True)
        if w_old:
            add("commune", w_old, "commune", w_new, primary)
        else:  # an island district without communes became a special zone (đặc khu)
            add("district", d_old, "commune", w_new, True)

    for province_key, wards in mapping["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for ward_key, old_keys in wards.items():
            for old_key in old_keys:
                add_commune(old_key, province_key, ward_key, True)
    for province_key, divided in mapping["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, parts in divided.items():
            for part in parts:
                add_commune(old_key, province_key, part["newWardKey"], part["isDefaultNewWard"])
    order = {"province": 0, "district": 1, "commune": 2}
    for key in sorted(edges, key=lambda k: (order[k[0]], k[1], k[3])):
        yield Succession(*key, is_primary=edges[key])


def legacy_data_version() -> str:
    """Return the version of ``vietnamadminunits`` that the pre-reform list comes from."""
    from importlib.metadata import version

    return version("vietnamadminunits")


def _legacy_data_dir():
    # The package's data files are read directly: importing the package itself loads its
    # address parser (several MB of JSON, shapely, geopy) that we never use.
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise LookupError("the vietnamadminunits package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _legacy_dataset() -> list[tuple]:
    import sqlite3

    path = _legacy_data_dir() / "dataset.db"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT province, district, ward, districtType, wardType, provinceCode,"
            " districtCode, wardCode FROM admin_units_legacy"
            " ORDER BY provinceCode, districtCode, wardCode"
        ).fetchall()
    conn.close()
    return rows


def _official_commune_codes() -> dict[tuple[str, str], str]:
    from vietnam_provinces import Ward

    return {
        (f"{w.province_code.value:02d}", _name_key(w.name)): f"{w.code.value:05d}"
        for w in Ward.iter_all()
    }


#: Typographic apostrophes and dashes, written plainly in one package and not the other.
_PUNCTUATION = str.maketrans({"\u2019": "'", "\u2013": "-", "\u2014": "-"})
#: Old and new placements of the tone mark ("Hoà" / "Hòa"), which the two packages mix.
_OLD_TONES = {
    "oà": "òa", "oá": "óa", "oả": "ỏa", "oã": "õa", "oạ": "ọa",
    "oè": "òe", "oé": "óe", "oẻ": "ỏe", "oẽ": "õe", "oẹ": "ọe",
    "uỳ": "ùy", "uý": "úy", "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy",
}  # fmt: skip


def _name_key(name: str) -> str:
    """A unit name folded for matching across sources: case, spaces, dashes, tone placement."""
    text = " ".join(nfc(name).lower().translate(_PUNCTUATION).split())
    for old, new in _OLD_TONES.items():
        text = text.replace(old, new)
    return text


@dataclass(frozen=True)
class UnitPeriod:
    """What a filter needs to know of one unit: its code, parent and period."""

    id: int
    code: str
    parent_id: int | None
    valid_from: dt.date
    valid_to: dt.date | None


@dataclass
class UnitScope:
    """The units a filter on one code covers, and on which days each of them counts.

    A filter on a code covers every unit that has had the code, everything below them, and,
    for the units that replaced others, those former units with everything below *them*: a
    filter on the 2025 province 52 covers the former province 64, its district 627 and their
    communes. A former unit counts under itself until its last day and under its successors
    after it (a needs assessment sent in 2026 about former district 627 counts under the new
    province, not under the former province 64); a unit without successors always counts
    where it is.
    """

    units: dict[int, UnitPeriod]
    covered: set[int]
    #: Units that count only until their last day: their successors are outside the scope.
    until_end: set[int]
    #: Every unit by code (shared between the scopes of one report; built when missing).
    by_code: dict[str, list[UnitPeriod]] | None = None

    def ids_on(self, day: dt.date) -> set[int]:
        """The covered units under which something placed on a unit counts on ``day``.

        :param day: the day (e.g. "in post on").
        :return: unit ids.
        """
        return {
            i
            for i in self.covered
            if i not in self.until_end or day <= (self.units[i].valid_to or day)
        }

    def code_windows(self) -> list[tuple[frozenset[str], dt.date | None, dt.date | None]]:
        """The (codes, first day, last day) a record's unit code and date must fall into.

        A record (a submission) holds a unit *code* and a date, not a unit: a code reused by
        the reform means the unit that had it on that date, and a former code used after its
        unit ended (the needs-assessment form asks for the former district) means that former
        unit. Each covered unit therefore claims its code from its first day (or from the
        beginning, if it is the first with that code) until the next unit with that code
        starts, cut at its last day when it counts only until then.

        :return: groups of codes sharing one window; None = unbounded.
        """
        by_code = self.by_code
        if by_code is None:
            by_code = {}
            for unit in self.units.values():
                by_code.setdefault(unit.code, []).append(unit)
        windows: dict[str, list[tuple[dt.date | None, dt.date | None]]] = {}
        for unit_id in self.covered:
            unit = self.units[unit_id]
            same = sorted(by_code[unit.code], key=lambda u: u.valid_from)
            starts = [u.valid_from for u in same]
            first = starts[0] == unit.valid_from
            later = [s for s in starts if s > unit.valid_from]
            low = None if first else unit.valid_from
            high = later[0] - dt.timedelta(days=1) if later else None
            if unit.valid_to and high is not None and unit.valid_to > high:
                high = unit.valid_to  # a same-code unit of another level overlaps this one
            if unit_id in self.until_end and unit.valid_to:
                high = min(high or unit.valid_to, unit.valid_to)
            windows.setdefault(unit.code, []).append((low, high))
        groups: dict[tuple, set[str]] = {}
        for code, spans in windows.items():
            for span in _merge(spans):
                groups.setdefault(span, set()).add(code)
        return [(frozenset(codes), low, high) for (low, high), codes in groups.items()]


def unit_scope(units: list[UnitPeriod], successors: dict[int, set[int]], code: str) -> UnitScope:
    """Compute what a filter on a unit code covers (see :class:`UnitScope`).

    :param units: every unit.
    :param successors: predecessor id -> successor ids.
    :param code: the code filtered on.
    :return: the scope; empty when no unit has the code.
    """
    return unit_scopes(units, successors, [code])[code]


def unit_scopes(
    units: list[UnitPeriod], successors: dict[int, set[int]], codes: list[str]
) -> dict[str, UnitScope]:
    """:func:`unit_scope` for many codes at once (a report's rows), walking the tree maps once.

    :param units: every unit.
    :param successors: predecessor id -> successor ids.
    :param codes: the codes.
    :return: {code: scope}.
    """
    by_id = {u.id: u for u in units}
    children: dict[int, list[int]] = {}
    by_code: dict[str, list[UnitPeriod]] = {}
    for unit in units:
        by_code.setdefault(unit.code, []).append(unit)
        if unit.parent_id is not None:
            children.setdefault(unit.parent_id, []).append(unit.id)
    predecessors: dict[int, list[int]] = {}
    for old, news in successors.items():
        for new in news:
            predecessors.setdefault(new, []).append(old)
    return {
        code: _scope_of(by_id, children, predecessors, successors, by_code, code) for code in codes
    }


def _scope_of(by_id, children, predecessors, successors, by_code, code: str) -> UnitScope:
    covered: set[int] = set()
    pending = [unit.id for unit in by_code.get(code, [])]
    while pending:
        unit_id = pending.pop()
        if unit_id in covered:
            continue
        covered.add(unit_id)
        pending.extend(children.get(unit_id, ()))
        pending.extend(predecessors.get(unit_id, ()))
    until_end = {i for i in covered if successors.get(i) and not successors[i] & covered}
    return UnitScope(units=by_id, covered=covered, until_end=until_end, by_code=by_code)


def _merge(spans: list[tuple[dt.date | None, dt.date | None]]) -> list[tuple]:
    """Merge overlapping or adjacent (first, last) day spans; None = unbounded."""
    low_key = dt.date.min
    ordered = sorted(spans, key=lambda s: s[0] or low_key)
    merged: list[list] = []
    for low, high in ordered:
        if merged:
            last_high = merged[-1][1]
            if last_high is None or (low or low_key) <= last_high + dt.timedelta(days=1):
                if last_high is not None and (high is None or high > last_high):
                    merged[-1][1] = high
                continue
        merged.append([low, high])
    return [tuple(m) for m in merged]


def nfc(text: str) -> str:
    """Normalise text to Unicode NFC (one code point per accented letter) and trim it."""
    return unicodedata.normalize("NFC", text).strip()


@dataclass
class UnitsFile:
    """A units file as read: the good rows, and a report of the bad ones.

    Bad rows are kept as a report rather than raised at once so that the caller can add the
    problems only it can see (unknown parents) and refuse the file with every problem listed.
    """

    rows: list[UnitRow]
    problems: list[dict]


def parse_units_csv(content: bytes, *, filename: str = "units.csv") -> UnitsFile:
    """Read a units CSV completely, collecting every row problem.

    :param content: the file (UTF-8, with or without BOM; comma or semicolon separated).
    :param filename: its name, for messages.
    :return: the good rows in file order, and the problems [{"row": n, "error": "…"}].
    :raises EmptyFile: the file has no content, or no units.
    :raises InvalidUnitsFile: the file is not UTF-8, or its header is unusable.
    """
    if not content.strip():
        raise EmptyFile(file=filename)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidUnitsFile(file=filename, reason="not_utf8", byte=exc.start, rows=[]) from exc
    # Excel in a Vietnamese locale saves "CSV" with semicolons; the header tells which.
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, [])
    columns = [_HEADER_WORDS.get(nfc(h).lower()) for h in header]
    unknown = [h for h, c in zip(header, columns, strict=True) if c is None and h.strip()]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if unknown or missing:
        problems = []
        if missing:
            problems.append(f"missing column(s): {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown column(s): {', '.join(unknown)}")
        both = missing and unknown
        raise InvalidUnitsFile(
            file=filename,
            reason="bad_columns" if both else "missing_columns" if missing else "unknown_columns",
            missing=missing,
            unknown=unknown,
            rows=[{"row": 1, "error": "; ".join(problems)}],
        )
    rows: list[UnitRow] = []
    errors: list[dict] = []
    seen: dict[tuple, int] = {}
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        try:
            unit = _row(number, columns, cells)
        except ValueError as exc:
            errors.append({"row": number, "error": str(exc)})
            continue
        if unit.key in seen:
            errors.append(
                {
                    "row": number,
                    "error": f"duplicate of row {seen[unit.key]} "
                    f"({unit.level} {unit.code} from {unit.valid_from})",
                }
            )
            continue
        seen[unit.key] = number
        rows.append(unit)
    if not rows and not errors:
        raise EmptyFile(file=filename, reason="no_units")
    return UnitsFile(rows=rows, problems=errors)


def rows_error(filename: str, errors: list[dict]) -> InvalidUnitsFile:
    """Build the all-or-nothing error for a list of row problems.

    :param filename: the file's name.
    :param errors: [{"row": n, "error": "…"}], in row order.
    :return: the error to raise; its message lists the first problems.
    """
    return InvalidUnitsFile(
        file=filename, reason="rows", count=len(errors), rows=errors[:MAX_ERRORS]
    )


def _row(number: int, columns: list[str | None], cells: list[str]) -> UnitRow:
    if len(cells) > len(columns):
        raise ValueError(f"{len(cells)} cells but the header has {len(columns)} columns")
    values = {c: nfc(v) for c, v in zip(columns, cells, strict=False) if c}
    level = _level(values.get("level", ""), "level")
    code, name = values.get("code", ""), values.get("name", "")
    if not code:
        raise ValueError("code is empty")
    if not name:
        raise ValueError("name is empty")
    if len(code) > 32 or len(name) > 255:
        raise ValueError("code longer than 32 or name longer than 255 characters")
    parent_code = values.get("parent_code") or None
    parent_level = (
        _level(values["parent_level"], "parent_level") if values.get("parent_level") else None
    )
    if level == "province" and parent_code:
        raise ValueError("a province has no parent (parent_code must be empty)")
    if level != "province" and not parent_code:
        raise ValueError(f"a {level} needs parent_code")
    if parent_level and LEVEL_RANK[parent_level] >= LEVEL_RANK[level]:
        raise ValueError(f"parent_level {parent_level} is not above {level}")
    valid_from = _date(values.get("valid_from", ""), "valid_from") or EARLIEST
    valid_to = _date(values.get("valid_to", ""), "valid_to")
    if valid_to and valid_to < valid_from:
        raise ValueError(f"valid_to {valid_to:%d/%m/%Y} is before valid_from {valid_from:%d/%m/%Y}")
    return UnitRow(
        row=number,
        level=level,
        code=code,
        name=name,
        kind=values.get("kind") or None,
        parent_code=parent_code,
        parent_level=parent_level,
        valid_from=valid_from,
        valid_to=valid_to,
    )


def _level(raw: str, column: str) -> str:
    level = _LEVEL_WORDS.get(raw.lower())
    if level is None:
        raise ValueError(
            f"{column} {raw!r} is not one of province/district/commune/hamlet (tỉnh/huyện/xã/thôn)"
        )
    return level


def _date(raw: str, column: str) -> dt.date | None:
    if not raw:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{column} {raw!r} is not a date (use 2025-07-01 or 01/07/2025)")
