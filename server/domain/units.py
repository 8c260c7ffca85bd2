"""Administrative units as rows: the official 2025 list, and local/historical CSV files.

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
        raise EmptyFile(f"{filename}: the file is empty", file=filename)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidUnitsFile(
            f"{filename}: not UTF-8 text (byte {exc.start}); save as UTF-8", file=filename, rows=[]
        ) from exc
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
        raise InvalidUnitsFile(
            f"{filename}: row 1 (header): {'; '.join(problems)}",
            file=filename,
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
        raise EmptyFile(f"{filename}: the file has a header but no units", file=filename)
    return UnitsFile(rows=rows, problems=errors)


def rows_error(filename: str, errors: list[dict]) -> InvalidUnitsFile:
    """Build the all-or-nothing error for a list of row problems.

    :param filename: the file's name.
    :param errors: [{"row": n, "error": "…"}], in row order.
    :return: the error to raise; its message lists the first problems.
    """
    shown = "; ".join(f"row {e['row']}: {e['error']}" for e in errors[:10])
    more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
    return InvalidUnitsFile(
        f"{filename}: {len(errors)} bad row(s), nothing was imported: {shown}{more}",
        file=filename,
        rows=errors[:MAX_ERRORS],
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
