"""Reading the staff register from the spreadsheets departments keep (XLSX or CSV).

Headers are Vietnamese (``Mã cán bộ``, ``Họ và tên``…) or English (``person_code``…), in any
order, matched without accents. Values may be codes or the Vietnamese labels of the catalogue.
Dates may be ISO text, ``dd/mm/yyyy`` text, Excel dates or Excel serial numbers. The whole file
is read and every problem is collected with its row number (header = row 1) before anything is
stored: an import is all or nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from server.domain import catalogue
from server.domain.catalogue import fold, lookup
from server.domain.units import nfc
from server.domain.xlsx_reader import read_rows
from server.errors import EmptyFile, InvalidRosterFile, UnsupportedFileType

#: Column key -> (Vietnamese header, English header, required).
COLUMNS: dict[str, tuple[str, str, bool]] = {
    "person_code": ("Mã cán bộ", "person_code", True),
    "full_name": ("Họ và tên", "full_name", True),
    "sex": ("Giới tính", "sex", True),
    "birth_year": ("Năm sinh", "birth_year", False),
    "unit_code": ("Mã đơn vị hành chính", "unit_code", True),
    "level": ("Tuyến", "level", True),
    "employment_type": ("Loại hình", "employment_type", True),
    "job_category": ("Nhóm đối tượng", "job_category", True),
    "leadership": ("Chức vụ lãnh đạo", "leadership", False),
    "education_level": ("Trình độ chuyên môn", "education_level", False),
    "education_field": ("Chuyên ngành", "education_field", False),
    "certificates": ("Chứng chỉ", "certificates", False),
    "ctv_roles": ("Vai trò CTV", "ctv_roles", False),
    "phone": ("Điện thoại", "phone", False),
    "in_post_from": ("Ngày bắt đầu", "in_post_from", False),
    "in_post_to": ("Ngày kết thúc", "in_post_to", False),
}
_HEADER_KEYS = {fold(h): key for key, (vi, en, _) in COLUMNS.items() for h in (vi, en)}
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_PHONE = re.compile(r"^\+?[0-9 .]{8,15}$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_PROBLEMS = 500
#: Rows between two calls of ``read_roster``'s ``on_row``.
REPORT_EVERY = 5000


@dataclass(frozen=True)
class Certificate:
    """A certificate held: its catalogue code and when it was issued, if known."""

    code: str
    issued_on: dt.date | None = None


@dataclass
class RosterRow:
    """One person and their position as one row of the register states them."""

    row: int
    person_code: str
    full_name: str
    sex: str
    unit_code: str
    level: str
    employment_type: str
    job_category: str
    birth_year: int | None = None
    leadership: str | None = None
    education_level: str | None = None
    education_field: str | None = None
    certificates: list[Certificate] = field(default_factory=list)
    ctv_roles: list[str] = field(default_factory=list)
    phone: str | None = None
    in_post_from: dt.date | None = None
    in_post_to: dt.date | None = None


@dataclass
class RosterFile:
    """A register as read: good rows, and every problem by row number."""

    rows: list[RosterRow]
    problems: list[dict]


def read_roster(
    filename: str, content: bytes, *, on_row: Callable[[int], None] | None = None
) -> RosterFile:
    """Read a register file completely.

    :param filename: its name (``.xlsx`` or ``.csv``).
    :param content: its bytes.
    :param on_row: called every :data:`REPORT_EVERY` rows with the number read so far (a
        background job's progress).
    :return: rows and problems.
    :raises EmptyFile: no content or no data rows.
    :raises UnsupportedFileType: neither a workbook nor UTF-8 CSV.
    :raises InvalidRosterFile: merged cells, or a header without the required columns.
    """
    if not content.strip():
        raise EmptyFile(file=filename)
    if filename.lower().endswith(".xlsx"):
        lines = _xlsx_lines(filename, content)
    elif filename.lower().endswith(".csv"):
        lines = _csv_lines(filename, content)
    else:
        raise UnsupportedFileType(file=filename, reason="not_register_file")
    header = next(lines, None)
    if header is None:
        raise EmptyFile(file=filename, reason="no_header")
    columns = _columns(filename, header)
    rows: list[RosterRow] = []
    problems: list[dict] = []
    seen: dict[str, int] = {}
    for number, cells in enumerate(lines, start=2):
        if on_row is not None and number % REPORT_EVERY == 0:
            on_row(number - 1)
        values = {key: cells[i] if i < len(cells) else None for key, i in columns.items()}
        if all(v is None or str(v).strip() == "" for v in values.values()):
            continue
        try:
            row = _row(number, values)
        except ValueError as exc:
            if len(problems) < MAX_PROBLEMS:
                problems.append({"row": number, "error": str(exc)})
            continue
        if row.person_code in seen:
            problems.append(
                {
                    "row": number,
                    "error": f"mã cán bộ {row.person_code} trùng với "
                    f"dòng {seen[row.person_code]} / duplicate person code",
                }
            )
            continue
        seen[row.person_code] = number
        rows.append(row)
    if not rows and not problems:
        raise EmptyFile(file=filename, reason="no_rows")
    return RosterFile(rows, problems)


def _xlsx_lines(filename: str, content: bytes) -> Iterator[list]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as exc:
        raise UnsupportedFileType(file=filename, reason="not_workbook", ext=".xlsx") from exc
    sheet_name = next((n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")), None)
    if sheet_name is None:
        raise UnsupportedFileType(file=filename, reason="no_worksheet")
    # Merged cells leave every row but the first of the range empty: refuse them outright
    # rather than import people without a unit. Read-only openpyxl cannot see them, so look
    # at the sheet XML itself (streamed).
    with archive.open(sheet_name) as sheet:
        for chunk in iter(lambda: sheet.read(1 << 20), b""):
            if b"<mergeCell " in chunk:
                ref = re.search(rb'<mergeCell ref="([A-Z0-9:]+)"', chunk)
                where = ref.group(1).decode() if ref else "?"
                raise InvalidRosterFile(
                    file=filename,
                    reason="merged_cells",
                    where=where,
                    rows=[{"row": 0, "error": f"merged cells {where}"}],
                )
    try:
        yield from read_rows(content)
    except KeyError as exc:
        raise UnsupportedFileType(file=filename, reason="no_readable_worksheet") from exc
    except ValueError as exc:  # a DTD or entities in the sheet: refused, never expanded
        raise UnsupportedFileType(file=filename, reason="unsafe_workbook", cause=str(exc)) from exc


def _csv_lines(filename: str, content: bytes) -> Iterator[list]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnsupportedFileType(file=filename, reason="not_utf8", byte=exc.start) from exc
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _columns(filename: str, header: list) -> dict[str, int]:
    columns: dict[str, int] = {}
    unknown = []
    for index, cell in enumerate(header):
        if cell is None or not str(cell).strip():
            continue
        key = _HEADER_KEYS.get(fold(str(cell)))
        if key is None:
            unknown.append(str(cell))
        else:
            columns[key] = index
    missing = [
        COLUMNS[k][0] for k, (_, _, required) in COLUMNS.items() if required and k not in columns
    ]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"thiếu cột / missing column(s): {', '.join(missing)}")
        if unknown:
            parts.append(f"cột lạ / unknown column(s): {', '.join(unknown)}")
        text = "; ".join(parts)
        # The problem travels in the rows (printed by the CLI, returned by the API), not in
        # the message too.
        raise InvalidRosterFile(
            file=filename,
            reason="header",
            rows=[{"row": 1, "error": text}],
        )
    return columns


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return nfc(str(value))


def _code(labels, value, column: str, *, required: bool = False) -> str | None:
    text = _text(value)
    if not text:
        if required:
            raise ValueError(f"{COLUMNS[column][0]} trống / {column} is empty")
        return None
    code = lookup(labels, text)
    if code is None:
        raise ValueError(
            f"{COLUMNS[column][0]} «{text}» không có trong danh mục / "
            f"{column} {text!r} is not in the catalogue"
        )
    return code


def parse_date(value, column: str) -> dt.date | None:
    """A date from a cell: date/datetime, Excel serial, ISO or dd/mm/yyyy text.

    :raises ValueError: naming the column for anything else.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and 1 <= value < 80000:
        return _EXCEL_EPOCH + dt.timedelta(days=int(value))
    text = _text(value)
    if text.isdigit() and 1 <= int(text) < 80000 and len(text) != 4:
        return _EXCEL_EPOCH + dt.timedelta(days=int(text))
    # Registers have a hundred thousand rows: parse the usual shapes directly, not strptime.
    day_first = _DAY_FIRST.match(text)
    try:
        if day_first:
            day, month, year = (int(g) for g in day_first.groups())
            return dt.date(year, month, day)
        if _ISO.match(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise ValueError(
        f"{COLUMNS.get(column, (column,))[0]} «{text}» không phải ngày / "
        f"{column} is not a date (dd/mm/yyyy)"
    )


def _certificates(value) -> list[Certificate]:
    result = []
    for part in re.split(r"[;\n]", _text(value)):
        if not part.strip():
            continue
        name, _, when = part.partition(":")
        code = lookup(catalogue.CERTIFICATES, name.strip())
        if code is None:
            raise ValueError(
                f"chứng chỉ «{name.strip()}» không có trong danh mục / unknown certificate"
            )
        issued = when.strip()
        if issued.isdigit() and len(issued) == 4:
            issued_on = dt.date(int(issued), 1, 1)
        else:
            issued_on = parse_date(issued, "certificates")
        result.append(Certificate(code, issued_on))
    return result


def _row(number: int, values: dict) -> RosterRow:
    code = _text(values.get("person_code"))
    name = _text(values.get("full_name"))
    unit = _text(values.get("unit_code"))
    if not code or len(code) > 32:
        raise ValueError("mã cán bộ trống hoặc dài quá 32 ký tự / person code empty or too long")
    if not name:
        raise ValueError("họ và tên trống / full name is empty")
    if not unit:
        raise ValueError("mã đơn vị trống / unit code is empty")
    birth = _text(values.get("birth_year"))
    if birth and (not birth.isdigit() or not 1930 <= int(birth) <= 2015):
        raise ValueError(f"năm sinh «{birth}» không hợp lệ / birth year must be 1930-2015")
    phone = _text(values.get("phone")) or None
    if phone and not _PHONE.match(phone):
        raise ValueError(f"điện thoại «{phone}» không hợp lệ / invalid phone number")
    parts = [p.strip() for p in re.split(r"[;,]", _text(values.get("ctv_roles"))) if p.strip()]
    roles = [lookup(catalogue.CTV_ROLES, p) for p in parts]
    if None in roles:
        raise ValueError("vai trò CTV không có trong danh mục / unknown collaborator role")
    start = parse_date(values.get("in_post_from"), "in_post_from")
    end = parse_date(values.get("in_post_to"), "in_post_to")
    if start and end and end < start:
        raise ValueError(
            f"ngày kết thúc {end:%d/%m/%Y} trước ngày bắt đầu {start:%d/%m/%Y} / "
            "in_post_to is before in_post_from"
        )
    return RosterRow(
        row=number,
        person_code=code,
        full_name=name,
        sex=_code(catalogue.SEXES, values.get("sex"), "sex", required=True),
        unit_code=unit,
        level=_code(catalogue.LEVELS, values.get("level"), "level", required=True),
        employment_type=_code(
            catalogue.EMPLOYMENT, values.get("employment_type"), "employment_type", required=True
        ),
        job_category=_code(
            catalogue.STAFF_CATEGORIES, values.get("job_category"), "job_category", required=True
        ),
        birth_year=int(birth) if birth else None,
        leadership=_code(catalogue.LEADERSHIP, values.get("leadership"), "leadership"),
        education_level=_code(
            catalogue.EDUCATION, values.get("education_level"), "education_level"
        ),
        education_field=_code(
            catalogue.EDUCATION_FIELDS, values.get("education_field"), "education_field"
        ),
        certificates=_certificates(values.get("certificates")),
        ctv_roles=roles,
        phone=phone,
        in_post_from=start,
        in_post_to=end,
    )


#: The personal details one person's page edits (positions change through a register file).
PERSON_FIELDS = ("full_name", "sex", "birth_year", "phone", "education_level", "education_field")


def person_details(values: dict) -> tuple[dict, dict[str, list[str]]]:
    """One person's details as typed in a form, checked as an import row's are.

    :param values: text by field name (:data:`PERSON_FIELDS`); codes or Vietnamese labels.
    :return: (details by field, problems by field); the details are usable only without problems.
    """
    details: dict = {}
    problems: dict[str, list[str]] = {}
    checks = {
        "full_name": lambda v: _text(v) or _fail("họ và tên trống / full name is empty"),
        "sex": lambda v: _code(catalogue.SEXES, v, "sex", required=True),
        "birth_year": _birth_year,
        "phone": _phone,
        "education_level": lambda v: _code(catalogue.EDUCATION, v, "education_level"),
        "education_field": lambda v: _code(catalogue.EDUCATION_FIELDS, v, "education_field"),
    }
    for name, check in checks.items():
        try:
            details[name] = check(values.get(name))
        except ValueError as exc:
            problems[name] = [str(exc)]
    if len(details.get("full_name") or "") > 255:
        problems["full_name"] = ["họ và tên dài quá 255 ký tự / full name too long"]
    return details, problems


def _fail(message: str):
    raise ValueError(message)


def _birth_year(value) -> int | None:
    birth = _text(value)
    if birth and (not birth.isdigit() or not 1930 <= int(birth) <= 2015):
        raise ValueError(f"năm sinh «{birth}» không hợp lệ / birth year must be 1930-2015")
    return int(birth) if birth else None


def _phone(value) -> str | None:
    phone = _text(value) or None
    if phone and not _PHONE.match(phone):
        raise ValueError(f"điện thoại «{phone}» không hợp lệ / invalid phone number")
    return phone
