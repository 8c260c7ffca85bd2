"""What a background job can be: each kind is a function of a :class:`JobContext`.

A kind does its work through the same services the API and the CLI call (the register's import
is ``roster.import_roster``, whatever surface starts it), reports progress through the
context, flushes, and returns an :class:`~server.services.jobs.Outcome`. It commits nothing:
``server/worker.py`` commits the work together with the job's ``done``.

* ``roster.check``: the dry run of a register file; the summary is the diff (who is added,
  moved, updated, leaves), the file the whole diff as CSV. Bad rows fail the job with the
  catalogue's 400.15 and every row in its details.
* ``roster.import``: the same file applied (all or nothing).
* ``roster.export``: the register as of a day, in a format of the registry.
* ``courses.rescore``: a full re-score of a course's test forms (``course_tests``).
* ``forms.export``: a form's submissions as a file (CSV, XLSX, ZIP).
* ``forms.export_lines``: the export lines a form lacks, queued by a publish that changed the
  form's columns (``export_lines.after_publish``).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session

from exports import Column, Output, Table, formats
from server.services import course_tests, courses, export_lines, roster
from server.services.attachment_store import AttachmentStore
from server.services.exports import build_export
from server.services.forms import get_form
from server.services.jobs import Outcome
from server.services.pickers import refresh_pickers
from server.services.submission_queries import count_submissions, filters_from_params

#: Changes of a dry run kept in the job's summary (the page lists them; the CSV has them all).
LISTED = 1000


@dataclass
class JobContext:
    """What a running job is given."""

    session: Session
    params: dict
    store: AttachmentStore
    now: dt.datetime
    #: ``progress(done, total, message)``.
    progress: Callable[..., None]


def _input(ctx: JobContext) -> tuple[str, bytes]:
    return ctx.params["filename"], ctx.store.read(ctx.params["input_sha256"])


def _as_of(ctx: JobContext) -> dt.date | None:
    value = ctx.params.get("as_of")
    return dt.date.fromisoformat(value) if value else None


def _counts(changes: roster.RosterChanges) -> dict:
    return {
        "added": changes.added,
        "updated": changes.updated,
        "moved": changes.moved,
        "closed": changes.closed,
        "unchanged": changes.unchanged,
        "certificates_added": changes.certificates_added,
        "changed": changes.changed,
    }


DIFF_COLUMNS = [
    Column("row", "Dòng", "integer"),
    Column("person_code", "Mã cán bộ"),
    Column("full_name", "Họ và tên"),
    Column("change", "Thay đổi"),
    Column("detail", "Chi tiết"),
]


def check_register(ctx: JobContext) -> Outcome:
    """Dry run of a register file: the diff, nothing stored."""
    filename, content = _input(ctx)
    changes = roster.import_roster(
        filename,
        content,
        session=ctx.session,
        now=ctx.now,
        as_of=_as_of(ctx),
        dry_run=True,
        progress=ctx.progress,
    )
    entries = changes.entries
    table = Table(
        "thay_doi",
        DIFF_COLUMNS,
        [[e["row"], e["person_code"], e["full_name"], e["change"], e["detail"]] for e in entries],
    )
    buffer = io.BytesIO()
    formats.CSV.write(Output(tables=lambda: [table]), buffer)
    summary = {
        **_counts(changes),
        "filename": filename,
        "entries": entries[:LISTED],
        "listed": min(len(entries), LISTED),
        "entries_total": len(entries),
    }
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", filename.rsplit(".", 1)[0])[:80] or "danh_sach"
    return Outcome(summary, buffer.getvalue(), f"thay-doi-{stem}.csv", formats.CSV.media_type)


def import_register(ctx: JobContext) -> Outcome:
    """Apply a register file (all or nothing); the pickers follow the new register."""
    filename, content = _input(ctx)
    changes = roster.import_roster(
        filename,
        content,
        session=ctx.session,
        now=ctx.now,
        as_of=_as_of(ctx),
        progress=ctx.progress,
    )
    if changes.changed:
        ctx.progress(1, 1, "Cập nhật danh sách chọn / Refreshing pickers", force=True)
        refresh_pickers(ctx.session, now=ctx.now)
    return Outcome({**_counts(changes), "filename": filename})


def export_register(ctx: JobContext) -> Outcome:
    """The register as of a day, in the import format (CSV or XLSX)."""
    on = dt.date.fromisoformat(ctx.params["on"])
    fmt = formats.named(ctx.params.get("format"), (formats.XLSX, formats.CSV)) or formats.XLSX
    total = roster.count_in_post(ctx.session, on=on)
    table = roster.roster_table(ctx.session, on=on)
    table.rows = _counted(table.rows, total, ctx.progress)
    buffer = io.BytesIO()
    fmt.write(Output(tables=lambda: [table]), buffer)
    name = f"danh_sach_can_bo_{on:%Y-%m-%d}{fmt.suffix}"
    return Outcome({"on": on.isoformat(), "rows": total}, buffer.getvalue(), name, fmt.media_type)


def _counted(rows, total: int, progress) -> Iterator[list]:
    for index, row in enumerate(rows):
        if index % 2000 == 0:
            progress(index, total, "Đang ghi tệp / Writing the file")
        yield row
    progress(total, total, "Xong / Done", force=True)


def rescore_course(ctx: JobContext) -> Outcome:
    """Re-score every test of a course's test forms from the raw submissions."""
    course = courses.get_course(ctx.session, ctx.params["course"])
    count = course_tests.rescore_course(ctx.session, course, now=ctx.now, progress=ctx.progress)
    forms = [f.form_id for f in course_tests.scored_forms(ctx.session, course)]
    return Outcome({"course": course.code, "rescored": count, "forms": forms})


#: The formats a form's export job writes.
EXPORT_FORMATS = (formats.CSV, formats.XLSX, formats.ZIP)


def export_form(ctx: JobContext) -> Outcome:
    """A form's submissions as CSV, XLSX or ZIP, as the reader could see them when asking.

    The file is written straight to the store (``put_written``), never held in memory whole;
    progress counts the main table's rows.
    """
    form = get_form(ctx.session, ctx.params["form_id"])
    fmt = formats.named(ctx.params["format"], EXPORT_FORMATS) or formats.CSV
    filters = filters_from_params(ctx.params["filters"])
    total = count_submissions(ctx.session, form, filters)
    ctx.progress(0, total, "Đang ghi tệp / Writing the file", force=True)
    media_root = str(ctx.store.root) if fmt.with_media else None
    plan = build_export(
        ctx.session, form, filters, lang=ctx.params.get("lang", "vi"), storage_dir=media_root
    )
    main = plan.tables[0]
    main.rows = _counted(main.rows, total, ctx.progress)
    if main.csv_rows is not None:  # whichever rows the writer reads count the progress
        main.csv_rows = _counted(main.csv_rows, total, ctx.progress)
    if main.xlsx_rows is not None:
        main.xlsx_rows = _counted(main.xlsx_rows, total, ctx.progress)

    def write(out) -> None:
        fmt.write(plan.output(), out)

    summary = {"form_id": form.form_id, "rows": total, "format": fmt.name}
    if plan.warnings:
        summary["warnings"] = list(plan.warnings)
    return Outcome(summary, name=form.form_id + fmt.suffix, media_type=fmt.media_type, writer=write)


def render_export_lines(ctx: JobContext) -> Outcome:
    """Render the export lines a form lacks (after a version that changed its columns)."""
    form = get_form(ctx.session, ctx.params["form_id"])
    count = export_lines.render_missing(
        ctx.session,
        form,
        progress=lambda done, total: ctx.progress(
            done, total, "Đang chuẩn bị dữ liệu xuất / Preparing the export rows"
        ),
    )
    return Outcome({"form_id": form.form_id, "rendered": count})


#: Every kind of job, by the name stored in ``jobs.kind``.
KINDS: dict[str, Callable[[JobContext], Outcome]] = {
    "roster.check": check_register,
    "roster.import": import_register,
    "roster.export": export_register,
    "courses.rescore": rescore_course,
    "forms.export": export_form,
    "forms.export_lines": render_export_lines,
}
