"""The service's error catalogue: one exception tree, each leaf with a stable code.

Domain and service code raise these; each surface (CLI, OpenRosa XML, JSON API, HTML) renders
them in its own format. Codes never change meaning once released: clients and tests rely on
them. Every leaf carries a Vietnamese title (shown first to users) and an English one.

* ServiceError                         (code, http_status, message, details, message_vi)
  * InvalidInput           400.x
      MalformedSubmission 400.1 · MissingSubmissionFile 400.2 · InvalidHeader 400.3 ·
      InvalidXLSForm 400.4 · InvalidXForm 400.5 · FormValidationFailed 400.6 ·
      UnsupportedFileType 400.7 · EmptyFile 400.8 · UnknownXLSFormColumn 400.9 ·
      InvalidUnitsFile 400.10 · (400.11 retired) · InvalidFormMedia 400.12 ·
      InvalidAttachment 400.13 · InvalidAccount 400.14 · InvalidRosterFile 400.15 ·
      InvalidAnswerKey 400.16 · InvalidCourse 400.17
  * AuthenticationRequired 401.x       AuthenticationRequired 401.1
  * Forbidden              403.x       TokenInvalid 403.1 · FormNotAssigned 403.2 ·
                                       FormNotReadable 403.3 · RoleNotAllowed 403.4 ·
                                       RequestForgery 403.5 · EditNotAllowed 403.6 ·
                                       FirstRunLinkSpent 403.7
  * NotFound               404.x       FormNotFound 404.1 · SubmissionNotFound 404.2 ·
                                       FormVersionNotFound 404.3 · UserNotFound 404.4 ·
                                       CourseNotFound 404.5 · PersonNotFound 404.6 ·
                                       BankNotFound 404.7
  * Conflict               409.x       SubmissionConflict 409.1 · FormVersionExists 409.2 ·
                                       FormClosed 409.3 · SubmissionOutdated 409.4 ·
                                       SubmissionExists 409.5 · SubmissionDeleted 409.6 ·
                                       UserExists 409.7 · CourseExists 409.8
  * PayloadTooLarge        413.x       FileTooLarge 413.1 · BodyTooLarge 413.2
  * Unprocessable          422.x       InvalidRequest 422.1 · InvalidCursor 422.2 ·
                                       DecryptionFailed 422.3
  * TooManyAttempts        429.1
  * Unavailable            503.x       ValidatorUnavailable 503.1 · DatabaseUnavailable 503.2
"""

from __future__ import annotations

from typing import Any, ClassVar


class ServiceError(Exception):
    """Base of the catalogue. Subclasses set ``code``, ``http_status`` and the two titles."""

    code: ClassVar[str] = "500"
    http_status: ClassVar[int] = 500
    title_vi: ClassVar[str] = "Lỗi máy chủ"
    title_en: ClassVar[str] = "Server error"

    def __init__(self, message: str, *, message_vi: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        #: The message in Vietnamese, for people in the field; None = only the title is Vietnamese.
        self.message_vi = message_vi
        self.details = details

    def __str__(self) -> str:
        return f"{self.code} {self.title_vi} / {self.title_en}: {self.message}"


class InvalidInput(ServiceError):
    """Something the caller sent cannot be used as it is."""

    code = "400"
    http_status = 400
    title_vi = "Dữ liệu không hợp lệ"
    title_en = "Invalid input"


class MalformedSubmission(InvalidInput):
    """A submission body or its XML cannot be read (bad multipart, bad XML, no form id…)."""

    code = "400.1"
    title_vi = "Bài nộp không đọc được"
    title_en = "Malformed submission"


class MissingSubmissionFile(InvalidInput):
    """The multipart POST has no ``xml_submission_file`` part."""

    code = "400.2"
    title_vi = "Thiếu tệp bài nộp"
    title_en = "Missing submission file"


class InvalidHeader(InvalidInput):
    """A required protocol header is missing or wrong (``X-OpenRosa-Version: 1.0``)."""

    code = "400.3"
    title_vi = "Thiếu hoặc sai tiêu đề giao thức"
    title_en = "Missing or invalid header"


class InvalidXLSForm(InvalidInput):
    """pyxform refused the XLSForm; ``message`` is pyxform's own row-numbered text."""

    code = "400.4"
    title_vi = "XLSForm không hợp lệ"
    title_en = "Invalid XLSForm"


class InvalidXForm(InvalidInput):
    """The XForm XML is malformed, unsafe (DOCTYPE/entities) or not an XForm."""

    code = "400.5"
    title_vi = "XForm không hợp lệ"
    title_en = "Invalid XForm"


class FormValidationFailed(InvalidInput):
    """ODK Validate (JavaRosa, the engine inside ODK Collect) rejected the form."""

    code = "400.6"
    title_vi = "ODK Validate báo lỗi biểu mẫu"
    title_en = "ODK Validate rejected the form"


class UnsupportedFileType(InvalidInput):
    """The file is not one of the accepted kinds, or its content does not match its name."""

    code = "400.7"
    title_vi = "Loại tệp không được hỗ trợ"
    title_en = "Unsupported file type"


class EmptyFile(InvalidInput):
    """The file has no content."""

    code = "400.8"
    title_vi = "Tệp rỗng"
    title_en = "Empty file"


class UnknownXLSFormColumn(InvalidInput):
    """A column header looks like a misspelt XLSForm column (``relevnt``), which pyxform ignores."""

    code = "400.9"
    title_vi = "Tên cột XLSForm không đúng"
    title_en = "Unknown XLSForm column"


class InvalidUnitsFile(InvalidInput):
    """An administrative-units CSV has bad rows; ``details['rows']`` lists them by row number."""

    code = "400.10"
    title_vi = "Tệp đơn vị hành chính có lỗi"
    title_en = "Invalid administrative units file"


class InvalidFormMedia(InvalidInput):
    """A form media file has an unusable name or content."""

    code = "400.12"
    title_vi = "Tệp đính kèm biểu mẫu không hợp lệ"
    title_en = "Invalid form media file"


class InvalidAttachment(InvalidInput):
    """An attachment part has an unusable name, or there are too many parts."""

    code = "400.13"
    title_vi = "Tệp đính kèm không hợp lệ"
    title_en = "Invalid attachment"


class InvalidAccount(InvalidInput):
    """A user or device account request has a bad name, role or password."""

    code = "400.14"
    title_vi = "Thông tin tài khoản không hợp lệ"
    title_en = "Invalid account data"


class InvalidRosterFile(InvalidInput):
    """A staff register file has bad rows or columns; ``details['rows']`` lists them."""

    code = "400.15"
    title_vi = "Danh sách cán bộ có lỗi"
    title_en = "Invalid staff register file"


class InvalidAnswerKey(InvalidInput):
    """An answer key names items or choices the test form lacks; ``details['rows']``."""

    code = "400.16"
    title_vi = "Đáp án không khớp với bài kiểm tra"
    title_en = "Invalid answer key"


class InvalidCourse(InvalidInput):
    """A course's values are inconsistent (dates reversed, unknown form…)."""

    code = "400.17"
    title_vi = "Thông tin khóa học không hợp lệ"
    title_en = "Invalid course"


class AuthenticationRequired(ServiceError):
    """No credentials, or wrong ones; the OpenRosa surface adds the Digest challenge."""

    code = "401.1"
    http_status = 401
    title_vi = "Cần đăng nhập"
    title_en = "Authentication required"


class Forbidden(ServiceError):
    """The caller is known but may not do this."""

    code = "403"
    http_status = 403
    title_vi = "Không có quyền"
    title_en = "Forbidden"


class TokenInvalid(Forbidden):
    """The device token in the URL is unknown or revoked."""

    code = "403.1"
    title_vi = "Mã thiết bị không hợp lệ hoặc đã bị thu hồi"
    title_en = "Device token invalid or revoked"


class FormNotAssigned(Forbidden):
    """The form exists but is not assigned to this user or device."""

    code = "403.2"
    title_vi = "Biểu mẫu không được giao cho bạn"
    title_en = "Form not assigned to you"


class FormNotReadable(Forbidden):
    """The user may not read this form's submissions."""

    code = "403.3"
    title_vi = "Không có quyền xem dữ liệu biểu mẫu này"
    title_en = "Not allowed to read this form"


class RoleNotAllowed(Forbidden):
    """The user's role does not allow this action."""

    code = "403.4"
    title_vi = "Vai trò của bạn không được phép làm việc này"
    title_en = "Your role does not allow this"


class RequestForgery(Forbidden):
    """A page form came without this session's CSRF token, or from another site."""

    code = "403.5"
    title_vi = "Biểu mẫu đã hết hạn hoặc không gửi từ trang này"
    title_en = "Form expired or sent from another site"


class EditNotAllowed(Forbidden):
    """A ``deprecatedID`` edit of a submission someone else sent."""

    code = "403.6"
    title_vi = "Không được sửa bài nộp của người khác"
    title_en = "Not your submission to edit"


class FirstRunLinkSpent(Forbidden):
    """A first-run set-up link that is unknown, spent, or came after an administrator exists."""

    code = "403.7"
    title_vi = "Đường dẫn thiết lập không còn hiệu lực"
    title_en = "Set-up link no longer valid"


class PayloadTooLarge(ServiceError):
    """The body or file is larger than the configured limit."""

    code = "413"
    http_status = 413
    title_vi = "Dữ liệu quá lớn"
    title_en = "Payload too large"


class FileTooLarge(PayloadTooLarge):
    """A file is larger than the configured limit."""

    code = "413.1"
    title_vi = "Tệp quá lớn"
    title_en = "File too large"


class BodyTooLarge(PayloadTooLarge):
    """A request body is larger than the advertised limit."""

    code = "413.2"
    title_vi = "Bài nộp quá lớn"
    title_en = "Request body too large"


class Unprocessable(ServiceError):
    """The request is well-formed but its values cannot be used."""

    code = "422"
    http_status = 422
    title_vi = "Tham số không hợp lệ"
    title_en = "Unprocessable request"


class InvalidRequest(Unprocessable):
    """Query or body parameters failed validation; ``details['fields']`` names each one."""

    code = "422.1"
    title_vi = "Tham số không hợp lệ"
    title_en = "Invalid parameters"


class InvalidCursor(Unprocessable):
    """A pagination cursor was altered or belongs to another query."""

    code = "422.2"
    title_vi = "Con trỏ phân trang không hợp lệ"
    title_en = "Invalid page cursor"


class DecryptionFailed(Unprocessable):
    """Encrypted submissions could not be decrypted with the key given."""

    code = "422.3"
    title_vi = "Không giải mã được bài nộp"
    title_en = "Decryption failed"


class NotFound(ServiceError):
    """The thing asked for does not exist."""

    code = "404"
    http_status = 404
    title_vi = "Không tìm thấy"
    title_en = "Not found"


class FormNotFound(NotFound):
    """No form with that form_id (or version) exists."""

    code = "404.1"
    title_vi = "Không tìm thấy biểu mẫu"
    title_en = "Form not found"


class SubmissionNotFound(NotFound):
    """The submission (e.g. the one an edit's deprecatedID names) does not exist."""

    code = "404.2"
    title_vi = "Không tìm thấy bài nộp"
    title_en = "Submission not found"


class FormVersionNotFound(NotFound):
    """The submission names a form version that was never published."""

    code = "404.3"
    title_vi = "Không tìm thấy phiên bản biểu mẫu"
    title_en = "Form version not found"


class UserNotFound(NotFound):
    """No user or device with that name."""

    code = "404.4"
    title_vi = "Không tìm thấy tài khoản"
    title_en = "Account not found"


class CourseNotFound(NotFound):
    """No course with that code."""

    code = "404.5"
    title_vi = "Không tìm thấy khóa học"
    title_en = "Course not found"


class PersonNotFound(NotFound):
    """No person with that code in the staff register."""

    code = "404.6"
    title_vi = "Không có trong danh sách cán bộ"
    title_en = "Person not in the register"


class BankNotFound(NotFound):
    """No scored attempt names that test bank version."""

    code = "404.7"
    title_vi = "Không tìm thấy đề kiểm tra"
    title_en = "Test bank not found"


class Conflict(ServiceError):
    """The request contradicts what is already stored."""

    code = "409"
    http_status = 409
    title_vi = "Xung đột dữ liệu"
    title_en = "Conflict"


class FormVersionExists(Conflict):
    """This form_id and version were published before with different content."""

    code = "409.2"
    title_vi = "Phiên bản biểu mẫu đã tồn tại với nội dung khác"
    title_en = "Form version already published with different content"


class SubmissionConflict(Conflict):
    """Same instanceID, different XML: the device must not silently overwrite data."""

    code = "409.1"
    title_vi = "Bài nộp trùng mã nhưng khác nội dung"
    title_en = "Submission conflict"


class FormClosed(Conflict):
    """The form no longer accepts submissions."""

    code = "409.3"
    title_vi = "Biểu mẫu đã đóng"
    title_en = "Form closed"


class SubmissionOutdated(Conflict):
    """An edit names a version of the submission that has since been replaced."""

    code = "409.4"
    title_vi = "Bản đang sửa đã cũ"
    title_en = "Edited copy is out of date"


class SubmissionExists(Conflict):
    """An edit's new instanceID is already taken."""

    code = "409.5"
    title_vi = "Mã bài nộp đã tồn tại"
    title_en = "Submission already exists"


class SubmissionDeleted(Conflict):
    """The instanceID belongs to a deleted submission; it may not come back."""

    code = "409.6"
    title_vi = "Bài nộp đã bị xóa"
    title_en = "Submission was deleted"


class UserExists(Conflict):
    """A user or device with that name exists already."""

    code = "409.7"
    title_vi = "Tài khoản đã tồn tại"
    title_en = "Account already exists"


class CourseExists(Conflict):
    """A course with that code exists already."""

    code = "409.8"
    title_vi = "Mã khóa học đã tồn tại"
    title_en = "Course already exists"


class Unavailable(ServiceError):
    """A component the operation needs is not available on this server."""

    code = "503"
    http_status = 503
    title_vi = "Dịch vụ chưa sẵn sàng"
    title_en = "Service unavailable"


class TooManyAttempts(ServiceError):
    """Too many wrong passwords for an account or from an address; ``retry_after`` seconds."""

    code = "429.1"
    http_status = 429
    title_vi = "Quá nhiều lần đăng nhập sai"
    title_en = "Too many failed sign-ins"


class DatabaseUnavailable(Unavailable):
    """The database is down or busy past its timeout; nothing was stored, try again."""

    code = "503.2"
    title_vi = "Máy chủ đang bận"
    title_en = "Service busy"


class ValidatorUnavailable(Unavailable):
    """ODK Validate could not run: Java is missing, or it timed out."""

    code = "503.1"
    title_vi = "Không chạy được ODK Validate"
    title_en = "ODK Validate could not run"


def catalogue() -> list[type[ServiceError]]:
    """List every error class of the catalogue, the base included.

    :return: the classes, in definition order.
    """
    found: list[type[ServiceError]] = []
    pending: list[type[ServiceError]] = [ServiceError]
    while pending:
        cls = pending.pop(0)
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found
