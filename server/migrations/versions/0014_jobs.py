"""jobs: background work with progress, a lease and a result

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(length=255), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=128), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("result_sha256", sa.String(length=64), nullable=True),
        sa.Column("result_name", sa.String(length=255), nullable=True),
        sa.Column("result_type", sa.String(length=128), nullable=True),
        sa.Column("error_code", sa.String(length=16), nullable=True),
        sa.Column("error_details", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_jobs_state")
        ),
        sa.CheckConstraint("done >= 0 AND total >= 0", name=op.f("ck_jobs_progress")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_jobs_attempts")),
        sa.CheckConstraint(
            "state <> 'running' OR (lease_until IS NOT NULL AND started_at IS NOT NULL)",
            name=op.f("ck_jobs_running_lease"),
        ),
        sa.CheckConstraint(
            "state NOT IN ('done', 'failed') OR finished_at IS NOT NULL",
            name=op.f("ck_jobs_finished"),
        ),
        sa.CheckConstraint(
            "state <> 'failed' OR error_code IS NOT NULL", name=op.f("ck_jobs_failed_code")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_jobs_owner_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index("ix_jobs_state_id", "jobs", ["state", "id"], unique=False)
    op.create_index(op.f("ix_jobs_owner_id"), "jobs", ["owner_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_jobs_owner_id"), table_name="jobs")
    op.drop_index("ix_jobs_state_id", table_name="jobs")
    op.drop_table("jobs")
