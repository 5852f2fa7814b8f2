"""The resume page in a real browser: the count, failure and no-JavaScript fallbacks, CSP,
accessibility (axe-core), phone and desktop layouts, and printing."""

import io
import re
import unicodedata

import pytest
from pypdf import PdfReader

from resume.resume import DEFAULT_RESUME_PATH, load_resume
from tests.browser.browsing import ARTIFACTS, DESKTOP, PHONE, axe_violations, screenshot

pytestmark = [pytest.mark.dynamodb_local, pytest.mark.slow]

RESUME = load_resume(DEFAULT_RESUME_PATH)
BROKEN_TEXT = ("undefined", "NaN", "null", "[object", "views")
# What the footer says once the script has the count: the page's total views, in words.
SHOWN = re.compile(r"(?P<count>\d{1,3}(,\d{3})*) (?P<unit>views?)")


def _shown_count(page) -> int:
    count = page.locator("#visitor-count")
    count.wait_for(state="visible")
    shown = SHOWN.fullmatch(page.locator(".visitor-count").inner_text().strip())
    assert shown is not None, page.locator(".visitor-count").inner_text()
    number = int(shown["count"].replace(",", ""))
    assert shown["unit"] == ("view" if number == 1 else "views")
    assert number == int(count.inner_text().replace(",", ""))
    return number


def test_the_count_appears_and_rises_by_one_on_reload(open_page):
    page = open_page().page
    page.goto("/")
    first = _shown_count(page)
    page.reload()
    assert _shown_count(page) == first + 1


@pytest.mark.parametrize(("count", "shown"), [(1, "1 view"), (1234, "1,234 views"), (0, "0 views")])
def test_the_count_says_it_is_views(open_page, count, shown):
    page = open_page().page
    body = f'{{"count": {count}, "counted": true}}'
    page.route(
        "**/api/count",
        lambda route: route.fulfill(status=200, content_type="application/json", body=body),
    )
    page.goto("/")
    page.locator("#visitor-count").wait_for(state="visible")
    assert page.locator(".visitor-count").inner_text().strip() == shown


def test_no_console_error_and_no_csp_violation_on_the_page(open_page):
    watched = open_page()
    response = watched.page.goto("/")
    _shown_count(watched.page)  # the counter's script ran and its fetch() came back
    assert watched.problems == []
    policy = response.headers["content-security-policy"]
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "permissions-policy" in response.headers


def test_with_the_api_answering_503_the_page_shows_no_broken_text(open_page):
    page = open_page().page
    page.route(
        "**/api/count",
        lambda route: route.fulfill(
            status=503, content_type="application/json", body='{"error": "unavailable"}'
        ),
    )
    with page.expect_response("**/api/count") as answer:
        page.goto("/")
    assert answer.value.status == 503
    page.wait_for_load_state("networkidle")
    text = page.locator("body").inner_text()
    assert RESUME.basics.name in text
    assert [word for word in BROKEN_TEXT if word in text] == []
    assert not page.locator(".visitor-count").is_visible()


def test_without_javascript_the_page_is_complete(open_page):
    page = open_page(java_script_enabled=False).page
    page.goto("/")
    text = page.locator("main").inner_text()
    expected = [
        RESUME.basics.name,
        RESUME.basics.email,
        *(job.position for job in RESUME.work),
        *(school.institution for school in RESUME.education),
        *(group.name for group in RESUME.skills),
        *(project.name for project in RESUME.projects),
        *(certificate.name for certificate in RESUME.certificates),
    ]
    assert [item for item in expected if item not in text] == []
    assert not page.locator(".visitor-count").is_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations_on_the_page(open_page, scheme):
    page = open_page(color_scheme=scheme).page
    page.goto("/")
    _shown_count(page)  # the footer with the count is part of what is checked
    assert axe_violations(page) == []


@pytest.mark.parametrize(("width", "scheme"), [("phone", "light"), ("desktop", "dark")])
def test_nothing_scrolls_sideways_at_phone_and_desktop_widths(open_page, width, scheme):
    viewport = {"phone": PHONE, "desktop": DESKTOP}[width]
    page = open_page(viewport=viewport, color_scheme=scheme).page
    page.goto("/")
    _shown_count(page)
    screenshot(page, f"resume-{width}-{scheme}")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_printing_gives_one_page_with_the_name_and_the_last_certification(open_page, paper):
    page = open_page().page
    page.goto("/")
    _shown_count(page)  # printed once the count is in: print CSS must still leave it out
    pdf = page.pdf(format=paper, print_background=False)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"resume-{paper}.pdf").write_bytes(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    # NFKC: the PDF's text has the font's ligatures (an "fi" glyph for "fi").
    text = " ".join(unicodedata.normalize("NFKC", reader.pages[0].extract_text()).split())
    assert RESUME.basics.name in text
    assert RESUME.certificates[-1].name in text
    assert "views" not in text  # the counter is not printed
    assert "Skip to content" not in text


def test_printed_links_show_where_they_go(open_page):
    page = open_page().page
    page.goto("/")
    page.emulate_media(media="print")
    project = RESUME.projects[0]
    link = page.get_by_role("link", name=project.name)
    shown = link.evaluate("a => getComputedStyle(a, '::after').content")
    assert project.url.removeprefix("https://") in shown
