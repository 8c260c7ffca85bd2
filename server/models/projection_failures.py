"""Projections that failed after a submission was stored, kept until they are rebuilt.

A submission's 201 never depends on its projections (``services/intake.py``): one that raises
is logged and the submission stays stored. A log line is read by nobody who can act on it, so
the failure is also kept here, one row per submission and projection, and the dashboard shows
it as a problem waiting; ``flask --app wsgi scores rebuild`` (which recomputes every projection
from the raw submissions) clears the rows of what it rebuilt.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime


class ProjectionFailure(Base):
    """One projection that raised for one stored submission."""

    __tablename__ = "projection_failures"
    __table_args__ = (
        sa.UniqueConstraint("submission_id", "projection"),
        sa.CheckConstraint("length(projection) > 0", name="projection_named"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    #: ``Projection.name`` of the registry (``services/projections.py``).
    projection: Mapped[str] = mapped_column(sa.String(64))
    #: The exception's class and message, cut to fit: enough to tell failures apart.
    error: Mapped[str] = mapped_column(sa.String(500))
    failed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
