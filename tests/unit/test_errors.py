"""The error catalogue: stable, unique codes, both titles, and messages made from templates."""

import copy
import logging
import re
import string

import pytest

from server import errors
from server.errors.messages import Template, is_strict, strict


def templates_of(cls) -> dict:
    """A leaf's templates by ``reason`` (``None``: the one used without a reason)."""
    return {None: cls.template} if isinstance(cls.template, Template) else dict(cls.template)


def sample_details(template: Template) -> dict:
    """A value for every placeholder, of the kind its format spec asks for."""
    details = {}
    for text in (template.en, template.vi):
        for _literal, field, spec, _conversion in string.Formatter().parse(text):
            if field is None:
                continue
            name = re.split(r"[.\[]", field)[0]
            if spec.startswith(("join", "lines")):
                details[name] = ["a", "b"]
            elif spec in ("keys", "fields"):
                details[name] = {"period": ["bad"], "kpi": ["unknown"]}
            elif spec == "rows":
                details[name] = [{"row": n, "error": "bad"} for n in range(2, 15)]
            elif spec == "bullets":
                details[name] = [{"message": "m", "message_vi": "tin"}]
            elif "," in spec or spec.endswith("d"):
                details[name] = 1234567
            else:
                details.setdefault(name, "x")
    return details


CASES = [
    pytest.param(cls, reason, template, id=f"{cls.__name__}-{reason}")
    for cls in errors.catalogue()
    for reason, template in templates_of(cls).items()
]


@pytest.fixture
def lenient():
    """Production behaviour: a template mistake falls back to the title."""
    strict(False)
    yield
    strict(True)


def test_every_catalogue_code_is_unique():
    codes = [cls.code for cls in errors.catalogue()]
    assert len(codes) == len(set(codes))


def test_codes_start_with_their_http_status():
    for cls in errors.catalogue():
        assert re.fullmatch(r"\d{3}(\.\d+)?", cls.code), cls
        assert cls.code.split(".")[0] == str(cls.http_status), cls


def test_every_error_has_vietnamese_and_english_titles():
    for cls in errors.catalogue():
        assert cls.title_vi and cls.title_en, cls
        assert cls.title_vi != cls.title_en, cls


def test_the_test_suite_runs_templates_strictly():
    assert is_strict()


@pytest.mark.parametrize(("cls", "reason", "template"), CASES)
def test_every_template_has_both_languages(cls, reason, template):
    assert template.en.strip() and template.vi.strip()
    assert template.en != template.vi
    # Vietnamese is written with its diacritics, not as ASCII.
    assert re.search(r"[^\x00-\x7f]", template.vi), template.vi
    # The Vietnamese names no detail the English does not: the English documents them.
    english = Template(en=template.en, vi="").placeholders()
    vietnamese = Template(en="", vi=template.vi).placeholders()
    assert vietnamese <= english, vietnamese - english


@pytest.mark.parametrize(("cls", "reason", "template"), CASES)
def test_every_template_formats_with_the_details_it_names(cls, reason, template):
    details = sample_details(template)
    if reason is not None:
        details["reason"] = reason
    error = cls(**details)  # strict: a placeholder the details lack would raise
    for message in (error.message, error.message_vi):
        assert message and "{" not in message
    assert error.details == details


def test_raise_sites_pass_details_and_get_both_messages():
    error = errors.FormNotFound(reason="not_on_server", form_id="dm")
    assert error.message == "form 'dm' does not exist on this server"
    assert error.message_vi == "Máy chủ không có biểu mẫu 'dm'."
    assert error.details == {"reason": "not_on_server", "form_id": "dm"}
    assert str(error) == (
        "404.1 Không tìm thấy biểu mẫu / Form not found: form 'dm' does not exist on this server"
    )


def test_a_file_detail_begins_both_messages():
    error = errors.EmptyFile(file="dm.xlsx")
    assert error.message == "dm.xlsx: the file is empty"
    assert error.message_vi == "dm.xlsx: Tệp rỗng."
    moved = errors.ValidatorUnavailable(reason="timeout", timeout=5).with_details(file="a.md")
    assert moved.message == "a.md: ODK Validate did not finish within 5 s"


def test_vietnamese_groups_thousands_with_dots():
    error = errors.FileTooLarge(file="a.md", size=52_428_811, limit=10_485_760)
    assert "52,428,811 bytes is larger than the limit of 10,485,760 bytes" in error.message
    assert "52.428.811 byte" in error.message_vi and "10.485.760 byte" in error.message_vi


def test_rows_are_listed_in_each_language_and_the_rest_counted():
    rows = [{"row": n, "error": "sai / bad"} for n in range(2, 14)]
    error = errors.InvalidUnitsFile(reason="rows", file="u.csv", count=12, rows=rows)
    assert error.message.startswith("u.csv: 12 bad row(s), nothing was imported: row 2: ")
    assert error.message.endswith("row 11: sai / bad (and 2 more)")
    assert error.message_vi.endswith("dòng 11: sai / bad (và 2 dòng khác)")


def test_several_problems_become_one_error_listing_each():
    pyxform = errors.InvalidXLSForm(file="f.md", reason="pyxform", pyxform="[row : 2] bad")
    columns = errors.UnknownXLSFormColumn(file="f.md", columns=["column 'relevnt'"])
    error = errors.several([pyxform, columns], file="f.md")
    assert type(error) is errors.InvalidXLSForm
    assert error.message == "f.md: 2 problems:\n- [row : 2] bad\n- column 'relevnt'"
    assert error.message_vi.startswith("f.md: 2 lỗi:\n- pyxform không chuyển được XLSForm")
    assert [p["code"] for p in error.details["problems"]] == ["400.4", "400.9"]
    assert errors.several([columns], file="f.md").message == columns.message


def test_a_missing_detail_fails_in_tests():
    with pytest.raises(errors.TemplateError, match="form_id"):
        errors.FormNotFound()
    with pytest.raises(errors.TemplateError, match="reason"):
        errors.MalformedSubmission(reason="no_such_reason")


def test_a_missing_detail_falls_back_to_the_title_in_production(lenient, caplog):
    with caplog.at_level(logging.WARNING, logger="server.errors.messages"):
        error = errors.FormNotFound(reason="not_on_server")
        unknown = errors.InvalidRequest(reason="no_such_reason", file="x.csv")
    assert (error.message, error.message_vi) == ("Form not found", "Không tìm thấy biểu mẫu")
    assert unknown.message == "x.csv: Invalid parameters"
    assert "falls back to its title" in caplog.text


def test_a_value_of_the_wrong_kind_falls_back_too(lenient):
    error = errors.FileTooLarge(size="big", limit=1)
    assert error.message == "File too large"


def test_errors_survive_copying_and_pickling():
    error = errors.SubmissionOutdated(instance_id="uuid:1")
    again = copy.deepcopy(error)  # the same __reduce__ as pickle
    assert (type(again), again.details, again.message) == (
        errors.SubmissionOutdated,
        error.details,
        error.message,
    )
