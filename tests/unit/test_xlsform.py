"""Recognising form files, linting XLSForm headers, and converting with pyxform."""

import io
import zipfile

import openpyxl
import pytest

from server.domain.xlsform import convert_xlsform, detect_file_type, lint_columns
from server.errors import EmptyFile, InvalidXLSForm, UnknownXLSFormColumn, UnsupportedFileType

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


def docx_bytes():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
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
        "t.md: sheet 'survey', column 'ghi chú của tác giả' is not an XLSForm column and is ignored"
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
