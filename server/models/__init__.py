"""Persistence: SQLAlchemy 2.0 models. Re-exported here so Alembic sees every table."""

from server.models.accounts import Device, PasswordLink, User, device_forms, user_forms
from server.models.audit import ApiToken, AuditEvent
from server.models.base import Base
from server.models.evaluation import AnswerKeyChange, CommentCode, IdentityLink, ItemMarks
from server.models.export_lines import ExportLine
from server.models.first_run import FirstRunCode
from server.models.forms import Form, FormMedia, FormVersion
from server.models.jobs import Job
from server.models.needs import KpiTarget, NeedsChoice, NeedsRating, NeedsResponse, ReportSetting
from server.models.projection_failures import ProjectionFailure
from server.models.roster import Person, PersonCertificate, Posting
from server.models.security import AuthThrottle, DigestNonceUse, WebSession
from server.models.setup import SetupGeneration
from server.models.submissions import Submission, SubmissionAttachment
from server.models.training import AnswerKey, Course, Enrolment, ExamScore, SubmissionLink
from server.models.units import AdminUnit, UnitSuccessor

__all__ = [
    "AdminUnit",
    "AnswerKey",
    "AnswerKeyChange",
    "ApiToken",
    "AuditEvent",
    "AuthThrottle",
    "Base",
    "CommentCode",
    "Course",
    "Device",
    "DigestNonceUse",
    "Enrolment",
    "ExamScore",
    "ExportLine",
    "FirstRunCode",
    "Form",
    "FormMedia",
    "FormVersion",
    "IdentityLink",
    "ItemMarks",
    "Job",
    "KpiTarget",
    "NeedsChoice",
    "NeedsRating",
    "NeedsResponse",
    "PasswordLink",
    "Person",
    "PersonCertificate",
    "Posting",
    "ProjectionFailure",
    "ReportSetting",
    "SetupGeneration",
    "Submission",
    "SubmissionAttachment",
    "SubmissionLink",
    "UnitSuccessor",
    "User",
    "WebSession",
    "device_forms",
    "user_forms",
]
