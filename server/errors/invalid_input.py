"""400: something the caller sent cannot be used as it is."""

from __future__ import annotations

from server.errors.base import ServiceError
from server.errors.messages import Template, by_reason


class InvalidInput(ServiceError):
    """Something the caller sent cannot be used as it is."""

    code = "400"
    http_status = 400
    title_vi = "Dữ liệu không hợp lệ"
    title_en = "Invalid input"
    template = Template(
        en="the data sent cannot be used",
        vi="Dữ liệu gửi lên không dùng được.",
    )


class MalformedSubmission(InvalidInput):
    """A submission body or its XML cannot be read; ``reason`` says how."""

    code = "400.1"
    title_vi = "Bài nộp không đọc được"
    title_en = "Malformed submission"
    template = by_reason(
        {
            "bad_multipart": Template(
                en="the multipart body could not be read ({cause})",
                vi="Dữ liệu gửi lên bị hỏng hoặc không đầy đủ; hãy gửi lại.",
            ),
            # xml_error: the XML parser's refusal (malformed XML, a DOCTYPE…).
            "bad_xml": Template(
                en="{xml_error}",
                vi="Tệp bài nộp không phải XML hợp lệ.",
            ),
            "too_deep": Template(
                en="xml_submission_file: nested deeper than the {limit:,} this server accepts",
                vi="Tệp bài nộp lồng các phần tử quá sâu (giới hạn {limit:,}).",
            ),
            "too_many_elements": Template(
                en="xml_submission_file: has more elements than the {limit:,} this server accepts",
                vi="Tệp bài nộp có quá nhiều phần tử (giới hạn {limit:,}).",
            ),
            "no_form_id": Template(
                en="the submission's root element has no form ID xml attribute (id)",
                vi="Bài nộp thiếu mã biểu mẫu (thuộc tính id).",
            ),
            "encrypted_without_instance_id": Template(
                en="an encrypted submission must carry meta/instanceID",
                vi="Bài nộp mã hóa phải có instanceID.",
            ),
        }
    )


class MissingSubmissionFile(InvalidInput):
    """The multipart POST has no ``xml_submission_file`` part."""

    code = "400.2"
    title_vi = "Thiếu tệp bài nộp"
    title_en = "Missing submission file"
    template = Template(
        en="required multipart POST field xml_submission_file missing",
        vi="Thiếu phần xml_submission_file trong dữ liệu gửi lên.",
    )


class InvalidHeader(InvalidInput):
    """A required protocol header is missing or wrong (``X-OpenRosa-Version: 1.0``)."""

    code = "400.3"
    title_vi = "Thiếu hoặc sai tiêu đề giao thức"
    title_en = "Missing or invalid header"
    template = Template(
        en="the {header}: {value} header is required",
        vi="Thiếu tiêu đề {header}: {value} (hãy dùng ODK Collect hoặc KoBoCollect).",
    )


class InvalidXLSForm(InvalidInput):
    """pyxform refused the XLSForm; ``pyxform`` is its own row-numbered text."""

    code = "400.4"
    title_vi = "XLSForm không hợp lệ"
    title_en = "Invalid XLSForm"
    template = by_reason(
        {
            "pyxform": Template(
                en="{pyxform}",
                vi="pyxform không chuyển được XLSForm: {pyxform}",
            ),
            "unreadable": Template(
                en="the workbook could not be read ({cause})",
                vi="Không đọc được bảng tính ({cause}).",
            ),
            "crashed": Template(
                en="pyxform could not convert the form ({cause})",
                vi="pyxform không chuyển được biểu mẫu ({cause}).",
            ),
        }
    )


class InvalidXForm(InvalidInput):
    """The XForm XML is malformed, unsafe (DOCTYPE/entities) or not an XForm."""

    code = "400.5"
    title_vi = "XForm không hợp lệ"
    title_en = "Invalid XForm"
    template = by_reason(
        {
            "too_deep": Template(
                en="nested deeper than the {limit:,} this server accepts",
                vi="Các phần tử lồng nhau quá sâu (giới hạn {limit:,}).",
            ),
            "too_many_elements": Template(
                en="has more elements than the {limit:,} this server accepts",
                vi="Có quá nhiều phần tử (giới hạn {limit:,}).",
            ),
            "unsafe_xml": Template(
                en="DOCTYPE and entity declarations are not allowed ({cause})",
                vi="Không chấp nhận khai báo DOCTYPE và thực thể XML ({cause}).",
            ),
            "malformed_xml": Template(
                en="malformed XML ({cause})",
                vi="XML sai cú pháp ({cause}).",
            ),
            "not_xform": Template(
                en="not an XForm (expected <h:html> with <h:head><model> and a primary <instance>)",
                vi="Không phải XForm (cần <h:html> có <h:head><model> và một <instance> chính).",
            ),
            "no_form_id": Template(
                en="the instance root <{root}> has no id attribute",
                vi="Phần tử gốc <{root}> của instance không có thuộc tính id.",
            ),
            "version_too_long": Template(
                en="the version is {length} characters long; at most {limit} are accepted",
                vi="Phiên bản dài {length} ký tự; tối đa {limit} ký tự.",
            ),
        }
    )


class FormValidationFailed(InvalidInput):
    """ODK Validate (JavaRosa, the engine inside ODK Collect) rejected the form."""

    code = "400.6"
    title_vi = "ODK Validate báo lỗi biểu mẫu"
    title_en = "ODK Validate rejected the form"
    # validator_output: one line per error, each naming its question (ODK Validate's words).
    template = Template(
        en="{validator_output:lines}",
        vi="ODK Validate (bộ kiểm tra của ODK Collect) báo lỗi:\n{validator_output:lines}",
    )


class UnsupportedFileType(InvalidInput):
    """The file is not one of the accepted kinds, or its content does not match its name."""

    code = "400.7"
    title_vi = "Loại tệp không được hỗ trợ"
    title_en = "Unsupported file type"
    template = by_reason(
        {
            "not_form_file": Template(
                en="not a form file (accepted: {accepted:join})",
                vi="Không phải tệp biểu mẫu (nhận: {accepted:join}).",
            ),
            "not_register_file": Template(
                en="the register must be .xlsx or .csv",
                vi="Danh sách phải là tệp .xlsx hoặc .csv.",
            ),
            "not_xls": Template(
                en="not an Excel 97-2003 (.xls) workbook",
                vi="Không phải bảng tính Excel 97-2003 (.xls).",
            ),
            "not_utf8": Template(
                en="not UTF-8 text (byte {byte}); save it as UTF-8",
                vi="Tệp không phải văn bản UTF-8 (byte {byte}); hãy lưu lại dạng UTF-8.",
            ),
            "not_workbook": Template(
                en="not an Excel {ext} workbook (the file is corrupt or of another kind)",
                vi="Không phải bảng tính Excel {ext} (tệp bị hỏng hoặc là loại khác).",
            ),
            "corrupt": Template(
                en="corrupt {ext} workbook ({cause})",
                vi="Bảng tính {ext} bị hỏng ({cause}).",
            ),
            "renamed_docx": Template(
                en="this is a Word document (.docx) renamed {ext}, not an Excel workbook",
                vi="Đây là văn bản Word (.docx) đổi tên thành {ext}, không phải bảng tính Excel.",
            ),
            "renamed_pptx": Template(
                en="this is a PowerPoint file (.pptx) renamed {ext}, not an Excel workbook",
                vi="Đây là tệp PowerPoint (.pptx) đổi tên thành {ext}, không phải bảng tính Excel.",
            ),
            "renamed_odf": Template(
                en="this is an OpenDocument file renamed {ext}, not an Excel workbook",
                vi="Đây là tệp OpenDocument đổi tên thành {ext}, không phải bảng tính Excel.",
            ),
            "renamed_zip": Template(
                en="this is a zip archive renamed {ext}, not an Excel workbook",
                vi="Đây là tệp nén zip đổi tên thành {ext}, không phải bảng tính Excel.",
            ),
            "no_worksheet": Template(
                en="the workbook has no worksheet",
                vi="Bảng tính không có trang tính nào.",
            ),
            "no_readable_worksheet": Template(
                en="the workbook has no readable worksheet",
                vi="Bảng tính không có trang tính nào đọc được.",
            ),
            "unsafe_workbook": Template(
                en="unsafe workbook ({cause})",
                vi="Bảng tính chứa khai báo không được chấp nhận ({cause}).",
            ),
        }
    )


class EmptyFile(InvalidInput):
    """The file has no content (or, with a ``reason``, nothing under its header)."""

    code = "400.8"
    title_vi = "Tệp rỗng"
    title_en = "Empty file"
    template = by_reason(
        {
            None: Template(
                en="the file is empty",
                vi="Tệp rỗng.",
            ),
            "no_header": Template(
                en="no header row",
                vi="Tệp không có dòng tiêu đề.",
            ),
            "no_rows": Template(
                en="the header has no data rows under it",
                vi="Dưới dòng tiêu đề không có dòng dữ liệu nào.",
            ),
            "no_units": Template(
                en="the file has a header but no units",
                vi="Tệp có dòng tiêu đề nhưng không có đơn vị nào.",
            ),
        }
    )


class UnknownXLSFormColumn(InvalidInput):
    """A column header looks like a misspelt XLSForm column (``relevnt``), which pyxform ignores."""

    code = "400.9"
    title_vi = "Tên cột XLSForm không đúng"
    title_en = "Unknown XLSForm column"
    # columns: one finding per header, naming its sheet and the column it is close to.
    template = Template(
        en="{columns:join; }",
        vi="Có cột viết sai tên, pyxform sẽ bỏ qua: {columns:join; }",
    )


class InvalidUnitsFile(InvalidInput):
    """An administrative-units CSV has bad rows; ``details['rows']`` lists them by row number."""

    code = "400.10"
    title_vi = "Tệp đơn vị hành chính có lỗi"
    title_en = "Invalid administrative units file"
    template = by_reason(
        {
            "not_utf8": Template(
                en="not UTF-8 text (byte {byte}); save as UTF-8",
                vi="Tệp không phải văn bản UTF-8 (byte {byte}); hãy lưu lại dạng UTF-8.",
            ),
            "missing_columns": Template(
                en="row 1 (header): missing column(s): {missing:join}",
                vi="dòng 1 (tiêu đề): thiếu cột {missing:join}",
            ),
            "unknown_columns": Template(
                en="row 1 (header): unknown column(s): {unknown:join}",
                vi="dòng 1 (tiêu đề): cột lạ {unknown:join}",
            ),
            "bad_columns": Template(
                en="row 1 (header): missing column(s): {missing:join}; "
                "unknown column(s): {unknown:join}",
                vi="dòng 1 (tiêu đề): thiếu cột {missing:join}; cột lạ {unknown:join}",
            ),
            "rows": Template(
                en="{count} bad row(s), nothing was imported: {rows:rows}",
                vi="{count} dòng có lỗi, chưa nhập gì: {rows:rows}",
            ),
        }
    )


class InvalidFormMedia(InvalidInput):
    """A form media file has an unusable name or content."""

    code = "400.12"
    title_vi = "Tệp đính kèm biểu mẫu không hợp lệ"
    title_en = "Invalid form media file"
    template = Template(
        en="not a plain file name (a media file's name may not contain / or \\)",
        vi="Tên tệp đính kèm của biểu mẫu không được chứa / hoặc \\.",
    )


class InvalidAttachment(InvalidInput):
    """An attachment part has an unusable name, or there are too many parts."""

    code = "400.13"
    title_vi = "Tệp đính kèm không hợp lệ"
    title_en = "Invalid attachment"
    template = by_reason(
        {
            "too_many": Template(
                en="{count} files in one request; at most {limit} are accepted",
                vi="Quá nhiều tệp trong một lần gửi ({count}; tối đa {limit}).",
            ),
            "bad_name": Template(
                en="attachment name {name!r} is not a plain file name of at most {max_length} "
                "characters (no / \\ or control characters)",
                vi="Tên tệp đính kèm không hợp lệ (không được chứa / \\, ký tự điều khiển, "
                "hoặc dài quá {max_length} ký tự).",
            ),
        }
    )


class InvalidAccount(InvalidInput):
    """A user or device account request has a bad name, role or password."""

    code = "400.14"
    title_vi = "Thông tin tài khoản không hợp lệ"
    title_en = "Invalid account data"
    template = by_reason(
        {
            "username": Template(
                en="user name {username!r} must be 1-150 printable characters, no ':'",
                vi="Tên đăng nhập {username!r} phải có 1–150 ký tự in được, không có dấu ':'.",
            ),
            "role": Template(
                en="role {role!r} is not one of {roles:join}",
                vi="Vai trò {role!r} không có; chọn một trong: {roles:join}.",
            ),
            "password": Template(
                en="the password needs at least {min_length} characters",
                vi="Mật khẩu cần ít nhất {min_length} ký tự.",
            ),
            "device_label": Template(
                en="a device needs a label of 1-255 characters",
                vi="Thiết bị cần có nhãn dài 1–255 ký tự.",
            ),
            "device_forms": Template(
                en="a device token needs at least one form (--form)",
                vi="Mã thiết bị cần được giao ít nhất một biểu mẫu (--form).",
            ),
            "passwords_differ": Template(
                en="the two passwords differ",
                vi="Hai mật khẩu không giống nhau.",
            ),
            "unknown_units": Template(
                en="no administrative unit has the code(s) {codes:join}",
                vi="Không có đơn vị hành chính mã {codes:join}.",
            ),
            "token_label": Template(
                en="an API token needs a label of 1-255 characters (what it is for)",
                vi="Mã API cần có nhãn dài 1–255 ký tự (dùng để làm gì).",
            ),
        }
    )


class InvalidRosterFile(InvalidInput):
    """A staff register file has bad rows or columns; ``details['rows']`` lists them."""

    code = "400.15"
    title_vi = "Danh sách cán bộ có lỗi"
    title_en = "Invalid staff register file"
    # The rows travel in the details (the CLI prints them, the API returns them); the
    # message only counts them, so that nobody reads the same list twice.
    template = by_reason(
        {
            "merged_cells": Template(
                en="merged cells ({where}); unmerge them and fill every row",
                vi="Bảng có ô gộp ({where}); hãy bỏ gộp và điền đủ từng dòng.",
            ),
            "header": Template(
                en="the header row cannot be used",
                vi="Dòng tiêu đề có lỗi.",
            ),
            "rows": Template(
                en="{count} bad row(s), nothing was imported",
                vi="{count} dòng có lỗi, chưa nhập gì.",
            ),
        }
    )


class InvalidAnswerKey(InvalidInput):
    """An answer key names items or choices the test form lacks; ``details['rows']``."""

    code = "400.16"
    title_vi = "Đáp án không khớp với bài kiểm tra"
    title_en = "Invalid answer key"
    template = by_reason(
        {
            "rows": Template(
                en="{rows:rows}",
                vi="Đáp án không khớp với đề: {rows:rows}",
            ),
            "no_items": Template(
                en="no items",
                vi="Tệp đáp án không có câu nào.",
            ),
            "not_xlsx": Template(
                en="not a readable .xlsx workbook",
                vi="Không đọc được bảng tính .xlsx.",
            ),
            "not_utf8": Template(
                en="not UTF-8 CSV (or use .xlsx)",
                vi="Tệp CSV phải lưu dạng UTF-8 (hoặc dùng .xlsx).",
            ),
            "no_version": Template(
                en="form '{form_id}' has no version '{version}'",
                vi="Biểu mẫu '{form_id}' không có phiên bản '{version}'.",
            ),
            "no_key": Template(
                en="form {form_id!r} has no keyed version",
                vi="Bài kiểm tra {form_id!r} chưa có đáp án.",
            ),
            "version_not_keyed": Template(
                en="form {form_id!r} has no keyed version {version!r}",
                vi="Phiên bản {version!r} của bài kiểm tra {form_id!r} chưa có đáp án.",
            ),
            "item_not_in_key": Template(
                en="item {item!r} is not in the key of {form_id} version {version}",
                vi="Câu {item} không có trong đáp án của {form_id} phiên bản {version}.",
            ),
            "item_unchanged": Template(
                en="item {item!r} is already {status}",
                vi="Câu {item} đã ở trạng thái này ({status}).",
            ),
            "last_item": Template(
                en="dropping the last active item would leave nothing to score",
                vi="Không thể loại câu cuối cùng còn chấm điểm.",
            ),
        }
    )


class InvalidCourse(InvalidInput):
    """A course's values are inconsistent (dates reversed, unknown form…)."""

    code = "400.17"
    title_vi = "Thông tin khóa học không hợp lệ"
    title_en = "Invalid course"
    template = by_reason(
        {
            "fields": Template(
                en="course {code}: invalid {fields:keys}: {fields:fields}",
                vi="Khóa học {code} không hợp lệ: {fields:keys}",
            ),
            "not_utf8": Template(
                en="not UTF-8 CSV",
                vi="Tệp CSV phải lưu dạng UTF-8.",
            ),
            "rows": Template(
                en="{rows:rows}",
                vi="Tệp học viên có lỗi: {rows:rows}",
            ),
            "no_rows": Template(
                en="no rows",
                vi="Tệp học viên không có dòng nào.",
            ),
        }
    )
