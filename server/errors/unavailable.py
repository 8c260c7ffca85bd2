"""503: a component the operation needs is not available on this server."""

from __future__ import annotations

from server.errors.base import ServiceError
from server.errors.messages import Template, by_reason


class Unavailable(ServiceError):
    """A component the operation needs is not available on this server."""

    code = "503"
    http_status = 503
    title_vi = "Dịch vụ chưa sẵn sàng"
    title_en = "Service unavailable"
    template = Template(
        en="the service is not available right now; try again later",
        vi="Dịch vụ chưa sẵn sàng; hãy thử lại sau.",
    )


class ValidatorUnavailable(Unavailable):
    """ODK Validate could not run: Java is missing, or it timed out."""

    code = "503.1"
    title_vi = "Không chạy được ODK Validate"
    title_en = "ODK Validate could not run"
    template = by_reason(
        {
            "no_java": Template(
                en="Java was not found ({java!r}); ODK Validate needs Java 8 or newer. "
                "Install it (apt-get install default-jre-headless) or set TAPHUAN_FORMS_JAVA.",
                vi="Không tìm thấy Java ({java!r}); ODK Validate cần Java 8 trở lên. "
                "Hãy cài (apt-get install default-jre-headless) hoặc đặt TAPHUAN_FORMS_JAVA.",
            ),
            "timeout": Template(
                en="ODK Validate did not finish within {timeout} s",
                vi="ODK Validate không chạy xong trong {timeout} giây.",
            ),
        }
    )


class DatabaseUnavailable(Unavailable):
    """The database is down or busy past its timeout; nothing was stored, try again."""

    code = "503.2"
    title_vi = "Máy chủ đang bận"
    title_en = "Service busy"
    template = Template(
        en="the database is busy or unreachable; nothing was stored, "
        "try again in {retry_after} seconds",
        vi="Cơ sở dữ liệu đang bận hoặc không kết nối được; chưa có gì được lưu, "
        "hãy thử lại sau {retry_after} giây.",
    )


class JobAbandoned(Unavailable):
    """A background job's worker stopped answering (its process ended) too many times."""

    code = "503.3"
    title_vi = "Công việc bị dừng giữa chừng"
    title_en = "Job abandoned"
    template = Template(
        en="the job stopped {attempts} time(s) without finishing (its server process ended); "
        "nothing of it was stored; start it again",
        vi="Công việc đã dừng {attempts} lần mà chưa xong (tiến trình máy chủ bị tắt); "
        "chưa có gì được lưu, hãy chạy lại.",
    )
