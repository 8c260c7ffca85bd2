"""people: one-time set-password links; audit events of whole tables; the audit log by date

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "password_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_sha256", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "purpose IN ('invite', 'reset')", name=op.f("ck_password_links_purpose")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_password_links_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_password_links_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_links")),
        sa.UniqueConstraint("code_sha256", name=op.f("uq_password_links_code_sha256")),
    )
    with op.batch_alter_table("password_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_password_links_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("target_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index("ix_audit_events_at", ["at"], unique=False)


def downgrade():
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_at")
    op.execute("DELETE FROM audit_events WHERE target_id IS NULL")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("target_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("password_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_links_user_id"))
    op.drop_table("password_links")
