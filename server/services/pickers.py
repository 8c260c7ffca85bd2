"""The CSV lists the standard forms pick from (``select_one_from_file``), made from the registry.

Each list is regenerated from the database and stored as media of the current version of every
form that references it. New content means a new md5 in the manifest, and ODK Collect fetches
the file at its next "get blank forms": a course opened or a trainee enrolled reaches the
tablets without a new form version. Personal data is limited to what a picker needs.

The needs-assessment form's communes, former districts, hamlets, organisations and staff lists
stay curated files for now: they encode which former district each 2025 commune came from and
the health organisations of each unit, which the registry does not model yet.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.models import AdminUnit, Course, Enrolment, Form, FormVersion, Person, Posting
from server.services.forms import MediaFile, store_media

NOT_LISTED = "Không có tên trong danh sách / Not on the list"


def _csv(header: list[str], rows: Iterable[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def courses_csv(session: Session) -> bytes:
    """courses.csv: ``name,label,status,bank_id,obj1,obj2,obj3`` (open and closed courses)."""
    rows = []
    for course in session.execute(sa.select(Course).order_by(Course.start_date, Course.code)
                                  ).scalars():  # fmt: skip
        objectives = [*course.objectives[:3], "", "", ""][:3]
        rows.append([course.code, f"{course.code} – {course.title}", course.status,
                     course.post_form_id or "", *objectives])  # fmt: skip
    return _csv(["name", "label", "status", "bank_id", "obj1", "obj2", "obj3"], rows)


def trainees_csv(session: Session) -> bytes:
    """trainees.csv: ``name,label,course_code``: enrolled people of open courses, + not listed.

    The label is "Họ tên – đơn vị" so trainees with the same name can tell themselves apart.
    """
    query = (
        sa.select(Person.code, Person.full_name, Course.code, AdminUnit.name)
        .join(Enrolment, Enrolment.person_id == Person.id)
        .join(Course, Course.id == Enrolment.course_id)
        .outerjoin(Posting, sa.and_(Posting.person_id == Person.id, Posting.valid_to.is_(None)))
        .outerjoin(AdminUnit, AdminUnit.id == Posting.unit_id)
        .where(Course.status == "open")
        .order_by(Course.code, Person.full_name, Person.code)
    )
    rows = [[code, f"{name} – {unit}" if unit else name, course]
            for code, name, course, unit in session.execute(query)]  # fmt: skip
    rows.append(["_notlisted", NOT_LISTED, "*"])
    return _csv(["name", "label", "course_code"], rows)


def trainers_csv(session: Session) -> bytes:
    """trainers.csv: ``name,label,course_code`` from each open course's trainers."""
    names = dict(session.execute(sa.select(Person.code, Person.full_name)).all())
    rows = [[code, names.get(code, code), course.code]
            for course in session.execute(sa.select(Course).where(Course.status == "open")
                                          .order_by(Course.code)).scalars()
            for code in course.trainers]  # fmt: skip
    return _csv(["name", "label", "course_code"], rows)


def provinces_csv(session: Session) -> bytes:
    """provinces.csv: ``name,label`` of the current provinces."""
    rows = session.execute(
        sa.select(AdminUnit.code, AdminUnit.name)
        .where(AdminUnit.level == "province", AdminUnit.valid_to.is_(None))
        .order_by(AdminUnit.code)
    )
    return _csv(["name", "label"], [list(r) for r in rows])


GENERATORS: dict[str, Callable[[Session], bytes]] = {
    "courses.csv": courses_csv,
    "trainees.csv": trainees_csv,
    "trainers.csv": trainers_csv,
    "provinces.csv": provinces_csv,
}


def registry_media(session: Session) -> Callable[[list[str]], list[MediaFile]]:
    """The generator :func:`server.services.forms.publish_form` takes as ``generated_media``.

    Publishing (``make run`` on every start, or an upload) offers the files beside a form; for
    the lists the registry makes, those files are only samples and must never replace what the
    tablets hold, so the registry's content is offered in their place.

    :param session: the database session the lists are read from.
    :return: a function from referenced media names to the generated files among them.
    """

    def generate(names: list[str]) -> list[MediaFile]:
        return [MediaFile(name, GENERATORS[name](session)) for name in names if name in GENERATORS]

    return generate


def refresh_pickers(session: Session, *, now: dt.datetime) -> dict[str, list[str]]:
    """Regenerate every picker list and store it on the forms that use it (flushes).

    :param session: the database session.
    :param now: the time of the change.
    :return: {form_id: [file names whose content changed]}.
    """
    contents: dict[str, bytes] = {}
    changed: dict[str, list[str]] = {}
    current = sa.select(sa.func.max(FormVersion.id)).group_by(FormVersion.form_pk)
    for version in session.execute(sa.select(FormVersion).where(FormVersion.id.in_(current))
                                   ).scalars():  # fmt: skip
        names = [m["filename"] for m in version.schema["media"] if m["filename"] in GENERATORS]
        if not names:
            continue
        for name in names:
            if name not in contents:
                contents[name] = GENERATORS[name](session)
        before = {m.filename: m.md5 for m in version.media}
        store_media(session, version, [MediaFile(n, contents[n]) for n in names], now)
        after = {m.filename: m.md5 for m in version.media}
        diff = [n for n in names if before.get(n) != after.get(n)]
        if diff:
            form = session.get(Form, version.form_pk)
            changed[form.form_id] = diff
    return changed
