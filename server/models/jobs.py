"""Background jobs: long work (a register import, a large export) run outside the request.

A job is a row: queued → running → done | failed. A worker claims the oldest queued job (or a
running one whose lease ran out: its process died) in one atomic ``UPDATE … RETURNING``, writes
its progress in short transactions of its own, and finishes it in the transaction of the work
itself, so a job is ``done`` exactly when its work is committed. See ``services/jobs``.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime, utcnow

JOB_STATES = ("queued", "running", "done", "failed")


class Job(Base):
    """One piece of background work, its progress and its result."""

    __tablename__ = "jobs"
    __table_args__ = (
        sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name="state"),
        sa.CheckConstraint("done >= 0 AND total >= 0", name="progress"),
        sa.CheckConstraint("attempts >= 0", name="attempts"),
        sa.CheckConstraint(
            "state <> 'running' OR (lease_until IS NOT NULL AND started_at IS NOT NULL)",
            name="running_lease",
        ),
        sa.CheckConstraint(
            "state NOT IN ('done', 'failed') OR finished_at IS NOT NULL", name="finished"
        ),
        sa.CheckConstraint("state <> 'failed' OR error_code IS NOT NULL", name="failed_code"),
        sa.Index("ix_jobs_state_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What to run (a key of ``services/job_kinds.KINDS``), e.g. ``roster.import``.
    kind: Mapped[str] = mapped_column(sa.String(64))
    state: Mapped[str] = mapped_column(sa.String(16), default="queued")
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: The job's parameters (plain JSON): file names, dates, the input file's sha256…
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    #: What the job is doing now, shown beside the bar ("vi / en").
    message: Mapped[str] = mapped_column(sa.String(255), default="")
    attempts: Mapped[int] = mapped_column(default=0)
    #: Who runs it (host:pid:thread) and until when the claim holds without news.
    worker: Mapped[str | None] = mapped_column(sa.String(128))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: The summary of a finished job (counts, the diff of a dry run).
    result: Mapped[dict | None] = mapped_column(sa.JSON)
    #: A result file in the attachment store, with the name and type it is served under.
    result_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    result_name: Mapped[str | None] = mapped_column(sa.String(255))
    result_type: Mapped[str | None] = mapped_column(sa.String(128))
    #: Why it failed: a catalogue code and the error's details (the message is made again).
    error_code: Mapped[str | None] = mapped_column(sa.String(16))
    error_details: Mapped[dict | None] = mapped_column(sa.JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    @property
    def finished(self) -> bool:
        """Whether the job is over (done or failed)."""
        return self.state in ("done", "failed")

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.state} {self.done}/{self.total}>"
