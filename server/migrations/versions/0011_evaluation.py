"""evaluation report: item marks, answer-key changes, comment codes, identity links, attempts

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("test_scores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bank_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("bank_version", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "test_item_marks",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("form_version_id", sa.Integer(), nullable=False),
        sa.Column("mark", sa.Double(), nullable=False),
        sa.Column("max_mark", sa.Double(), nullable=False),
        sa.Column("response", sa.String(length=255), nullable=True),
        sa.CheckConstraint("max_mark > 0", name=op.f("ck_test_item_marks_max_mark")),
        sa.CheckConstraint("mark >= 0 AND mark <= max_mark", name=op.f("ck_test_item_marks_mark")),
        sa.ForeignKeyConstraint(
            ["form_version_id"],
            ["form_versions.id"],
            name=op.f("fk_test_item_marks_form_version_id_form_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_test_item_marks_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", "item", name=op.f("pk_test_item_marks")),
    )
    op.create_index(
        op.f("ix_test_item_marks_form_version_id"),
        "test_item_marks",
        ["form_version_id"],
        unique=False,
    )
    op.create_table(
        "answer_key_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_version_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("change", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("rescored", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "change IN ('dropped', 'restored')", name=op.f("ck_answer_key_changes_change")
        ),
        sa.ForeignKeyConstraint(
            ["form_version_id"],
            ["form_versions.id"],
            name=op.f("fk_answer_key_changes_form_version_id_form_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_answer_key_changes_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_key_changes")),
    )
    op.create_index(
        op.f("ix_answer_key_changes_form_version_id"),
        "answer_key_changes",
        ["form_version_id"],
        unique=False,
    )
    op.create_table(
        "comment_codes",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=64), nullable=False),
        sa.Column("code", sa.Integer(), nullable=False),
        sa.Column("coded_by_user_id", sa.Integer(), nullable=True),
        sa.Column("coded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("code BETWEEN 1 AND 99", name=op.f("ck_comment_codes_code")),
        sa.ForeignKeyConstraint(
            ["coded_by_user_id"],
            ["users.id"],
            name=op.f("fk_comment_codes_coded_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_comment_codes_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", "question", "code", name=op.f("pk_comment_codes")),
    )
    op.create_table(
        "identity_links",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("linked_by_user_id", sa.Integer(), nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["linked_by_user_id"],
            ["users.id"],
            name=op.f("fk_identity_links_linked_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_identity_links_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_identity_links_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_identity_links")),
    )
    op.create_index(
        op.f("ix_identity_links_person_id"), "identity_links", ["person_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_identity_links_person_id"), table_name="identity_links")
    op.drop_table("identity_links")
    op.drop_table("comment_codes")
    op.drop_index(op.f("ix_answer_key_changes_form_version_id"), table_name="answer_key_changes")
    op.drop_table("answer_key_changes")
    op.drop_index(op.f("ix_test_item_marks_form_version_id"), table_name="test_item_marks")
    op.drop_table("test_item_marks")
    with op.batch_alter_table("test_scores", schema=None) as batch_op:
        batch_op.drop_column("ended_at")
        batch_op.drop_column("started_at")
        batch_op.drop_column("bank_version")
        batch_op.drop_column("bank_id")
