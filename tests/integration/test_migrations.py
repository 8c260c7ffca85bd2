"""Migrations build the whole schema from an empty database, and the models agree with it."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from server import MIGRATIONS_DIR, create_app
from server.extensions import db
from tests.factories import make_config

TABLES = {
    "admin_units",
    "jobs",
    "unit_successors",
    "forms",
    "form_versions",
    "form_media",
    "alembic_version",
    "users",
    "user_forms",
    "devices",
    "device_forms",
    "submissions",
    "submission_attachments",
    "test_item_marks",
    "answer_key_changes",
    "comment_codes",
    "identity_links",
    "api_tokens",
    "audit_events",
    "persons",
    "postings",
    "person_certificates",
    "courses",
    "enrolments",
    "answer_keys",
    "submission_links",
    "test_scores",
    "auth_throttle",
    "digest_nonce_uses",
    "web_sessions",
    "kpi_targets",
    "report_settings",
    "needs_responses",
    "needs_ratings",
    "needs_choices",
    "setup_generation",
    "first_run_codes",
    "projection_failures",
    "export_lines",
    "password_links",
}


def test_migrations_run_up_from_empty_down_and_up_again(databases, backend, tmp_path):
    url = databases.empty(backend)
    app = create_app(make_config(url, tmp_path / "storage"))
    try:
        with app.app_context():
            upgrade(directory=str(MIGRATIONS_DIR))
            assert set(sa.inspect(db.engine).get_table_names()) == TABLES
            with db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                assert compare_metadata(context, db.metadata) == []
            downgrade(directory=str(MIGRATIONS_DIR), revision="base")
            assert set(sa.inspect(db.engine).get_table_names()) == {"alembic_version"}
            upgrade(directory=str(MIGRATIONS_DIR))
            assert set(sa.inspect(db.engine).get_table_names()) == TABLES
            db.engine.dispose()
    finally:
        databases.drop(url)


def test_database_constraints_hold(session):
    """Invariants live in the database, not only in the services."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    bad_rows = [
        "INSERT INTO forms (form_id, title, state, created_at, updated_at) "
        "VALUES ('x', 'X', 'archived', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "INSERT INTO admin_units (level, code, name, valid_from, source, created_at, updated_at)"
        " VALUES ('commune', '1', 'Xã', '2020-01-01', 'import', CURRENT_TIMESTAMP,"
        " CURRENT_TIMESTAMP)",
        "INSERT INTO admin_units (level, code, name, valid_from, valid_to, source, created_at,"
        " updated_at) VALUES ('province', '1', 'T', '2020-01-01', '2019-01-01', 'import',"
        " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "INSERT INTO form_versions (form_pk, version, title, xml, md5, schema, warnings, source,"
        " source_filename, source_type, is_encrypted, published_at) VALUES (999, '1', 't', 'x',"
        " 'abc', '{}', '[]', 'x', 'f', '.md', false, CURRENT_TIMESTAMP)",
    ]
    for statement in bad_rows:
        with pytest.raises(IntegrityError):
            session.execute(sa.text(statement))
        session.rollback()
