"""Export lines: each submission's answer cells, rendered as CSV text when it arrived.

A CSV, ZIP or XLSX download of a large form spent most of its time reading every
submission's answers back, typing and flattening them into cells and rendering those as CSV or
sheet XML — the same work for the same immutable answers at every download. The intake renders
them once (``exports.FormTables.line`` and ``.sheet``) and keeps the text here; an export joins
it to the metadata it renders: the metadata that never changes is kept too (``meta``); review
state and scores change later, so they are never stored.

A line is only valid for the column plan it was rendered under: ``plan`` is that plan's
signature (``FormTables.signature``), and a download reads only lines of the form's current
signature, rendering the others from their answers as before. So a new form version that
changes the columns costs speed until the lines are rendered again (``flask --app wsgi export
lines``, or the job the forms page starts), never correctness. A row here is a cache: losing
it loses nothing, which is why the intake that writes it never lets it fail a submission.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base


class ExportLine(Base):
    """The CSV text and sheet XML of one submission's answer cells under one column plan."""

    __tablename__ = "export_lines"
    __table_args__ = (sa.CheckConstraint("length(plan) = 16", name="plan_signature"),)

    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    #: ``FormTables.signature`` of the plan the text was rendered under.
    plan: Mapped[str] = mapped_column(sa.String(16))
    #: ``FormTables.line``: the main table's answer cells, then each repeat table's lines.
    #: NULL when an answer holds the line's separator (the export renders that row).
    text: Mapped[str | None] = mapped_column(sa.Text)
    #: ``FormTables.sheet``: the same cells as XLSX sheet XML, for XLSX downloads.
    sheet: Mapped[str] = mapped_column(sa.Text)
    #: The CSV text of the submission's metadata cells that never change once it is stored
    #: (instanceID, version, submitter, device, received and submitted times): a download
    #: renders only the review state and scores. NULL until rendered, and set back to NULL by
    #: triggers (migration 0025) when anything it shows changes.
    meta: Mapped[str | None] = mapped_column(sa.Text)
