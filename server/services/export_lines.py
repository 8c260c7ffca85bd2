"""Keeping each submission's export line: rendered at intake, rendered again after a new plan.

A line is the CSV text and the sheet XML of the submission's answer cells (its row in each
table of the export), and the CSV text of its metadata cells that never change (``meta``), see
``server/models/export_lines.py``.

See ``server/models/export_lines.py`` for why the lines exist. The plan a line is rendered
under is the form's codes plan over all its versions (``exports.FormTables``), built once per
set-up generation and process (``setup_cache.derived``): publishing a version bumps the
generation, so every process sees the new plan — and its new signature — at its next request.

* :func:`keep_line` runs in the intake's unit of work, before the commit: one INSERT more per
  new submission (on PostgreSQL, :func:`line_cells` instead: the line rides in the
  submission's own INSERT, one round trip for both). Rendering is the same code the export
  runs; if it raises, the submission is stored without a line (the export renders it from its
  answers), never refused.
* :func:`render_missing` renders the lines a form lacks or holds under an older plan, in
  batches: ``flask --app wsgi forms export-lines`` and the job a publish queues
  (:func:`after_publish`) call it. Until it has run, downloads render those rows from their
  answers: slower, the same bytes.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from exports import FormTables
from exports.csv import LineRenderer
from server.models import ExportLine, Form, FormVersion, Job, Submission, User
from server.services import jobs
from server.services.exports import FIXED_META, submitter
from server.services.setup_cache import setup_cache

logger = logging.getLogger(__name__)

#: The background job that renders a form's lines (``services/job_kinds``).
JOB_KIND = "forms.export_lines"
#: Submissions rendered per statement by :func:`render_missing`.
BATCH = 1000
#: On the table, not the mapped class: the ORM's bulk-insert path cost more than the INSERT.
_INSERT = sa.insert(ExportLine.__table__)
#: Where the times sit among the fixed metadata cells (rendered on the export clock).
_META_TIMES = tuple(i for i, column in enumerate(FIXED_META) if column.kind == "datetime")


def meta_text(cells: Sequence[Any]) -> str:
    """The CSV text of a submission's fixed metadata cells (``FIXED_META``'s order).

    The same text a download renders from the row: cells are rendered one by one
    (``exports.csv.LineRenderer``), so this text joined to the others by commas is the line.
    """
    return LineRenderer(_META_TIMES).text(cells)


def plan_for(session: Session, form_pk: int) -> FormTables:
    """The form's codes plan over all its versions (cached per set-up generation)."""
    return setup_cache(session).derived(
        session, ("export-lines plan", form_pk), lambda: _plan(session, form_pk)
    )


def _plan(session: Session, form_pk: int) -> FormTables:
    form_id = session.scalar(sa.select(Form.form_id).where(Form.id == form_pk))
    schemas = session.scalars(
        sa.select(FormVersion.schema).where(FormVersion.form_pk == form_pk).order_by(FormVersion.id)
    ).all()
    return FormTables(form_id, list(schemas))


def keep_line(
    session: Session,
    *,
    form_pk: int,
    submission_id: int,
    instance_id: str,
    data: dict[str, Any],
    meta: Sequence[Any] | None = None,
) -> bool:
    """Add the export line of a submission just inserted (flushes nothing, commits nothing).

    :param meta: the submission's fixed metadata cells, in ``FIXED_META``'s order, or None
        (the download renders them from the row).
    :return: whether a line was added.
    """
    values = _rendered_or_none(session, form_pk, submission_id, instance_id, data, meta)
    if values is None:
        return False
    session.execute(_INSERT, values)  # one statement, compiled once per process
    return True


def line_cells(
    session: Session,
    *,
    form_pk: int,
    instance_id: str,
    data: dict[str, Any],
    meta: Sequence[Any] | None = None,
) -> dict[str, Any] | None:
    """The export line of a submission not inserted yet: its columns but ``submission_id``.

    For the intake's PostgreSQL path, where the line rides in the submission's own INSERT
    (the ``line`` the intake hands to the submissions service). The same rendering as
    :func:`keep_line`, and the same rule: None (no line) when it raises, never an error.
    """
    values = _rendered_or_none(session, form_pk, None, instance_id, data, meta)
    if values is not None:
        del values["submission_id"]
    return values


def _rendered_or_none(
    session: Session,
    form_pk: int,
    submission_id: int | None,
    instance_id: str,
    data: dict[str, Any],
    meta: Sequence[Any] | None,
) -> dict[str, Any] | None:
    """:func:`_rendered` under the form's plan, or None when it raises (logged)."""
    try:
        plan = plan_for(session, form_pk)
        return _rendered(plan, submission_id, instance_id, data, meta)
    except Exception:  # a cache: the export renders the answers instead
        logger.exception("could not render the export line of submission %s", instance_id)
        return None


def _rendered(
    plan: FormTables,
    submission_id: int,
    instance_id: str,
    data: dict[str, Any],
    meta: Sequence[Any] | None,
) -> dict[str, Any] | None:
    """The row of a submission's line, or None when the plan stores none (labels)."""
    sheet = plan.sheet(data, instance_id)
    if sheet is None:
        return None
    text = plan.line(data, instance_id)
    return {
        "submission_id": submission_id,
        "plan": plan.signature,
        "text": text,
        "sheet": sheet,
        "meta": None if meta is None else meta_text(meta),
    }


def after_publish(session: Session, form: Form, *, now: dt.datetime) -> Job | None:
    """Queue the rendering of a form's lines after a new version (flushes; no commit).

    Lines of the old plan stay correct for nothing: the new version's plan has a new
    signature whenever the columns changed. Nothing is queued for a form without submissions
    or when the same job already waits.

    :return: the queued job, or None.
    """
    has_rows = session.scalar(sa.select(sa.exists().where(Submission.form_pk == form.id)))
    if not has_rows:
        return None
    queued = session.scalars(
        sa.select(Job.params).where(Job.kind == JOB_KIND, Job.state == "queued")
    ).all()
    if any(params.get("form_id") == form.form_id for params in queued):
        return None
    return jobs.enqueue(
        session,
        JOB_KIND,
        owner_id=None,
        params={"form_id": form.form_id},
        now=now,
        message="Đang chờ / Waiting",
    )


def render_missing(session: Session, form: Form, *, progress=None) -> int:
    """Render the lines of a form's submissions that have none of its current plan (no commit).

    Only current, unencrypted submissions are exported, so only theirs are rendered. A line
    whose metadata cells were forgotten (or rendered before they were kept) is rendered again.

    :param session: the database session.
    :param form: the form.
    :param progress: ``progress(done, total)`` after each batch, or None.
    :return: how many lines were written.
    """
    plan = plan_for(session, form.id)
    signature = plan.signature
    versions = {v.id: v.version for v in form.versions}
    users = dict(session.execute(sa.select(User.id, User.username)).all())
    read = (
        Submission.id, Submission.instance_id, sa.cast(Submission.data, sa.Text),
        Submission.form_version_id, Submission.submitter_user_id, Submission.submitter_device_id,
        Submission.device_id, Submission.received_at, Submission.submitted_at,
    )  # fmt: skip
    stale = (
        sa.select(*read)
        .outerjoin(
            ExportLine,
            sa.and_(ExportLine.submission_id == Submission.id, ExportLine.plan == signature),
        )
        .where(
            Submission.form_pk == form.id,
            Submission.is_current.is_(True),
            Submission.is_encrypted.is_(False),
            sa.or_(ExportLine.submission_id.is_(None), ExportLine.meta.is_(None)),
        )
    )
    total = session.scalar(sa.select(sa.func.count()).select_from(stale.subquery()))
    written = done = 0
    after = 0
    while True:
        batch = session.execute(
            stale.where(Submission.id > after).order_by(Submission.id).limit(BATCH)
        ).all()
        if not batch:
            break
        after = batch[-1][0]
        rows = []
        for submission_id, instance_id, text, version_id, user_id, device_pk, *rest in batch:
            who = submitter(users, user_id, device_pk)
            meta = [instance_id, versions.get(version_id), who, *rest]
            values = _rendered(plan, submission_id, instance_id, orjson.loads(text), meta)
            if values is not None:
                rows.append(values)
        ids = [row[0] for row in batch]
        session.execute(sa.delete(ExportLine).where(ExportLine.submission_id.in_(ids)))
        if rows:
            session.execute(_INSERT, rows)
        written += len(rows)
        done += len(batch)
        if progress is not None:
            progress(done, total)
    return written
