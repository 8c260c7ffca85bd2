"""The page shell in a real browser: sign in, navigation, language, print, CSP, two screens.

Debian's Chromium through Playwright against gunicorn (fixtures in ``conftest.py``). Each test
also asserts the console stayed clean: a CSP violation (an inline style or script slipping into
a template) is a console error in Chromium.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

TABLET = (800, 1280)
DESKTOP = (1366, 900)
#: What an administrator's header links to.
VI_NAV = [
    "Tổng quan",
    "Biểu mẫu",
    "Khóa học",
    "Danh sách cán bộ",
    "Báo cáo nhu cầu",
    "Đánh giá khóa học",
    "Tổng hợp chương trình",
    "Máy tính bảng",
    "Người dùng",
    "Đơn vị hành chính",
    "Nhật ký",
]


def nav_labels(page) -> list[str]:
    return [text.strip() for text in page.locator("nav.site-nav a").all_inner_texts()]


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("tablet", TABLET)])
def test_sign_in_and_the_overview_with_its_navigation(open_page, name, viewport):
    tab = open_page(viewport)
    response = tab.goto("/")
    assert tab.page.url.endswith("/login?next=/")
    assert response.status == 200
    assert tab.page.locator("html").get_attribute("lang") == "vi"
    assert tab.page.locator("nav.site-nav").count() == 0  # no navigation before signing in
    tab.screenshot(f"login-{name}")

    tab.sign_in()
    page = tab.page
    assert page.url == tab.base_url + "/"
    assert page.locator("h1").inner_text().startswith("Tổng quan")
    assert nav_labels(page) == VI_NAV
    assert page.locator("nav.site-nav a[aria-current=page]").inner_text() == "Tổng quan"
    assert page.locator("nav.site-nav a", has_text="Báo cáo nhu cầu").get_attribute("href") == (
        "/reports/needs"
    )
    assert page.locator("header .user").inner_text() == "quantri"
    # Landmarks and the skip link a keyboard user lands on first.
    assert page.locator("header.site-header").count() == 1
    assert page.locator("main#main").count() == 1
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert focused == "skip-link"
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Escape")
    page.locator("main").focus()
    # Nothing wider than the screen: the header wraps on a tablet.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport[0]
    tab.screenshot(f"overview-{name}")
    assert tab.problems() == []


def test_the_language_toggle_switches_to_english_and_back(open_page):
    tab = open_page(DESKTOP)
    tab.sign_in()
    page = tab.page
    with page.expect_navigation():
        page.locator("form.lang button").click()
    assert page.url == tab.base_url + "/"  # back on the page it was chosen on
    assert page.locator("html").get_attribute("lang") == "en"
    assert nav_labels(page) == [
        "Overview",
        "Forms",
        "Courses",
        "Staff register",
        "Needs report",
        "Course evaluation",
        "Programme",
        "Tablets",
        "People",
        "Units",
        "Audit log",
    ]
    assert page.locator("form.account button").first.inner_text() == "Sign out"
    assert page.locator("form.lang button").inner_text() == "Tiếng Việt"
    tab.screenshot("overview-english")

    # The choice is a cookie: it holds on the next page and across signing out and in.
    tab.goto("/login")
    assert page.locator("html").get_attribute("lang") == "en"
    with page.expect_navigation():
        page.locator("form.lang button").click()
    assert page.locator("html").get_attribute("lang") == "vi"
    tab.goto("/")
    assert nav_labels(page) == VI_NAV
    assert tab.problems() == []


def test_print_media_hides_navigation_and_shows_the_page_header(open_page):
    tab = open_page(DESKTOP)
    tab.sign_in()
    page = tab.page
    assert page.locator("header.site-header").is_visible()
    assert not page.locator(".print-header").is_visible()
    page.emulate_media(media="print")
    assert not page.locator("header.site-header").is_visible()
    assert not page.locator("footer.site-footer").is_visible()
    assert page.locator(".print-header").is_visible()
    header = page.locator(".print-header").inner_text()
    assert "Tổng quan" in header and "In ngày" in header
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
    tab.screenshot("overview-print")
    pdf = page.pdf(format="A4")  # Chromium's own print path lays the page out too
    assert pdf.startswith(b"%PDF")
    page.emulate_media(media="screen")
    assert page.locator("header.site-header").is_visible()
    assert tab.problems() == []


def test_a_foreign_inline_style_would_be_reported(open_page):
    """The console listener really sees CSP violations (so the clean runs above mean something)."""
    tab = open_page(DESKTOP)
    tab.goto("/login")
    tab.page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.ran = 1'; document.body.appendChild(s); }"""
    )
    tab.page.wait_for_timeout(100)
    assert tab.page.evaluate("window.ran") is None  # CSP blocked the inline script
    assert any("Content Security Policy" in line for line in tab.problems()), tab.problems()
