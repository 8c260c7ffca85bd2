"""marshmallow schemas of the registry API: staff register, courses, enrolments, keys, scores."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.domain import catalogue


class RosterQuery(Schema):
    """Query parameters of the register listing."""

    unit = fields.String(metadata={"description": "unit code; its sub-units are included"})
    on = fields.Date(metadata={"description": "people in post on this day (default: today)"})
    q = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "name or person code contains"},
    )
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=5000))


class PersonSchema(Schema):
    """A person in post, with the position of that day."""

    person_code = fields.String()
    full_name = fields.String()
    sex = fields.String()
    birth_year = fields.Integer(allow_none=True)
    unit_code = fields.String()
    unit_name = fields.String()
    level = fields.String()
    employment_type = fields.String()
    job_category = fields.String()
    in_post_from = fields.Date()
    in_post_to = fields.Date(allow_none=True)
    certificates = fields.List(fields.String())


class RosterChangesSchema(Schema):
    """Result of a register import (or dry run)."""

    dry_run = fields.Boolean()
    added = fields.Integer()
    updated = fields.Integer()
    moved = fields.Integer()
    closed = fields.Integer()
    unchanged = fields.Integer()
    certificates_added = fields.Integer()
    samples = fields.List(fields.Dict())


class CourseInputSchema(Schema):
    """Body of POST /courses."""

    code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    title = fields.String(required=True, validate=validate.Length(min=1, max=255))
    course_type = fields.String(required=True, validate=validate.OneOf(catalogue.COURSE_TYPES))
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    pass_mark = fields.Integer(load_default=70)
    topics = fields.List(fields.String(), load_default=list)
    audience_level = fields.String(load_default=None, allow_none=True)
    venue_unit_code = fields.String(load_default=None, allow_none=True)
    organiser = fields.String(load_default=None, allow_none=True)
    trainers = fields.List(fields.String(), load_default=list)
    pre_form_id = fields.String(load_default=None, allow_none=True)
    post_form_id = fields.String(load_default=None, allow_none=True)
    satisfaction_form_id = fields.String(load_default=None, allow_none=True)
    certificate = fields.String(load_default=None, allow_none=True)
    objectives = fields.List(fields.String(), load_default=list)


class CourseSchema(Schema):
    """A course."""

    code = fields.String()
    title = fields.String()
    course_type = fields.String()
    status = fields.String()
    start_date = fields.Date()
    end_date = fields.Date()
    pass_mark = fields.Integer()
    topics = fields.List(fields.String())
    trainers = fields.List(fields.String())
    pre_form_id = fields.String(allow_none=True)
    post_form_id = fields.String(allow_none=True)
    satisfaction_form_id = fields.String(allow_none=True)
    objectives = fields.List(fields.String())
    enrolled = fields.Integer()


class EnrolmentSchema(Schema):
    """A person on a course."""

    person_code = fields.String()
    full_name = fields.String()
    attendance = fields.String()
    completion = fields.String()
    completed_on = fields.Date(allow_none=True)
    source = fields.String(allow_none=True)


class CourseDetailSchema(CourseSchema):
    """A course with its enrolments."""

    enrolments = fields.List(fields.Nested(EnrolmentSchema))


class CourseUpdateSchema(Schema):
    """Body of PATCH /courses/{code}."""

    status = fields.String(validate=validate.OneOf(["open", "closed"]))
    pass_mark = fields.Integer(validate=validate.Range(min=0, max=100))
    title = fields.String(validate=validate.Length(min=1, max=255))


class EnrolInputSchema(Schema):
    """Body of POST /courses/{code}/enrolments."""

    person_codes = fields.List(
        fields.String(), required=True, validate=validate.Length(min=1, max=5000)
    )


class EnrolResultSchema(Schema):
    """Result of enrolling people."""

    enrolled = fields.List(fields.String())
    already = fields.List(fields.String())
    warnings = fields.List(fields.String())


class EnrolmentUpdateSchema(Schema):
    """Body of PATCH /courses/{code}/enrolments/{person_code}."""

    attendance = fields.String(validate=validate.OneOf(["enrolled", "attended", "absent"]))
    completion = fields.String(
        validate=validate.OneOf(["in_progress", "completed", "not_completed"])
    )
    completed_on = fields.Date(allow_none=True)


class KeyResultSchema(Schema):
    """Result of an answer key upload."""

    items = fields.Integer()
    rescored = fields.Integer()


class ScoreSchema(Schema):
    """A test submission's server score and registry link."""

    submission_id = fields.Integer()
    instance_id = fields.String()
    phase = fields.String(allow_none=True)
    course_code = fields.String(allow_none=True)
    person_code = fields.String(allow_none=True)
    unknown_course = fields.Boolean()
    unknown_person = fields.Boolean()
    raw = fields.Float()
    maximum = fields.Float()
    percent = fields.Float()
    passed = fields.Boolean(allow_none=True)
    marks = fields.Dict()
    blank = fields.List(fields.String())
