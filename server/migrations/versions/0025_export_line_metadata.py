"""export lines keep the submission's fixed metadata cells too

A CSV download spent most of its remaining time per row rendering the metadata columns that
never change once a submission is stored (instanceID, version, submitter, device, the two
times). The intake now renders them once with the answers (``export_lines.meta``); only the
review state and the scores are rendered per download.

Triggers forget the metadata cells whenever what they show changes, whoever writes it: a
submission's own columns, a user's name, a version's name.

Revision ID: 0025
Revises: 0022
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa


revision = "0025"
down_revision = "0022"
branch_labels = None
depends_on = None

#: The statements that forget metadata cells, by trigger: (name, table, columns, rows).
FORGET = (
    ("submissions_metadata_changed", "submissions",
     "form_version_id, submitter_user_id, submitter_device_id, device_id, received_at, "
     "submitted_at", "submission_id = NEW.id"),
    ("users_name_changed", "users", "username",
     "submission_id IN (SELECT id FROM submissions WHERE submitter_user_id = NEW.id)"),
    ("form_versions_name_changed", "form_versions", "version",
     "submission_id IN (SELECT id FROM submissions WHERE form_version_id = NEW.id)"),
)  # fmt: skip


#: One queued ``forms.export_lines`` job per form with submissions (``services/jobs.enqueue``'s
#: row, written in SQL: a migration never imports the application).
QUEUE = (
    "INSERT INTO jobs (kind, state, owner_id, params, done, total, message, attempts, "
    "created_at) SELECT 'forms.export_lines', 'queued', NULL, {params}, 0, 0, "
    "'Đang chờ / Waiting', 0, CURRENT_TIMESTAMP FROM forms "
    "WHERE EXISTS (SELECT 1 FROM submissions WHERE submissions.form_pk = forms.id)"
)


def upgrade():
    op.add_column("export_lines", sa.Column("meta", sa.Text(), nullable=True))
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:  # as the other columns (0020): lz4 where the server has it
        op.execute(
            "DO $$ BEGIN "
            "EXECUTE 'ALTER TABLE export_lines ALTER COLUMN meta SET COMPRESSION lz4'; "
            "EXCEPTION WHEN OTHERS THEN NULL; END $$"
        )
    for name, table, columns, rows in FORGET:
        forget = f"UPDATE export_lines SET meta = NULL WHERE {rows}"  # noqa: S608 (constants)
        if postgresql:
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN {forget}; RETURN NULL; END $$"
            )
            op.execute(
                f"CREATE TRIGGER {name} AFTER UPDATE OF {columns} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {name}()"
            )
        else:
            op.execute(
                f"CREATE TRIGGER {name} AFTER UPDATE OF {columns} ON {table} BEGIN {forget}; END"
            )
    json = "json_build_object" if postgresql else "json_object"
    op.execute(QUEUE.format(params=f"{json}('form_id', forms.form_id)"))


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, table, _columns, _rows in FORGET:
        if postgresql:
            op.execute(f"DROP TRIGGER {name} ON {table}")
            op.execute(f"DROP FUNCTION {name}()")
        else:
            op.execute(f"DROP TRIGGER {name}")
    # Not a batch copy: 0020's trigger names the table, and SQLite (3.35+) drops in place.
    op.execute("ALTER TABLE export_lines DROP COLUMN meta")
