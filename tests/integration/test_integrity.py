"""Unique-constraint violations become catalogue errors in one place, on both databases."""

import pytest
from sqlalchemy.exc import IntegrityError

from server.errors import CourseExists, SubmissionExists, UserExists
from server.models import Course, Enrolment, Person, User
from server.models.integrity import CONFLICTS, conflict_for, violated_constraint
from tests.factories import NOW


def _user(name: str, role: str = "admin") -> User:
    return User(
        username=name,
        role=role,
        password_hash="x",
        digest_ha1="0" * 32,
        digest_realm="r",
        created_at=NOW,
    )


def _violation(session, *rows) -> IntegrityError:
    session.add_all(rows)
    with pytest.raises(IntegrityError) as info:
        session.flush()
    session.rollback()
    return info.value


def test_a_taken_name_is_the_409_of_its_constraint(session):
    # What a second process meets when it passes the service's check at the same moment.
    session.add(_user("lan"))
    session.commit()
    error = _violation(session, _user("lan"))
    assert violated_constraint(error) == "uq_users_username"
    conflict = conflict_for(error, username="lan")
    assert isinstance(conflict, UserExists)
    assert conflict.message == "user 'lan' exists already"
    assert conflict.message_vi == "Đã có tài khoản 'lan'."


def test_a_violation_that_means_a_bug_stays_an_integrity_error(session):
    error = _violation(session, _user("thu", role="nobody"))  # a check constraint
    assert violated_constraint(error) in {None, "ck_users_role"}  # SQLite names no check
    with pytest.raises(IntegrityError):
        conflict_for(error)


def test_a_racing_submission_is_told_to_send_again():
    kind, defaults = CONFLICTS["uq_submissions_form_pk_instance_id"]
    error = kind(**defaults)
    assert isinstance(error, SubmissionExists)
    assert error.message.endswith("send it again")


def test_every_listed_constraint_exists(session):
    from server.models.base import Base

    names = {
        str(constraint.name)
        for table in Base.metadata.tables.values()
        for constraint in table.constraints
    }
    assert set(CONFLICTS) <= names


def _course(code: str) -> Course:
    return Course(
        code=code, title=code, course_type="tap_huan", start_date=NOW.date(), end_date=NOW.date()
    )


def test_a_taken_course_code_is_409_8(session):
    session.add(_course("K1"))
    session.commit()
    conflict = conflict_for(_violation(session, _course("K1")), code="K1")
    assert isinstance(conflict, CourseExists)
    assert (conflict.code, conflict.message) == ("409.8", "course K1 exists already")


def test_constraints_over_several_columns_are_named_on_both_databases(session):
    course, person = _course("K2"), Person(code="CB1", full_name="Lan", sex="f")
    session.add_all([course, person])
    session.commit()
    twice = [Enrolment(course_id=course.id, person_id=person.id) for _ in range(2)]
    error = _violation(session, *twice)
    assert violated_constraint(error) == "uq_enrolments_course_id_person_id"
    with pytest.raises(IntegrityError):  # not a conflict a client can cause: stays a 500
        conflict_for(error)
