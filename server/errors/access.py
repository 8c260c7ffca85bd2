"""401, 403 and 429: who is asking, and whether they may."""

from __future__ import annotations

from server.errors.base import ServiceError
from server.errors.messages import Template, by_reason


class AuthenticationRequired(ServiceError):
    """No credentials, or wrong ones; the OpenRosa surface adds the Digest challenge."""

    code = "401.1"
    http_status = 401
    title_vi = "Cần đăng nhập"
    title_en = "Authentication required"
    # The renderers put the title ("Cần đăng nhập") in front, so these never repeat it, and
    # only a wrong answer says "wrong".
    template = by_reason(
        {
            "required": Template(
                en="authentication is required",
                vi="hãy nhập tên đăng nhập và mật khẩu của bạn.",
            ),
            "unknown_user": Template(
                en="unknown user or wrong realm",
                vi="tên đăng nhập hoặc mật khẩu không đúng.",
            ),
            "wrong_password": Template(
                en="wrong user name or password",
                vi="tên đăng nhập hoặc mật khẩu không đúng.",
            ),
            "realm_changed": Template(
                en="the password must be set again for this realm",
                vi="mật khẩu của tài khoản này cần được quản trị đặt lại.",
            ),
            "stale_nonce": Template(
                en="stale or invalid nonce",
                vi="phiên xác thực đã hết hạn, hãy gửi lại.",
            ),
            "uri_mismatch": Template(
                en="the Digest uri does not match the request",
                vi="thông tin xác thực không khớp với yêu cầu.",
            ),
            "unsupported_qop": Template(
                en="only qop=auth is supported",
                vi="thiết bị dùng kiểu xác thực không được hỗ trợ (cần qop=auth).",
            ),
            "nonce_reused": Template(
                en="this nonce count was used before",
                vi="yêu cầu này đã được dùng một lần; hãy gửi lại.",
            ),
            "malformed_basic": Template(
                en="malformed Basic credentials",
                vi="thông tin đăng nhập không đọc được.",
            ),
            "api_token": Template(
                en="a valid API token is required (Authorization: Bearer <token>)",
                vi="cần mã API hợp lệ (Authorization: Bearer <mã>).",
            ),
        }
    )


class Forbidden(ServiceError):
    """The caller is known but may not do this."""

    code = "403"
    http_status = 403
    title_vi = "Không có quyền"
    title_en = "Forbidden"
    template = Template(
        en="you may not do this",
        vi="Bạn không có quyền làm việc này.",
    )


class TokenInvalid(Forbidden):
    """The device token in the URL is unknown or revoked."""

    code = "403.1"
    title_vi = "Mã thiết bị không hợp lệ hoặc đã bị thu hồi"
    title_en = "Device token invalid or revoked"
    template = Template(
        en="this device token is unknown or has been revoked",
        vi="Mã thiết bị không đúng hoặc đã bị thu hồi; hãy xin mã mới từ quản trị.",
    )


class FormNotAssigned(Forbidden):
    """The form exists but is not assigned to this user or device (``actor`` names it)."""

    code = "403.2"
    title_vi = "Biểu mẫu không được giao cho bạn"
    title_en = "Form not assigned to you"
    template = by_reason(
        {
            None: Template(
                en="form '{form_id}' is not assigned to you",
                vi="Biểu mẫu '{form_id}' không được giao cho bạn.",
            ),
            "actor": Template(
                en="form '{form_id}' is not assigned to {actor}",
                vi="Biểu mẫu '{form_id}' không được giao cho tài khoản này.",
            ),
        }
    )


#: Why the policy refused (``server.domain.policy.Decision.reason``), in both languages.
_POLICY_REASONS = {
    "role": ("role {role} may not do {action}", "vai trò {role} không được làm việc này"),
    "not_assigned": ("the form is not assigned to you", "biểu mẫu không được giao cho bạn"),
    "outside_units": ("outside your units", "ngoài các đơn vị bạn phụ trách"),
    "other_trainer": ("a course of another trainer", "khóa học của giảng viên khác"),
}


class FormNotReadable(Forbidden):
    """The user may not read this form's submissions; ``reason`` is the policy's."""

    code = "403.3"
    title_vi = "Không có quyền xem dữ liệu biểu mẫu này"
    title_en = "Not allowed to read this form"
    template = by_reason(
        {
            reason: Template(
                en=f"you may not read form '{{form_id}}' ({en})",
                vi=f"Bạn không có quyền xem biểu mẫu '{{form_id}}' hoặc dữ liệu của nó ({vi}).",
            )
            for reason, (en, vi) in _POLICY_REASONS.items()
        }
    )


class RoleNotAllowed(Forbidden):
    """The user's role (or scope) does not allow this action; ``reason`` is the policy's."""

    code = "403.4"
    title_vi = "Vai trò của bạn không được phép làm việc này"
    title_en = "Your role does not allow this"
    template = by_reason(
        {
            reason: Template(en=en, vi=vi[0].upper() + vi[1:] + ".")
            for reason, (en, vi) in _POLICY_REASONS.items()
        }
    )


class RequestForgery(Forbidden):
    """A page form came without this session's CSRF token, or from another site."""

    code = "403.5"
    title_vi = "Biểu mẫu đã hết hạn hoặc không gửi từ trang này"
    title_en = "Form expired or sent from another site"
    template = by_reason(
        {
            "other_origin": Template(
                en="the form was sent from {origin!r}, not from this site",
                vi="biểu mẫu được gửi từ một trang khác, không phải trang này.",
            ),
            # cause: Flask-WTF's own description of the refusal.
            "csrf": Template(
                en="{cause}; reload the page and send the form again",
                vi="phiên của biểu mẫu đã hết hạn hoặc thiếu mã bảo vệ; "
                "hãy tải lại trang rồi gửi lại.",
            ),
        }
    )


class PasswordLinkSpent(Forbidden):
    """A set-password link that is unknown, used, expired, or replaced by a newer one.

    Details: ``reason``: ``spent`` (any of those: one answer for all, so a guessed link learns
    nothing) or ``raced`` (a second click of the same link a moment after the first).
    """

    code = "403.8"
    title_vi = "Đường dẫn đặt mật khẩu không còn hiệu lực"
    title_en = "Set-password link no longer valid"
    template = by_reason(
        {
            "spent": Template(
                en="this set-password link is unknown, used or expired, or a newer one was "
                "made; ask an administrator for a new link",
                vi="Đường dẫn đặt mật khẩu này không đúng, đã dùng, đã hết hạn hoặc đã có "
                "đường dẫn mới hơn; hãy xin quản trị một đường dẫn mới.",
            ),
            "raced": Template(
                en="this set-password link was used a moment ago",
                vi="Đường dẫn đặt mật khẩu vừa được dùng. Hãy đăng nhập.",
            ),
        }
    )


class EditNotAllowed(Forbidden):
    """A ``deprecatedID`` edit of a submission someone else sent."""

    code = "403.6"
    title_vi = "Không được sửa bài nộp của người khác"
    title_en = "Not your submission to edit"
    template = Template(
        en="submission {instance_id} was sent by someone else; only its sender or an "
        "administrator may edit it",
        vi="Bài nộp này do người khác gửi; chỉ người gửi hoặc quản trị được sửa.",
    )


class FirstRunLinkSpent(Forbidden):
    """A first-run set-up link that is unknown, spent, expired, or came after an administrator.

    Details: ``reason``: ``spent`` (any of those; one answer for all, the page says what to
    do) or ``raced`` (a second click of the same link a moment after the first).
    """

    code = "403.7"
    title_vi = "Đường dẫn thiết lập không còn hiệu lực"
    title_en = "Set-up link no longer valid"
    template = by_reason(
        {
            "spent": Template(
                en="this set-up link is unknown, used or expired, or an administrator exists "
                "already",
                vi="Đường dẫn thiết lập này không đúng, đã dùng hoặc đã hết hạn, hoặc đã có tài "
                "khoản quản trị. Hãy đăng nhập, hoặc khởi động lại máy chủ để in đường dẫn mới.",
            ),
            "raced": Template(
                en="this set-up link was used a moment ago",
                vi="Đường dẫn thiết lập vừa được dùng. Hãy đăng nhập.",
            ),
        }
    )


class TooManyAttempts(ServiceError):
    """Too many wrong passwords for an account or from an address; ``retry_after`` seconds."""

    code = "429.1"
    http_status = 429
    title_vi = "Quá nhiều lần đăng nhập sai"
    title_en = "Too many failed sign-ins"
    template = Template(
        en="too many wrong passwords; try again in {minutes} min",
        vi="nhập sai mật khẩu quá nhiều lần; hãy thử lại sau {minutes} phút.",
    )
