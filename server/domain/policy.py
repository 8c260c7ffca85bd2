"""Who may do what: the one permission policy of the service (pure: no database, no HTTP).

Every surface (OpenRosa, the JSON API, the pages, the CLI where it acts for a user) asks this
module, never a role name of its own. A grant is a role × action pair with a **scope**:

* ``ALL``: everything of that kind;
* ``FORMS``: only the forms assigned to the user (collectors, planners) or to the device;
* ``UNITS``: only what lies in the user's units and their sub-units at the date in question
  (planners); the caller turns unit codes into rows, since that needs the unit history;
* ``OWN``: only courses the user created (trainers), and forms no other trainer's course uses.

Nothing is granted unless :data:`GRANTS` says so; :func:`decide` answers for one target and
:func:`form_scope` / :func:`unit_scope` answer for a listing (which rows to show at all).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum


class Scope(StrEnum):
    """How far a grant reaches."""

    ALL = "all"
    FORMS = "forms"
    UNITS = "units"
    OWN = "own"


class Action(StrEnum):
    """Everything the policy decides. Values are stable: tests and docs name them."""

    USE_PAGES = "pages.use"
    USE_API = "api.use"
    COLLECT = "openrosa.collect"
    EDIT_OTHERS_SUBMISSION = "openrosa.edit_others"
    FORM_READ = "forms.read"
    FORM_PUBLISH = "forms.publish"
    FORM_STATE = "forms.state"
    SUBMISSION_READ = "submissions.read"
    SUBMISSION_READ_DELETED = "submissions.read_deleted"
    SUBMISSION_REVIEW = "submissions.review"
    SUBMISSION_DELETE = "submissions.delete"
    AUDIT_READ_ALL = "audit.read_all"
    USERS_MANAGE = "users.manage"
    UNITS_READ = "units.read"
    UNITS_IMPORT = "units.import"
    ROSTER_READ = "roster.read"
    ROSTER_IMPORT = "roster.import"
    ROSTER_EXPORT = "roster.export"
    ROSTER_TEMPLATE = "roster.template"
    COURSE_LIST = "courses.list"
    COURSE_READ_PEOPLE = "courses.read_people"
    COURSE_CREATE = "courses.create"
    COURSE_MANAGE = "courses.manage"
    KEY_UPLOAD = "keys.upload"
    SCORES_READ = "scores.read"
    TARGETS_READ = "targets.read"
    TARGETS_EDIT = "targets.edit"
    REPORT_NEEDS = "reports.needs"
    REPORT_WORKING_LIST = "reports.working_list"
    REPORT_COURSE = "reports.course"
    REPORT_COURSE_ROWS = "reports.course_rows"
    COMMENT_CODE = "reports.comment_code"
    REPORT_PROGRAMME = "reports.programme"
    DEVICE_MANAGE = "devices.manage"
    JOB_READ = "jobs.read"


ADMIN, TRAINER, PLANNER, COLLECTOR, DEVICE = "admin", "trainer", "planner", "collector", "device"
A, F, U, OWN = Scope.ALL, Scope.FORMS, Scope.UNITS, Scope.OWN

#: The whole policy. A role missing from an action's row may not do it at all.
GRANTS: dict[Action, dict[str, Scope]] = {
    Action.USE_PAGES: {ADMIN: A, TRAINER: A, PLANNER: A},
    Action.USE_API: {ADMIN: A, TRAINER: A, PLANNER: A},
    Action.COLLECT: {ADMIN: A, TRAINER: A, COLLECTOR: F, DEVICE: F},
    Action.EDIT_OTHERS_SUBMISSION: {ADMIN: A},
    Action.FORM_READ: {ADMIN: A, TRAINER: A, PLANNER: F},
    Action.FORM_PUBLISH: {ADMIN: A},
    Action.DEVICE_MANAGE: {ADMIN: A},
    Action.FORM_STATE: {ADMIN: A},
    Action.SUBMISSION_READ: {ADMIN: A, TRAINER: A, PLANNER: F},
    Action.SUBMISSION_READ_DELETED: {ADMIN: A},
    Action.SUBMISSION_REVIEW: {ADMIN: A, TRAINER: A},
    Action.SUBMISSION_DELETE: {ADMIN: A},
    Action.AUDIT_READ_ALL: {ADMIN: A},
    Action.USERS_MANAGE: {ADMIN: A},
    Action.UNITS_READ: {ADMIN: A, TRAINER: A, PLANNER: A},
    Action.UNITS_IMPORT: {ADMIN: A},
    Action.ROSTER_READ: {ADMIN: A, TRAINER: A, PLANNER: U},
    Action.ROSTER_IMPORT: {ADMIN: A},
    Action.ROSTER_EXPORT: {ADMIN: A, TRAINER: A},
    Action.ROSTER_TEMPLATE: {ADMIN: A, TRAINER: A, PLANNER: A},
    Action.COURSE_LIST: {ADMIN: A, TRAINER: A, PLANNER: A},
    Action.COURSE_READ_PEOPLE: {ADMIN: A, TRAINER: OWN, PLANNER: U},
    Action.COURSE_CREATE: {ADMIN: A, TRAINER: A},
    Action.COURSE_MANAGE: {ADMIN: A, TRAINER: OWN},
    Action.KEY_UPLOAD: {ADMIN: A, TRAINER: OWN},
    Action.SCORES_READ: {ADMIN: A, TRAINER: A},
    # The needs report's KPI targets and settings (not personal data: every reader sees all).
    Action.TARGETS_READ: {ADMIN: A, TRAINER: A, PLANNER: A},
    Action.TARGETS_EDIT: {ADMIN: A},
    Action.REPORT_NEEDS: {ADMIN: A, PLANNER: U},
    Action.REPORT_WORKING_LIST: {ADMIN: A, PLANNER: U},
    # The evaluation report: aggregates of a course for its trainer, admins and the planners of
    # the course's unit; individual rows (trainee table, scorecards, item responses) and the
    # coding of comments only for the course's own trainer and admins (spec §3.3 "Access").
    Action.REPORT_COURSE: {ADMIN: A, TRAINER: OWN, PLANNER: U},
    Action.REPORT_COURSE_ROWS: {ADMIN: A, TRAINER: OWN},
    Action.COMMENT_CODE: {ADMIN: A, TRAINER: OWN},
    Action.REPORT_PROGRAMME: {ADMIN: A, PLANNER: U},
    # A background job's progress and result: the user who started it, and administrators.
    Action.JOB_READ: {ADMIN: A, TRAINER: OWN, PLANNER: OWN},
}


@dataclass(frozen=True)
class Subject:
    """Who is asking, as the policy sees them: a role and what was assigned to them."""

    role: str | None
    user_id: int | None = None
    device_id: int | None = None
    #: Forms assigned to a collector or planner, or the forms of a device token.
    form_pks: frozenset[int] = field(default_factory=frozenset)
    #: Units whose data a planner reads (their sub-units included).
    unit_codes: tuple[str, ...] = ()


ANONYMOUS = Subject(role=None)


@dataclass(frozen=True)
class Decision:
    """The answer for one action on one target, and why not when it is no.

    ``reason`` is a code the error catalogue words (``role``, ``not_assigned``,
    ``outside_units``, ``other_trainer``), so a refusal reads the same on every surface.
    """

    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


def grant(subject: Subject, action: Action) -> Scope | None:
    """The scope the subject's role has for an action, or None when it has none."""
    return GRANTS[action].get(subject.role) if subject.role else None


def decide(
    subject: Subject,
    action: Action,
    *,
    form_pk: int | None = None,
    owner_ids: Collection[int | None] | None = None,
    in_units: bool | None = None,
) -> Decision:
    """Whether the subject may do ``action`` on the target described by the keywords.

    :param subject: who asks.
    :param action: what they want to do.
    :param form_pk: the form concerned (for ``FORMS`` grants).
    :param owner_ids: creators of the courses concerned (for ``OWN`` grants): one course's
        creator, or every course that uses a form. Empty means "no course", which an owner may
        act on (a trainer preparing a key before the course exists).
    :param in_units: whether the target lies in the subject's units (for ``UNITS`` grants),
        worked out by the caller from the unit history; None = not about one target.
    :return: the decision.
    """
    scope = grant(subject, action)
    if scope is None:
        return Decision(False, "role")
    if scope is Scope.FORMS and form_pk is not None and form_pk not in subject.form_pks:
        return Decision(False, "not_assigned")
    if in_units is False and unit_scope(subject, action) is not None:
        return Decision(False, "outside_units")
    if scope is Scope.OWN and any(owner != subject.user_id for owner in owner_ids or ()):
        return Decision(False, "other_trainer")
    return Decision(True)


def form_scope(subject: Subject, action: Action) -> frozenset[int] | None:
    """The forms a listing may show for an action: None = every form, else these (maybe none)."""
    scope = grant(subject, action)
    if scope is None:
        return frozenset()
    if scope is Scope.FORMS:
        return subject.form_pks
    return None


def unit_scope(subject: Subject, action: Action) -> tuple[str, ...] | None:
    """The unit codes a listing is limited to: None = no unit limit, () = nothing at all."""
    scope = grant(subject, action)
    if scope is None:
        return ()
    if scope is Scope.UNITS:
        return subject.unit_codes
    if subject.role == PLANNER and subject.unit_codes:
        # A planner's forms are read within their units when they have units at all.
        return subject.unit_codes
    return None


def owner_scope(subject: Subject, action: Action) -> int | None:
    """For an ``OWN`` grant, the user whose courses are meant; None when not limited so."""
    return subject.user_id if grant(subject, action) is Scope.OWN else None
