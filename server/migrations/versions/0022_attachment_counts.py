"""attachment counts on the submission, kept by triggers on its attachments

A listing page counted the attachments of its rows (one grouped pass over the page), which
cost the database about half of the page. The counts now live on the submission, and triggers
on ``submission_attachments`` keep them for every writer (intake, split uploads, edits, a
restore by hand), so no code path can forget them.

Revision ID: 0022
Revises: 0019
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa


revision = "0022"
down_revision = "0019"
branch_labels = None
depends_on = None

RECOUNT = (
    "UPDATE submissions SET "
    "attachments_expected = (SELECT count(*) FROM submission_attachments a "
    "WHERE a.submission_id = submissions.id), "
    "attachments_present = (SELECT count(a.sha256) FROM submission_attachments a "
    "WHERE a.submission_id = submissions.id) "
    "WHERE id = {row}.submission_id"
)


def upgrade():
    # Plain ALTERs, not a batch: SQLite's batch copies the table and would drop its triggers.
    for name in ("attachments_expected", "attachments_present"):
        op.add_column(
            "submissions", sa.Column(name, sa.Integer(), server_default="0", nullable=False)
        )
    if op.get_bind().dialect.name == "postgresql":  # SQLite cannot add a constraint later
        op.create_check_constraint(
            op.f("ck_submissions_attachment_counts"),
            "submissions",
            "attachments_present >= 0 AND attachments_present <= attachments_expected",
        )
    op.execute(
        "UPDATE submissions SET "
        "attachments_expected = (SELECT count(*) FROM submission_attachments a "
        "WHERE a.submission_id = submissions.id), "
        "attachments_present = (SELECT count(a.sha256) FROM submission_attachments a "
        "WHERE a.submission_id = submissions.id) "
        "WHERE id IN (SELECT submission_id FROM submission_attachments)"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION count_attachments() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP <> 'INSERT' THEN {RECOUNT.format(row='OLD')}; END IF; "
            f"IF TG_OP <> 'DELETE' THEN {RECOUNT.format(row='NEW')}; END IF; "
            "RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER submission_attachments_counted AFTER INSERT OR DELETE OR "
            "UPDATE OF sha256, submission_id ON submission_attachments "
            "FOR EACH ROW EXECUTE FUNCTION count_attachments()"
        )
    else:
        op.execute(
            "CREATE TRIGGER submission_attachments_added AFTER INSERT ON submission_attachments "
            f"BEGIN {RECOUNT.format(row='NEW')}; END"
        )
        op.execute(
            "CREATE TRIGGER submission_attachments_removed AFTER DELETE ON submission_attachments "
            f"BEGIN {RECOUNT.format(row='OLD')}; END"
        )
        op.execute(
            "CREATE TRIGGER submission_attachments_changed AFTER UPDATE OF sha256, submission_id "
            f"ON submission_attachments BEGIN {RECOUNT.format(row='OLD')}; "
            f"{RECOUNT.format(row='NEW')}; END"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER submission_attachments_counted ON submission_attachments")
        op.execute("DROP FUNCTION count_attachments()")
    else:
        for name in ("added", "removed", "changed"):
            op.execute(f"DROP TRIGGER submission_attachments_{name}")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_submissions_attachment_counts"), "submissions", type_="check")
    op.drop_column("submissions", "attachments_present")
    op.drop_column("submissions", "attachments_expected")
