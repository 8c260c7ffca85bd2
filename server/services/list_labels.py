"""What the codes picked from list files (``select_one_from_file``) stand for, for exports.

A question that picks from a CSV list stores only the code (``DSCB-2026-09``, ``GL007``,
``21553``); a reader of an export needs the name beside it. The register is the truth: a course's
title, a person's full name, and a unit's name *on the day of the submission* (the 2025 reform
reused codes, so "21553" named one commune before 1 July 2025 and a ward after). A code the
register does not know (the "not on the list" row, the curated organisation list) falls back to
the label in the form's own list file, newest version first.

Everything is read once per export, a query per kind, so labelling a million rows costs
dictionary look-ups, never a query per row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.models import AdminUnit, Course, Form, FormMedia, FormVersion, Person

#: List files whose codes are register codes, and what they name (a course, a person, or an
#: administrative unit of that level). Server-generated (services/pickers) or curated.
REGISTER_LISTS = {
    "courses.csv": "course",
    "trainees.csv": "person",
    "trainers.csv": "person",
    "staff.csv": "person",
    "provinces.csv": "province",
    "districts.csv": "district",
    "communes.csv": "commune",
    "hamlets.csv": "hamlet",
}
_UNIT_LEVELS = ("province", "district", "commune", "hamlet")


class ListLabels:
    """Names of the codes of some list files, loaded once (see :func:`load_list_labels`)."""

    def __init__(
        self,
        courses: dict[str, str],
        persons: dict[str, str],
        units: dict[tuple[str, str], list[tuple[dt.date, dt.date | None, str]]],
        files: dict[str, dict[str, str]],
    ):
        self.courses, self.persons, self.units, self.files = courses, persons, units, files

    def label(self, file: str, code: str, on: dt.date) -> str | None:
        """The name of a code picked from ``file`` on day ``on``.

        :param file: the list file the question picks from, e.g. ``courses.csv``.
        :param code: the picked code.
        :param on: the submission's day (units are named as they were then).
        :return: the name, or None when neither the register nor the list knows the code.
        """
        kind = REGISTER_LISTS.get(file)
        name = None
        if kind == "course":
            name = self.courses.get(code)
        elif kind == "person":
            name = self.persons.get(code)
        elif kind is not None:
            name = _unit_name(self.units.get((kind, code)), on)
        if name is None:
            name = self.files.get(file, {}).get(code)
        return name


def _unit_name(periods: list[tuple[dt.date, dt.date | None, str]] | None, on: dt.date):
    """The name of the period containing ``on``, else of the latest period."""
    if not periods:
        return None
    for valid_from, valid_to, name in periods:
        if valid_from <= on and (valid_to is None or on <= valid_to):
            return name
    return periods[-1][2]


def load_list_labels(
    session: Session, form: Form, files: Iterable[str], language: str | None
) -> ListLabels:
    """Read what the codes of the given list files stand for: one query per kind needed.

    :param session: the database session.
    :param form: the form (its versions' list files are the fallback labels).
    :param files: the list file names the exported questions pick from.
    :param language: the form's language key (``Vietnamese (vi)``) for ``label::…`` columns.
    :return: the labels.
    """
    files = set(files)
    kinds = {REGISTER_LISTS[f] for f in files if f in REGISTER_LISTS}
    courses = (
        dict(session.execute(sa.select(Course.code, Course.title)).all())
        if "course" in kinds
        else {}
    )
    persons = (
        dict(session.execute(sa.select(Person.code, Person.full_name)).all())
        if "person" in kinds
        else {}
    )
    units: dict[tuple[str, str], list[tuple[dt.date, dt.date | None, str]]] = {}
    levels = [level for level in _UNIT_LEVELS if level in kinds]
    if levels:
        query = (
            sa.select(AdminUnit.level, AdminUnit.code, AdminUnit.valid_from, AdminUnit.valid_to,
                      AdminUnit.name)
            .where(AdminUnit.level.in_(levels))
            .order_by(AdminUnit.valid_from)
        )  # fmt: skip
        for level, code, valid_from, valid_to, name in session.execute(query):
            units.setdefault((level, code), []).append((valid_from, valid_to, name))
    return ListLabels(courses, persons, units, _file_labels(session, form, files, language))


def _file_labels(session: Session, form: Form, files: set[str], language: str | None):
    """{file: {code: label}} from the form's list files, a newer version's label winning."""
    if not files:
        return {}
    query = (
        sa.select(FormMedia.filename, FormMedia.content)
        .join(FormVersion, FormVersion.id == FormMedia.form_version_id)
        .where(FormVersion.form_pk == form.id, FormMedia.filename.in_(sorted(files)))
        .order_by(FormVersion.id)
    )
    labels: dict[str, dict[str, str]] = {}
    for filename, content in session.execute(query):
        try:
            rows = csv.DictReader(io.StringIO(bytes(content).decode("utf-8-sig")))
            column = f"label::{language}"
            found = {
                row["name"]: row.get(column) or row.get("label") or ""
                for row in rows
                if row.get("name")
            }
        except (UnicodeDecodeError, csv.Error):
            continue  # an unreadable list labels nothing; the codes are still exported
        labels.setdefault(filename, {}).update({k: v for k, v in found.items() if v})
    return labels
