"""The programme roll-up's tables (R1–R4), from the rows ``programme_report`` read.

Split from the reading so each file holds one concept: how the roll-up reads the database
there, how it lays the figures out here.
"""

from __future__ import annotations

from collections import defaultdict

from server.domain import catalogue
from server.domain.programme import OutcomeAccumulator, Participant, period_of
from server.domain.report_model import ReportColumn, ReportTable
from server.models import Course

C = ReportColumn


def _label(labels: dict, code: str | None) -> tuple[str, str]:
    if code is None:
        return ("(chưa rõ)", "(unknown)")
    return labels.get(code, (code, code))


def _days(course: Course) -> int:
    return (course.end_date - course.start_date).days + 1


_PARTICIPANT_COLUMNS = [
    C("person_times", "Lượt người", "Person-times", "count"),
    C("unique", "Số người", "Unique persons", "count"),
    C("completed", "Lượt hoàn thành", "Completions", "count"),
]


def held_table(courses: list[Course], enrolled: list[Participant], period: str) -> ReportTable:
    """R1: courses held and participants per period and course type, with a total."""
    by_course: dict[int, list[Participant]] = defaultdict(list)
    for p in enrolled:
        by_course[p.course_id].append(p)
    groups: dict[tuple[str, str], list[Course]] = defaultdict(list)
    for course in courses:
        groups[(period_of(course.start_date, period), course.course_type)].append(course)
    rows = [
        _held_row(key, group, by_course)
        for key, group in sorted(groups.items(), key=lambda kv: kv[0])
    ]
    if courses:
        rows.append(_held_row(("", ""), courses, by_course, total=True))
    return ReportTable(
        "R1",
        "Khóa học đã tổ chức và lượt học viên theo kỳ và loại hình",
        "Courses held and participants by period and course type",
        [
            C("period", "Kỳ", "Period"),
            C("course_type", "Loại hình", "Course type"),
            C("courses", "Số khóa", "Courses", "count"),
            C("class_days", "Ngày học (lớp × ngày)", "Class-days", "count"),
            C("trainer_days", "Ngày giảng viên", "Trainer-days", "count"),
            *_PARTICIPANT_COLUMNS,
        ],
        rows,
        n=len(courses),
        denominator_vi="khóa học bắt đầu trong kỳ; lượt người = lượt ghi danh, số người = "
        "người khác nhau (một người học hai khóa được tính hai lượt, một người)",
        denominator_en="courses starting in the period; person-times = enrolments, unique "
        "persons = distinct people (one person on two courses: two person-times, one person)",
        notes_vi=[
            "Ngày học = số ngày từ khai giảng đến bế giảng; ngày giảng viên = ngày học × số "
            "giảng viên của khóa."
        ],
        notes_en=[
            "Class-days = days from the first to the last day; trainer-days = class-days × the "
            "course's number of trainers."
        ],
        empty_reason_vi="Không có khóa học nào trong phạm vi đã chọn.",
        empty_reason_en="No course in the chosen scope.",
    )


def _held_row(key, group, by_course, *, total=False) -> dict:
    people = [p for c in group for p in by_course.get(c.id, ())]
    period, course_type = key
    vi, en = _label(catalogue.COURSE_TYPES, course_type) if not total else ("Tổng", "Total")
    return {
        "period": period if not total else "Tổng",
        "period_en": period if not total else "Total",
        "course_type": vi if not total else "",
        "course_type_en": en if not total else "",
        "type_code": course_type or None,
        "total": total,
        "courses": len(group),
        "class_days": sum(_days(c) for c in group),
        "trainer_days": sum(_days(c) * len(c.trainers or []) for c in group),
        "person_times": len(people),
        "unique": len({p.person_id for p in people}),
        "completed": sum(p.completed for p in people),
    }


def participants_table(enrolled: list[Participant]) -> ReportTable:
    """R2: person-times, unique persons and completions by level, category, unit, sex."""
    dimensions = (
        ("level", "Tuyến", "Level", lambda p: _label(catalogue.LEVELS, p.level)),
        ("staff_cat", "Nhóm đối tượng", "Staff category",
         lambda p: _label(catalogue.STAFF_CATEGORIES, p.staff_cat)),
        ("unit", "Đơn vị", "Unit", lambda p: (p.unit, p.unit) if p.unit else _label({}, None)),
        ("sex", "Giới tính", "Sex", lambda p: _label(catalogue.SEXES, p.sex)),
    )  # fmt: skip
    rows = []
    for key, vi, en, label_of in dimensions:
        groups: dict[tuple[str, str], list[Participant]] = defaultdict(list)
        for p in enrolled:
            groups[label_of(p)].append(p)
        for (value_vi, value_en), people in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            rows.append(
                {
                    "dimension_code": key,
                    "dimension": vi,
                    "dimension_en": en,
                    "value": value_vi,
                    "value_en": value_en,
                    "person_times": len(people),
                    "unique": len({p.person_id for p in people}),
                    "completed": sum(p.completed for p in people),
                }
            )
    return ReportTable(
        "R2",
        "Học viên theo tuyến, nhóm đối tượng, đơn vị và giới tính",
        "Participants by level, staff category, unit and sex",
        [C("dimension", "Theo", "By"), C("value", "Nhóm", "Group"), *_PARTICIPANT_COLUMNS],
        rows,
        n=len(enrolled),
        denominator_vi="lượt ghi danh của các khóa trong phạm vi; tuyến, nhóm và đơn vị theo vị "
        "trí công tác trong danh sách cán bộ vào ngày khai giảng",
        denominator_en="enrolments of the courses in scope; level, category and unit from the "
        "register posting held on the course's first day",
        empty_reason_vi="Chưa có học viên ghi danh.",
        empty_reason_en="No enrolment yet.",
    )


_OUTCOME_COLUMNS = [
    C("n_post", "n sau", "n post", "count"),
    C("mean_post", "Điểm sau TB %", "Mean post %", "pct"),
    C("pass_pct", "Tỷ lệ đạt %", "Pass rate %", "pct"),
    C("pass_low", "KTC 95 % dưới", "95 % CI low", "pct"),
    C("pass_high", "KTC 95 % trên", "95 % CI high", "pct"),
    C("n_pairs", "Cặp trước–sau", "Matched pairs", "count"),
    C("mean_gain", "Tiến bộ TB (điểm %)", "Mean gain (pp)", "decimal"),
    C("gain_low", "KTC 95 % dưới", "95 % CI low", "decimal"),
    C("gain_high", "KTC 95 % trên", "95 % CI high", "decimal"),
    C("class_gain", "⟨g⟩", "⟨g⟩", "decimal"),
    C("sat_n", "Phiếu đánh giá", "Evaluations", "count"),
    C("sat_top2", "Hài lòng (4–5) %", "Satisfied (T2B) %", "pct"),
]


def _accumulate(courses, outcomes, ratings, key_of) -> dict[str, OutcomeAccumulator]:
    """Pool the outcomes and ratings of courses by ``key_of(course)`` (one key or several)."""
    keys = {c.id: key_of(c) for c in courses}
    groups: dict[str, OutcomeAccumulator] = defaultdict(OutcomeAccumulator)
    for outcome in outcomes:
        for key in keys.get(outcome.course_id, ()):
            groups[key].add(outcome)
    for course_id, values in ratings.items():
        for key in keys.get(course_id, ()):
            for value in values:
                groups[key].add_rating(value)
    return groups


def outcomes_table(courses, outcomes, ratings) -> ReportTable:
    """R3: outcomes pooled per course type, per topic and in total."""
    rows = []
    count: dict[tuple[str, str], int] = defaultdict(int)
    for c in courses:
        count[("type", c.course_type)] += 1
        for topic in c.topics or []:
            count[("topic", topic)] += 1
    by_type = _accumulate(courses, outcomes, ratings, lambda c: (c.course_type,))
    by_topic = _accumulate(courses, outcomes, ratings, lambda c: tuple(c.topics or ()))
    for code, (vi, en) in catalogue.COURSE_TYPES.items():
        if count[("type", code)]:
            rows.append(_outcome_row("type", "Loại hình", "Course type", vi, en, code,
                                     count[("type", code)], by_type[code]))  # fmt: skip
    rows.extend(
        _outcome_row("topic", "Chủ đề", "Topic", t, t, t, count[("topic", t)], by_topic[t])
        for t in sorted(t for kind, t in count if kind == "topic")
    )
    if courses:
        everything = _accumulate(courses, outcomes, ratings, lambda c: ("all",))["all"]
        rows.append(_outcome_row("total", "Tổng", "Total", "", "", None, len(courses), everything))
    return ReportTable(
        "R3",
        "Kết quả học tập theo loại hình và chủ đề",
        "Learning outcomes by course type and topic",
        [
            C("group_kind", "Theo", "By"),
            C("group", "Nhóm", "Group"),
            C("courses", "Số khóa", "Courses", "count"),
            *_OUTCOME_COLUMNS,
        ],
        rows,
        n=len(outcomes),
        denominator_vi="bài làm đầu tiên của mỗi học viên mỗi khóa (người ngoài danh sách chưa "
        "đối chiếu không tính); tiến bộ và ⟨g⟩ trên các cặp trước–sau; hài lòng: câu "
        "“nhìn chung hài lòng” trả lời 4 hoặc 5",
        denominator_en="each trainee's first attempt on each course (takers not yet matched to "
        "the register left out); gain and ⟨g⟩ over matched pairs; satisfied: “overall "
        "satisfaction” answered 4 or 5",
        notes_vi=[
            "Một khóa có nhiều chủ đề được tính trong mỗi chủ đề của nó.",
            "Tỷ lệ đạt theo điểm đạt của từng khóa; khoảng tin cậy Wilson 95 %; tiến bộ: "
            "khoảng tin cậy t 95 %.",
        ],
        notes_en=[
            "A course with several topics counts under each of them.",
            "Pass rate against each course's pass mark; Wilson 95 % intervals; gain: t 95 % "
            "interval.",
        ],
        empty_reason_vi="Chưa có bài kiểm tra được chấm.",
        empty_reason_en="No scored test yet.",
    )


def _outcome_row(kind, kind_vi, kind_en, vi, en, code, n_courses, acc) -> dict:
    return {
        "group_kind": kind_vi,
        "group_kind_en": kind_en,
        "kind_code": kind,
        "group": vi if kind != "total" else "Tổng",
        "group_en": en if kind != "total" else "Total",
        "group_code": code,
        "total": kind == "total",
        "courses": n_courses,
        **acc.summary().as_row(),
    }


def courses_table(courses, enrolled, outcomes, ratings) -> ReportTable:
    """R4: each course's enrolments, completions and outcomes."""
    per = _accumulate(courses, outcomes, ratings, lambda c: (c.id,))
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for p in enrolled:
        counts[p.course_id][0] += 1
        counts[p.course_id][1] += p.completed
    rows = []
    for c in courses:
        vi, en = _label(catalogue.COURSE_TYPES, c.course_type)
        rows.append(
            {
                "code": c.code,
                "title": c.title,
                "course_type": vi,
                "course_type_en": en,
                "topics": ", ".join(c.topics or []),
                "start_date": c.start_date,
                "days": _days(c),
                "trainers": len(c.trainers or []),
                "enrolled": counts[c.id][0],
                "completed": counts[c.id][1],
                **per[c.id].summary().as_row(),
            }
        )
    return ReportTable(
        "R4",
        "Từng khóa học",
        "Course by course",
        [
            C("code", "Mã khóa", "Code"),
            C("title", "Tên khóa học", "Title"),
            C("course_type", "Loại hình", "Type"),
            C("topics", "Chủ đề", "Topics"),
            C("start_date", "Khai giảng", "Starts", "date"),
            C("days", "Số ngày", "Days", "count"),
            C("enrolled", "Ghi danh", "Enrolled", "count"),
            C("completed", "Hoàn thành", "Completed", "count"),
            *[c for c in _OUTCOME_COLUMNS if c.key not in ("pass_low", "pass_high")],
        ],
        rows,
        n=len(rows),
        denominator_vi="như bảng trên, từng khóa",
        denominator_en="as above, course by course",
        empty_reason_vi="Không có khóa học nào trong phạm vi đã chọn.",
        empty_reason_en="No course in the chosen scope.",
    )
