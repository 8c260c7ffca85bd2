"""ODK Validate runs offline on Java; its verdicts and failures become catalogue errors."""

import pytest

from server.domain.odk_validate import (
    clean_validator_output,
    describe,
    parse_failure,
    validate_xform,
)
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
    assert "question '/data/age'" in message
    assert "the constraint expression is not valid XPath: . > > 3" in message
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


CONSTRAINT_STDERR = (
    "\n>> XForm is invalid.\n"
    "org.javarosa.xform.parse.XFormParseException: bind for /data/age contains invalid "
    "constraint expression [. >= 18 and and . <= 70] null\n"
    "\tat org.javarosa.xform.parse.StandardBindAttributesProcessor.createBinding("
    "StandardBindAttributesProcessor.java:100)\n"
)


def test_parse_failure_names_question_attribute_and_expression_without_null():
    finding = parse_failure(CONSTRAINT_STDERR)
    assert (finding.path, finding.attribute, finding.expression) == (
        "/data/age",
        "constraint",
        ". >= 18 and and . <= 70",
    )
    assert describe(finding, {"/data/age": "row 3 (question 'age')"}.get) == (
        "row 3 (question 'age'): the constraint expression is not valid XPath: "
        ". >= 18 and and . <= 70"
    )


def test_parse_failure_reads_evaluation_and_cycle_errors():
    evaluation = parse_failure(
        "java.lang.RuntimeException: Error evaluating field 'c' (/data/c[1]): The problem was "
        "located in Calculate expression for /data/c\nXPath evaluation: cannot handle function "
        "'foo'\n"
    )
    assert describe(evaluation) == (
        "question '/data/c': the calculation expression fails: cannot handle function 'foo'"
    )
    cycle = parse_failure(
        "XFormParseException: Cycle detected in form's relevant and calculation logic!\n"
        "The following nodes are likely involved in the loop:\n/data/a\n/data/b\n"
    )
    assert cycle.cycle == ("/data/a", "/data/b")


@pytest.mark.slow
def test_validate_reports_every_bad_expression_with_its_row():
    md = (
        "| survey |\n| | type | name | label | constraint | relevant |\n"
        "| | integer | age | Age | . >= 18 and and . <= 70 | |\n"
        "| | integer | kids | Kids | | ${age} > > 1 |\n"
    )
    conversion = convert_xlsform("v.md", md.encode(), ".md")
    with pytest.raises(FormValidationFailed) as info:
        validate_xform(conversion.xform, locate=conversion.rows.get)
    assert info.value.message.splitlines() == [
        "row 2 (question 'age'): the constraint expression is not valid XPath: "
        ". >= 18 and and . <= 70",
        "row 3 (question 'kids'): the relevant expression is not valid XPath: ${age} > > 1",
    ]
