"""exports/evaluation_charts.py: the evaluation report's and the roll-up's charts as SVG.

Each one parses, carries its title, has no script or outside reference, escapes text sent
from tablets, writes Vietnamese numbers, is deterministic, and refuses to draw nothing.
"""

from __future__ import annotations

import re

import pytest
from defusedxml.ElementTree import fromstring

from exports import evaluation_charts as charts

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = 'Xã <script>alert("x")</script> & =SUM(A1)'

CHARTS = {
    "histograms": lambda title, lang="vi": charts.score_histograms(
        [40, 55, 60, 70, 50.5], [70, 75, 80, 85, 65], title=title, lang=lang, pass_mark=70
    ),
    "scatter": lambda title, lang="vi": charts.pre_post_scatter(
        [charts.PrePostPoint("HV1", 40, 70), charts.PrePostPoint("HV2", 60, 55.5)],
        title=title, lang=lang, pass_mark=70,
    ),
    "topics": lambda title, lang="vi": charts.topic_pre_post(
        ["TP01", "TP05"], [50.5, None], [72.5, 80], title=title, lang=lang
    ),
    "items": lambda title, lang="vi": charts.difficulty_discrimination(
        [charts.ItemPoint("q01", 85.5, 0.42), charts.ItemPoint(HOSTILE, 20, -0.1)],
        title=title, lang=lang,
    ),
    "likert": lambda title, lang="vi": charts.likert_diverging(
        [charts.LikertRow(HOSTILE, (0.05, 0.1, 0.2, 0.4, 0.25), 20),
         charts.LikertRow("Giảng viên dễ hiểu", (0, 0, 0.1, 0.5, 0.4), 20)],
        title=title, lang=lang,
    ),
    "courses": lambda title, lang="vi": charts.course_intervals(
        [charts.CourseValue("K01", 16.5, 10.18, 22.82), charts.CourseValue("K02", None, None,
         None), charts.CourseValue(HOSTILE, 8.25, 2.5, 14.0)],
        title=title, lang=lang, percent=False,
    ),
}  # fmt: skip


def texts(svg: str) -> list[str]:
    return [el.text for el in fromstring(svg).iter() if el.text and el.text.strip()]


@pytest.mark.parametrize("chart", sorted(CHARTS))
def test_each_chart_is_safe_inline_svg_with_its_title(chart):
    svg = CHARTS[chart]("Điểm trước – sau")
    root = fromstring(svg)
    assert root.tag == f"{NS}svg"
    assert "Điểm trước – sau" in texts(svg)
    assert "<script" not in svg and "style=" not in svg and "<!DOCTYPE" not in svg
    assert not re.search(r'href="(?!#)', svg)
    assert len(svg) < 60_000, len(svg)


@pytest.mark.parametrize("chart", sorted(CHARTS))
def test_output_is_deterministic(chart):
    assert CHARTS[chart]("T") == CHARTS[chart]("T")


@pytest.mark.parametrize("chart", ["items", "likert", "courses"])
def test_text_from_tablets_is_escaped(chart):
    svg = CHARTS[chart]("T")
    assert "<script" not in svg and "&lt;script&gt;" in svg


def test_numbers_are_vietnamese_and_labels_follow_the_toggle():
    vi = " ".join(texts(CHARTS["courses"]("T", "vi")))
    en = " ".join(texts(CHARTS["courses"]("T", "en")))
    assert "16,5" in vi and "[10,2; 22,8]" in vi and "KTC 95 %" in vi
    assert "16,5" in en and "95 % CI" in en  # one number style in every report


def test_nothing_to_draw_is_refused():
    with pytest.raises(ValueError, match="no"):
        charts.score_histograms([], [], title="T")
    with pytest.raises(ValueError, match="no values"):
        charts.course_intervals([charts.CourseValue("K", None, None, None)], title="T")
