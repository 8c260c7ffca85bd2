"""422: the request is well-formed but its values cannot be used."""

from __future__ import annotations

from server.errors.base import ServiceError
from server.errors.messages import Template, by_reason


class Unprocessable(ServiceError):
    """The request is well-formed but its values cannot be used."""

    code = "422"
    http_status = 422
    title_vi = "Tham số không hợp lệ"
    title_en = "Unprocessable request"
    template = Template(
        en="the values sent cannot be used",
        vi="Không dùng được các giá trị đã gửi.",
    )


class InvalidRequest(Unprocessable):
    """Query or body parameters failed validation; ``details['fields']`` names each one."""

    code = "422.1"
    title_vi = "Tham số không hợp lệ"
    title_en = "Invalid parameters"
    template = by_reason(
        {
            # fields: {parameter: [problem]}, from a schema or the checks of every request.
            None: Template(
                en="invalid parameters: {fields:keys}",
                vi="Tham số không hợp lệ: {fields:keys}",
            ),
            "json_body": Template(
                en="a JSON object body is required",
                vi="Cần gửi một đối tượng JSON trong thân yêu cầu.",
            ),
            "multipart_field": Template(
                en="multipart field '{field}' is required",
                vi="Thiếu trường '{field}' trong dữ liệu gửi lên (multipart).",
            ),
            "person_details": Template(
                en="check these details: {fields:keys}",
                vi="Hãy kiểm tra lại: {fields:keys}",
            ),
            "check_not_done": Template(
                en="the check of this file (job {job_id}) has not ended well; nothing to apply",
                vi="Tệp này chưa kiểm tra xong hoặc có lỗi (công việc {job_id}); chưa thể nhập.",
            ),
            "register_date": Template(
                en="{field}: not a date (dd/mm/yyyy)",
                vi="{field}: không phải ngày (dd/mm/yyyy).",
            ),
            "tablet_name_and_forms": Template(
                en="name the tablet and pick at least one form",
                vi="Hãy đặt tên máy và chọn ít nhất một biểu mẫu.",
            ),
            "pick_people": Template(
                en="pick at least one person to enrol",
                vi="Hãy chọn ít nhất một người để ghi danh.",
            ),
            "not_a_choice": Template(
                en="{field} must be one of {choices:join}",
                vi="{field} phải là một trong: {choices:join}.",
            ),
            "period_reversed": Template(
                en="period_from: the period starts after it ends",
                vi="period_from: kỳ báo cáo bắt đầu sau ngày kết thúc.",
            ),
            "unknown_level": Template(
                en="level: unknown level {levels:join}",
                vi="level: tuyến không hợp lệ {levels:join}.",
            ),
            "unknown_unit": Template(
                en="unit: no administrative unit has the code {unit!r}",
                vi="unit: không có đơn vị hành chính mã {unit!r}.",
            ),
            "targets": Template(
                en="invalid target or setting ({fields:fields})",
                vi="Chỉ tiêu hoặc thiết lập không hợp lệ: {fields:keys}",
            ),
            "unknown_codes": Template(
                en="codes {codes} are not in the code frame",
                vi="Mã {codes} không có trong bộ mã.",
            ),
            "code_99_alone": Template(
                en="code 99 (no comment) cannot be combined with others",
                vi="Mã 99 (không có ý kiến) không đi cùng mã khác.",
            ),
            "no_comment": Template(
                en="submission {submission_id} has no comment under {question!r}",
                vi="Phiếu {submission_id} không có ý kiến ở câu {question}.",
            ),
            "change": Template(
                en="change must be one of {choices}",
                vi="change phải là một trong {choices}.",
            ),
            "reason_required": Template(
                en="a reason is required: it is kept in the audit trail",
                vi="Cần ghi lý do (được lưu lại để tra cứu).",
            ),
            "not_enrolled": Template(
                en="{person_code} is not enrolled in {course}",
                vi="{person_code} không có trong danh sách học viên của khóa {course}.",
            ),
        }
    )


class InvalidCursor(Unprocessable):
    """A pagination cursor was altered or belongs to another query."""

    code = "422.2"
    title_vi = "Con trỏ phân trang không hợp lệ"
    title_en = "Invalid page cursor"
    template = by_reason(
        {
            "altered": Template(
                en="the cursor was altered or is not one of ours",
                vi="Con trỏ trang không hợp lệ.",
            ),
            "other_filters": Template(
                en="the cursor belongs to a listing with other filters",
                vi="Con trỏ trang thuộc một danh sách có bộ lọc khác; hãy tải lại trang đầu.",
            ),
        }
    )


class DecryptionFailed(Unprocessable):
    """Encrypted submissions could not be decrypted with the key given."""

    code = "422.3"
    title_vi = "Không giải mã được bài nộp"
    title_en = "Decryption failed"
    template = by_reason(
        {
            "key_required": Template(
                en="form '{form_id}' is encrypted: its submissions can only be exported with the "
                "private key (flask --app wsgi export … --private-key KEY.pem)",
                vi="Biểu mẫu '{form_id}' được mã hóa: cần khóa riêng để xuất dữ liệu "
                "(flask --app wsgi export … --private-key KEY.pem).",
            ),
            "key_unreadable": Template(
                en="the private key could not be read (PEM RSA key expected)",
                vi="Không đọc được khóa riêng (cần tệp PEM RSA).",
            ),
            "not_rsa": Template(
                en="the private key is not an RSA key",
                vi="Khóa riêng không phải khóa RSA.",
            ),
            "key_not_base64": Template(
                en="base64EncryptedKey is not base64",
                vi="base64EncryptedKey của bài nộp không phải dạng base64.",
            ),
            "no_submission_key": Template(
                en="submission {instance_id} has no base64EncryptedKey",
                vi="Bài nộp {instance_id} không có base64EncryptedKey.",
            ),
            "wrong_key": Template(
                en="the submission key could not be decrypted: is this the form's private key?",
                vi="Không giải mã được: khóa riêng không đúng với biểu mẫu?",
            ),
            "bad_padding": Template(
                en="a submission file could not be decrypted (bad padding)",
                vi="Không giải mã được tệp của bài nộp.",
            ),
        }
    )
