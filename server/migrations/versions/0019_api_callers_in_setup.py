"""setup generation: also bumped by api_tokens, users and user_forms (API callers are cached)

Revision ID: 0019
Revises: 0020
Create Date: 2026-12-04
"""

from alembic import op


revision = "0019"
down_revision = "0020"
branch_labels = None
depends_on = None

TABLES = ("api_tokens", "users", "user_forms")
BUMP = "UPDATE setup_generation SET value = value + 1 WHERE id = 1"


def upgrade():
    # bump_setup_generation() exists since 0012 on PostgreSQL.
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_bump_setup AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_setup_generation()"
            )
    else:
        for table in TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_bump_setup_{event.lower()} AFTER {event} ON {table} "
                    f"BEGIN {BUMP}; END"
                )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_bump_setup ON {table}")
    else:
        for table in TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_bump_setup_{event}")
