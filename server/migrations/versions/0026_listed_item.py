"""submissions keep their listing item as JSON text, written by PostgreSQL itself

A page of the submissions listing spent most of its time turning each row's fifteen columns
into Python values and a dict, then JSON again: ~9 ms for 1,000 rows, where the statement
itself took 2. On PostgreSQL a ``BEFORE INSERT OR UPDATE`` trigger now writes the item the API
lists (``submissions.listed_item``), so a page reads one text column per row and hands it on.

The trigger runs for every writer (the intake, a review, a delete, an attachment's arrival
through 0022's counting triggers, a bulk load, a migration), so the text is never stale for
what the row holds. What it borrows from other tables (the form's id, the version's name, the
submitter's name) is refreshed by triggers on those tables, which touch the rows that show it.

SQLite keeps the column empty: it has no trigger that can change the row being written, and
the listing renders items in Python for rows without one (any database).

Writing the item costs PostgreSQL ~0.3 ms of CPU per statement (the expression is set up
again in every transaction), which the intake's ≤ 5 ms per submission cannot spare: the
intake renders a new submission's item itself, from the values it inserts, and passes all
of it after the id (``,"form_id":…}``), which the trigger then only completes with the id.
Any other INSERT gets the whole item written (one that brings a complete item, e.g. rows
copied from another database, too); so does every UPDATE.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa


revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

#: A time as orjson writes an aware UTC datetime: seconds, microseconds only when there are
#: any, and the offset written out. Explicit about UTC, so that a session in another zone (an
#: administrator's psql) writes the same text. ``to_json`` and ``date_part`` rather than
#: ``to_char``, which cost the insert of a submission ~15 µs a time.
TIME = """
CREATE FUNCTION listed_time(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN t IS NULL THEN 'null' ELSE
    left(to_json(date_trunc('second', t AT TIME ZONE 'UTC'))::text, -1)
    || CASE WHEN t = date_trunc('second', t) THEN '' ELSE
         '.' || lpad((date_part('microseconds', t AT TIME ZONE 'UTC')::int % 1000000)::text,
                     6, '0') END
    || '+00:00"' END
$$
"""

#: The item of ``SubmissionSchema``, in its order (``submission_queries.LISTED``): the text
#: ``orjson.dumps`` writes for the row's dict, but for how a string's escapes are spelt.
ITEM = """
CREATE FUNCTION submissions_listed_item() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  form text;
  version text;
  submitter text;
BEGIN
  IF TG_OP = 'INSERT' AND left(NEW.listed_item, 1) = ',' THEN
    -- the intake's item, but for the id it cannot know (see the module's docstring)
    NEW.listed_item := '{"id":' || NEW.id || NEW.listed_item;
    RETURN NEW;
  END IF;
  SELECT f.form_id, v.version, u.username INTO form, version, submitter
    FROM form_versions v
    JOIN forms f ON f.id = NEW.form_pk
    LEFT JOIN users u ON u.id = NEW.submitter_user_id
   WHERE v.id = NEW.form_version_id;
  IF NEW.submitter_user_id IS NULL AND NEW.submitter_device_id <> 0 THEN
    submitter := 'device:' || NEW.submitter_device_id;
  END IF;
  NEW.listed_item := concat(
    '{"id":', NEW.id,
    ',"form_id":', coalesce(to_json(form)::text, 'null'),
    ',"version":', coalesce(to_json(version)::text, 'null'),
    ',"instance_id":', to_json(NEW.instance_id),
    ',"instance_name":', coalesce(to_json(NEW.instance_name)::text, 'null'),
    ',"review_state":', to_json(NEW.review_state),
    ',"received_at":', listed_time(NEW.received_at),
    ',"submitted_at":', listed_time(NEW.submitted_at),
    ',"submitter":', coalesce(to_json(submitter)::text, 'null'),
    ',"device_id":', coalesce(to_json(NEW.device_id)::text, 'null'),
    ',"unit_code":', coalesce(to_json(NEW.unit_code)::text, 'null'),
    ',"is_encrypted":', to_json(NEW.is_encrypted),
    ',"is_deleted":', to_json(NEW.deleted_at IS NOT NULL),
    ',"attachments_expected":', NEW.attachments_expected,
    ',"attachments_present":', NEW.attachments_present,
    '}');
  RETURN NEW;
END
$$
"""

#: Rows whose item shows another table's value, touched when that value changes (the
#: submission's own trigger then writes the item again): (name, table, column, rows).
TOUCH = (
    ("forms_id_listed", "forms", "form_id", "form_pk = NEW.id"),
    ("users_name_listed", "users", "username", "submitter_user_id = NEW.id"),
    ("form_versions_name_listed", "form_versions", "version", "form_version_id = NEW.id"),
)


def upgrade():
    op.add_column("submissions", sa.Column("listed_item", sa.Text(), nullable=True))
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(TIME)
    op.execute(ITEM)
    op.execute(
        "CREATE TRIGGER submissions_listed_item BEFORE INSERT OR UPDATE ON submissions "
        "FOR EACH ROW EXECUTE FUNCTION submissions_listed_item()"
    )
    for name, table, column, rows in TOUCH:
        touch = f"UPDATE submissions SET listed_item = NULL WHERE {rows}"  # noqa: S608 (constants)
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"{touch}; RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {name} AFTER UPDATE OF {column} ON {table} FOR EACH ROW "
            f"WHEN (OLD.{column} IS DISTINCT FROM NEW.{column}) EXECUTE FUNCTION {name}()"
        )
    # Every stored row gets its item: the update is the trigger's to write.
    op.execute("UPDATE submissions SET listed_item = NULL")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name, table, _column, _rows in TOUCH:
            op.execute(f"DROP TRIGGER {name} ON {table}")
            op.execute(f"DROP FUNCTION {name}()")
        op.execute("DROP TRIGGER submissions_listed_item ON submissions")
        op.execute("DROP FUNCTION submissions_listed_item()")
        op.execute("DROP FUNCTION listed_time(timestamptz)")
    op.execute("ALTER TABLE submissions DROP COLUMN listed_item")  # in place on SQLite 3.35+
