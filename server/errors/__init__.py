"""The service's error catalogue: one exception tree, each leaf with a stable code and its words.

Domain and service code raise these; each surface (CLI, OpenRosa XML, JSON API, HTML) renders
them in its own format. Codes never change meaning once released: clients and tests rely on
them. Every leaf carries a Vietnamese title (shown first to users) and an English one, and a
message template in both languages over named details, as ODK Central's ``problem.js`` makes
each problem's message a function of its details. A raise site passes details only::

    raise FormNotFound(form_id=form_id)
    raise MalformedSubmission(reason="too_deep", limit=limits.max_depth)

and gets ``message`` (English) and ``message_vi`` (Vietnamese) made from the template. Where one
code covers several situations the leaf has one template per ``reason`` detail. Text from
outside (pyxform's message, ODK Validate's output) is a detail too. A ``file`` detail prefixes
both messages with the file's name. ``messages`` documents the format specs (``{x:join}``,
``{x:rows}``…) and why a missing detail falls back to the title instead of failing.

To add an error: a leaf in the module of its HTTP status with the next free code, both
titles and a ``template``; document its details in the docstring; list it below.

* ServiceError                         (code, http_status, details → message, message_vi)
  * InvalidInput           400.x       (invalid_input)
      MalformedSubmission 400.1 · MissingSubmissionFile 400.2 · InvalidHeader 400.3 ·
      InvalidXLSForm 400.4 · InvalidXForm 400.5 · FormValidationFailed 400.6 ·
      UnsupportedFileType 400.7 · EmptyFile 400.8 · UnknownXLSFormColumn 400.9 ·
      InvalidUnitsFile 400.10 · (400.11 retired) · InvalidFormMedia 400.12 ·
      InvalidAttachment 400.13 · InvalidAccount 400.14 · InvalidRosterFile 400.15 ·
      InvalidAnswerKey 400.16 · InvalidCourse 400.17
  * AuthenticationRequired 401.x       AuthenticationRequired 401.1                (access)
  * Forbidden              403.x       TokenInvalid 403.1 · FormNotAssigned 403.2 ·
                                       FormNotReadable 403.3 · RoleNotAllowed 403.4 ·
                                       RequestForgery 403.5 · EditNotAllowed 403.6 ·
                                       FirstRunLinkSpent 403.7 · PasswordLinkSpent 403.8
  * NotFound               404.x       FormNotFound 404.1 · SubmissionNotFound 404.2 ·
                                       FormVersionNotFound 404.3 · UserNotFound 404.4 ·
                                       CourseNotFound 404.5 · PersonNotFound 404.6 ·
                                       BankNotFound 404.7 · JobNotFound 404.8      (not_found)
  * Conflict               409.x       SubmissionConflict 409.1 · FormVersionExists 409.2 ·
                                       FormClosed 409.3 · SubmissionOutdated 409.4 ·
                                       SubmissionExists 409.5 · SubmissionDeleted 409.6 ·
                                       UserExists 409.7 · CourseExists 409.8 ·
                                       LastAdministrator 409.9                    (conflict)
  * PayloadTooLarge        413.x       FileTooLarge 413.1 · BodyTooLarge 413.2 ·
                                       UploadTooLarge 413.3                       (too_large)
  * Unprocessable          422.x       InvalidRequest 422.1 · InvalidCursor 422.2 ·
                                       DecryptionFailed 422.3                 (unprocessable)
  * TooManyAttempts        429.1                                                   (access)
  * Unavailable            503.x       ValidatorUnavailable 503.1 ·
                                       DatabaseUnavailable 503.2 · JobAbandoned 503.3 (unavailable)

Database constraint violations become these errors in one place:
``server.models.integrity.conflict_for``.
"""

from server.errors.access import (
    AuthenticationRequired,
    EditNotAllowed,
    FirstRunLinkSpent,
    Forbidden,
    FormNotAssigned,
    FormNotReadable,
    PasswordLinkSpent,
    RequestForgery,
    RoleNotAllowed,
    TokenInvalid,
    TooManyAttempts,
)
from server.errors.base import SEVERAL, ServiceError, catalogue, several
from server.errors.conflict import (
    Conflict,
    CourseExists,
    FormClosed,
    FormVersionExists,
    LastAdministrator,
    SubmissionConflict,
    SubmissionDeleted,
    SubmissionExists,
    SubmissionOutdated,
    UserExists,
)
from server.errors.invalid_input import (
    EmptyFile,
    FormValidationFailed,
    InvalidAccount,
    InvalidAnswerKey,
    InvalidAttachment,
    InvalidCourse,
    InvalidFormMedia,
    InvalidHeader,
    InvalidInput,
    InvalidRosterFile,
    InvalidUnitsFile,
    InvalidXForm,
    InvalidXLSForm,
    MalformedSubmission,
    MissingSubmissionFile,
    UnknownXLSFormColumn,
    UnsupportedFileType,
)
from server.errors.messages import Template, TemplateError, by_reason, strict
from server.errors.not_found import (
    BankNotFound,
    CourseNotFound,
    FormNotFound,
    FormVersionNotFound,
    JobNotFound,
    NotFound,
    PersonNotFound,
    SubmissionNotFound,
    UserNotFound,
)
from server.errors.too_large import BodyTooLarge, FileTooLarge, PayloadTooLarge, UploadTooLarge
from server.errors.unavailable import (
    DatabaseUnavailable,
    JobAbandoned,
    Unavailable,
    ValidatorUnavailable,
)
from server.errors.unprocessable import (
    DecryptionFailed,
    InvalidCursor,
    InvalidRequest,
    Unprocessable,
)

__all__ = [
    "SEVERAL",
    "AuthenticationRequired",
    "BankNotFound",
    "BodyTooLarge",
    "Conflict",
    "CourseExists",
    "CourseNotFound",
    "DatabaseUnavailable",
    "DecryptionFailed",
    "EditNotAllowed",
    "EmptyFile",
    "FileTooLarge",
    "FirstRunLinkSpent",
    "Forbidden",
    "FormClosed",
    "FormNotAssigned",
    "FormNotFound",
    "FormNotReadable",
    "FormValidationFailed",
    "FormVersionExists",
    "FormVersionNotFound",
    "InvalidAccount",
    "InvalidAnswerKey",
    "InvalidAttachment",
    "InvalidCourse",
    "InvalidCursor",
    "InvalidFormMedia",
    "InvalidHeader",
    "InvalidInput",
    "InvalidRequest",
    "InvalidRosterFile",
    "InvalidUnitsFile",
    "InvalidXForm",
    "InvalidXLSForm",
    "JobAbandoned",
    "JobNotFound",
    "LastAdministrator",
    "MalformedSubmission",
    "MissingSubmissionFile",
    "NotFound",
    "PasswordLinkSpent",
    "PayloadTooLarge",
    "PersonNotFound",
    "RequestForgery",
    "RoleNotAllowed",
    "ServiceError",
    "SubmissionConflict",
    "SubmissionDeleted",
    "SubmissionExists",
    "SubmissionNotFound",
    "SubmissionOutdated",
    "Template",
    "TemplateError",
    "TokenInvalid",
    "TooManyAttempts",
    "Unavailable",
    "UnknownXLSFormColumn",
    "Unprocessable",
    "UnsupportedFileType",
    "UploadTooLarge",
    "UserExists",
    "UserNotFound",
    "ValidatorUnavailable",
    "by_reason",
    "catalogue",
    "several",
    "strict",
]
