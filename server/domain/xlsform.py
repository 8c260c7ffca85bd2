"""XLSForm in, XForm out: recognise the file, lint its column headers, convert with pyxform.

pyxform reports a misspelt column such as ``relevnt`` nowhere: it silently drops the logic. So
before converting we look at every header the way pyxform will. The header is normalised by
pyxform's own function (``process_header``: case, spaces, ``::`` or ``:``, ``jr:`` prefixes,
aliases such as ``list name`` or ``requiredMsg``) with the alias table and the known columns
pyxform itself uses for that sheet, so an upgrade of pyxform cannot make the lint drift. A
header pyxform does not use is an error only when pyxform really drops it *and* it is close
to a column pyxform knows (a typo); anything else pyxform does not use is a warning (authors
keep remarks in extra columns). On the choices sheet pyxform keeps unknown columns as data
for ``choice_filter``, so a near-miss there is a warning that says so.

Conversion follows ``pyxform.xls2xform.convert`` step by step so that a missing
``settings.version`` can be stamped into pyxform's form definition before the XForm is
written (never by editing XML), and the file name is the form id when ``form_id`` is absent,
as pyxform does for a file on disk.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import io
import warnings as py_warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

from pyxform import aliases, constants
from pyxform.builder import create_survey_element_from_dict
from pyxform.errors import PyXFormError
from pyxform.parsing.sheet_headers import process_header, to_snake_case
from pyxform.question import MultipleChoiceQuestion, Option
from pyxform.survey import Survey
from pyxform.survey_element import SURVEY_ELEMENT_FIELDS
from pyxform.utils import external_choices_to_csv, has_external_choices
from pyxform.xls2json import workbook_to_json
from pyxform.xls2json_backends import DefinitionData, get_xlsform

from server.errors import (
    EmptyFile,
    InvalidXLSForm,
    UnknownXLSFormColumn,
    UnsupportedFileType,
    several,
)

XLSFORM_TYPES = (".xlsx", ".xlsm", ".xls", ".csv", ".md")
XFORM_TYPE = ".xml"
ACCEPTED_TYPES = (*XLSFORM_TYPES, XFORM_TYPE)
#: Vietnam time: the date in a stamped version is the publisher's calendar day.
_LOCAL_TZ = dt.timezone(dt.timedelta(hours=7))


@dataclass(frozen=True)
class _SheetRules:
    """How pyxform reads one sheet's headers (the same arguments it passes itself)."""

    aliases: dict
    columns: frozenset[str]
    #: What pyxform does with a header it does not know on this sheet.
    fate: str


def _user_columns(slots) -> frozenset[str]:
    """Slot names a form author can write: not private (``_…``), not the element tree links."""
    tree = set(SURVEY_ELEMENT_FIELDS) - {constants.NAME, constants.LABEL}
    return frozenset(s for s in slots if not s.startswith("_") and s not in tree)


#: Mirrors the ``dealias_and_group_headers`` calls in ``pyxform.xls2json.workbook_to_json``.
_SHEETS = {
    constants.SURVEY: _SheetRules(
        aliases.survey_header,
        _user_columns(MultipleChoiceQuestion.get_slot_names()),
        "pyxform would silently ignore it",
    ),
    constants.SETTINGS: _SheetRules(
        aliases.settings_header,
        _user_columns(Survey.get_slot_names()),
        "pyxform would silently ignore it",
    ),
    constants.CHOICES: _SheetRules(
        aliases.list_header,
        _user_columns(Option.get_slot_names()),
        "pyxform keeps it as an extra data column (for choice_filter), not as that column",
    ),
    constants.ENTITIES: _SheetRules(
        aliases.entities_header,
        frozenset(i.value for i in constants.EntityColumns.value_list()),
        "pyxform would silently ignore it",
    ),
}


@dataclass
class HeaderReport:
    """What the header lint found: typos (errors) and columns pyxform will not use (warnings)."""

    typos: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class Conversion:
    """Result of converting an XLSForm.

    ``column_error`` is set when the header lint found typos although pyxform converted the
    form: the caller reports it together with the validator's findings, so an author hears
    about every problem at once.
    """

    xform: bytes
    warnings: list[str] = field(default_factory=list)
    form_id: str = ""
    #: The version pyxform wrote; ``stamped`` says whether the server chose it.
    version: str = ""
    stamped: bool = False
    #: ``itemsets.csv`` built from the external_choices sheet, when a question uses it.
    itemsets: bytes | None = None
    #: Instance path (``/data/g/age``) → "row 4 (question 'age')", for validator messages.
    rows: dict[str, str] = field(default_factory=dict)
    column_error: UnknownXLSFormColumn | None = None


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
        raise UnsupportedFileType(file=name, reason="not_form_file", accepted=list(ACCEPTED_TYPES))
    if not content.strip():
        raise EmptyFile(file=name)
    if ext in {".xlsx", ".xlsm"}:
        _check_xlsx_container(name, content, ext)
    elif ext == ".xls" and not content.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise UnsupportedFileType(file=name, reason="not_xls")
    elif ext in {".csv", ".md", ".xml"}:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnsupportedFileType(file=name, reason="not_utf8", byte=exc.start) from exc
    return ext


def _check_xlsx_container(name: str, content: bytes, ext: str) -> None:
    if not zipfile.is_zipfile(io.BytesIO(content)):
        raise UnsupportedFileType(file=name, reason="not_workbook", ext=ext)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile as exc:
        raise UnsupportedFileType(file=name, reason="corrupt", ext=ext, cause=str(exc)) from exc
    if "xl/workbook.xml" in names:
        return
    if "word/document.xml" in names:
        kind = "docx"
    elif "ppt/presentation.xml" in names:
        kind = "pptx"
    elif "content.xml" in names:
        kind = "odf"
    else:
        kind = "zip"
    raise UnsupportedFileType(file=name, reason=f"renamed_{kind}", ext=ext)


def read_xlsform(filename: str, content: bytes, file_type: str) -> DefinitionData:
    """Read an XLSForm into pyxform's sheets; the file name stands in for a missing form_id.

    openpyxl's warnings about workbook features it skips ("Unknown extension is not
    supported", data validation) concern Excel, not the form, and are not passed on.

    :param filename: the file's name (its stem is pyxform's fallback form id).
    :param content: the XLSForm bytes.
    :param file_type: its type from :func:`detect_file_type`.
    :return: pyxform's definition data.
    :raises InvalidXLSForm: if the workbook cannot be read at all.
    """
    try:
        with py_warnings.catch_warnings():
            py_warnings.filterwarnings("ignore", module="openpyxl")
            definition = get_xlsform(content, file_type=file_type)
    except PyXFormError as exc:
        raise InvalidXLSForm(file=filename, reason="pyxform", pyxform=str(exc)) from exc
    except Exception as exc:  # openpyxl/xlrd raise many kinds on broken workbooks
        raise InvalidXLSForm(file=filename, reason="unreadable", cause=str(exc)) from exc
    stem = filename.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    definition.fallback_form_name = stem or None
    return definition


def lint_headers(filename: str, definition: DefinitionData) -> HeaderReport:
    """Look at every column header the way pyxform will read it.

    :param filename: the file's name, for messages.
    :param definition: the sheets from :func:`read_xlsform`.
    :return: typos (close to a column pyxform knows, and dropped by it) and warnings.
    """
    report = HeaderReport()
    for sheet, rules in _SHEETS.items():
        headers = _headers(getattr(definition, f"{sheet}_header", None))
        double_colon = any("::" in h for h in headers)  # pyxform decides per sheet
        for header in headers:
            if _is_used(header, double_colon, rules):
                continue
            suggestion = _suggest(header, double_colon, rules)
            where = f"sheet '{sheet}', column '{header}'"
            if suggestion and rules.fate.startswith("pyxform would"):
                report.typos.append(
                    f"{where}: unknown column; did you mean '{suggestion}'? ({rules.fate})"
                )
            elif suggestion:
                report.warnings.append(
                    f"{filename}: {where} is not a {sheet} column; did you mean "
                    f"'{suggestion}'? ({rules.fate})"
                )
            elif sheet != constants.CHOICES:
                report.warnings.append(
                    f"{filename}: {where} is not an XLSForm column; {rules.fate}"
                )
    return report


def lint_columns(filename: str, content: bytes, file_type: str) -> list[str]:
    """Lint an XLSForm's column headers (see :func:`lint_headers`).

    :param filename: the file's name, for messages.
    :param content: the XLSForm bytes.
    :param file_type: its type from :func:`detect_file_type`.
    :return: warnings for columns pyxform will not use.
    :raises UnknownXLSFormColumn: for headers that are typos of a known column.
    :raises InvalidXLSForm: if the workbook cannot be read at all.
    """
    report = lint_headers(filename, read_xlsform(filename, content, file_type))
    if report.typos:
        raise _column_error(filename, report.typos)
    return report.warnings


def _column_error(filename: str, typos: list[str]) -> UnknownXLSFormColumn:
    return UnknownXLSFormColumn(file=filename, columns=typos)


def _headers(header_rows) -> list[str]:
    if not header_rows:
        return []
    return [str(h) for h in header_rows[0] if h is not None and str(h).strip()]


def _tokens(header: str, double_colon: bool, rules: _SheetRules) -> tuple[str, ...]:
    return process_header(header, double_colon, rules.aliases, rules.columns)[1]


def _is_used(header: str, double_colon: bool, rules: _SheetRules) -> bool:
    """True when pyxform maps the header to something it reads (a column or an alias)."""
    return _tokens(header, double_colon, rules)[0] in rules.columns | _alias_targets(rules)


def _alias_targets(rules: _SheetRules) -> set[str]:
    return {t[0] if isinstance(t, tuple) else t for t in rules.aliases.values()}


def _suggest(header: str, double_colon: bool, rules: _SheetRules) -> str | None:
    """The known column an unused header was probably meant to be, if any."""
    first = to_snake_case(_tokens(header, double_colon, rules)[0])
    known = sorted(rules.columns | set(rules.aliases))
    match = difflib.get_close_matches(first, known, n=1, cutoff=0.8)
    return match[0] if match else None


def stamp_version(existing: list[str], now: dt.datetime) -> str:
    """Choose a version for a form that has none: ``yyyymmddnn``, above every such version.

    :param existing: versions the form already has (any shape; only ``yyyymmddnn`` count).
    :param now: the publication time (aware).
    :return: today's date (Vietnam time) with ``01``, or one more than the highest
        ``yyyymmddnn`` version already used, whichever is larger.
    """
    today = int(now.astimezone(_LOCAL_TZ).strftime("%Y%m%d")) * 100 + 1
    numeric = [int(v) for v in existing if len(v) == 10 and v.isdigit()]
    return str(max([today, *(n + 1 for n in numeric)]))


def convert_xlsform(
    filename: str,
    content: bytes,
    file_type: str,
    *,
    stamp: Callable[[str], str] | None = None,
) -> Conversion:
    """Convert an XLSForm to XForm XML with pyxform, keeping pyxform's messages unchanged.

    :param filename: the file's name, for messages; its stem is the form id if
        ``settings.form_id`` is absent.
    :param content: the XLSForm bytes.
    :param file_type: one of :data:`XLSFORM_TYPES`.
    :param stamp: called with the form id when ``settings.version`` is empty; returns the
        version to write into the XForm. Without it the XForm has no version.
    :return: the XForm bytes, warnings, identity, row map, and any column typos.
    :raises InvalidXLSForm: pyxform's row-numbered error (with any column typos beside it),
        or an unreadable workbook.
    """
    definition = read_xlsform(filename, content, file_type)
    report = lint_headers(filename, definition)
    column_error = _column_error(filename, report.typos) if report.typos else None
    pyxform_warnings: list[str] = []
    try:
        data = workbook_to_json(
            workbook_dict=copy.deepcopy(definition),
            fallback_form_name=definition.fallback_form_name,
            warnings=pyxform_warnings,
        )
        version = str(data.get(constants.VERSION) or "").strip()
        stamped = False
        if not version and stamp is not None:
            version = data[constants.VERSION] = stamp(str(data[constants.ID_STRING]))
            stamped = True
            pyxform_warnings.append(
                f"{filename}: settings.version is empty; the server stamped version {version} "
                "(set settings.version yourself to choose it)"
            )
        itemsets = None
        if has_external_choices(json_struct=data):
            itemsets = external_choices_to_csv(workbook_dict=definition)
        survey = create_survey_element_from_dict(data)
        xform = survey.to_xml(validate=False, pretty_print=False, warnings=pyxform_warnings)
    except PyXFormError as exc:
        raise _with_typos(
            InvalidXLSForm(file=filename, reason="pyxform", pyxform=str(exc)), column_error
        ) from exc
    except Exception as exc:  # pyxform raises TypeError/KeyError on some malformed sheets
        if column_error is not None:  # e.g. a misspelt label::lang column makes pyxform crash
            raise column_error from exc
        raise _with_typos(
            InvalidXLSForm(file=filename, reason="crashed", cause=repr(exc)), column_error
        ) from exc
    return Conversion(
        xform=xform.encode("utf-8"),
        warnings=report.warnings + pyxform_warnings,
        form_id=str(data[constants.ID_STRING]),
        version=version,
        stamped=stamped,
        itemsets=itemsets.encode("utf-8") if itemsets else None,
        rows=survey_rows(definition, str(data.get(constants.NAME) or "data")),
        column_error=column_error,
    )


def _with_typos(error: InvalidXLSForm, column_error: UnknownXLSFormColumn | None):
    """Put pyxform's error first, then the column typos, so nothing has to be fixed twice."""
    if column_error is None:
        return error
    # pyxform's own text stays a detail of the whole (``details["pyxform"]``).
    kept = {key: value for key, value in error.details.items() if key != "reason"}
    return several([error, column_error], **kept)


def survey_rows(definition: DefinitionData, root: str) -> dict[str, str]:
    """Map each instance path to its survey row, to point validator messages at the sheet.

    Rows are numbered as pyxform numbers them in its own messages (the header is row 1).

    :param definition: the sheets from :func:`read_xlsform`.
    :param root: the primary instance's root element name.
    :return: {``/root/group/name``: "row N (question 'name')"}.
    """
    rules = _SHEETS[constants.SURVEY]
    headers = _headers(definition.survey_header)
    double_colon = any("::" in h for h in headers)
    by_token = {_tokens(h, double_colon, rules): h for h in headers}
    type_col, name_col = by_token.get((constants.TYPE,)), by_token.get((constants.NAME,))
    rows: dict[str, str] = {}
    stack = [f"/{root}"]
    for number, row in enumerate(definition.survey or [], start=2):
        kind = to_snake_case(str(row.get(type_col) or "")).replace("_", " ")
        name = str(row.get(name_col) or "").strip()
        words = kind.split()
        if words[:1] == ["end"] and len(stack) > 1:
            stack.pop()
            continue
        if not name:
            continue
        path = f"{stack[-1]}/{name}"
        rows[path] = f"row {number} (question '{name}')"
        if words[:1] == ["begin"]:
            stack.append(path)
    return rows
