"""projection failures: what the dashboard lists as problems waiting

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa


revision = "0018"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "projection_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("projection", sa.String(length=64), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "length(projection) > 0", name=op.f("ck_projection_failures_projection_named")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_projection_failures_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projection_failures")),
        sa.UniqueConstraint(
            "submission_id",
            "projection",
            name=op.f("uq_projection_failures_submission_id_projection"),
        ),
    )
    op.create_index(
        op.f("ix_projection_failures_submission_id"), "projection_failures", ["submission_id"]
    )


def downgrade():
    op.drop_index(op.f("ix_projection_failures_submission_id"), table_name="projection_failures")
    op.drop_table("projection_failures")
