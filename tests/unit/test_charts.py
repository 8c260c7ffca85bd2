"""exports/charts.py: the charts of spec §2.4 as SVG.

Each one parses, says what it shows, uses Vietnamese numbers, escapes text, is deterministic
and small enough to inline.
"""

from __future__ import annotations

import re

import pytest
from defusedxml.ElementTree import fromstring
from fontTools.ttLib import TTFont
from matplotlib import font_manager

from exports import charts
from exports.charts import Bar, KpiBullet, RankedValue, ScatterPoint

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = 'Xã <script>alert("x")</script> & $5$'

CHARTS = {
    "n1": lambda title, lang="vi": charts.kpi_bullets(
        [
            KpiBullet("KPI-03 Viên chức đạt chuẩn", 7.3, 70, expected=40, target_2030=100,
                      status="red", n=260),
            KpiBullet("KPI-06 CTV", 34.0, 30, expected=30, target_2030=40, status="green"),
        ],
        title=title, lang=lang,
    ),
    "n2": lambda title, lang="vi": charts.sorted_bars(
        [Bar("Ia Grai", 81.25, 48), Bar(HOSTILE, 92.3, 26), Bar("Chư Păh", None)],
        title=title, lang=lang, target=90,
    ),
    "n3": lambda title, lang="vi": charts.time_series(
        [(2022, 12.5), (2023, None), (2024, 31.0)], title=title, lang=lang,
        targets=[(2022, 30), (2025, 30), (2026, 40)], milestones=[(2023, "R3")],
    ),
    "n4": lambda title, lang="vi": charts.stacked_bars(
        ["Tỉnh", "Xã"], {"ĐH · y dược": [5, 40], "Khác": [8, 1234]}, title=title, lang=lang,
    ),
    "n5": lambda title, lang="vi": charts.importance_performance(
        [ScatterPoint("C01", 2.75, 4.5), ScatterPoint("C02", 4.0, 4.1), ScatterPoint("C03", 3, 3.5)],
        title=title, lang=lang,
    ),
    "n6": lambda title, lang="vi": charts.ranked_bars_ci(
        [RankedValue("C01", 7.875, 5.1, 10.2, 8), RankedValue("C02", 2.5)], title=title, lang=lang,
    ),
    "n7": lambda title, lang="vi": charts.heatmap(
        ["C01", "C02"], ["Xã", "CTV"], [[7.875, None], [1.5, 0.25]], title=title, lang=lang,
    ),
    "n8": lambda title, lang="vi": charts.grouped_bars(
        ["TP01", "TP04"], {"Có nhu cầu": [62.5, 48.0], "Ưu tiên 1": [20.0, None]},
        title=title, lang=lang,
    ),
    "n9": lambda title, lang="vi": charts.diverging_bars(
        ["Khối lượng công việc"], ["Rất không", "Không", "Trung lập", "Có", "Rất có"],
        [[5, 10, 20, 40, 25]], title=title, lang=lang, negative=2, neutral=True,
    ),
}  # fmt: skip


def texts(svg: str) -> list[str]:
    root = fromstring(svg)
    return ["".join(el.itertext()).strip() for el in root.iter(f"{NS}text")]


@pytest.mark.parametrize("chart", sorted(CHARTS))
def test_each_chart_is_valid_inline_svg_with_title_and_description(chart):
    svg = CHARTS[chart]("Độ bao phủ – Gia Lai")
    root = fromstring(svg)  # well-formed XML, no DTD, no entities
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    assert root.find(f"{NS}title").text == "Độ bao phủ – Gia Lai"
    assert root.find(f"{NS}desc").text
    assert "Độ bao phủ – Gia Lai" in texts(svg)  # the visible title too
    # Inline under the CSP: no <style>, no style=, no script, no external reference.
    assert "<style" not in svg and "style=" not in svg and "<script" not in svg
    assert "<!DOCTYPE" not in svg and "<?xml" not in svg
    assert not re.search(r'href="(?!#)', svg)
    assert len(svg) < 40_000, len(svg)


@pytest.mark.parametrize("chart", sorted(CHARTS))
def test_output_is_deterministic(chart):
    assert CHARTS[chart]("T") == CHARTS[chart]("T")


def test_ids_differ_between_charts_so_two_can_share_a_page():
    ids = [set(re.findall(r' id="([^"]+)"', CHARTS[c]("T"))) for c in ("n2", "n8")]
    assert ids[0] and ids[1] and not ids[0] & ids[1]


def test_numbers_are_vietnamese():
    assert charts.vi_number(1234567.891, 2) == "1.234.567,89"
    assert charts.vi_percent(92.34) == "92,3 %"
    assert charts.vi_percent(None) == "—"
    bars = texts(CHARTS["n2"]("T"))
    assert "92,3 % (n=26)" in bars and "81,2 % (n=48)" in bars  # 81,25 rounds half to even
    assert "—" in bars  # missing is not zero
    assert {"0 %", "20 %", "40 %", "60 %", "80 %"} <= set(bars)  # axis ticks
    assert "90 %" in bars  # the target line's label
    assert "1.274" in texts(CHARTS["n4"]("T"))  # thousands with a dot
    assert "7,88 (n=8)" in texts(CHARTS["n6"]("T"))
    scatter = texts(CHARTS["n5"]("T"))
    assert "4,5" in scatter and "4.5" not in scatter
    assert not [t for t in bars if re.fullmatch(r"\d+\.\d+", t)]  # no decimal point anywhere


def test_years_are_not_thousands():
    labels = texts(CHARTS["n3"]("T"))
    assert "2022" in labels and "2.022" not in labels
    assert "R3" in labels and "12,5 %" in labels


def test_text_from_submissions_is_escaped_not_interpreted():
    svg = CHARTS["n2"]("Tiêu đề <b>&</b>")
    assert "<script" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg and "&amp;" in svg
    # Shown literally (wrapped on two lines): no HTML, no math ($5$ stays).
    assert HOSTILE in " ".join(texts(svg))
    assert fromstring(svg).find(f"{NS}title").text == "Tiêu đề <b>&</b>"


def test_suppressed_heatmap_cells_are_blank_and_hatched_not_zero():
    svg = CHARTS["n7"]("T")
    labels = texts(svg)
    assert "—" in labels and "7,88" in labels and "0,25" in labels
    assert "<pattern" in svg  # the hatch
    assert "— bị ẩn (n nhỏ)" in labels


def test_black_and_white_cues_besides_colour():
    assert "<pattern" in CHARTS["n1"]("T")  # status hatches
    assert "không đạt" in " ".join(texts(CHARTS["n1"]("T")))  # and the status in words
    assert "<pattern" in CHARTS["n8"]("T")  # second series hatched


def test_chart_words_follow_the_language():
    assert "Mục tiêu 90 %" in texts(CHARTS["n2"]("T"))
    english = texts(CHARTS["n2"]("Coverage by district", "en"))
    assert "Target 90 %" in english and "Coverage by district" in english
    with pytest.raises(ValueError, match="unknown language"):
        CHARTS["n2"]("T", "fr")


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="series"):
        charts.grouped_bars(["a", "b"], {"s": [1]}, title="T")
    with pytest.raises(ValueError, match="values"):
        charts.heatmap(["a"], ["x", "y"], [[1]], title="T")


def test_jinja_inserts_the_svg_as_markup():
    from markupsafe import escape

    svg = CHARTS["n6"]("T")
    assert str(escape(svg)) == svg  # __html__: no double escaping in templates


def test_the_chart_font_covers_vietnamese():
    path = font_manager.findfont("DejaVu Sans", fallback_to_default=False)
    cmap = TTFont(path).getBestCmap()
    letters = "ĂÂĐÊÔƠƯăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ"
    assert [ch for ch in letters if ord(ch) not in cmap] == []


def test_svg_stays_plain_svg_after_other_libraries_touch_the_namespace_map():
    """Importing WeasyPrint drops ElementTree's SVG prefix; a page must never get <ns0:svg>."""
    import xml.etree.ElementTree as StdET

    StdET.register_namespace("", "urn:something-else")  # what another library may do
    svg = charts.sorted_bars([charts.Bar("a", 10.0), charts.Bar("b", 20.0)], title="t")
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert "ns0:" not in svg
