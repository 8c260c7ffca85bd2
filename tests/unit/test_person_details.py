"""One person's details as the register page's edit form sends them (pure, no database)."""

from __future__ import annotations

from server.domain.roster import PERSON_FIELDS, person_details


def test_codes_and_labels_are_read_as_an_import_reads_them():
    details, problems = person_details(
        {"full_name": " Rơ Châm  Blơi ", "sex": "Nam", "birth_year": "1979", "phone": "",
         "education_level": "Đại học", "education_field": ""}
    )  # fmt: skip
    assert problems == {}
    assert set(details) == set(PERSON_FIELDS)
    assert details["sex"] == "m" and details["birth_year"] == 1979
    assert details["phone"] is None and details["education_field"] is None
    assert details["education_level"] is not None


def test_every_wrong_field_is_named_with_why():
    _, problems = person_details(
        {"full_name": "", "sex": "x", "birth_year": "1800", "phone": "abc",
         "education_level": "Tiến sĩ vũ trụ", "education_field": ""}
    )  # fmt: skip
    assert set(problems) == {"full_name", "sex", "birth_year", "phone", "education_level"}
    assert "1800" in problems["birth_year"][0] and "abc" in problems["phone"][0]


def test_a_name_too_long_is_refused():
    _, problems = person_details({"full_name": "a" * 256, "sex": "f"})
    assert problems["full_name"] == ["họ và tên dài quá 255 ký tự / full name too long"]
