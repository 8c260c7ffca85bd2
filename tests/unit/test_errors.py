"""The error catalogue: stable, unique codes with both titles."""

import re

from server import errors


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


def test_error_text_carries_code_titles_and_details():
    error = errors.FormVersionExists("form x", form_id="x")
    assert str(error).startswith("409.2 Phiên bản biểu mẫu")
    assert error.details == {"form_id": "x"}
