"""Reading a form and its answers in one language (pure: schema and data in, plain data out)."""

from __future__ import annotations

from server.domain.form_reading import (
    labelled_answers,
    language_key,
    problem_lines,
    question_rows,
)

VI, EN = "Vietnamese (vi)", "English (en)"
SCHEMA = {
    "root": "data",
    "languages": [VI, EN],
    "default_language": VI,
    "fields": [
        {"name": "ten", "path": "/data/ten", "kind": "text", "required": True,
         "labels": {VI: "Họ tên", EN: "Name"}},
        {"name": "g", "path": "/data/g", "kind": "group", "labels": {VI: "Nhóm", EN: "Group"}},
        {"name": "ok", "path": "/data/g/ok", "kind": "select_one", "labels": {VI: "Đồng ý"},
         "choices": [{"name": "yes", "labels": {VI: "Có", EN: "Yes"}}]},
        {"name": "chon", "path": "/data/g/chon", "kind": "select_multiple",
         "labels": {VI: "Chọn"},
         "choices": [{"name": "a", "labels": {VI: "Một"}}, {"name": "b", "labels": {VI: "Hai"}}]},
        {"name": "r", "path": "/data/r", "kind": "repeat", "labels": {VI: "Lặp", EN: "Repeat"}},
        {"name": "diem", "path": "/data/r/diem", "kind": "decimal", "labels": {VI: "Điểm"}},
        {"name": "anh", "path": "/data/anh", "kind": "image", "type": "binary", "labels": {}},
        {"name": "meta", "path": "/data/meta", "kind": "group", "labels": {}},
        {"name": "instanceID", "path": "/data/meta/instanceID", "kind": "meta", "labels": {}},
    ],
}  # fmt: skip


def test_the_language_is_found_by_its_tag_or_falls_back_to_the_default():
    assert language_key(SCHEMA, "en") == EN
    assert language_key({**SCHEMA, "languages": [VI]}, "en") == VI
    assert language_key({"languages": []}, "vi") is None


def test_the_preview_lists_questions_in_order_with_depth_and_choices_without_meta():
    rows = question_rows(SCHEMA, "en")
    assert [r.name for r in rows] == ["ten", "g", "ok", "chon", "r", "diem", "anh"]
    assert rows[0].label == "Name" and rows[0].required and rows[0].depth == 0
    assert rows[2].depth == 1 and rows[2].choices == (("yes", "Yes"),)
    assert rows[2].label == "Đồng ý"  # no English label: the default language's
    assert rows[6].label == ""


def test_answers_are_labelled_with_groups_repeats_and_files():
    data = {
        "ten": "Lan", "g": {"ok": "yes", "chon": ["a", "b"]},
        "r": [{"diem": 7.5}, {"diem": None}], "anh": "a.jpg", "meta": {"instanceID": "x"},
        "extra": "sent by another tool",
    }  # fmt: skip
    answers = labelled_answers(SCHEMA, data, "vi")
    assert [a.name for a in answers] == ["ten", "g", "r", "anh", "extra"]
    group = answers[1]
    assert [(c.label, c.text) for c in group.children] == [("Đồng ý", "Có"), ("Chọn", "Một; Hai")]
    repeat = answers[2]
    assert [[a.text for a in instance] for instance in repeat.instances] == [["7,5"], [None]]
    assert answers[3].file == "a.jpg" and answers[3].label == "anh"
    assert answers[4].text == "sent by another tool"
    assert labelled_answers(SCHEMA, None, "vi")[0].text is None


def test_problem_lines_carry_the_row_they_name():
    lines = problem_lines([
        "ODK Validate báo lỗi:\nrow 6 (question 'ok'): the condition expression fails",
        "[row : 12] Unknown question type 'integr'.",
        "the form has no title",
    ])  # fmt: skip
    assert [(p.row, p.heading) for p in lines] == [
        (None, True), (6, False), (12, False), (None, False)
    ]  # fmt: skip
