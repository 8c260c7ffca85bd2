"""409: the request contradicts what is already stored."""

from __future__ import annotations

from server.errors.base import ServiceError
from server.errors.messages import Template, by_reason


class Conflict(ServiceError):
    """The request contradicts what is already stored."""

    code = "409"
    http_status = 409
    title_vi = "Xung đột dữ liệu"
    title_en = "Conflict"
    template = Template(
        en="this contradicts what is already stored",
        vi="Yêu cầu mâu thuẫn với dữ liệu đã lưu.",
    )


class SubmissionConflict(Conflict):
    """Same instanceID, different XML: the device must not silently overwrite data."""

    code = "409.1"
    title_vi = "Bài nộp trùng mã nhưng khác nội dung"
    title_en = "Submission conflict"
    # Central's words (xmlConflict), which Collect users may already know.
    template = Template(
        en="a submission already exists with this ID, but with different XML; "
        "resubmissions to attach files must resend identical XML",
        vi="Đã có bài nộp cùng mã nhưng nội dung khác. Không ghi đè dữ liệu.",
    )


class FormVersionExists(Conflict):
    """This form_id and version were published before with different content."""

    code = "409.2"
    title_vi = "Phiên bản biểu mẫu đã tồn tại với nội dung khác"
    title_en = "Form version already published with different content"
    template = by_reason(
        {
            "changed": Template(
                en="form '{form_id}' version '{version}' is already published with different "
                "content; published versions never change: raise settings.version (in an XForm, "
                "the version attribute of the instance root) and publish again",
                vi="Biểu mẫu '{form_id}' phiên bản '{version}' đã được công bố với nội dung khác; "
                "phiên bản đã công bố không bao giờ thay đổi: hãy tăng settings.version (trong "
                "XForm là thuộc tính version của phần tử gốc instance) rồi công bố lại.",
            ),
            "unversioned": Template(
                en="form '{form_id}' was published without a version and this file has none "
                "either; published versions never change, so a changed form needs a version: add "
                'version="{suggested_version}" to the instance root <{root} id="{form_id}"> '
                "(or fill settings.version in the XLSForm) and publish again",
                vi="Biểu mẫu '{form_id}' đã được công bố không có phiên bản và tệp này cũng không "
                "có; phiên bản đã công bố không bao giờ thay đổi nên biểu mẫu đã sửa cần một "
                'phiên bản: thêm version="{suggested_version}" vào phần tử gốc <{root} '
                'id="{form_id}"> (hoặc điền settings.version trong XLSForm) rồi công bố lại.',
            ),
        }
    )


class FormClosed(Conflict):
    """The form no longer accepts submissions."""

    code = "409.3"
    title_vi = "Biểu mẫu đã đóng"
    title_en = "Form closed"
    template = Template(
        en="form '{form_id}' is closed and does not accept submissions",
        vi="Biểu mẫu '{form_id}' đã đóng, không nhận bài nộp.",
    )


class SubmissionOutdated(Conflict):
    """An edit names a version of the submission that has since been replaced."""

    code = "409.4"
    title_vi = "Bản đang sửa đã cũ"
    title_en = "Edited copy is out of date"
    template = Template(
        en="the copy you were editing ({instance_id}) is now out of date; "
        "download the current version and edit that",
        vi="Bản bạn đang sửa ({instance_id}) đã cũ; hãy lấy bản mới nhất để sửa.",
    )


class SubmissionExists(Conflict):
    """An edit's new instanceID is already taken (or was stored by a racing request)."""

    code = "409.5"
    title_vi = "Mã bài nộp đã tồn tại"
    title_en = "Submission already exists"
    template = by_reason(
        {
            None: Template(
                en="a submission already exists with instanceID {instance_id}",
                vi="Đã có bài nộp với mã {instance_id}.",
            ),
            # Two requests raced twice on one instanceID (server.models.integrity).
            "stored_meanwhile": Template(
                en="another request stored a submission with this instanceID at the same "
                "moment; send it again",
                vi="Một yêu cầu khác vừa lưu bài nộp cùng mã vào đúng lúc này; hãy gửi lại.",
            ),
        }
    )


class SubmissionDeleted(Conflict):
    """The instanceID belongs to a deleted submission; it may not come back."""

    code = "409.6"
    title_vi = "Bài nộp đã bị xóa"
    title_en = "Submission was deleted"
    template = by_reason(
        {
            None: Template(
                en="submission {instance_id} was deleted; it may not be sent again",
                vi="Bài nộp này đã bị xóa trên máy chủ, không thể gửi lại.",
            ),
            "edit": Template(
                en="submission {instance_id} was deleted; it cannot be edited",
                vi="Bài nộp này đã bị xóa trên máy chủ, không thể sửa.",
            ),
        }
    )


class UserExists(Conflict):
    """A user or device with that name exists already."""

    code = "409.7"
    title_vi = "Tài khoản đã tồn tại"
    title_en = "Account already exists"
    template = Template(
        en="user {username!r} exists already",
        vi="Đã có tài khoản {username!r}.",
    )


class CourseExists(Conflict):
    """A course with that code exists already."""

    code = "409.8"
    title_vi = "Mã khóa học đã tồn tại"
    title_en = "Course already exists"
    template = Template(
        en="course {code} exists already",
        vi="Đã có khóa học mã {code}.",
    )


class LastAdministrator(Conflict):
    """A change that would leave no active administrator (disable, or another role).

    Details: ``username``; ``reason``: ``disable`` or ``role``.
    """

    code = "409.9"
    title_vi = "Phải còn ít nhất một quản trị"
    title_en = "The last administrator"
    template = by_reason(
        {
            "disable": Template(
                en="{username!r} is the last active administrator and cannot be disabled; "
                "make another user an administrator first",
                vi="{username!r} là quản trị cuối cùng còn hoạt động nên không thể khóa; hãy "
                "cho một người khác làm quản trị trước.",
            ),
            "role": Template(
                en="{username!r} is the last active administrator and must keep that role; "
                "make another user an administrator first",
                vi="{username!r} là quản trị cuối cùng còn hoạt động nên phải giữ vai trò này; "
                "hãy cho một người khác làm quản trị trước.",
            ),
        }
    )
