"""initial schema: units, forms, versions, media

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "admin_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(level = 'province' AND parent_id IS NULL) OR (level <> 'province' AND parent_id IS NOT NULL)",
            name=op.f("ck_admin_units_parent_by_level"),
        ),
        sa.CheckConstraint(
            "level IN ('province', 'district', 'commune', 'hamlet')",
            name=op.f("ck_admin_units_level"),
        ),
        sa.CheckConstraint("source IN ('official', 'import')", name=op.f("ck_admin_units_source")),
        sa.CheckConstraint(
            "length(code) > 0 AND length(name) > 0", name=op.f("ck_admin_units_not_blank")
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from", name=op.f("ck_admin_units_period")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["admin_units.id"],
            name=op.f("fk_admin_units_parent_id_admin_units"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_units")),
        sa.UniqueConstraint(
            "level", "code", "valid_from", name=op.f("uq_admin_units_level_code_valid_from")
        ),
    )
    with op.batch_alter_table("admin_units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_admin_units_code"), ["code"], unique=False)
        batch_op.create_index(batch_op.f("ix_admin_units_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('open', 'closing', 'closed')", name=op.f("ck_forms_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forms")),
        sa.UniqueConstraint("form_id", name=op.f("uq_forms_form_id")),
    )
    op.create_table(
        "form_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_pk", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("xml", sa.LargeBinary(), nullable=False),
        sa.Column("md5", sa.String(length=32), nullable=False),
        sa.Column("schema", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("source", sa.LargeBinary(), nullable=False),
        sa.Column("source_filename", sa.String(length=255), nullable=False),
        sa.Column("source_type", sa.String(length=8), nullable=False),
        sa.Column("is_encrypted", sa.Boolean(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(md5) = 32", name=op.f("ck_form_versions_md5_length")),
        sa.CheckConstraint("length(version) > 0", name=op.f("ck_form_versions_version_not_blank")),
        sa.ForeignKeyConstraint(
            ["form_pk"],
            ["forms.id"],
            name=op.f("fk_form_versions_form_pk_forms"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_versions")),
        sa.UniqueConstraint("form_pk", "version", name=op.f("uq_form_versions_form_pk_version")),
    )
    with op.batch_alter_table("form_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_form_versions_form_pk"), ["form_pk"], unique=False)

    op.create_table(
        "form_media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_version_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("md5", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(md5) = 32", name=op.f("ck_form_media_md5_length")),
        sa.ForeignKeyConstraint(
            ["form_version_id"],
            ["form_versions.id"],
            name=op.f("fk_form_media_form_version_id_form_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_media")),
        sa.UniqueConstraint(
            "form_version_id", "filename", name=op.f("uq_form_media_form_version_id_filename")
        ),
    )
    with op.batch_alter_table("form_media", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_form_media_form_version_id"), ["form_version_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("form_media", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_form_media_form_version_id"))

    op.drop_table("form_media")
    with op.batch_alter_table("form_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_form_versions_form_pk"))

    op.drop_table("form_versions")
    op.drop_table("forms")
    with op.batch_alter_table("admin_units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admin_units_parent_id"))
        batch_op.drop_index(batch_op.f("ix_admin_units_code"))

    op.drop_table("admin_units")
