"""XLSForm in, XForm out: recognise the file, lint its column headers, convert with pyxform.

pyxform reports a misspelt column such as ``relevnt`` nowhere: it silently drops the logic. So
before converting we read the headers ourselves and compare them with the columns XLSForm
knows. A header that is *close* to a known one is an error (it is almost surely a typo); any
other unknown header is a warning (authors keep remarks in extra columns).
"""

from __future__ import annotations

import difflib
import io
import zipfile
from dataclasses import dataclass, field

from pyxform import aliases
from pyxform.errors import PyXFormError
from pyxform.xls2json_backends import get_xlsform
from pyxform.xls2xform import convert

from server.errors import EmptyFile, InvalidXLSForm, UnknownXLSFormColumn, UnsupportedFileType

XLSFORM_TYPES = (".xlsx", ".xls", ".csv", ".md")
XFORM_TYPE = ".xml"
ACCEPTED_TYPES = (*XLSFORM_TYPES, XFORM_TYPE)

#: Column prefixes whose second part is free (``bind::odk:length``, ``instance::foo``).
_NAMESPACED = {"bind", "body", "control", "instance", "media"}
#: Columns that may carry a language (``label::Vietnamese (vi)``).
_TRANSLATABLE = {
    "label",
    "hint",
    "guidance_hint",
    "constraint_message",
    "required_message",
    "image",
    "big-image",
    "audio",
    "video",
    "caption",
}
_SURVEY = {
    "type",
    "name",
    "label",
    "hint",
    "guidance_hint",
    "required",
    "required_message",
    "relevant",
    "constraint",
    "constraint_message",
    "calculation",
    "default",
    "appearance",
    "parameters",
    "choice_filter",
    "repeat_count",
    "read_only",
    "trigger",
    "image",
    "big-image",
    "audio",
    "video",
    "save_to",
    "autoplay",
    "rows",
    "list_name",
    *aliases.survey_header,
}
_CHOICES = {
    "list_name",
    "name",
    "label",
    "image",
    "big-image",
    "audio",
    "video",
    *aliases.list_header,
}
_SETTINGS = {
    "form_title",
    "form_id",
    "version",
    "instance_name",
    "default_language",
    "public_key",
    "submission_url",
    "auto_send",
    "auto_delete",
    "style",
    "allow_choice_duplicates",
    "namespaces",
    "clean_text_values",
    "omit_instanceID",
    "instance_id",
    "client_editable",
    "name",
    "sms_keyword",
    "sms_separator",
    "sms_allow_media",
    "sms_date_format",
    "sms_datetime_format",
    "sms_response",
    "prefix",
    "delimiter",
    "entity_version",
    *aliases.settings_header,
}
_ENTITIES = {"list_name", "label", "update_if", "create_if", "entity_id", "dataset"}
_KNOWN = {"survey": _SURVEY, "choices": _CHOICES, "settings": _SETTINGS, "entities": _ENTITIES}
#: On these sheets extra columns are normal (choice_filter reads them), so no warning.
_FREE_EXTRA_COLUMNS = {"choices", "external_choices"}


@dataclass
class Conversion:
    """Result of converting an XLSForm: the XForm bytes and every warning, in order."""

    xform: bytes
    warnings: list[str] = field(default_factory=list)


def detect_file_type(filename: str, content: bytes) -> str:
    """Decide what kind of form file this is, from its name and its first bytes.

    :param filename: the name the file was given (its extension is a claim, checked here).
    :param content: the file's bytes.
    :return: one of :data:`ACCEPTED_TYPES`.
    :raises EmptyFile: the file is empty.
    :raises UnsupportedFileType: unknown extension, or content that contradicts it
        (a ``.docx`` renamed ``.xlsx``, a binary file called ``.csv``…).
    """
    name = filename.rsplit("/", 1)[-1]
    ext = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in ACCEPTED_TYPES:
        raise UnsupportedFileType(
            f"{name}: not a form file (accepted: {', '.join(ACCEPTED_TYPES)})", file=name
        )
    if not content.strip():
        raise EmptyFile(f"{name}: the file is empty", file=name)
    if ext == ".xlsx":
        _check_xlsx_container(name, content)
    elif ext == ".xls" and not content.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise UnsupportedFileType(f"{name}: not an Excel 97-2003 (.xls) workbook", file=name)
    elif ext in {".csv", ".md", ".xml"}:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnsupportedFileType(
                f"{name}: not UTF-8 text (byte {exc.start}); save it as UTF-8", file=name
            ) from exc
    return ext


def _check_xlsx_container(name: str, content: bytes) -> None:
    if not zipfile.is_zipfile(io.BytesIO(content)):
        raise UnsupportedFileType(
            f"{name}: not an Excel .xlsx workbook (the file is corrupt or of another kind)",
            file=name,
        )
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile as exc:
        raise UnsupportedFileType(f"{name}: corrupt .xlsx workbook ({exc})", file=name) from exc
    if "xl/workbook.xml" in names:
        return
    if "word/document.xml" in names:
        kind = "a Word document (.docx)"
    elif "ppt/presentation.xml" in names:
        kind = "a PowerPoint file (.pptx)"
    elif "content.xml" in names:
        kind = "an OpenDocument file"
    else:
        kind = "a zip archive"
    raise UnsupportedFileType(
        f"{name}: this is {kind} renamed .xlsx, not an Excel workbook", file=name
    )


def lint_columns(filename: str, content: bytes, file_type: str) -> list[str]:
    """Compare the XLSForm's column headers with the columns XLSForm knows.

    :param filename: the file's name, for messages.
    :param content: the XLSForm bytes.
    :param file_type: its type from :func:`detect_file_type`.
    :return: warnings for unknown columns that look deliberate.
    :raises UnknownXLSFormColumn: for a header that is close to a known column (a typo).
    :raises InvalidXLSForm: if the workbook cannot be read at all.
    """
    definition = _read_definition(filename, content, file_type)
    warnings: list[str] = []
    typos: list[str] = []
    for sheet, known in _KNOWN.items():
        for header in _headers(getattr(definition, f"{sheet}_header", None)):
            problem = _check_header(header, known)
            if problem is None:
                continue
            suggestion = difflib.get_close_matches(problem, sorted(known), n=1, cutoff=0.8)
            if suggestion:
                typos.append(
                    f"sheet '{sheet}', column '{header}': unknown column; "
                    f"did you mean '{suggestion[0]}'? (pyxform would silently ignore it)"
                )
            elif sheet not in _FREE_EXTRA_COLUMNS:
                warnings.append(
                    f"{filename}: sheet '{sheet}', column '{header}' is not an XLSForm column "
                    "and is ignored"
                )
    if typos:
        raise UnknownXLSFormColumn(f"{filename}: " + "; ".join(typos), file=filename, columns=typos)
    return warnings


def _read_definition(filename: str, content: bytes, file_type: str):
    try:
        return get_xlsform(content, file_type=file_type)
    except PyXFormError as exc:
        raise InvalidXLSForm(f"{filename}: {exc}", file=filename) from exc
    except Exception as exc:  # openpyxl/xlrd raise many kinds on broken workbooks
        raise InvalidXLSForm(
            f"{filename}: the workbook could not be read ({exc})", file=filename
        ) from exc


def _headers(header_rows) -> list[str]:
    if not header_rows:
        return []
    return [str(h).strip() for h in header_rows[0] if h is not None and str(h).strip()]


def _check_header(header: str, known: set[str]) -> str | None:
    """Return the part of ``header`` that is unknown, or None when it is a valid column."""
    parts = [p.strip() for p in header.split("::")]
    head = parts[0]
    if head in _NAMESPACED and len(parts) > 1:
        return None
    if len(parts) > 1:
        return None if head in _TRANSLATABLE else head
    return None if head in known else head


def convert_xlsform(filename: str, content: bytes, file_type: str) -> Conversion:
    """Convert an XLSForm to XForm XML with pyxform, keeping pyxform's messages unchanged.

    :param filename: the file's name, for messages.
    :param content: the XLSForm bytes.
    :param file_type: one of :data:`XLSFORM_TYPES`.
    :return: the XForm bytes (UTF-8) and the header-lint and pyxform warnings.
    :raises InvalidXLSForm: pyxform's row-numbered error, or an unreadable workbook.
    :raises UnknownXLSFormColumn: a misspelt column header.
    """
    warnings = lint_columns(filename, content, file_type)
    pyxform_warnings: list[str] = []
    try:
        result = convert(content, warnings=pyxform_warnings, file_type=file_type)
    except PyXFormError as exc:
        raise InvalidXLSForm(f"{filename}: {exc}", file=filename, pyxform=str(exc)) from exc
    except Exception as exc:  # pyxform raises TypeError/KeyError on some malformed sheets
        raise InvalidXLSForm(
            f"{filename}: pyxform could not convert the form ({exc!r})", file=filename
        ) from exc
    return Conversion(xform=result.xform.encode("utf-8"), warnings=warnings + pyxform_warnings)
