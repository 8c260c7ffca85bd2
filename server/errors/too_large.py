"""413: the body or a file is larger than the configured limit."""

from __future__ import annotations

from server.errors.base import ServiceError
from server.errors.messages import Template


class PayloadTooLarge(ServiceError):
    """The body or file is larger than the configured limit."""

    code = "413"
    http_status = 413
    title_vi = "Dữ liệu quá lớn"
    title_en = "Payload too large"
    template = Template(
        en="larger than this server accepts",
        vi="Lớn hơn giới hạn của máy chủ.",
    )


class FileTooLarge(PayloadTooLarge):
    """A file is larger than the configured limit."""

    code = "413.1"
    title_vi = "Tệp quá lớn"
    title_en = "File too large"
    template = Template(
        en="{size:,} bytes is larger than the limit of {limit:,} bytes (TAPHUAN_FORMS_MAX_BYTES)",
        vi="Tệp {size:,} byte, lớn hơn giới hạn {limit:,} byte (TAPHUAN_FORMS_MAX_BYTES).",
    )


class BodyTooLarge(PayloadTooLarge):
    """A request body is larger than the advertised limit."""

    code = "413.2"
    title_vi = "Bài nộp quá lớn"
    title_en = "Request body too large"
    template = Template(
        en="the submission is larger than {limit:,} bytes",
        vi="Bài nộp lớn hơn giới hạn {limit:,} byte của máy chủ.",
    )


class UploadTooLarge(PayloadTooLarge):
    """An upload to a page or the API is larger than its limit (refused before it is read).

    Details: ``size`` (the Content-Length), ``limit`` and ``setting`` (the variable that sets it).
    """

    code = "413.3"
    title_vi = "Tệp tải lên quá lớn"
    title_en = "Upload too large"
    template = Template(
        en="the upload is {size:,} bytes, larger than the limit of {limit:,} bytes ({setting})",
        vi="Dữ liệu tải lên {size:,} byte, lớn hơn giới hạn {limit:,} byte ({setting}).",
    )
