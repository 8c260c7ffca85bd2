"""export lines: each submission's answer cells as CSV text and sheet XML, rendered on arrival

A trigger forgets a submission's line when its answers change, so a line can never show
answers the submission no longer holds, whoever writes them.

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa


revision = "0020"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "export_lines",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("plan", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("sheet", sa.Text(), nullable=False),
        sa.CheckConstraint("length(plan) = 16", name=op.f("ck_export_lines_plan_signature")),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_export_lines_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_export_lines")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # A line (about 2 KB of sheet XML) is compressed when stored: lz4 costs a fraction of
        # PostgreSQL's default pglz on every insert. A server built without lz4 keeps pglz.
        op.execute(
            "DO $$ BEGIN "
            "EXECUTE 'ALTER TABLE export_lines ALTER COLUMN text SET COMPRESSION lz4, "
            "ALTER COLUMN sheet SET COMPRESSION lz4'; "
            "EXCEPTION WHEN OTHERS THEN NULL; END $$"
        )
        op.execute(
            "CREATE FUNCTION forget_export_line() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN DELETE FROM export_lines WHERE submission_id = NEW.id; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER submissions_answers_changed AFTER UPDATE OF data, instance_id "
            "ON submissions FOR EACH ROW EXECUTE FUNCTION forget_export_line()"
        )
    else:
        op.execute(
            "CREATE TRIGGER submissions_answers_changed AFTER UPDATE OF data, instance_id "
            "ON submissions BEGIN DELETE FROM export_lines WHERE submission_id = NEW.id; END"
        )


def downgrade():
    op.execute("DROP TRIGGER submissions_answers_changed ON submissions"
               if op.get_bind().dialect.name == "postgresql"
               else "DROP TRIGGER submissions_answers_changed")  # fmt: skip
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION forget_export_line()")
    op.drop_table("export_lines")
