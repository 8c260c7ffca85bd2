"""The staff register: people, their positions over time, and the certificates they hold.

A position (``Posting``) is a period: a move or a leave closes it (``valid_to``) and opens
another instead of overwriting, so "who was in post on 31/12/2024, where, in which job" always
has an answer, and coverage figures of past years stay reproducible.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, utcnow
from server.models.units import AdminUnit


class Person(Base):
    """Someone in the population-work staff register."""

    __tablename__ = "persons"
    __table_args__ = (
        sa.UniqueConstraint("code"),
        sa.CheckConstraint("sex IN ('m', 'f')", name="sex"),
        sa.CheckConstraint(
            "birth_year IS NULL OR birth_year BETWEEN 1930 AND 2015", name="birth_year"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The department's stable person code (never reused).
    code: Mapped[str] = mapped_column(sa.String(32))
    full_name: Mapped[str] = mapped_column(sa.String(255))
    sex: Mapped[str] = mapped_column(sa.String(1))
    birth_year: Mapped[int | None]
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    education_level: Mapped[str | None] = mapped_column(sa.String(32))
    education_field: Mapped[str | None] = mapped_column(sa.String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    postings: Mapped[list[Posting]] = relationship(
        back_populates="person", order_by="Posting.valid_from"
    )
    certificates: Mapped[list[PersonCertificate]] = relationship(back_populates="person")

    def __repr__(self) -> str:
        return f"<Person {self.code} {self.full_name!r}>"


class Posting(Base):
    """One period of one person in one unit, level and job."""

    __tablename__ = "postings"
    __table_args__ = (
        sa.UniqueConstraint("person_id", "valid_from"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="period"),
        sa.CheckConstraint("level IN ('province', 'district', 'commune', 'village')", name="level"),
        sa.CheckConstraint(
            "employment_type IN ('cong_chuc', 'vien_chuc', 'hop_dong', 'ctv')", name="employment"
        ),
        sa.Index("ix_postings_unit_period", "unit_id", "valid_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("persons.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_units.id", ondelete="RESTRICT"))
    level: Mapped[str] = mapped_column(sa.String(16))
    employment_type: Mapped[str] = mapped_column(sa.String(16))
    #: Staff category code (catalogue STAFF_CATEGORIES).
    job_category: Mapped[str] = mapped_column(sa.String(32))
    leadership: Mapped[str | None] = mapped_column(sa.String(16))
    #: Collaborator roles (pop, family, child, vhw).
    ctv_roles: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    #: Last day in this position; NULL while in post.
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date)

    person: Mapped[Person] = relationship(back_populates="postings")
    unit: Mapped[AdminUnit] = relationship()

    def __repr__(self) -> str:
        return f"<Posting {self.person_id} {self.job_category} {self.valid_from}–{self.valid_to}>"


class PersonCertificate(Base):
    """A certificate a person holds (catalogue CERTIFICATES)."""

    __tablename__ = "person_certificates"
    __table_args__ = (sa.UniqueConstraint("person_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("persons.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(sa.String(32))
    issued_on: Mapped[dt.date | None] = mapped_column(sa.Date)

    person: Mapped[Person] = relationship(back_populates="certificates")

    def __repr__(self) -> str:
        return f"<PersonCertificate {self.person_id} {self.code}>"
