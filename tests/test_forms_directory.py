"""Every form in forms/ is valid exactly as ODK Collect will see it, and its parts fit together.

Converts each XLSForm with pyxform, runs ODK Validate (Java), and fails on any warning that is
not listed in EXPECTED_WARNINGS. Then checks what neither tool checks: media files present and
referenced, choice_filter columns present in the CSVs, both languages on every label, pre-test
and post-test identical item by item, and the answer key matching the test items.
"""

from __future__ import annotations

import csv
import io
import re
from functools import cache
from pathlib import Path

import pytest

from harness import ROOT
from server.domain.xforms import XF, parse_xml_safely
from server.services.forms import ValidationSettings, check_form

FORMS = ROOT / "forms"
FORM_FILES = sorted(p for p in FORMS.glob("*.xlsx") if not p.name.startswith("~$"))
LANGUAGES = {"Vietnamese (vi)", "English (en)"}
#: Warnings a form is allowed to have, by form_id. Keep this empty unless a warning is understood.
EXPECTED_WARNINGS: dict[str, list[str]] = {}
SETTINGS = ValidationSettings(max_bytes=10 * 1024 * 1024)
XPATH_WORDS = {
    "and",
    "or",
    "not",
    "selected",
    "count",
    "div",
    "mod",
    "true",
    "false",
    "name",
    "string",
    "number",
    "contains",
    "starts",
    "with",
    "position",
    "current",
}


@cache
def checked(path: Path):
    return check_form(path.name, path.read_bytes(), settings=SETTINGS)


def csv_header(path: Path) -> list[str]:
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), f"{path.name}: BOM would corrupt the first column"
    return next(csv.reader(io.StringIO(raw.decode("utf-8"))))


def test_the_standard_forms_are_all_there():
    assert [p.stem for p in FORM_FILES] == [
        "danhgia_khoahoc",
        "kt_dscoban_post",
        "kt_dscoban_pre",
        "tna_dskhhgd",
    ]


@pytest.mark.slow
@pytest.mark.parametrize("path", FORM_FILES, ids=[p.stem for p in FORM_FILES])
def test_form_converts_and_passes_odk_validate_without_unexpected_warnings(path):
    form = checked(path)
    assert form.warnings == EXPECTED_WARNINGS.get(path.stem, [])


@pytest.mark.slow
@pytest.mark.parametrize("path", FORM_FILES, ids=[p.stem for p in FORM_FILES])
def test_form_identity_follows_the_authoring_rules(path):
    schema = checked(path).schema
    assert schema.form_id == path.stem
    assert re.fullmatch(r"20\d{6}\d{2}", schema.version), "version is yyyymmddnn"
    assert schema.title, "form_title is set"
    assert any(f.path.endswith("/meta/instanceName") for f in schema.fields), "instance_name"
    assert set(schema.languages) == LANGUAGES
    assert schema.default_language == "Vietnamese (vi)"


@pytest.mark.slow
@pytest.mark.parametrize("path", FORM_FILES, ids=[p.stem for p in FORM_FILES])
def test_every_label_and_choice_has_both_languages(path):
    for field in checked(path).schema.fields:
        if field.labels:
            assert set(field.labels) == LANGUAGES, field.path
            assert all(text.strip() for text in field.labels.values()), field.path
        for choice in field.choices or []:
            assert set(choice["labels"]) == LANGUAGES, (field.path, choice["name"])


@pytest.mark.slow
@pytest.mark.parametrize("path", FORM_FILES, ids=[p.stem for p in FORM_FILES])
def test_media_folder_matches_the_references(path):
    referenced = {m["filename"] for m in checked(path).schema.media}
    folder = FORMS / f"{path.stem}-media"
    present = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
    assert referenced == present


@pytest.mark.slow
@pytest.mark.parametrize("path", FORM_FILES, ids=[p.stem for p in FORM_FILES])
def test_choice_filters_only_use_columns_of_their_csv(path):
    html = parse_xml_safely(checked(path).xml)
    sources = {
        i.get("id"): i.get("src").rsplit("/", 1)[-1]
        for i in html.iter(f"{XF}instance")
        if (i.get("src") or "").endswith(".csv")
    }
    for itemset in html.iter(f"{XF}itemset"):
        nodeset = itemset.get("nodeset", "")
        match = re.search(r"instance\('([^']+)'\)/root/item(\[.*\])?", nodeset)
        if not match or match.group(1) not in sources:
            continue
        columns = set(csv_header(FORMS / f"{path.stem}-media" / sources[match.group(1)]))
        assert {"name", "label"} <= columns
        predicate = re.sub(r"'[^']*'|/data[\w/]*|\$\{[^}]*\}", " ", match.group(2) or "")
        used = (
            set(re.findall(r"(?<![\w/-])([A-Za-z_][\w-]*)\b(?![\w-]|\s*\()", predicate))
            - XPATH_WORDS
        )
        assert used <= columns, (nodeset, used - columns)
    for lookup in re.findall(
        r"instance\('([^']+)'\)/root/item\[[^\]]*\]/(\w+)", checked(path).xml.decode()
    ):
        name, column = lookup
        if name in sources:
            assert column in csv_header(FORMS / f"{path.stem}-media" / sources[name])


@pytest.mark.slow
def test_pre_and_post_test_are_the_same_test():
    pre, post = checked(FORMS / "kt_dscoban_pre.xlsx"), checked(FORMS / "kt_dscoban_post.xlsx")

    def items(form):
        return [
            (f.path, f.kind, f.labels, f.choices)
            for f in form.schema.fields
            if f.name.startswith("q")
        ]

    assert items(pre) == items(post)
    assert len(items(pre)) >= 20
    calcs = {f.name: f.calculate for f in pre.schema.fields if f.kind == "calculate"}
    post_calcs = {f.name: f.calculate for f in post.schema.fields if f.kind == "calculate"}
    assert calcs.pop("phase") == "'pre'"
    assert post_calcs.pop("phase") == "'post'"
    assert calcs == post_calcs


@pytest.mark.slow
def test_answer_key_matches_the_test_items():
    schema = checked(FORMS / "kt_dscoban_pre.xlsx").schema
    questions = {f.name: f for f in schema.fields if re.fullmatch(r"q\d+", f.name)}
    bank = {f.name: f.calculate for f in schema.fields if f.kind == "calculate"}
    with (FORMS / "answer-keys" / "DSCOBAN-2026.1.csv").open(encoding="utf-8") as handle:
        key = list(csv.DictReader(handle))
    assert {row["item_id"] for row in key} == set(questions)
    for row in key:
        item = questions[row["item_id"]]
        assert f"'{row['bank_id']}'" == bank["bank_id"]
        assert f"'{row['bank_version']}'" == bank["bank_version"]
        names = {c["name"] for c in item.choices}
        codes = row["key"].split()
        assert codes and set(codes) <= names, row["item_id"]
        expected_kind = "select_multiple" if row["qtype"] == "multi" else "select_one"
        assert item.kind == expected_kind, row["item_id"]
        assert re.fullmatch(r"TP\d\d", row["topic"]) and re.fullmatch(r"C\d\d", row["competency"])
