"""item marks: one row per scored attempt (the items as parallel lists) instead of per item

A scored 40-item test wrote 40 ``test_item_marks`` rows at intake: 40 heap rows, 80 index
entries and 80 foreign-key checks, ~0.66 ms of PostgreSQL's CPU per submission (one row with
its checks: ~0.15 ms), an eighth of the intake's whole budget. Item analysis reads whole rows
of the attempt × item matrix anyway, so a row per attempt holds the same facts: the active
items in key order, and aligned with them the marks, the maxima and the responses. PostgreSQL
keeps them as arrays (checked aligned, maxima positive, marks not negative), SQLite as JSON
arrays (checked aligned).

The rows already there are folded per attempt (and unfolded on the way down).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def _list_of(item):
    return sa.JSON().with_variant(postgresql.ARRAY(item), "postgresql")


def _checks(dialect: str) -> list[sa.CheckConstraint]:
    if dialect == "postgresql":
        return [
            sa.CheckConstraint(
                "cardinality(marks) = cardinality(items) AND cardinality(max_marks) = "
                "cardinality(items) AND cardinality(responses) = cardinality(items)",
                name=op.f("ck_test_item_marks_aligned"),
            ),
            sa.CheckConstraint("0 < ALL (max_marks)", name=op.f("ck_test_item_marks_max_marks")),
            sa.CheckConstraint("0 <= ALL (marks)", name=op.f("ck_test_item_marks_marks")),
        ]
    return [
        sa.CheckConstraint(
            "json_array_length(marks) = json_array_length(items) AND json_array_length(max_marks)"
            " = json_array_length(items) AND json_array_length(responses) = "
            "json_array_length(items)",
            name=op.f("ck_test_item_marks_aligned_json"),
        )
    ]


def _foreign_keys() -> list[sa.ForeignKeyConstraint]:
    """Both shapes of the table: rows go with their submission and with their version."""
    return [
        sa.ForeignKeyConstraint(
            ["form_version_id"],
            ["form_versions.id"],
            name=op.f("fk_test_item_marks_form_version_id_form_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_test_item_marks_submission_id_submissions"),
            ondelete="CASCADE",
        ),
    ]


def _create(dialect: str) -> None:
    op.create_table(
        "test_item_marks",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("form_version_id", sa.Integer(), nullable=False),
        sa.Column("items", _list_of(sa.Text()), nullable=False),
        sa.Column("marks", _list_of(sa.Double()), nullable=False),
        sa.Column("max_marks", _list_of(sa.Double()), nullable=False),
        sa.Column("responses", _list_of(sa.Text()), nullable=False),
        *_checks(dialect),
        *_foreign_keys(),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_test_item_marks")),
    )


def _create_per_item() -> None:
    op.create_table(
        "test_item_marks",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("form_version_id", sa.Integer(), nullable=False),
        sa.Column("mark", sa.Double(), nullable=False),
        sa.Column("max_mark", sa.Double(), nullable=False),
        sa.Column("response", sa.String(length=255), nullable=True),
        sa.CheckConstraint("max_mark > 0", name=op.f("ck_test_item_marks_max_mark")),
        sa.CheckConstraint("mark >= 0 AND mark <= max_mark", name=op.f("ck_test_item_marks_mark")),
        *_foreign_keys(),
        sa.PrimaryKeyConstraint("submission_id", "item", name=op.f("pk_test_item_marks")),
    )


#: Rows per attempt, the lists aligned: all four are aggregated in one pass in one order. The
#: old table goes before the new one is made (their constraints share names), so the rows wait
#: in a temporary table.
_FOLD = {
    "postgresql": (
        "CREATE TEMPORARY TABLE item_marks_moving AS SELECT submission_id, "
        "min(form_version_id) AS form_version_id, "
        "array_agg(CAST(item AS text) ORDER BY item) AS items, "
        "array_agg(mark ORDER BY item) AS marks, array_agg(max_mark ORDER BY item) AS max_marks, "
        "array_agg(CAST(response AS text) ORDER BY item) AS responses "
        "FROM test_item_marks GROUP BY submission_id"
    ),
    "sqlite": (
        "CREATE TEMPORARY TABLE item_marks_moving AS SELECT submission_id, "
        "min(form_version_id) AS form_version_id, json_group_array(item) AS items, "
        "json_group_array(mark) AS marks, json_group_array(max_mark) AS max_marks, "
        "json_group_array(response) AS responses "
        "FROM (SELECT * FROM test_item_marks ORDER BY submission_id, item) "
        "GROUP BY submission_id"
    ),
}
_UNFOLD = {
    "postgresql": (
        "CREATE TEMPORARY TABLE item_marks_moving AS SELECT m.submission_id, u.item, "
        "m.form_version_id, u.mark, u.max_mark, u.response FROM test_item_marks AS m, "
        "unnest(m.items, m.marks, m.max_marks, m.responses) AS u(item, mark, max_mark, response)"
    ),
    "sqlite": (
        "CREATE TEMPORARY TABLE item_marks_moving AS SELECT m.submission_id, i.value AS item, "
        "m.form_version_id, json_extract(m.marks, '$[' || i.key || ']') AS mark, "
        "json_extract(m.max_marks, '$[' || i.key || ']') AS max_mark, "
        "json_extract(m.responses, '$[' || i.key || ']') AS response "
        "FROM test_item_marks AS m, json_each(m.items) AS i"
    ),
}
_LIST_COLUMNS = "submission_id, form_version_id, items, marks, max_marks, responses"
_ITEM_COLUMNS = "submission_id, item, form_version_id, mark, max_mark, response"


def _move(fold: str, create, columns: str) -> None:
    op.execute(fold)
    op.drop_index(op.f("ix_test_item_marks_form_version_id"), table_name="test_item_marks")
    op.drop_table("test_item_marks")
    create()
    op.execute(
        f"INSERT INTO test_item_marks ({columns}) SELECT {columns} FROM item_marks_moving"  # noqa: S608
    )
    op.execute("DROP TABLE item_marks_moving")
    op.create_index(
        op.f("ix_test_item_marks_form_version_id"), "test_item_marks", ["form_version_id"]
    )


def upgrade():
    dialect = op.get_bind().dialect.name
    _move(_FOLD[dialect], lambda: _create(dialect), _LIST_COLUMNS)


def downgrade():
    dialect = op.get_bind().dialect.name
    _move(_UNFOLD[dialect], _create_per_item, _ITEM_COLUMNS)
