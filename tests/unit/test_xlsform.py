"""Recognising form files, linting XLSForm headers, and converting with pyxform."""

import datetime as dt
import io
import warnings

import openpyxl
import pytest
from pyxform import aliases

from server.domain.xlsform import convert_xlsform, detect_file_type, lint_columns, stamp_version
from server.errors import EmptyFile, InvalidXLSForm, UnknownXLSFormColumn, UnsupportedFileType
from tests.factories import DATA, docx_bytes

MD = """
| survey |
|        | type    | name | label::Vietnamese (vi) | label::English (en) | {extra} |
|        | integer | age  | Tuổi                   | Age                 | {value} |
| settings |
|          | form_id | version |
|          | t       | 1       |
"""


def md(extra="relevant", value=". > 1"):
    return MD.format(extra=extra, value=value).encode()


def xlsx_bytes(rows_by_sheet):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in rows_by_sheet.items():
        sheet = wb.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.md", b"| survey |", ".md"),
        ("A.XML", b"<x/>", ".xml"),
        ("f.csv", b"survey,\n,type", ".csv"),
        ("f.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", ".xls"),
    ],
)
def test_detect_file_type_accepts_known_kinds(name, content, expected):
    assert detect_file_type(name, content) == expected


def test_detect_file_type_accepts_real_xlsx():
    assert detect_file_type("f.xlsx", xlsx_bytes({"survey": [["type"]]})) == ".xlsx"


def test_detect_file_type_refuses_empty_file():
    with pytest.raises(EmptyFile, match=r"f\.xlsx: the file is empty"):
        detect_file_type("f.xlsx", b"")
    with pytest.raises(EmptyFile):
        detect_file_type("f.md", b"  \n ")


def test_detect_file_type_names_a_renamed_word_document():
    with pytest.raises(UnsupportedFileType, match=r"report\.xlsx: this is a Word document"):
        detect_file_type("report.xlsx", docx_bytes())


def test_detect_file_type_refuses_corrupt_xlsx():
    with pytest.raises(UnsupportedFileType, match="corrupt or of another kind"):
        detect_file_type("f.xlsx", b"PK\x03\x04 this is not really a zip")


def test_detect_file_type_refuses_unknown_extension_and_bad_text():
    with pytest.raises(UnsupportedFileType, match="accepted: .xlsx"):
        detect_file_type("f.docx", b"x")
    with pytest.raises(UnsupportedFileType, match="not UTF-8"):
        detect_file_type("f.csv", b"\xff\xfe\x00bad")
    with pytest.raises(UnsupportedFileType, match=r"Excel 97-2003"):
        detect_file_type("f.xls", b"plain text")


def test_lint_columns_reports_misspelt_relevant_with_suggestion():
    with pytest.raises(UnknownXLSFormColumn) as info:
        lint_columns("t.md", md(extra="relevnt"), ".md")
    assert "column 'relevnt'" in info.value.message
    assert "did you mean 'relevant'" in info.value.message


def test_lint_columns_reports_misspelt_translated_label():
    form = md(extra="lable::English (en)", value="x")
    with pytest.raises(UnknownXLSFormColumn, match="did you mean 'label'"):
        lint_columns("t.md", form, ".md")


def test_lint_columns_warns_about_unrelated_extra_survey_column():
    warnings = lint_columns("t.md", md(extra="ghi chú của tác giả", value="x"), ".md")
    assert warnings == [
        "t.md: sheet 'survey', column 'ghi chú của tác giả' is not an XLSForm column; "
        "pyxform would silently ignore it"
    ]


def test_lint_columns_accepts_known_and_namespaced_columns():
    for column in (
        "relevant",
        "bind::odk:length",
        "media::image::English (en)",
        "hint::Vi (vi)",
        "constraint_message::English (en)",
        "body::accuracyThreshold",
    ):
        assert lint_columns("t.md", md(extra=column, value="x"), ".md") == [], column


def test_lint_columns_allows_filter_columns_on_choices_sheet():
    content = xlsx_bytes(
        {
            "survey": [["type", "name", "label"], ["select_one l", "q", "Q"]],
            "choices": [
                ["list_name", "name", "label", "lvls", "province"],
                ["l", "a", "A", "x", "1"],
            ],
        }
    )
    assert lint_columns("f.xlsx", content, ".xlsx") == []


def test_convert_keeps_pyxform_error_text_unchanged():
    bad = MD.replace("integer", "txt").format(extra="hint", value="x").encode()
    with pytest.raises(InvalidXLSForm) as info:
        convert_xlsform("bad.md", bad, ".md")
    assert info.value.details["pyxform"] in info.value.message
    assert "Unknown question type 'txt'" in info.value.message
    assert info.value.message.startswith("bad.md: ")


def test_convert_reports_row_number_of_a_bad_reference():
    bad = md(value="${nope} > 1")
    with pytest.raises(InvalidXLSForm, match=r"\[row : 2\].*Could not find the name 'nope'"):
        convert_xlsform("bad.md", bad, ".md")


def test_convert_returns_xform_bytes_and_warnings():
    result = convert_xlsform("t.md", md(extra="hint", value="x"), ".md")
    assert result.xform.startswith(b"<?xml")
    assert b'id="t"' in result.xform
    assert isinstance(result.warnings, list)


def test_convert_xlsx_bytes_matches_markdown_source():
    rows = {
        "survey": [["type", "name", "label"], ["integer", "age", "Age"]],
        "settings": [["form_id", "version"], ["t", "1"]],
    }
    from_xlsx = convert_xlsform("t.xlsx", xlsx_bytes(rows), ".xlsx").xform
    from_md = convert_xlsform(
        "t.md",
        b"| survey |\n| | type | name | label |\n| | integer | age | Age |\n"
        b"| settings |\n| | form_id | version |\n| | t | 1 |\n",
        ".md",
    ).xform
    assert from_xlsx == from_md


def test_convert_wraps_unreadable_workbook():
    broken = xlsx_bytes({"nothing": [["a"]]})
    with pytest.raises(InvalidXLSForm, match="f.xlsx"):
        convert_xlsform("f.xlsx", broken, ".xlsx")


def _survey_with(header: str, value: str = "") -> bytes:
    return (
        f"| survey |\n| | type | name | label | {header} |\n| | text | q | Q | {value} |\n"
        "| settings |\n| | form_id | version |\n| | t | 1 |\n"
    ).encode()


#: Aliases of type/name/label cannot sit beside those columns (pyxform: "different names for
#: the same column"); the choices test below covers them.
SURVEY_ALIASES = sorted(
    k for k, v in aliases.survey_header.items() if v not in ("type", "name", "label")
)


@pytest.mark.parametrize("header", SURVEY_ALIASES)
def test_every_survey_alias_pyxform_knows_is_accepted(header):
    """Generated from pyxform's own table, so an upgrade cannot make the lint drift."""
    conversion = convert_xlsform("t.md", _survey_with(header), ".md")
    assert conversion.column_error is None
    assert not [w for w in conversion.warnings if "column" in w]


@pytest.mark.parametrize(
    "header",
    ["list name", "list_name", "List Name", "caption", "value", "LABEL", "label::English (en)"],
)
def test_choices_aliases_and_case_are_accepted(header):
    md = (
        "| survey |\n| | type | name | label |\n| | select_one yn | q | Q |\n"
        f"| choices |\n| | {'list_name' if 'list' not in header.lower() else header} | name | "
        f"{header if 'list' not in header.lower() else 'label'} |\n| | yn | y | Yes |\n"
    )
    assert lint_columns("t.md", md.encode(), ".md") == []


@pytest.mark.parametrize(
    ("header", "value", "expected"),
    [
        ("requiredMsg", "Answer it", 'jr:requiredMsg="Answer it"'),
        ("noAppErrorString", "No app", 'jr:noAppErrorString="No app"'),
        ("bind:constraint", ". != 'x'", "constraint=\". != 'x'\""),
        ("media:image", "a.png", "jr://images/a.png"),
        ("Relevant", "true()", 'relevant="true()"'),
        ("READ_ONLY", "yes", 'readonly="true()"'),
    ],
)
def test_headers_pyxform_reads_are_not_reported_and_reach_the_xform(header, value, expected):
    conversion = convert_xlsform("t.md", _survey_with(header, value), ".md")
    assert conversion.warnings == [] and conversion.column_error is None
    assert expected in conversion.xform.decode()


def test_upper_case_settings_are_read_not_reported():
    md = (
        "| survey |\n| | TYPE | NAME | LABEL |\n| | text | q | Q |\n"
        "| settings |\n| | FORM_ID | title | VERSION |\n| | big | Big title | 3 |\n"
    )
    conversion = convert_xlsform("t.md", md.encode(), ".md")
    assert conversion.warnings == []
    assert (conversion.form_id, conversion.version) == ("big", "3")
    assert "<h:title>Big title</h:title>" in conversion.xform.decode()


def test_near_miss_on_choices_is_a_warning_saying_what_pyxform_does():
    md = (
        "| survey |\n| | type | name | label |\n| | select_one yn | q | Q |\n"
        "| choices |\n| | list_name | name | label | lable |\n| | yn | y | Yes | x |\n"
    )
    warnings = lint_columns("t.md", md.encode(), ".md")
    assert warnings == [
        "t.md: sheet 'choices', column 'lable' is not a choices column; did you mean 'label'? "
        "(pyxform keeps it as an extra data column (for choice_filter), not as that column)"
    ]


def test_file_name_is_the_form_id_and_a_missing_version_is_stamped():
    md = b"| survey |\n| | type | name | label |\n| | text | q | Q |\n"
    conversion = convert_xlsform("Khảo sát.md", md, ".md", stamp=lambda form_id: form_id + "-v")
    assert (conversion.form_id, conversion.version, conversion.stamped) == (
        "Khảo sát",
        "Khảo sát-v",
        True,
    )
    assert "the server stamped version Khảo sát-v" in conversion.warnings[-1]


def test_stamp_version_uses_vietnam_date_and_stays_above_existing():
    late = dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC)  # already 24/11 in Vietnam
    assert stamp_version([], late) == "2026112401"
    assert stamp_version(["2026112401", "2026112405", "v1.2"], late) == "2026112406"
    assert stamp_version(["2025010101"], late) == "2026112401"


def test_macro_workbook_is_accepted_and_converted():
    content = (DATA / "forms" / "compat" / "macro_xlsm.xlsm").read_bytes()
    assert detect_file_type("m.xlsm", content) == ".xlsm"
    assert convert_xlsform("m.xlsm", content, ".xlsm").form_id == "macro_xlsm"


def test_openpyxl_warnings_do_not_leak(monkeypatch):
    import server.domain.xlsform as module

    real = module.get_xlsform

    def noisy(*args, **kwargs):
        warnings.warn_explicit(
            "Unknown extension is not supported and will be removed",
            UserWarning,
            "reader.py",
            1,
            module="openpyxl.worksheet._reader",
        )
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "get_xlsform", noisy)
    content = xlsx_bytes({"survey": [["type", "name", "label"], ["text", "q", "Q"]]})
    assert convert_xlsform("w.xlsx", content, ".xlsx").warnings == []


def test_survey_rows_follow_groups():
    md = (
        "| survey |\n| | type | name | label |\n| | begin_group | g | G |\n"
        "| | integer | age | Age |\n| | end group | | |\n| | text | t | T |\n"
    )
    assert convert_xlsform("t.md", md.encode(), ".md").rows == {
        "/data/g": "row 2 (question 'g')",
        "/data/g/age": "row 3 (question 'age')",
        "/data/t": "row 5 (question 't')",
    }
