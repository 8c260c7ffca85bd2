"""What the needs report reads besides the register: targets, settings, TNA answers as rows.

The projection (``needs_responses``, ``needs_ratings``, ``needs_choices``) is derived from the
raw TNA submissions and can always be rebuilt (``flask --app wsgi needs rebuild``). Ratings and
choices carry the respondent's level, category, job, unit and day, and whether the response
counts (the latest of a person in a survey wave), so that the report aggregates one narrow
table in one pass instead of joining a million responses (reports spec §2.2.2–§2.2.4).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime, utcnow

#: The key of settings and targets that apply to every province without their own.
ALL_PROVINCES = ""


class KpiTarget(Base):
    """One target of the provincial plan (spec §1.2): a KPI, a period, a percentage, a baseline."""

    __tablename__ = "kpi_targets"
    __table_args__ = (
        sa.UniqueConstraint("kpi", "province_code", "period_start"),
        sa.CheckConstraint("target_pct >= 0 AND target_pct <= 100", name="target_range"),
        sa.CheckConstraint(
            "baseline_pct IS NULL OR (baseline_pct >= 0 AND baseline_pct <= 100)",
            name="baseline_range",
        ),
        sa.CheckConstraint("period_end >= period_start", name="period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: KPI-01 … KPI-09.
    kpi: Mapped[str] = mapped_column(sa.String(8))
    #: A province's code, or '' for the default every province inherits.
    province_code: Mapped[str] = mapped_column(sa.String(32), default=ALL_PROVINCES)
    period_start: Mapped[dt.date] = mapped_column(sa.Date)
    #: The target is due at the end of this day (31/12 of the target year).
    period_end: Mapped[dt.date] = mapped_column(sa.Date)
    target_pct: Mapped[float] = mapped_column(sa.Float)
    #: Coverage at ``baseline_date``; NULL = computed from the register on that day.
    baseline_pct: Mapped[float | None] = mapped_column(sa.Float)
    baseline_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    #: Where the figure comes from (a plan's number and article).
    source: Mapped[str] = mapped_column(sa.String(255), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportSetting(Base):
    """One setting of the reports (spec §1.9 ambiguities, class sizes, ``min_cell``)."""

    __tablename__ = "report_settings"

    province_code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[object | None] = mapped_column(sa.JSON, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class _Respondent:
    """Who answered, where and when: the columns every projection row carries."""

    level: Mapped[str | None] = mapped_column(sa.String(16))
    staff_cat: Mapped[str | None] = mapped_column(sa.String(32))
    job_position: Mapped[str | None] = mapped_column(sa.String(32))
    #: The most specific unit the answers name (hamlet, commune, district, province).
    unit_code: Mapped[str | None] = mapped_column(sa.String(32))
    #: The day the form was finished, in Vietnam time.
    responded_on: Mapped[dt.date] = mapped_column(sa.Date)
    wave: Mapped[str | None] = mapped_column(sa.String(32))
    #: False for an older answer of the same person in the same wave (the latest counts).
    counted: Mapped[bool] = mapped_column(default=True)


class NeedsResponse(_Respondent, Base):
    """One training-needs assessment as the report reads it."""

    __tablename__ = "needs_responses"
    __table_args__ = (sa.Index("ix_needs_responses_person_wave", "person_id", "wave"),)

    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    form_pk: Mapped[int] = mapped_column(sa.ForeignKey("forms.id", ondelete="CASCADE"))
    #: The register person the respondent picked, when the code is known.
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("persons.id", ondelete="SET NULL"))
    person_code: Mapped[str | None] = mapped_column(sa.String(32))
    province_code: Mapped[str | None] = mapped_column(sa.String(32))
    district_code: Mapped[str | None] = mapped_column(sa.String(32))
    commune_code: Mapped[str | None] = mapped_column(sa.String(32))
    sex: Mapped[str | None] = mapped_column(sa.String(8))
    ethnic_minority: Mapped[bool | None]
    birth_year: Mapped[int | None]
    years_pop: Mapped[int | None]
    edu_level: Mapped[str | None] = mapped_column(sa.String(32))
    edu_field: Mapped[str | None] = mapped_column(sa.String(32))
    cdnn_rank: Mapped[str | None] = mapped_column(sa.String(32))
    days_12m: Mapped[int | None]
    #: Seconds from ``start`` to ``end`` (data quality: under 5 minutes is flagged).
    duration_seconds: Mapped[int | None]
    #: Every rated competency has the same importance and the same performance.
    straightlined: Mapped[bool] = mapped_column(default=False)
    #: Ratings outside the scale, excluded from the figures and counted here.
    out_of_range: Mapped[int] = mapped_column(default=0)
    projected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class NeedsRating(_Respondent, Base):
    """One competency's importance and performance self-ratings (1–5; NULL = not applicable)."""

    __tablename__ = "needs_ratings"
    __table_args__ = (
        sa.CheckConstraint("importance IS NULL OR importance BETWEEN 1 AND 5", name="importance"),
        sa.CheckConstraint(
            "performance IS NULL OR performance BETWEEN 1 AND 5", name="performance"
        ),
        sa.Index("ix_needs_ratings_counted_day", "counted", "responded_on"),
    )

    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("needs_responses.submission_id", ondelete="CASCADE"), primary_key=True
    )
    #: C01 … C21 (spec §1.8).
    competency: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    importance: Mapped[int | None] = mapped_column(sa.SmallInteger)
    performance: Mapped[int | None] = mapped_column(sa.SmallInteger)


class NeedsChoice(_Respondent, Base):
    """One option picked in a multiple-choice answer: topics, barriers, devices, preferences."""

    __tablename__ = "needs_choices"
    __table_args__ = (sa.Index("ix_needs_choices_question", "question", "counted"),)

    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("needs_responses.submission_id", ondelete="CASCADE"), primary_key=True
    )
    #: topics_wanted, topic_top1, topics_24m, certs, barriers, device_access, pref_format…
    question: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
