"""needs report: targets, settings, and the TNA answers as rows

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

import datetime as dt

from alembic import op
import sqlalchemy as sa


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

#: Reports spec §1.2: the Gia Lai plan's targets (000 §IV.2) and the An Giang norms (002).
TARGETS = [
    ("KPI-01", 2022, 2025, 100, "KH Gia Lai 2022–2030 §IV.2 (T1a)"),
    ("KPI-01", 2026, 2030, 100, "KH Gia Lai 2022–2030 §IV.2 (T1a′)"),
    ("KPI-02", 2022, 2025, 90, "KH Gia Lai 2022–2030 §IV.2 (T1b)"),
    ("KPI-02", 2026, 2030, 100, "KH Gia Lai 2022–2030 §IV.2 (T1b′)"),
    ("KPI-03", 2022, 2025, 70, "KH Gia Lai 2022–2030 §IV.2 (T2)"),
    ("KPI-03", 2026, 2030, 100, "KH Gia Lai 2022–2030 §IV.2 (T2′)"),
    ("KPI-04", 2022, 2025, 70, "KH Gia Lai 2022–2030 §IV.2 (T3)"),
    ("KPI-04", 2026, 2030, 90, "KH Gia Lai 2022–2030 §IV.2 (T3′)"),
    ("KPI-05", 2022, 2025, 70, "KH Gia Lai 2022–2030 §IV.2 (T4)"),
    ("KPI-05", 2026, 2030, 80, "KH Gia Lai 2022–2030 §IV.2 (T4′)"),
    ("KPI-06", 2022, 2025, 30, "KH Gia Lai 2022–2030 §IV.2 (T5, mỗi năm)"),
    ("KPI-06", 2026, 2030, 40, "KH Gia Lai 2022–2030 §IV.2 (T5′, mỗi năm)"),
    ("KPI-07", 2021, 2030, 100, "KH 170/KH-UBND An Giang (T7)"),
    ("KPI-08", 2021, 2030, 100, "KH 170/KH-UBND An Giang (T8)"),
]

#: Reports spec §1.9 and §2.1: the defaults until a department settles them.
SETTINGS = {
    "kpi03_counts_vc_standard": None,
    "stock_or_flow": "stock",
    "kpi04_requires_pass": True,
    "ctv_denominator": "dec31",
    "class_size_ctv": 40,
    "class_size_other": 30,
    "min_cell": 5,
    "response_rate_caution": 60,
    "tna_form_id": "tna_dskhhgd",
}


def _respondent_columns():
    return [
        sa.Column("level", sa.String(length=16), nullable=True),
        sa.Column("staff_cat", sa.String(length=32), nullable=True),
        sa.Column("job_position", sa.String(length=32), nullable=True),
        sa.Column("unit_code", sa.String(length=32), nullable=True),
        sa.Column("responded_on", sa.Date(), nullable=False),
        sa.Column("wave", sa.String(length=32), nullable=True),
        sa.Column("counted", sa.Boolean(), nullable=False),
    ]


def upgrade():
    targets = op.create_table(
        "kpi_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kpi", sa.String(length=8), nullable=False),
        sa.Column("province_code", sa.String(length=32), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("target_pct", sa.Float(), nullable=False),
        sa.Column("baseline_pct", sa.Float(), nullable=True),
        sa.Column("baseline_date", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "baseline_pct IS NULL OR (baseline_pct >= 0 AND baseline_pct <= 100)",
            name=op.f("ck_kpi_targets_baseline_range"),
        ),
        sa.CheckConstraint("period_end >= period_start", name=op.f("ck_kpi_targets_period")),
        sa.CheckConstraint(
            "target_pct >= 0 AND target_pct <= 100", name=op.f("ck_kpi_targets_target_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_targets")),
        sa.UniqueConstraint(
            "kpi",
            "province_code",
            "period_start",
            name=op.f("uq_kpi_targets_kpi_province_code_period_start"),
        ),
    )
    settings = op.create_table(
        "report_settings",
        sa.Column("province_code", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("province_code", "key", name=op.f("pk_report_settings")),
    )
    op.create_table(
        "needs_responses",
        *_respondent_columns(),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("form_pk", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("person_code", sa.String(length=32), nullable=True),
        sa.Column("province_code", sa.String(length=32), nullable=True),
        sa.Column("district_code", sa.String(length=32), nullable=True),
        sa.Column("commune_code", sa.String(length=32), nullable=True),
        sa.Column("sex", sa.String(length=8), nullable=True),
        sa.Column("ethnic_minority", sa.Boolean(), nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("years_pop", sa.Integer(), nullable=True),
        sa.Column("edu_level", sa.String(length=32), nullable=True),
        sa.Column("edu_field", sa.String(length=32), nullable=True),
        sa.Column("cdnn_rank", sa.String(length=32), nullable=True),
        sa.Column("days_12m", sa.Integer(), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("straightlined", sa.Boolean(), nullable=False),
        sa.Column("out_of_range", sa.Integer(), nullable=False),
        sa.Column("projected_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["form_pk"],
            ["forms.id"],
            name=op.f("fk_needs_responses_form_pk_forms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_needs_responses_person_id_persons"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_needs_responses_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_needs_responses")),
    )
    op.create_index(
        "ix_needs_responses_person_wave", "needs_responses", ["person_id", "wave"], unique=False
    )
    op.create_table(
        "needs_ratings",
        *_respondent_columns(),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("competency", sa.String(length=8), nullable=False),
        sa.Column("importance", sa.SmallInteger(), nullable=True),
        sa.Column("performance", sa.SmallInteger(), nullable=True),
        sa.CheckConstraint(
            "importance IS NULL OR importance BETWEEN 1 AND 5",
            name=op.f("ck_needs_ratings_importance"),
        ),
        sa.CheckConstraint(
            "performance IS NULL OR performance BETWEEN 1 AND 5",
            name=op.f("ck_needs_ratings_performance"),
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["needs_responses.submission_id"],
            name=op.f("fk_needs_ratings_submission_id_needs_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", "competency", name=op.f("pk_needs_ratings")),
    )
    op.create_index(
        "ix_needs_ratings_counted_day", "needs_ratings", ["counted", "responded_on"], unique=False
    )
    op.create_table(
        "needs_choices",
        *_respondent_columns(),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["needs_responses.submission_id"],
            name=op.f("fk_needs_choices_submission_id_needs_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", "question", "code", name=op.f("pk_needs_choices")),
    )
    op.create_index(
        "ix_needs_choices_question", "needs_choices", ["question", "counted"], unique=False
    )
    now = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)
    op.bulk_insert(
        targets,
        [
            {
                "kpi": kpi,
                "province_code": "",
                "period_start": dt.date(first, 1, 1),
                "period_end": dt.date(last, 12, 31),
                "target_pct": float(target),
                "baseline_pct": None,
                "baseline_date": dt.date(first, 1, 1),
                "source": source,
                "updated_at": now,
            }
            for kpi, first, last, target, source in TARGETS
        ],
    )
    op.bulk_insert(
        settings,
        [
            {"province_code": "", "key": key, "value": value, "updated_at": now}
            for key, value in SETTINGS.items()
        ],
    )


def downgrade():
    op.drop_index("ix_needs_choices_question", table_name="needs_choices")
    op.drop_table("needs_choices")
    op.drop_index("ix_needs_ratings_counted_day", table_name="needs_ratings")
    op.drop_table("needs_ratings")
    op.drop_index("ix_needs_responses_person_wave", table_name="needs_responses")
    op.drop_table("needs_responses")
    op.drop_table("report_settings")
    op.drop_table("kpi_targets")
