"""courses, enrolments, answer keys, scores

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "courses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("course_type", sa.String(length=16), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("audience_level", sa.String(length=16), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("venue_unit_code", sa.String(length=32), nullable=True),
        sa.Column("organiser", sa.String(length=255), nullable=True),
        sa.Column("trainers", sa.JSON(), nullable=False),
        sa.Column("pass_mark", sa.Integer(), nullable=False),
        sa.Column("pre_form_id", sa.String(length=255), nullable=True),
        sa.Column("post_form_id", sa.String(length=255), nullable=True),
        sa.Column("satisfaction_form_id", sa.String(length=255), nullable=True),
        sa.Column("certificate", sa.String(length=32), nullable=True),
        sa.Column("objectives", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "course_type IN ('dao_tao', 'boi_duong', 'tap_huan')",
            name=op.f("ck_courses_course_type"),
        ),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_courses_status")),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_courses_dates")),
        sa.CheckConstraint("pass_mark BETWEEN 0 AND 100", name=op.f("ck_courses_pass_mark")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
        sa.UniqueConstraint("code", name=op.f("uq_courses_code")),
    )
    op.create_table(
        "enrolments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("attendance", sa.String(length=16), nullable=False),
        sa.Column("completion", sa.String(length=16), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=True),
        sa.CheckConstraint(
            "attendance IN ('enrolled', 'attended', 'absent')",
            name=op.f("ck_enrolments_attendance"),
        ),
        sa.CheckConstraint(
            "completion IN ('in_progress', 'completed', 'not_completed')",
            name=op.f("ck_enrolments_completion"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_enrolments_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_enrolments_person_id_persons"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolments")),
        sa.UniqueConstraint(
            "course_id", "person_id", name=op.f("uq_enrolments_course_id_person_id")
        ),
    )
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrolments_person_id"), ["person_id"], unique=False)

    op.create_table(
        "answer_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_version_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("qtype", sa.String(length=8), nullable=False),
        sa.Column("correct", sa.JSON(), nullable=False),
        sa.Column("points", sa.Double(), nullable=False),
        sa.Column("topic", sa.String(length=8), nullable=True),
        sa.Column("competency", sa.String(length=8), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.CheckConstraint("qtype IN ('single', 'multi', 'tf')", name=op.f("ck_answer_keys_qtype")),
        sa.CheckConstraint("status IN ('active', 'dropped')", name=op.f("ck_answer_keys_status")),
        sa.CheckConstraint("points > 0", name=op.f("ck_answer_keys_points")),
        sa.ForeignKeyConstraint(
            ["form_version_id"],
            ["form_versions.id"],
            name=op.f("fk_answer_keys_form_version_id_form_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_keys")),
        sa.UniqueConstraint(
            "form_version_id", "item", name=op.f("uq_answer_keys_form_version_id_item")
        ),
    )
    with op.batch_alter_table("answer_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_answer_keys_form_version_id"), ["form_version_id"], unique=False
        )

    op.create_table(
        "submission_links",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("course_code", sa.String(length=64), nullable=True),
        sa.Column("person_code", sa.String(length=64), nullable=True),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("unknown_course", sa.Boolean(), nullable=False),
        sa.Column("unknown_person", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_submission_links_course_id_courses"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_submission_links_person_id_persons"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_submission_links_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_submission_links")),
    )
    op.create_table(
        "test_scores",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=8), nullable=True),
        sa.Column("raw", sa.Double(), nullable=False),
        sa.Column("maximum", sa.Double(), nullable=False),
        sa.Column("percent", sa.Double(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("marks", sa.JSON(), nullable=False),
        sa.Column("blank", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_test_scores_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_test_scores")),
    )


def downgrade():
    op.drop_table("test_scores")
    op.drop_table("submission_links")
    with op.batch_alter_table("answer_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answer_keys_form_version_id"))

    op.drop_table("answer_keys")
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolments_person_id"))

    op.drop_table("enrolments")
    op.drop_table("courses")
