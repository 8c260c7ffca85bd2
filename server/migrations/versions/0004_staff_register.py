"""staff register

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("full_name", sa.String(length=255), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("education_level", sa.String(length=32), nullable=True),
        sa.Column("education_field", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("sex IN ('m', 'f')", name=op.f("ck_persons_sex")),
        sa.CheckConstraint(
            "birth_year IS NULL OR birth_year BETWEEN 1930 AND 2015",
            name=op.f("ck_persons_birth_year"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
        sa.UniqueConstraint("code", name=op.f("uq_persons_code")),
    )
    op.create_table(
        "person_certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_person_certificates_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_certificates")),
        sa.UniqueConstraint(
            "person_id", "code", name=op.f("uq_person_certificates_person_id_code")
        ),
    )
    with op.batch_alter_table("person_certificates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_certificates_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "postings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("employment_type", sa.String(length=16), nullable=False),
        sa.Column("job_category", sa.String(length=32), nullable=False),
        sa.Column("leadership", sa.String(length=16), nullable=True),
        sa.Column("ctv_roles", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "employment_type IN ('cong_chuc', 'vien_chuc', 'hop_dong', 'ctv')",
            name=op.f("ck_postings_employment"),
        ),
        sa.CheckConstraint(
            "level IN ('province', 'district', 'commune', 'village')",
            name=op.f("ck_postings_level"),
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from", name=op.f("ck_postings_period")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_postings_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["admin_units.id"],
            name=op.f("fk_postings_unit_id_admin_units"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postings")),
        sa.UniqueConstraint(
            "person_id", "valid_from", name=op.f("uq_postings_person_id_valid_from")
        ),
    )
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_postings_person_id"), ["person_id"], unique=False)
        batch_op.create_index("ix_postings_unit_period", ["unit_id", "valid_from"], unique=False)


def downgrade():
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.drop_index("ix_postings_unit_period")
        batch_op.drop_index(batch_op.f("ix_postings_person_id"))

    op.drop_table("postings")
    with op.batch_alter_table("person_certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_certificates_person_id"))

    op.drop_table("person_certificates")
    op.drop_table("persons")
