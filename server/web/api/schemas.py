"""marshmallow schemas of the JSON API: what requests may say and what responses contain.

The OpenAPI document is generated from these (``server/web/api/docs.py``), so the schema is the
one description of the API. marshmallow refuses unknown fields by default, so an unknown query
parameter is a 422 naming it instead of being silently ignored.
"""

from __future__ import annotations

import datetime as dt
import re

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from server.models.forms import FORM_STATES
from server.models.submissions import REVIEW_STATES
from server.services.review import REVIEW_CHOICES
from server.web.formatting import VIETNAM
from server.web.parameters import MAX_INTEGER


class ErrorBody(Schema):
    """The inside of every error response."""

    code = fields.String(required=True, metadata={"example": "422.1"})
    message = fields.String(required=True, metadata={"description": "in English"})
    message_vi = fields.String(required=True, metadata={"description": "in Vietnamese"})
    details = fields.Dict(required=True)


class ErrorSchema(Schema):
    """Every error: ``{"error": {"code", "message", "message_vi", "details"}}``."""

    error = fields.Nested(ErrorBody, required=True)


class VersionSchema(Schema):
    """A published form version."""

    version = fields.String()
    title = fields.String()
    md5 = fields.String()
    published_at = fields.AwareDateTime()
    source_filename = fields.String()
    is_encrypted = fields.Boolean()
    warnings = fields.List(fields.String())


class FieldSchema(Schema):
    """One question (or group, repeat, calculate) of a form version."""

    name = fields.String()
    path = fields.String()
    kind = fields.String()
    type = fields.String()
    repeat = fields.String(allow_none=True)
    labels = fields.Dict(keys=fields.String(), values=fields.String())
    choices = fields.List(fields.Dict(), allow_none=True)
    choice_file = fields.String(allow_none=True)


class VersionDetailSchema(VersionSchema):
    """A version with its field schema and media."""

    fields_ = fields.List(fields.Nested(FieldSchema), data_key="fields")
    media = fields.List(fields.Dict())


class FormSchema(Schema):
    """A form with its current version."""

    form_id = fields.String()
    title = fields.String()
    state = fields.String(validate=validate.OneOf(FORM_STATES))
    current_version = fields.String()
    versions = fields.Integer()
    submissions = fields.Integer()


class FormDetailSchema(FormSchema):
    """A form with every version and the current field schema."""

    version_list = fields.List(fields.Nested(VersionSchema), data_key="version_history")
    fields_ = fields.List(fields.Nested(FieldSchema), data_key="fields")


class FormStateInput(Schema):
    """Body of PATCH /forms/{form_id}."""

    state = fields.String(required=True, validate=validate.OneOf(FORM_STATES))


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class DayOrTime(fields.Field):
    """One end of a time range: an ISO 8601 date-time, or a whole day in Vietnam time.

    People filter by days of their own clock: ``received_to=2026-12-01`` has to include the
    evening of 1 December in Vietnam, which a UTC day would cut off at 07:00. So a day is
    Vietnam's day (from its 00:00; an end includes all of it). A date-time must name its offset:
    without one it could be meant on either clock, and guessing would move the range by 7 hours.
    """

    default_error_messages = {  # noqa: RUF012 (marshmallow's own class attribute)
        "invalid": "Not a day (YYYY-MM-DD) or an ISO 8601 date-time with offset "
        "(2026-12-01T08:00:00+07:00)."
    }

    def __init__(self, *, end: bool = False, **kwargs):
        help_ = (
            "YYYY-MM-DD: a whole day in Vietnam time (UTC+7), "
            + ("that day included" if end else "from its 00:00")
            + "; or an ISO 8601 date-time with offset"
        )
        kwargs.setdefault("metadata", {"type": "string", "description": help_})
        super().__init__(**kwargs)
        self.end = end

    def _deserialize(self, value, attr, data, **kwargs) -> dt.datetime:
        text = value.strip() if isinstance(value, str) else ""
        try:
            if _DAY.fullmatch(text):
                start = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), VIETNAM)
                return start + dt.timedelta(days=1) if self.end else start
            if len(text) <= 10:  # compact or partial forms ("20261201") are too easy to misread
                raise ValueError(text)
            moment = dt.datetime.fromisoformat(text)
            if moment.tzinfo is None:
                raise ValueError(text)
        except ValueError as exc:
            raise self.make_error("invalid") from exc
        return moment


def _device_id_in_range(value: str) -> bool:
    """``device:<id>`` must name an id a database can hold (else a 500 in the driver)."""
    number = value.removeprefix("device:")
    if number != value and number.isascii() and number.isdigit() and int(number) > MAX_INTEGER:
        raise ValidationError(f"device id must be at most {MAX_INTEGER}")
    return True


class SubmissionQuery(Schema):
    """Query parameters of the submission listing and exports."""

    version = fields.String()
    received_from = DayOrTime()
    received_to = DayOrTime(end=True)
    submitted_from = DayOrTime()
    submitted_to = DayOrTime(end=True)
    unit = fields.String(metadata={"description": "unit code; its sub-units are included"})
    submitter = fields.String(
        validate=_device_id_in_range,
        metadata={"description": "user name, device label or device:<id>"},
    )
    review_state = fields.String(validate=validate.OneOf(REVIEW_STATES))
    q = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "instance name starts with (case-insensitive)"},
    )
    include_deleted = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    cursor = fields.String()
    data = fields.Boolean(
        load_default=False,
        metadata={"description": "add each submission's typed answers (as in its detail)"},
    )

    @validates_schema
    def _ranges(self, data, **_kwargs):
        for low, high in (("received_from", "received_to"), ("submitted_from", "submitted_to")):
            if low in data and high in data and data[low] >= data[high]:
                raise ValidationError(f"must be after {low}", high)


class ExportQuery(SubmissionQuery):
    """Query parameters of exports: the listing filters plus the label language."""

    lang = fields.String(
        validate=validate.OneOf(["codes", "vi", "en"]),
        load_default="codes",
        metadata={"description": "codes, or choice labels in Vietnamese or English"},
    )
    limit = fields.Integer(dump_only=True)
    cursor = fields.String(dump_only=True)
    data = fields.Boolean(dump_only=True)


class AttachmentSchema(Schema):
    """An attachment a submission references."""

    name = fields.String()
    present = fields.Boolean()
    size = fields.Integer(allow_none=True)
    sha256 = fields.String(allow_none=True)
    content_type = fields.String(allow_none=True)
    url = fields.String(allow_none=True)


class SubmissionSchema(Schema):
    """A submission in a listing."""

    id = fields.Integer()
    form_id = fields.String()
    version = fields.String()
    instance_id = fields.String()
    instance_name = fields.String(allow_none=True)
    review_state = fields.String()
    received_at = fields.AwareDateTime()
    submitted_at = fields.AwareDateTime(allow_none=True)
    submitter = fields.String(allow_none=True)
    device_id = fields.String(allow_none=True)
    unit_code = fields.String(allow_none=True)
    is_encrypted = fields.Boolean()
    is_deleted = fields.Boolean()
    attachments_expected = fields.Integer()
    attachments_present = fields.Integer()


class ReviewSchema(Schema):
    """Review of a submission."""

    review_state = fields.String()
    comment = fields.String(allow_none=True)
    reviewed_by = fields.String(allow_none=True)
    reviewed_at = fields.AwareDateTime(allow_none=True)


class SubmissionDetailSchema(SubmissionSchema):
    """A submission with its data, raw XML, attachments, review and edit history."""

    data = fields.Dict()
    xml = fields.String()
    attachments = fields.List(fields.Nested(AttachmentSchema))
    review = fields.Nested(ReviewSchema)
    history = fields.List(fields.Nested(SubmissionSchema))


class ListedSubmissionSchema(SubmissionSchema):
    """A submission in a listing; ``data`` only when the listing asked ``data=true``."""

    data = fields.Dict()


class SubmissionPage(Schema):
    """One page of submissions; pass ``next_cursor`` as ``cursor`` for the next."""

    items = fields.List(fields.Nested(ListedSubmissionSchema))
    next_cursor = fields.String(allow_none=True)


class ReviewInput(Schema):
    """Body of PATCH /submissions/{id}/review."""

    review_state = fields.String(required=True, validate=validate.OneOf(REVIEW_CHOICES))
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class AuditEventSchema(Schema):
    """An audit log entry."""

    id = fields.Integer()
    at = fields.AwareDateTime()
    actor = fields.String(allow_none=True)
    action = fields.String()
    target_type = fields.String()
    target_id = fields.Integer()
    details = fields.Dict()


class UnitQuery(Schema):
    """Query parameters of the unit listing."""

    level = fields.String(validate=validate.OneOf(["province", "district", "commune", "hamlet"]))
    parent = fields.String(metadata={"description": "code of the parent unit"})
    current = fields.Boolean(load_default=True, metadata={"description": "only units in force"})


class UnitSchema(Schema):
    """An administrative unit during one period."""

    code = fields.String()
    level = fields.String()
    name = fields.String()
    kind = fields.String(allow_none=True)
    parent_code = fields.String(allow_none=True)
    valid_from = fields.Date()
    valid_to = fields.Date(allow_none=True)
