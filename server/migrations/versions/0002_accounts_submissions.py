"""accounts, devices, submissions, attachments

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_devices_token_sha256")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("full_name", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("digest_ha1", sa.String(length=32), nullable=False),
        sa.Column("digest_realm", sa.String(length=100), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'trainer', 'planner', 'collector')", name=op.f("ck_users_role")
        ),
        sa.CheckConstraint("length(username) > 0", name=op.f("ck_users_username_not_blank")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "device_forms",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("form_pk", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_device_forms_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["form_pk"],
            ["forms.id"],
            name=op.f("fk_device_forms_form_pk_forms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("device_id", "form_pk", name=op.f("pk_device_forms")),
    )
    op.create_table(
        "user_forms",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("form_pk", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["form_pk"], ["forms.id"], name=op.f("fk_user_forms_form_pk_forms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_forms_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "form_pk", name=op.f("pk_user_forms")),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_pk", sa.Integer(), nullable=False),
        sa.Column("form_version_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=255), nullable=False),
        sa.Column("deprecated_id", sa.String(length=255), nullable=True),
        sa.Column("root_id", sa.Integer(), nullable=True),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("xml", sa.LargeBinary(), nullable=False),
        sa.Column("md5", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("instance_name", sa.String(length=255), nullable=True),
        sa.Column("is_encrypted", sa.Boolean(), nullable=False),
        sa.Column("review_state", sa.String(length=16), nullable=False),
        sa.Column("device_id", sa.String(length=255), nullable=True),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column("submitter_user_id", sa.Integer(), nullable=True),
        sa.Column("submitter_device_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "review_state IN ('received', 'edited', 'has_issues', 'approved', 'rejected')",
            name=op.f("ck_submissions_review_state"),
        ),
        sa.CheckConstraint("length(md5) = 32", name=op.f("ck_submissions_md5_length")),
        sa.ForeignKeyConstraint(
            ["form_pk"],
            ["forms.id"],
            name=op.f("fk_submissions_form_pk_forms"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["form_version_id"],
            ["form_versions.id"],
            name=op.f("fk_submissions_form_version_id_form_versions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["root_id"],
            ["submissions.id"],
            name=op.f("fk_submissions_root_id_submissions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["submitter_device_id"],
            ["devices.id"],
            name=op.f("fk_submissions_submitter_device_id_devices"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["submitter_user_id"],
            ["users.id"],
            name=op.f("fk_submissions_submitter_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
        sa.UniqueConstraint(
            "form_pk", "instance_id", name=op.f("uq_submissions_form_pk_instance_id")
        ),
    )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_submissions_form_received", ["form_pk", "received_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_submissions_form_version_id"), ["form_version_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_submissions_root_id"), ["root_id"], unique=False)

    op.create_table(
        "submission_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=128), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_submission_attachments_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_attachments")),
        sa.UniqueConstraint(
            "submission_id", "name", name=op.f("uq_submission_attachments_submission_id_name")
        ),
    )
    with op.batch_alter_table("submission_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submission_attachments_submission_id"), ["submission_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("submission_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_attachments_submission_id"))

    op.drop_table("submission_attachments")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submissions_root_id"))
        batch_op.drop_index(batch_op.f("ix_submissions_form_version_id"))
        batch_op.drop_index("ix_submissions_form_received")

    op.drop_table("submissions")
    op.drop_table("user_forms")
    op.drop_table("device_forms")
    op.drop_table("users")
    op.drop_table("devices")
