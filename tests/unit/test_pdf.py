"""exports/pdf.py: a page with the house stylesheet and an inline chart becomes a PDF.

Its text (Vietnamese included) can be read back, and nothing is fetched from the network.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from exports import charts
from exports.pdf import LocalOnlyFetcher, html_to_pdf
from harness import ROOT

STATIC = ROOT / "server" / "web" / "static"


def page(body: str) -> str:
    return f"""<!doctype html><html lang="vi"><head><meta charset="utf-8">
<title>Báo cáo</title><link rel="stylesheet" href="/static/taphuan.css"></head>
<body><header class="site-header"><nav class="site-nav">ĐIỀU-HƯỚNG-ẨN</nav></header>
<div class="print-header"><span>Báo cáo nhu cầu đào tạo</span><span>In ngày 22/11/2026</span></div>
<main>{body}</main></body></html>"""


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(p.extract_text() for p in reader.pages)


def hatch_patterns(data: bytes) -> int:
    """Tiling patterns anywhere on page 1: the chart's hatching, drawn as graphics."""
    count = 0

    def walk(resources):
        nonlocal count
        count += len(resources.get("/Pattern", {}) or {})
        for name in resources.get("/XObject", {}) or {}:
            inner = resources["/XObject"][name].get_object().get("/Resources")
            if inner:
                walk(inner)

    walk(PdfReader(io.BytesIO(data)).pages[0]["/Resources"])
    return count


def test_vietnamese_text_and_an_inline_chart_render():
    chart = charts.sorted_bars(
        [charts.Bar("Huyện Chư Păh", 92.3, 26), charts.Bar("Xã Ia Ka", 45.0, 12)],
        title="Độ bao phủ theo huyện",
        target=90,
    )
    rows = "".join(f"<tr><td>Xã {i}</td><td class='num'>{i},5 %</td></tr>" for i in range(60))
    html = page(
        "<h1>Đánh giá nhu cầu đào tạo</h1>"
        f"<figure class='chart'>{chart}</figure>"
        f"<table><thead><tr><th>Đơn vị</th><th>Tỷ lệ</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    data = html_to_pdf(html, static_dir=STATIC)
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert "Đánh giá nhu cầu đào tạo" in text
    assert "Báo cáo nhu cầu đào tạo" in text  # the print-only page header
    assert "Độ bao phủ theo huyện" in text  # chart title, drawn as text
    assert "Huyện Chư Păh" in text and "92,3 % (n=26)" in text  # chart labels
    assert hatch_patterns(data) > 0  # drawn as an SVG image, not flowed as text
    assert hatch_patterns(html_to_pdf(page("<p>Không có biểu đồ</p>"), static_dir=STATIC)) == 0
    assert "ĐIỀU-HƯỚNG-ẨN" not in text  # @media print hid the navigation
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 2
    assert "Đơn vị" in reader.pages[1].extract_text()  # the table header repeats on page 2
    assert "1 / " in text  # page numbers from @page


def test_the_stylesheet_is_read_from_disk(tmp_path):
    (tmp_path / "x.css").write_text("@media print { .gone { display: none } }")
    html = '<link rel="stylesheet" href="/static/x.css"><p class="gone">Ẩn đi</p><p>Còn lại</p>'
    text = pdf_text(html_to_pdf(html, static_dir=tmp_path))
    assert "Còn lại" in text and "Ẩn đi" not in text


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/logo.png",
        "http://taphuan.invalid/other/secret.txt",
        "http://taphuan.invalid/static/../pyproject.toml",
        "http://taphuan.invalid/static/%2e%2e/%2e%2e/pyproject.toml",
        "file:///etc/passwd",
    ],
)
def test_nothing_but_static_files_and_data_urls_is_fetched(url):
    fetcher = LocalOnlyFetcher(STATIC)
    with pytest.raises(ValueError, match=r"static|protocol"):
        fetcher.fetch(url)


def test_a_foreign_image_is_left_out_not_fetched(caplog):
    html = '<p>Trang</p><img src="http://127.0.0.1:9/x.png" alt="">'
    data = html_to_pdf(html, static_dir=STATIC)
    assert "Trang" in pdf_text(data)
    assert "only the app's static files" in caplog.text


def test_data_urls_and_static_files_are_served():
    fetcher = LocalOnlyFetcher(Path(STATIC))
    css = fetcher.fetch("http://taphuan.invalid/static/taphuan.css")
    assert b"@media print" in css.read() and css.content_type == "text/css"
    data = fetcher.fetch("data:text/plain;base64,xJA=")
    assert data.read() == "Đ".encode()
