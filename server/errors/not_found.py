"""404: the thing asked for does not exist."""

from __future__ import annotations

from server.errors.base import ServiceError
from server.errors.messages import Template, by_reason


class NotFound(ServiceError):
    """The thing asked for does not exist."""

    code = "404"
    http_status = 404
    title_vi = "Không tìm thấy"
    title_en = "Not found"
    template = Template(
        en="nothing here has that name",
        vi="Không tìm thấy thứ bạn cần.",
    )


class FormNotFound(NotFound):
    """No form with that form_id (or version, or media file) exists."""

    code = "404.1"
    title_vi = "Không tìm thấy biểu mẫu"
    title_en = "Form not found"
    template = by_reason(
        {
            None: Template(
                en="no form '{form_id}'",
                vi="Không có biểu mẫu '{form_id}'.",
            ),
            "not_on_server": Template(
                en="form '{form_id}' does not exist on this server",
                vi="Máy chủ không có biểu mẫu '{form_id}'.",
            ),
            "unknown_ids": Template(
                en="no form {form_ids:join}",
                vi="Không có biểu mẫu {form_ids:join}.",
            ),
            "not_published": Template(
                en="form '{form_id}' has no published version",
                vi="Biểu mẫu '{form_id}' chưa có phiên bản nào được công bố.",
            ),
            "no_version": Template(
                en="form '{form_id}' has no version '{version}'",
                vi="Biểu mẫu '{form_id}' không có phiên bản '{version}'.",
            ),
            "no_media": Template(
                en="form '{form_id}' has no media file '{filename}'",
                vi="Biểu mẫu không có tệp '{filename}'.",
            ),
        }
    )


class SubmissionNotFound(NotFound):
    """The submission (e.g. the one an edit's deprecatedID names) does not exist."""

    code = "404.2"
    title_vi = "Không tìm thấy bài nộp"
    title_en = "Submission not found"
    template = by_reason(
        {
            None: Template(
                en="no submission {submission_id}",
                vi="Không có bài nộp {submission_id}.",
            ),
            "edited": Template(
                en="the submission being edited ({instance_id}) does not exist",
                vi="Không tìm thấy bài nộp đang được sửa ({instance_id}).",
            ),
            "no_attachment": Template(
                en="submission {submission_id} has no attachment '{name}'",
                vi="Bài nộp {submission_id} không có tệp đính kèm '{name}'.",
            ),
            "not_course_evaluation": Template(
                en="submission {submission_id} is not an evaluation of course {course}",
                vi="Phiếu {submission_id} không thuộc khóa {course}.",
            ),
            "not_pending_test": Template(
                en="submission {submission_id} is not a test of {course} waiting for a person",
                vi="Bài {submission_id} không phải bài chờ đối chiếu của khóa {course}.",
            ),
        }
    )


class FormVersionNotFound(NotFound):
    """The submission names a form version that was never published."""

    code = "404.3"
    title_vi = "Không tìm thấy phiên bản biểu mẫu"
    title_en = "Form version not found"
    template = Template(
        en="the form version specified in this submission '{version}' does not exist",
        vi="Phiên bản '{version}' của biểu mẫu không tồn tại; hãy tải lại biểu mẫu trống.",
    )


class UserNotFound(NotFound):
    """No user or device with that name."""

    code = "404.4"
    title_vi = "Không tìm thấy tài khoản"
    title_en = "Account not found"
    template = by_reason(
        {
            None: Template(
                en="no user {username!r}",
                vi="Không có tài khoản {username!r}.",
            ),
            "device": Template(
                en="no device {device_id}",
                vi="Không có thiết bị {device_id}.",
            ),
            "id": Template(
                en="no user {user_id}",
                vi="Không có tài khoản số {user_id}.",
            ),
            "token": Template(
                en="no API token {token_id} for this user",
                vi="Tài khoản này không có mã API số {token_id}.",
            ),
        }
    )


class CourseNotFound(NotFound):
    """No course with that code."""

    code = "404.5"
    title_vi = "Không tìm thấy khóa học"
    title_en = "Course not found"
    template = Template(
        en="no course {code}",
        vi="Không có khóa học {code}.",
    )


class PersonNotFound(NotFound):
    """No person with that code in the staff register (or not on the course)."""

    code = "404.6"
    title_vi = "Không có trong danh sách cán bộ"
    title_en = "Person not in the register"
    template = by_reason(
        {
            None: Template(
                en="no person {person_code}",
                vi="Không có cán bộ {person_code}.",
            ),
            "unknown_codes": Template(
                en="not in the register: {person_codes:join}",
                vi="Không có trong danh sách cán bộ: {person_codes:join}",
            ),
            "not_enrolled": Template(
                en="{person_code} is not enrolled on {course}",
                vi="{person_code} không có trong danh sách học viên của khóa {course}.",
            ),
        }
    )


class BankNotFound(NotFound):
    """No scored attempt names that test bank version."""

    code = "404.7"
    title_vi = "Không tìm thấy đề kiểm tra"
    title_en = "Test bank not found"
    template = Template(
        en="no scored attempt of bank {bank_id} version {version}",
        vi="Chưa có bài làm nào của đề {bank_id} phiên bản {version}.",
    )


class JobNotFound(NotFound):
    """No background job with that number (or it is someone else's)."""

    code = "404.8"
    title_vi = "Không tìm thấy công việc"
    title_en = "Job not found"
    template = Template(
        en="no job {job_id}",
        vi="Không có công việc số {job_id}.",
    )
