"""Changing what was received: review states, soft delete and restore, form states.

Every change writes an :class:`AuditEvent` in the same transaction, so the audit log can never
miss a change that happened (nor show one that was rolled back).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.domain.policy import Action
from server.errors import InvalidRequest, SubmissionNotFound
from server.models import AuditEvent, Form, Submission, User
from server.models.forms import FORM_STATES
from server.services.audit import record
from server.services.needs_projection import project_needs
from server.services.permissions import allowed, require, units_of
from server.services.submission_queries import history, scope_clause

#: States a reviewer may set ("received" and "edited" are set by the server).
REVIEW_CHOICES = ("received", "has_issues", "approved", "rejected")


def get_submission(session: Session, user: User, submission_id: int) -> Submission:
    """Return a submission the user may read (deleted ones only to admins).

    :raises SubmissionNotFound: unknown, or deleted and the user is not an admin.
    :raises FormNotReadable: the user may not read its form.
    """
    row = session.get(Submission, submission_id)
    if row is None or (
        row.deleted_at is not None and not allowed(user, Action.SUBMISSION_READ_DELETED)
    ):
        raise SubmissionNotFound(submission_id=submission_id)
    require(user, Action.SUBMISSION_READ, form=row.form)
    units = units_of(user, Action.SUBMISSION_READ)
    if units is not None:
        mine = scope_clause(session, units)
        inside = session.scalar(sa.select(Submission.id).where(Submission.id == row.id, mine))
        require(user, Action.SUBMISSION_READ, form=row.form, in_units=inside is not None)
    return row


def review_submission(
    session: Session,
    user: User,
    row: Submission,
    *,
    state: str,
    comment: str | None,
    now: dt.datetime,
) -> Submission:
    """Set a submission's review state and comment (admins and trainers).

    :raises RoleNotAllowed: for other roles.
    :raises InvalidRequest: for an unknown state.
    """
    require(user, Action.SUBMISSION_REVIEW)
    if state not in REVIEW_CHOICES:
        raise InvalidRequest(
            reason="not_a_choice",
            field="review_state",
            choices=list(REVIEW_CHOICES),
            fields={"review_state": [f"not one of {REVIEW_CHOICES}"]},
        )
    details = {"from": row.review_state, "to": state, "comment": comment}
    row.review_state, row.review_comment = state, comment
    row.reviewed_by_user_id, row.reviewed_at = user.id, now
    record(session, user=user, action="submission.review", target=row, details=details, now=now)
    return row


def delete_submission(session: Session, user: User, row: Submission, *, now: dt.datetime) -> None:
    """Soft-delete a record (all its versions): hidden everywhere, its instanceIDs refused."""
    require(user, Action.SUBMISSION_DELETE)
    for version in history(session, row):
        version.deleted_at = version.deleted_at or now
    session.flush()
    project_needs(session, row, now=now)  # a deleted assessment leaves the needs report
    record(session, user=user, action="submission.delete", target=row, details={}, now=now)


def restore_submission(session: Session, user: User, row: Submission, *, now: dt.datetime) -> None:
    """Undo a soft delete of a record."""
    require(user, Action.SUBMISSION_DELETE)
    for version in history(session, row):
        version.deleted_at = None
    session.flush()
    project_needs(session, row, now=now)
    record(session, user=user, action="submission.restore", target=row, details={}, now=now)


def set_form_state(
    session: Session, user: User, form: Form, *, state: str, now: dt.datetime
) -> Form:
    """Open, close ("closing": hidden but accepting) or close a form (admins)."""
    require(user, Action.FORM_STATE)
    if state not in FORM_STATES:
        raise InvalidRequest(
            reason="not_a_choice",
            field="state",
            choices=list(FORM_STATES),
            fields={"state": [f"not one of {FORM_STATES}"]},
        )
    details = {"from": form.state, "to": state}
    form.state, form.updated_at = state, now
    record(session, user=user, action="form.state", target=form, details=details, now=now)
    return form


def audit_events(
    session: Session, *, target: Any | None = None, limit: int = 200
) -> list[AuditEvent]:
    """Recent audit events, newest first, optionally of one row.

    :param session: the database session.
    :param target: a Submission or Form; for a submission, events of its whole record.
    :param limit: at most this many.
    :return: the events.
    """
    query = sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if isinstance(target, Submission):
        ids = [v.id for v in history(session, target)]
        query = query.where(AuditEvent.target_type == "submissions", AuditEvent.target_id.in_(ids))
    elif target is not None:
        query = query.where(
            AuditEvent.target_type == type(target).__tablename__, AuditEvent.target_id == target.id
        )
    return list(session.execute(query).scalars())
