"""Administrative units (province, district, commune, hamlet) with validity periods.

Units are data, never code: Vietnam removed the district tier on 1 July 2025 and merged
provinces, yet 2022–2025 figures must still be reported against the units of their time. A
unit code can therefore appear twice (an old commune and the new one that reused its code),
each with its own period; ``(level, code, valid_from)`` identifies a unit.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, utcnow

LEVELS = ("province", "district", "commune", "hamlet")
SOURCES = ("official", "import")


class AdminUnit(Base):
    """One administrative unit during one period of validity."""

    __tablename__ = "admin_units"
    __table_args__ = (
        sa.UniqueConstraint("level", "code", "valid_from"),
        sa.CheckConstraint(f"level IN {LEVELS!r}", name="level"),
        sa.CheckConstraint(f"source IN {SOURCES!r}", name="source"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="period"),
        sa.CheckConstraint(
            "(level = 'province' AND parent_id IS NULL)"
            " OR (level <> 'province' AND parent_id IS NOT NULL)",
            name="parent_by_level",
        ),
        sa.CheckConstraint("length(code) > 0 AND length(name) > 0", name="not_blank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(sa.String(16))
    #: Official GSO code (2 digits province, 3 district, 5 commune) or a local code for hamlets.
    code: Mapped[str] = mapped_column(sa.String(32), index=True)
    #: Full name in Vietnamese, NFC ("Xã Ia Grai").
    name: Mapped[str] = mapped_column(sa.String(255))
    #: Kind of unit as the official list says it ("tỉnh", "phường", "đặc khu", "huyện"...).
    kind: Mapped[str | None] = mapped_column(sa.String(64))
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="RESTRICT"), index=True
    )
    #: First day the unit existed in this form; 1900-01-01 means "before our records".
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    #: Last day of validity; NULL while the unit is current.
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date)
    #: "official" = loaded from the vietnam-provinces package; "import" = a CSV import.
    source: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    parent: Mapped[AdminUnit | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<AdminUnit {self.level} {self.code} {self.name!r} from {self.valid_from}>"


class UnitSuccessor(Base):
    """A former unit that became (part of) another unit on a given day.

    The 2025 reform merged and divided units rather than renaming them, so the link is a table
    (one former commune may feed two new ones; a new province has dozens of former districts),
    not a column. Filters follow it backwards: a post-reform unit covers its predecessors.
    """

    __tablename__ = "unit_successors"
    __table_args__ = (
        sa.UniqueConstraint("predecessor_id", "successor_id"),
        sa.CheckConstraint("predecessor_id <> successor_id", name="distinct_units"),
        sa.CheckConstraint(f"source IN {SOURCES!r}", name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    predecessor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="CASCADE"), index=True
    )
    successor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("admin_units.id", ondelete="CASCADE"), index=True
    )
    #: First day the successor stands for the predecessor (1 July 2025 for the reform).
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    #: The successor that took the largest share of a divided unit: where reports count it once.
    is_primary: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    #: "official" = from the vietnamadminunits mapping; "import" = a CSV import.
    source: Mapped[str] = mapped_column(sa.String(16))

    def __repr__(self) -> str:
        return f"<UnitSuccessor {self.predecessor_id} -> {self.successor_id} {self.valid_from}>"
