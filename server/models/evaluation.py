"""What the evaluation report adds to the tests: item marks, key changes and coded comments.

``ItemMark`` is a projection like ``ExamScore`` (attempt × item: mark, max, response), rebuilt
from the raw submissions by ``scores rebuild``; item analysis reads it instead of re-parsing
every submission. ``AnswerKeyChange`` is the audit row a dropped item leaves (who, when, why;
the report prints "rescored on <date>"). ``CommentCode`` holds the codes a trainer gave an open
comment by hand; comments nobody recoded are coded by keywords when the report is built.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime, utcnow


class ItemMark(Base):
    """The mark of one test submission on one active item of its key (a projection)."""

    __tablename__ = "test_item_marks"
    __table_args__ = (
        sa.CheckConstraint("max_mark > 0", name="max_mark"),
        sa.CheckConstraint("mark >= 0 AND mark <= max_mark", name="mark"),
    )

    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    item: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    #: The keyed version: item analysis pools the attempts of one version (spec §3.5).
    form_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("form_versions.id", ondelete="CASCADE"), index=True
    )
    mark: Mapped[float]
    max_mark: Mapped[float]
    #: The answer as stored (choice names, space-separated for select_multiple); None = blank.
    response: Mapped[str | None] = mapped_column(sa.String(255))


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
