"""a form version may be empty (an XForm without one, as ODK Central stores it)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("form_versions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_form_versions_version_not_blank"), type_="check")


def downgrade():
    with op.batch_alter_table("form_versions", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_form_versions_version_not_blank"), sa.text("length(version) > 0")
        )
