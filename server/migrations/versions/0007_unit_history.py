"""unit history: successors of the pre-reform units

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from alembic import op
import sqlalchemy as sa


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "unit_successors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("predecessor_id", sa.Integer(), nullable=False),
        sa.Column("successor_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "predecessor_id <> successor_id", name=op.f("ck_unit_successors_distinct_units")
        ),
        sa.CheckConstraint(
            "source IN ('official', 'import')", name=op.f("ck_unit_successors_source")
        ),
        sa.ForeignKeyConstraint(
            ["predecessor_id"],
            ["admin_units.id"],
            name=op.f("fk_unit_successors_predecessor_id_admin_units"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["successor_id"],
            ["admin_units.id"],
            name=op.f("fk_unit_successors_successor_id_admin_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_successors")),
        sa.UniqueConstraint(
            "predecessor_id",
            "successor_id",
            name=op.f("uq_unit_successors_predecessor_id_successor_id"),
        ),
    )
    with op.batch_alter_table("unit_successors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_unit_successors_predecessor_id"), ["predecessor_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_unit_successors_successor_id"), ["successor_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("unit_successors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_successors_successor_id"))
        batch_op.drop_index(batch_op.f("ix_unit_successors_predecessor_id"))
    op.drop_table("unit_successors")
