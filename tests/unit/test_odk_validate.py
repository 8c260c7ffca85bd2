"""ODK Validate runs offline on Java; its verdicts and failures become catalogue errors."""

import pytest

from server.domain.odk_validate import clean_validator_output, validate_xform
from server.domain.xlsform import convert_xlsform
from server.errors import FormValidationFailed, ValidatorUnavailable


def xform(constraint: str) -> bytes:
    md = (
        "| survey |\n| | type | name | label | constraint |\n"
        f"| | integer | age | Age | {constraint} |\n"
        "| settings |\n| | form_id | version |\n| | v | 1 |\n"
    )
    return convert_xlsform("v.md", md.encode(), ".md").xform


@pytest.mark.slow
def test_validate_accepts_a_valid_form():
    assert validate_xform(xform(". > 1")) == []


@pytest.mark.slow
def test_validate_rejects_bad_xpath_with_readable_message():
    # pyxform does not parse XPath: only JavaRosa catches this.
    with pytest.raises(FormValidationFailed) as info:
        validate_xform(xform(". > > 3"))
    message = info.value.message
    assert "${age}" in message
    assert "invalid constraint expression [. > > 3]" in message
    assert "\tat " not in message and ".java:" not in message


def test_validate_without_java_is_a_clear_error():
    with pytest.raises(ValidatorUnavailable, match="Java was not found") as info:
        validate_xform(b"<x/>", java="/nonexistent/java")
    assert info.value.code == "503.1"


def test_clean_validator_output_drops_stack_frames_and_rewrites_paths():
    raw = (
        "Error evaluating field 'age' (/data/grp/age): bad\n"
        "java.lang.RuntimeException: Cycle detected /data/a/b\n"
        "\tat org.javarosa.core.Foo.bar(Foo.java:12)\n"
        "    at org.javarosa.core.Foo.baz(Foo.java:13)\n"
        "Cycle detected /data/a/b\n"
        "see instance('list')/root/item and http://openrosa.org/javarosa\n"
    )
    assert clean_validator_output(raw) == [
        "Error evaluating field 'age' (${age}): bad",
        "Cycle detected ${b}",
        "see instance('list')/root/item and http://openrosa.org/javarosa",
    ]
