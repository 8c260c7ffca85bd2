"""Importing and exporting the staff register, with its history.

An import is all or nothing, and can be a dry run that only reports what would change. Each row
is compared with the register: a new person is *added*; changed personal details are *updated*;
a changed unit, level, employment or job *moves* the person (the open position is closed the
day before the new one starts, and a new position opens); an end date *closes* the position.
Certificates accumulate (a file never removes one). Writes go through SQLAlchemy Core in
batches, so a national register of 120,000 collaborators imports in seconds, not minutes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exports import Column, Table
from server.domain import catalogue
from server.domain.roster import COLUMNS, RosterRow, person_details, read_roster
from server.errors import InvalidRequest, InvalidRosterFile, PersonNotFound
from server.models import AdminUnit, Person, PersonCertificate, Posting, UnitSuccessor
from server.services.submission_queries import unit_ids_under

#: Which unit levels a staff level may be attached to, most specific first.
UNIT_LEVELS = {
    "province": ("province",),
    "district": ("district",),
    "commune": ("commune",),
    "village": ("hamlet", "commune"),
}
_POSTING_FIELDS = ("unit_id", "level", "employment_type", "job_category", "leadership", "ctv_roles")
_PERSON_FIELDS = ("full_name", "sex", "birth_year", "phone", "education_level", "education_field")
BATCH = 5000
#: ``progress(done, total, message)``: how a long import tells a background job where it is.
ProgressFn = Callable[[int, int, str], None]
#: Rows between two progress reports.
PROGRESS_EVERY = 2000


_COMPARING = "So sánh với danh sách / Comparing with the register"


def _quiet(done: int, total: int, message: str) -> None:
    """No progress to report (the CLI and the API wait for the end)."""


@dataclass
class RosterChanges:
    """What an import did (or, in a dry run, would do)."""

    added: int = 0
    updated: int = 0
    moved: int = 0
    closed: int = 0
    unchanged: int = 0
    certificates_added: int = 0
    dry_run: bool = False
    #: The first changes, for people to check: {"row", "person_code", "change"}.
    samples: list[dict] = field(default_factory=list)
    #: Every change (the dry run's diff): {"row", "person_code", "full_name", "change",
    #: "detail"}; unchanged rows are not listed.
    entries: list[dict] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether the import changes anything at all."""
        return bool(
            self.added or self.updated or self.moved or self.closed or self.certificates_added
        )

    def note(self, row: RosterRow, change: str, detail: str = "") -> None:
        """Count a change, keep a few examples and list it in the diff."""
        setattr(self, change, getattr(self, change) + 1)
        if change == "unchanged":
            return
        if len(self.samples) < 50:
            self.samples.append({"row": row.row, "person_code": row.person_code, "change": change})
        self.entries.append(
            {
                "row": row.row,
                "person_code": row.person_code,
                "full_name": row.full_name,
                "change": change,
                "detail": detail,
            }
        )


def _units_by_code(session: Session) -> dict[str, list[tuple]]:
    units: dict[str, list[tuple]] = defaultdict(list)
    for unit_id, code, level, start, end in session.execute(
        sa.select(
            AdminUnit.id, AdminUnit.code, AdminUnit.level, AdminUnit.valid_from, AdminUnit.valid_to
        )
    ):
        units[code].append((unit_id, level, start, end))
    return units


def _replacing_units(session: Session) -> set[int]:
    """Units that replaced former ones (the 2025 units mapped from pre-reform units)."""
    return set(session.scalars(sa.select(UnitSuccessor.successor_id).distinct()))


def _resolve_unit(
    row: RosterRow, units: dict, *, start: dt.date, today: dt.date, replacing: set[int]
) -> int:
    """The unit a row's code names: the one in force on the row's last day in post.

    A register lists people with today's codes and the day they started, often years before
    the 2025 reform: the code means the unit it names on the row's last day (its end date, or
    today for someone still in post). That unit may be younger than the position when the code
    existed at the start too (a reused code) or when it replaced former units; otherwise the
    start date is wrong. A code that names no unit on the last day is a former one (a closed
    position, or a register kept in pre-reform codes) and means the unit it named at the start.
    """
    allowed = UNIT_LEVELS[row.level]

    def in_force(day: dt.date) -> list[tuple]:
        return sorted(
            (allowed.index(level), unit_id, begin)
            for unit_id, level, begin, end in units.get(row.unit_code, [])
            if level in allowed and begin <= day and (end is None or day <= end)
        )

    last_day = row.in_post_to or max(start, today)
    at_end = in_force(last_day)
    if at_end:
        _, unit_id, begin = at_end[0]
        if begin <= start or unit_id in replacing or in_force(start):
            return unit_id
        raise ValueError(
            f"mã đơn vị {row.unit_code} chỉ có từ ngày {begin:%d/%m/%Y}, sau ngày bắt đầu "
            f"{start:%d/%m/%Y} / unit code only exists from {begin:%d/%m/%Y}"
        )
    at_start = in_force(start)
    if at_start:
        return at_start[0][1]
    raise ValueError(
        f"mã đơn vị {row.unit_code} không có (cấp {', '.join(allowed)}) vào ngày "
        f"{start:%d/%m/%Y} / unit code not found for this level on that date"
    )


def _bad_rows(filename: str, problems: list[dict]) -> InvalidRosterFile:
    problems.sort(key=lambda p: p["row"])
    return InvalidRosterFile(file=filename, reason="rows", count=len(problems), rows=problems[:500])


def import_roster(
    filename: str,
    content: bytes,
    *,
    session: Session,
    now: dt.datetime,
    as_of: dt.date | None = None,
    dry_run: bool = False,
    progress: ProgressFn = _quiet,
) -> RosterChanges:
    """Import a register file (flushes unless ``dry_run``).

    Importing the same file again changes nothing; importing a corrected one changes exactly
    the corrected rows.

    :param filename: the file's name (.xlsx or .csv).
    :param content: its bytes.
    :param session: the database session.
    :param now: the time of the import.
    :param as_of: the start date of positions whose row gives none (default: today).
    :param dry_run: compute and report the changes, store nothing.
    :param progress: called now and then with (done, total, message): reading the file (total
        not known yet), then checking, comparing and writing, each row once (total 3 × rows).
    :return: the changes.
    :raises InvalidRosterFile: every bad row (unknown unit, bad date, duplicate code…).
    """
    today = now.date()
    as_of = as_of or today
    progress(0, 0, "Đang đọc tệp / Reading the file")
    parsed = read_roster(
        filename,
        content,
        on_row=lambda n: progress(0, 0, f"Đã đọc {n:,} dòng / {n:,} rows read".replace(",", ".")),
    )
    problems = list(parsed.problems)
    units = _units_by_code(session)
    replacing = _replacing_units(session)
    unit_of: dict[int, int] = {}
    total = 3 * len(parsed.rows)
    for index, row in enumerate(parsed.rows):
        if index % PROGRESS_EVERY == 0:
            progress(index, total, "Kiểm tra mã đơn vị / Checking unit codes")
        try:
            unit_of[row.row] = _resolve_unit(
                row, units, start=row.in_post_from or as_of, today=today, replacing=replacing
            )
        except ValueError as exc:
            problems.append({"row": row.row, "error": str(exc)})
    if problems:
        raise _bad_rows(filename, problems)
    unit_codes = {unit_id: code for code, found in units.items() for unit_id, *_ in found}
    return _apply(
        parsed.rows,
        unit_of,
        session=session,
        now=now,
        as_of=as_of,
        dry_run=dry_run,
        filename=filename,
        progress=progress,
        unit_codes=unit_codes,
    )


def _apply(
    rows: list[RosterRow],
    unit_of: dict[int, int],
    *,
    session: Session,
    now: dt.datetime,
    as_of: dt.date,
    dry_run: bool,
    filename: str,
    progress: ProgressFn,
    unit_codes: dict[int, str],
) -> RosterChanges:
    total = 3 * len(rows)
    progress(len(rows), total, _COMPARING)
    persons = {
        r.code: r
        for r in session.execute(
            sa.select(Person.id, Person.code, *[getattr(Person, f) for f in _PERSON_FIELDS])
        )
    }
    # Every position, not only the open ones: a leaver's closed position is what an unchanged
    # file must be compared with.
    postings: dict[int, list] = defaultdict(list)
    for r in session.execute(
        sa.select(
            Posting.id,
            Posting.person_id,
            Posting.valid_from,
            Posting.valid_to,
            *[getattr(Posting, f) for f in _POSTING_FIELDS],
        ).order_by(Posting.person_id, Posting.valid_from)
    ):
        postings[r.person_id].append(r)
    certificates = {
        (c.person_id, c.code): c.issued_on
        for c in session.execute(
            sa.select(
                PersonCertificate.person_id, PersonCertificate.code, PersonCertificate.issued_on
            )
        )
    }
    changes = RosterChanges(dry_run=dry_run)
    new_people, person_updates, posting_inserts, posting_updates, new_certs = [], [], [], [], []
    problems: list[dict] = []
    for index, row in enumerate(rows):
        if index % PROGRESS_EVERY == 0:
            progress(len(rows) + index, total, _COMPARING)
        start = row.in_post_from or as_of
        wanted = {
            "unit_id": unit_of[row.row],
            "level": row.level,
            "employment_type": row.employment_type,
            "job_category": row.job_category,
            "leadership": row.leadership,
            "ctv_roles": row.ctv_roles,
        }
        details = {f: getattr(row, f) for f in _PERSON_FIELDS}
        existing = persons.get(row.person_code)
        if existing is None:
            new_people.append(
                {"code": row.person_code, **details, "created_at": now, "updated_at": now}
            )
            posting_inserts.append(
                (row.person_code, {**wanted, "valid_from": start, "valid_to": row.in_post_to})
            )
            new_certs.extend((row.person_code, c.code, c.issued_on) for c in row.certificates)
            changes.note(row, "added", unit_codes.get(wanted["unit_id"], ""))
            continue
        change = "unchanged"
        notes = [f for f, v in details.items() if getattr(existing, f) != v]
        if notes:
            person_updates.append({"b_id": existing.id, **details, "updated_at": now})
            change = "updated"
        try:
            step = _position_change(row, wanted, start, as_of, postings[existing.id])
        except ValueError as exc:
            problems.append({"row": row.row, "error": str(exc)})
            continue
        if step is not None:
            kind, updates, insert = step
            posting_updates.extend(updates)
            if insert is not None:
                posting_inserts.append((row.person_code, insert))
            change = kind if kind != "updated" or change == "unchanged" else change
            notes.append(_step_note(kind, postings[existing.id], wanted, row, unit_codes))
        fresh = [
            (row.person_code, c.code, c.issued_on)
            for c in row.certificates
            if (existing.id, c.code) not in certificates
        ]
        new_certs.extend(fresh)
        notes.extend(f"+{code}" for _, code, _ in fresh)
        changes.note(row, change, "; ".join(n for n in notes if n))
        if change == "unchanged" and fresh:  # counted in certificates_added, listed here
            changes.entries.append(
                {
                    "row": row.row,
                    "person_code": row.person_code,
                    "full_name": row.full_name,
                    "change": "certificates",
                    "detail": "; ".join(notes),
                }
            )
    if problems:
        raise _bad_rows(filename, problems)
    changes.certificates_added = len(new_certs)
    if not dry_run:
        _write(
            session,
            new_people,
            person_updates,
            posting_inserts,
            posting_updates,
            new_certs,
            progress=lambda done: progress(2 * len(rows) + done, total, "Đang ghi / Writing"),
            rows=len(rows),
        )
    progress(total, total, "Xong / Done")
    return changes


def _step_note(kind: str, history: list, wanted: dict, row: RosterRow, units: dict) -> str:
    """A few words on how a row changes a person's position, for the diff."""
    latest = history[-1] if history else None
    if kind == "closed" and row.in_post_to is not None:
        return f"đến / until {row.in_post_to:%d/%m/%Y}"
    if latest is None:
        return units.get(wanted["unit_id"], "")
    if latest.unit_id != wanted["unit_id"]:
        return f"{units.get(latest.unit_id, '?')} → {units.get(wanted['unit_id'], '?')}"
    changed = [f for f in _POSTING_FIELDS if getattr(latest, f) != wanted[f]]
    return ", ".join(changed)


def _same(posting, wanted: dict) -> bool:
    return all(getattr(posting, f) == v for f, v in wanted.items())


def _position_change(
    row: RosterRow, wanted: dict, start: dt.date, as_of: dt.date, history: list
) -> tuple[str, list[dict], dict | None] | None:
    """How a row changes a person's positions: None, or (kind, updates, insert).

    :raises ValueError: the row's end date is before the start of the position it closes.
    """
    new = {**wanted, "valid_from": start, "valid_to": row.in_post_to}
    if not history:
        return "moved", [], new
    latest = history[-1]
    same_start = next((p for p in history if p.valid_from == start), None)
    if same_start is not None:  # the row states a known position (again, or corrected)
        # An older position stays closed whatever the row says; the last one ends as the row
        # says, so leaving and coming back are corrections too.
        end = row.in_post_to if same_start is latest else same_start.valid_to
        if _same(same_start, wanted) and end == same_start.valid_to:
            return None
        kind = "moved" if not _same(same_start, wanted) else "closed" if end else "updated"
        return kind, [{"b_id": same_start.id, **new, "valid_to": end}], None
    if _same(latest, wanted):
        previous = history[-2] if len(history) > 1 else None
        begin = latest.valid_from
        if row.in_post_from is not None and (
            previous is None or start > (previous.valid_to or previous.valid_from)
        ):
            begin = start  # a corrected start of the same position
        if row.in_post_to is None and latest.valid_to is not None and as_of > latest.valid_to:
            return "moved", [], new  # back in the same position after leaving
        if row.in_post_to is not None and row.in_post_to < begin:
            raise ValueError(
                f"ngày kết thúc {row.in_post_to:%d/%m/%Y} trước ngày bắt đầu {begin:%d/%m/%Y} "
                "của vị trí hiện tại / in_post_to is before the current position started"
            )
        if (begin, row.in_post_to) == (latest.valid_from, latest.valid_to):
            return None
        kind = "closed" if row.in_post_to is not None and begin == latest.valid_from else "updated"
        return kind, [{"b_id": latest.id, **new, "valid_from": begin}], None
    if start > latest.valid_from:  # a move: the last position ends the day before
        updates = []
        if latest.valid_to is None or latest.valid_to >= start:
            close = start - dt.timedelta(days=1)
            updates.append(
                {"b_id": latest.id, **_values(latest), "valid_to": close},
            )
        return "moved", updates, new
    # An earlier start than the last position, with other details: a correction of it.
    return "moved", [{"b_id": latest.id, **new}], None


def _values(posting) -> dict:
    return {
        **{f: getattr(posting, f) for f in _POSTING_FIELDS},
        "valid_from": posting.valid_from,
        "valid_to": posting.valid_to,
    }


def _batches(items: list) -> Iterator[list]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


def _write(
    session: Session,
    new_people,
    person_updates,
    posting_inserts,
    posting_updates,
    new_certs,
    *,
    progress: Callable[[int], None],
    rows: int,
) -> None:
    """Write the changes in batches, reporting progress from 0 to ``rows``."""
    steps = max(1, len(new_people) + len(person_updates) + len(posting_updates)
                + 2 * len(posting_inserts) + len(new_certs))  # fmt: skip
    written = 0

    def wrote(count: int) -> None:
        nonlocal written
        written += count
        progress(min(rows, rows * written // steps))

    for batch in _batches(new_people):
        session.execute(sa.insert(Person), batch)
        wrote(len(batch))
    if person_updates:
        statement = sa.update(Person.__table__).where(Person.__table__.c.id == sa.bindparam("b_id"))
        for batch in _batches(person_updates):
            session.execute(statement, batch)
            wrote(len(batch))
    if posting_updates:  # before the inserts: a closed position makes room for the next one
        statement = sa.update(Posting.__table__).where(
            Posting.__table__.c.id == sa.bindparam("b_id")
        )
        for batch in _batches(posting_updates):
            session.execute(statement, batch)
            wrote(len(batch))
    codes = {code for code, _ in posting_inserts} | {code for code, _, _ in new_certs}
    ids = {}
    for batch in _batches(sorted(codes)):
        ids.update(
            session.execute(sa.select(Person.code, Person.id).where(Person.code.in_(batch))).all()
        )
        wrote(len(batch))
    for batch in _batches([{"person_id": ids[code], **values} for code, values in posting_inserts]):
        session.execute(sa.insert(Posting), batch)
        wrote(len(batch))
    certificate_rows = [
        {"person_id": ids[code], "code": cert, "issued_on": issued}
        for code, cert, issued in new_certs
    ]
    for batch in _batches(certificate_rows):
        session.execute(sa.insert(PersonCertificate), batch)
        wrote(len(batch))
    session.flush()


def roster_table(session: Session, *, on: dt.date | None = None) -> Table:
    """The register as a table in the import format (exports round-trip through import).

    :param session: the database session.
    :param on: the people in post on this day (default: the open positions).
    :return: one row per person in post, Vietnamese headers.
    """
    columns = [
        Column(
            key,
            vi,
            "integer" if key == "birth_year" else "date" if key.startswith("in_post") else "text",
        )
        for key, (vi, _, _) in COLUMNS.items()
    ]
    return Table("danh_sach_can_bo", columns, _roster_rows(session, on))


def _roster_rows(session: Session, on: dt.date | None) -> Iterator[list]:
    query = (
        sa.select(Person, Posting, AdminUnit.code)
        .join(Posting, Posting.person_id == Person.id)
        .join(AdminUnit, AdminUnit.id == Posting.unit_id)
        .order_by(Person.code)
    )
    if on is None:
        query = query.where(Posting.valid_to.is_(None))
    else:
        query = query.where(
            Posting.valid_from <= on, sa.or_(Posting.valid_to.is_(None), Posting.valid_to >= on)
        )
    certificates: dict[int, list[str]] = defaultdict(list)
    for person_id, code, issued in session.execute(
        sa.select(PersonCertificate.person_id, PersonCertificate.code, PersonCertificate.issued_on)
    ):
        certificates[person_id].append(f"{code}:{issued:%d/%m/%Y}" if issued else code)
    label = catalogue
    for person, posting, unit_code in session.execute(query.execution_options(yield_per=2000)):
        yield [
            person.code,
            person.full_name,
            label.SEXES[person.sex][0],
            person.birth_year,
            unit_code,
            label.LEVELS[posting.level][0],
            label.EMPLOYMENT[posting.employment_type][0],
            label.STAFF_CATEGORIES.get(posting.job_category, (posting.job_category,))[0],
            label.LEADERSHIP[posting.leadership][0] if posting.leadership else None,
            label.EDUCATION[person.education_level][0] if person.education_level else None,
            label.EDUCATION_FIELDS[person.education_field][0] if person.education_field else None,
            "; ".join(sorted(certificates.get(person.id, []))) or None,
            "; ".join(label.CTV_ROLES[r][0] for r in posting.ctv_roles) or None,
            person.phone,
            posting.valid_from,
            posting.valid_to,
        ]


def people_in_post(
    session: Session, *, on: dt.date, unit_ids: set[int] | None, q: str | None, limit: int
) -> list[dict]:
    """People in post on a day, optionally within some units and matching a name or code.

    :param session: the database session.
    :param on: the day.
    :param unit_ids: allowed units (already expanded to sub-units and former units); None = all.
    :param q: part of the name or person code.
    :param limit: at most this many, by person code.
    :return: plain dicts for the API.
    """
    query = (
        sa.select(Person, Posting, AdminUnit.code, AdminUnit.name)
        .join(Posting, Posting.person_id == Person.id)
        .join(AdminUnit, AdminUnit.id == Posting.unit_id)
        .where(Posting.valid_from <= on, sa.or_(Posting.valid_to.is_(None), Posting.valid_to >= on))
        .order_by(Person.code)
        .limit(limit)
    )
    if unit_ids is not None:
        query = query.where(Posting.unit_id.in_(sorted(unit_ids)))
    if q:
        pattern = f"%{q.replace('%', '').replace('_', '')}%"
        query = query.where(sa.or_(Person.full_name.ilike(pattern), Person.code.ilike(pattern)))
    result = []
    for person, posting, unit_code, unit_name in session.execute(query):
        result.append(
            {
                "person_code": person.code,
                "full_name": person.full_name,
                "sex": person.sex,
                "birth_year": person.birth_year,
                "unit_code": unit_code,
                "unit_name": unit_name,
                "level": posting.level,
                "employment_type": posting.employment_type,
                "job_category": posting.job_category,
                "in_post_from": posting.valid_from,
                "in_post_to": posting.valid_to,
                "certificates": sorted(c.code for c in person.certificates),
            }
        )
    return result


def template_tables() -> list[Table]:
    """An empty register sheet with the headers, and the code lists on a second sheet."""
    headers = [Column(key, vi) for key, (vi, _, _) in COLUMNS.items()]
    lists = [
        ("Tuyến", catalogue.LEVELS),
        ("Loại hình", catalogue.EMPLOYMENT),
        ("Nhóm đối tượng", catalogue.STAFF_CATEGORIES),
        ("Chức vụ lãnh đạo", catalogue.LEADERSHIP),
        ("Trình độ chuyên môn", catalogue.EDUCATION),
        ("Chuyên ngành", catalogue.EDUCATION_FIELDS),
        ("Chứng chỉ", catalogue.CERTIFICATES),
        ("Vai trò CTV", catalogue.CTV_ROLES),
        ("Giới tính", catalogue.SEXES),
    ]
    rows = [[column, code, vi, en] for column, labels in lists for code, (vi, en) in labels.items()]
    choices = Table(
        "danh_muc",
        [
            Column("column", "Cột"),
            Column("code", "Mã"),
            Column("vi", "Tiếng Việt"),
            Column("en", "English"),
        ],
        rows,
    )
    return [Table("danh_sach_can_bo", headers, []), choices]


def count_in_post(session: Session, *, on: dt.date) -> int:
    """How many positions are held on a day (the rows of the register as of that day)."""
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(Posting)
        .where(Posting.valid_from <= on, sa.or_(Posting.valid_to.is_(None), Posting.valid_to >= on))
    )


@dataclass
class PeoplePage:
    """One page of people in post: rows, how many match in all, the page and the page count."""

    rows: list[dict]
    total: int
    page: int
    pages: int


def search_people(
    session: Session,
    *,
    on: dt.date,
    unit_ids: set[int] | None,
    q: str | None,
    page: int = 1,
    per_page: int = 50,
) -> PeoplePage:
    """People in post on a day, by person code, one page at a time, with their certificates.

    :param session: the database session.
    :param on: the day.
    :param unit_ids: allowed units (expanded to sub-units and former units); None = all.
    :param q: part of the name or person code.
    :param page: the page, from 1.
    :param per_page: rows per page.
    :return: the page (three statements: count, rows, their certificates).
    """
    where = [Posting.valid_from <= on, sa.or_(Posting.valid_to.is_(None), Posting.valid_to >= on)]
    if unit_ids is not None:
        where.append(Posting.unit_id.in_(sorted(unit_ids)))
    if q:
        pattern = f"%{q.strip().replace('%', '').replace('_', '')}%"
        where.append(sa.or_(Person.full_name.ilike(pattern), Person.code.ilike(pattern)))
    total = session.scalar(
        sa.select(sa.func.count()).select_from(Person).join(Posting).where(*where)
    )
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    query = (
        sa.select(
            Person.id,
            Person.code,
            Person.full_name,
            Person.sex,
            Person.birth_year,
            AdminUnit.code.label("unit_code"),
            AdminUnit.name.label("unit_name"),
            Posting.level,
            Posting.job_category,
            Posting.employment_type,
            Posting.valid_from,
            Posting.valid_to,
        )
        .join(Posting, Posting.person_id == Person.id)
        .join(AdminUnit, AdminUnit.id == Posting.unit_id)
        .where(*where)
        .order_by(Person.code, Posting.valid_from)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    rows = [dict(r._mapping) for r in session.execute(query)]
    certificates: dict[int, list[str]] = defaultdict(list)
    if rows:
        for person_id, code in session.execute(
            sa.select(PersonCertificate.person_id, PersonCertificate.code)
            .where(PersonCertificate.person_id.in_([r["id"] for r in rows]))
            .order_by(PersonCertificate.code)
        ):
            certificates[person_id].append(code)
    for row in rows:
        row["certificates"] = certificates.get(row["id"], [])
    return PeoplePage(rows, total, page, pages)


def get_person(session: Session, code: str) -> Person:
    """A person by code, with postings (and their units) and certificates.

    :raises PersonNotFound: no such person.
    """
    person = session.scalar(
        sa.select(Person)
        .where(Person.code == code)
        .options(
            sa.orm.selectinload(Person.postings).joinedload(Posting.unit),
            sa.orm.selectinload(Person.certificates),
        )
    )
    if person is None:
        raise PersonNotFound(person_code=code)
    return person


def posted_within(person: Person, unit_ids: set[int] | None, on: dt.date) -> bool:
    """Whether a person holds (or last held) a position in these units (None: no limit)."""
    if unit_ids is None:
        return True
    current = [p for p in person.postings if p.valid_from <= on <= (p.valid_to or on)]
    return any(p.unit_id in unit_ids for p in current or person.postings[-1:])


def update_person(session: Session, code: str, values: dict, *, now: dt.datetime) -> Person:
    """Change one person's details, checked as an import checks them (flushes).

    :param session: the database session.
    :param code: the person's code (never changes).
    :param values: text by field (``domain.roster.PERSON_FIELDS``), codes or labels.
    :param now: the time of the change.
    :return: the person.
    :raises PersonNotFound: no such person.
    :raises InvalidRequest: a field is wrong (``fields`` says which and why); nothing changes.
    """
    person = get_person(session, code)
    details, problems = person_details(values)
    if problems:
        raise InvalidRequest(reason="person_details", fields=problems)
    for name, value in details.items():
        setattr(person, name, value)
    person.updated_at = now
    session.flush()
    return person


def units_within(session: Session, codes: tuple[str, ...] | None, on: dt.date) -> set[int] | None:
    """Unit ids under a reader's unit codes on a day (sub-units, former units); None = no limit.

    :param session: the database session.
    :param codes: the reader's unit codes (``permissions.units_of``), or None.
    :param on: the day.
    """
    if codes is None:
        return None
    ids: set[int] = set()
    for code in codes:
        ids |= unit_ids_under(session, code, on)
    return ids
