"""What the evaluation report adds to the tests: item marks, key changes and coded comments.

``ItemMarks`` is a projection like ``ExamScore`` (per attempt, each item's mark, max and response),
rebuilt from the raw submissions by ``scores rebuild``; item analysis reads it instead of re-parsing
every submission. ``AnswerKeyChange`` is the audit row a dropped item leaves (who, when, why;
the report prints "rescored on <date>"). ``CommentCode`` holds the codes a trainer gave an open
comment by hand; comments nobody recoded are coded by keywords when the report is built.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime, utcnow


def _list_of(item: sa.types.TypeEngine) -> sa.types.TypeEngine:
    """A list column: a PostgreSQL array, a JSON array on SQLite (which has no arrays)."""
    return sa.JSON().with_variant(postgresql.ARRAY(item), "postgresql")


class ItemMarks(Base):
    """One scored attempt's row of the item matrix: its mark on each active item (a projection).

    One row per attempt, the items as parallel lists in key order, rather than one row per
    attempt × item: item analysis reads whole rows of the matrix anyway, and writing 40 rows
    (80 index entries and 80 foreign-key checks) cost PostgreSQL ~0.66 ms of the intake's CPU per
    scored test, against ~0.15 ms for one row (ARCHITECTURE "Item marks are a projection").
    """

    __tablename__ = "test_item_marks"
    __table_args__ = (
        sa.CheckConstraint(
            "cardinality(marks) = cardinality(items) AND cardinality(max_marks) = "
            "cardinality(items) AND cardinality(responses) = cardinality(items)",
            name="aligned",
        ).ddl_if(dialect="postgresql"),
        sa.CheckConstraint("0 < ALL (max_marks)", name="max_marks").ddl_if(dialect="postgresql"),
        sa.CheckConstraint("0 <= ALL (marks)", name="marks").ddl_if(dialect="postgresql"),
        sa.CheckConstraint(
            "json_array_length(marks) = json_array_length(items) AND json_array_length(max_marks)"
            " = json_array_length(items) AND json_array_length(responses) = "
            "json_array_length(items)",
            name="aligned_json",
        ).ddl_if(dialect="sqlite"),
    )

    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    #: The keyed version: item analysis pools the attempts of one version (spec §3.5).
    form_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("form_versions.id", ondelete="CASCADE"), index=True
    )
    #: The active items of the key, in key order; the lists below follow it.
    items: Mapped[list[str]] = mapped_column(_list_of(sa.Text))
    marks: Mapped[list[float]] = mapped_column(_list_of(sa.Double))
    max_marks: Mapped[list[float]] = mapped_column(_list_of(sa.Double))
    #: Each answer as stored (choice names, space-separated for select_multiple); None = blank.
    responses: Mapped[list[str | None]] = mapped_column(_list_of(sa.Text))


class AnswerKeyChange(Base):
    """An item dropped from (or restored to) a key after review, and the re-scoring it caused."""

    __tablename__ = "answer_key_changes"
    __table_args__ = (sa.CheckConstraint("change IN ('dropped', 'restored')", name="change"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("form_versions.id", ondelete="CASCADE"), index=True
    )
    item: Mapped[str] = mapped_column(sa.String(64))
    change: Mapped[str] = mapped_column(sa.String(8))
    reason: Mapped[str] = mapped_column(sa.Text)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    rescored: Mapped[int] = mapped_column(default=0)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CommentCode(Base):
    """One code a person gave one open comment (a comment may carry several)."""

    __tablename__ = "comment_codes"
    __table_args__ = (sa.CheckConstraint("code BETWEEN 1 AND 99", name="code"),)

    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    #: The open question answered (most_useful, improve, other_comments).
    question: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    code: Mapped[int] = mapped_column(primary_key=True)
    coded_by_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    coded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdentityLink(Base):
    """A trainer's answer to "who is this?" for a test sent under a name not on the roster.

    Collect's "not on the list" row lets a trainee take a test with a typed name; spec §3.10
    holds such attempts out of matched analyses until someone links them to a person. The link
    is kept here, not in the projection, so that rebuilding scores keeps it.
    """

    __tablename__ = "identity_links"

    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("persons.id", ondelete="CASCADE"), index=True
    )
    linked_by_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    linked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
