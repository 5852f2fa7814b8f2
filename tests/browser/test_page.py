"""The resume page in a real browser: the count, failure and no-JavaScript fallbacks, CSP,
accessibility (axe-core), phone and desktop layouts, printing, and the links visitors follow
(reported, never held up; the PDF's downloads)."""

import io
import re
import unicodedata

import pytest
from pypdf import PdfReader

from resume.resume import DEFAULT_RESUME_PATH, load_resume
from tests.browser.browsing import ARTIFACTS, DESKTOP, PHONE, axe_violations

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


# The layout turns on the width, the colours (axe's contrast) on the scheme: each width in one
# scheme, the other scheme at the other width.
@pytest.mark.parametrize(("width", "scheme"), [("phone", "light"), ("desktop", "dark")])
def test_axe_finds_no_violations_and_nothing_scrolls_sideways(open_page, width, scheme):
    viewport = {"phone": PHONE, "desktop": DESKTOP}[width]
    page = open_page(viewport=viewport, color_scheme=scheme).page
    page.goto("/")
    _shown_count(page)  # the footer with the count is part of what is checked
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert axe_violations(page) == []


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
    assert "Download PDF" not in text and "US Letter" not in text


def test_printed_links_show_where_they_go(open_page):
    page = open_page().page
    page.goto("/")
    page.emulate_media(media="print")
    project = RESUME.projects[0]
    link = page.get_by_role("link", name=project.name)
    shown = link.evaluate("a => getComputedStyle(a, '::after').content")
    assert project.url.removeprefix("https://") in shown


# --- The links visitors follow ----------------------------------------------------------------

ELSEWHERE = "<!doctype html><title>Elsewhere</title><p>Another site.</p>"
PDF_BYTES = b"%PDF-1.4\n%a resume\n"


def _stored_clicks(site) -> dict[str, int]:
    """Today's clicks as the site's table holds them, read straight from the engine."""
    import datetime as dt

    import boto3

    engine = boto3.client(
        "dynamodb", endpoint_url=site.env["DYNAMODB_ENDPOINT_URL"], region_name="us-east-1"
    )
    key = {"pk": {"S": f"clicks#{dt.datetime.now(dt.UTC).date().isoformat()}"}}
    item = engine.get_item(TableName=site.env["DYNAMODB_TABLE"], Key=key, ConsistentRead=True)
    found = item.get("Item", {})
    return {name.removeprefix("link:"): int(v["N"]) for name, v in found.items() if name != "pk"}


def _clicks_added(site, before: dict[str, int], expected: dict[str, int]) -> dict[str, int]:
    """The clicks stored since `before` on the labels of `expected`, once they reach it or ten
    seconds have passed (a report is fire-and-forget: nothing on the page waits for it)."""
    import time

    deadline = time.monotonic() + 10
    while True:
        now = _stored_clicks(site)
        added = {label: now.get(label, 0) - before.get(label, 0) for label in expected}
        if added == expected or time.monotonic() > deadline:
            return added
        time.sleep(0.1)


def _elsewhere(page) -> None:
    """Every other site answers with a page of its own (the machine has no internet)."""
    page.route(
        lambda url: not url.startswith("http://127.0.0.1") and url.startswith("http"),
        lambda route: route.fulfill(status=200, content_type="text/html", body=ELSEWHERE),
    )


def test_following_a_link_reports_its_label_and_the_link_goes_on(open_page, site):
    """Each profile and the website: the report is sent, and the browser is on the other site."""
    watched = open_page()
    page = watched.page
    _elsewhere(page)
    before = _stored_clicks(site)
    followed = []
    for profile in RESUME.basics.profiles:
        followed.append(("profile:" + profile.network.lower(), profile.url))
    followed.append(("website", RESUME.basics.url))
    for label, url in followed:
        page.goto("/")
        with page.expect_request("**/api/click") as sent:
            page.locator(f'a[data-click="{label}"]').click()
        page.wait_for_url(url.rstrip("/") + "**")
        assert sent.value.method == "POST"
        assert sent.value.headers["content-type"] == "application/json"  # a beacon's Blob
        assert page.title() == "Elsewhere"
    expected = {label: 1 for label, _ in followed}
    assert _clicks_added(site, before, expected) == expected
    assert watched.problems == []


MAILTO_AND_TEL = """() => new Promise((resolve) => {
  const seen = [];
  // After the page's own listeners: records whether anyone stopped the link, then stops it
  // itself, as a browser without a mail or phone app would do nothing useful here.
  window.addEventListener("click", (event) => {
    seen.push([event.target.closest("a").dataset.click, event.defaultPrevented]);
    event.preventDefault();
    if (seen.length === 2) resolve(seen);
  });
  document.querySelector('a[data-click="email"]').click();
  document.querySelector('a[data-click="phone"]').click();
})"""


def test_the_email_and_phone_links_are_reported_and_never_stopped(open_page, site):
    page = open_page().page
    page.goto("/")
    before = _stored_clicks(site)
    seen = page.evaluate(MAILTO_AND_TEL)
    assert seen == [["email", False], ["phone", False]]
    assert _clicks_added(site, before, {"email": 1, "phone": 1}) == {"email": 1, "phone": 1}


def test_the_pdf_link_downloads_the_file_named_after_the_owner_and_is_reported(open_page, site):
    page = open_page(accept_downloads=True).page
    before = _stored_clicks(site)
    page.route(
        "**/resume*.pdf",
        lambda route: route.fulfill(status=200, content_type="application/pdf", body=PDF_BYTES),
    )
    page.goto("/")
    for label, name in [
        ("pdf", "Alex-Rivera-Resume.pdf"),
        ("pdf-letter", "Alex-Rivera-Resume-Letter.pdf"),
    ]:
        with page.expect_request("**/api/click") as sent, page.expect_download() as download:
            page.locator(f'a[data-click="{label}"]').click()
        assert download.value.suggested_filename == name
        assert sent.value.method == "POST"
    assert page.get_by_role("link", name="Download PDF", exact=True).get_attribute("href") == (
        "/resume.pdf"
    )
    assert page.get_by_role("link", name="Download PDF, US Letter").is_visible()
    assert _clicks_added(site, before, {"pdf": 1, "pdf-letter": 1}) == {"pdf": 1, "pdf-letter": 1}


@pytest.mark.parametrize("fault", ["script-blocked", "api-hangs", "api-503", "no-beacon"])
def test_a_link_works_the_same_whatever_becomes_of_the_report(open_page, fault):
    """Blocked script, an API that never answers or fails, a browser without sendBeacon:
    the profile link still goes to its site at once."""
    page = open_page().page
    _elsewhere(page)
    if fault == "script-blocked":
        page.route("**/js/clicks.js", lambda route: route.abort())
    elif fault == "api-hangs":
        page.route("**/api/click", lambda route: None)  # never answered
    elif fault == "api-503":
        page.route("**/api/click", lambda route: route.fulfill(status=503, body="{}"))
    else:
        page.add_init_script("delete Navigator.prototype.sendBeacon;")
    profile = RESUME.basics.profiles[0]
    page.goto("/")
    started = page.evaluate("performance.now()")
    page.get_by_role("link", name=f"{profile.network}:").click()
    page.wait_for_url(profile.url + "**", timeout=5000)
    assert page.title() == "Elsewhere"
    assert page.evaluate("performance.now()") - started < 5000


def test_the_download_links_are_not_printed(open_page):
    page = open_page().page
    page.goto("/")
    assert page.locator(".downloads").is_visible()
    page.emulate_media(media="print")
    assert not page.locator(".downloads").is_visible()
