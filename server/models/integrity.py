"""What a violated unique constraint means, in the error catalogue's words.

The database holds the invariants (one row per form version, user name, course code,
instanceID), so two processes racing past the services' own checks cannot both win: the
loser's flush or commit raises ``IntegrityError``. This module is the one place that turns
that into the catalogue error the winner's data makes true, by constraint name. PostgreSQL
names the constraint; SQLite names its table and columns, which the models' metadata maps
back to the name (both follow ``NAMING_CONVENTION``). A violation not listed here is a bug
and stays a 500 with its traceback.
"""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from server.errors import (
    CourseExists,
    FormVersionExists,
    ServiceError,
    SubmissionExists,
    UserExists,
)
from server.models.base import Base

#: Constraint → the error it means, with default details (the caller's win).
CONFLICTS: dict[str, tuple[type[ServiceError], dict[str, Any]]] = {
    # Two first publications of one form_id, or of one version, at the same moment.
    "uq_forms_form_id": (FormVersionExists, {}),
    "uq_form_versions_form_pk_version": (FormVersionExists, {}),
    "uq_users_username": (UserExists, {}),
    "uq_courses_code": (CourseExists, {}),
    "uq_submissions_form_pk_instance_id": (SubmissionExists, {"reason": "stored_meanwhile"}),
}

_SQLITE_UNIQUE = "UNIQUE constraint failed: "


def conflict_for(error: IntegrityError, **details: Any) -> ServiceError:
    """The catalogue error a unique-constraint violation means.

    Use it as ``raise conflict_for(exc, username=name) from exc``.

    :param error: what the flush or commit raised (the session must be rolled back).
    :param details: the details of the catalogue error (the name that was taken…).
    :return: the error to raise.
    :raises IntegrityError: ``error`` itself, when its constraint means a bug.
    """
    known = CONFLICTS.get(violated_constraint(error) or "")
    if known is None:
        raise error
    kind, defaults = known
    return kind(**{**defaults, **details})


def violated_constraint(error: IntegrityError) -> str | None:
    """The name of the constraint an ``IntegrityError`` violated, on either database.

    :param error: the error.
    :return: the constraint's name, or None when the database does not say.
    """
    name = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    if name:
        return name
    text = str(error.orig)
    if not text.startswith(_SQLITE_UNIQUE):
        return None
    columns = [column.strip() for column in text[len(_SQLITE_UNIQUE) :].split(",")]
    table = columns[0].split(".", 1)[0]
    names = frozenset(column.split(".", 1)[-1] for column in columns)
    return _unique_constraints().get((table, names))


@functools.cache
def _unique_constraints() -> dict[tuple[str, frozenset[str]], str]:
    return {
        (table.name, frozenset(column.name for column in constraint.columns)): str(constraint.name)
        for table in Base.metadata.tables.values()
        for constraint in table.constraints
        if isinstance(constraint, sa.UniqueConstraint | sa.PrimaryKeyConstraint)
    }
