"""The owner's admin in a real browser: sign-in to sign-out under the CSP; every admin page
(sign-in, the dashboard of each period, password change, the password-changed address, the
outage page, signed out) at a phone's and a desktop's width, light and dark: accessible (axe),
nothing wider than the screen or cut off, in the site's own look and words; and the chart read
by its boxes: each date under its own bars, no two dates touching, bars of a readable width.

What a page looks like turns on the width (the layout) and on the scheme (the colours, which
axe's contrast checks and test_both_chart_series_stand_out_in_the_admin_theme measure), not on
the two together: each width is seen in both schemes and each scheme at both widths, not every
pairing (SHOWN, CHARTS)."""

import itertools
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from counter import clicks
from resume.resume import DEFAULT_RESUME_PATH, load_resume
from scripts import local_server
from tests.browser.browsing import (
    ARTIFACTS,
    OWNER,
    OWNER_PASSWORD,
    Site,
    axe_violations,
    screenshot,
)
from tests.conftest import CLOSED_ENDPOINT

pytestmark = [pytest.mark.dynamodb_local, pytest.mark.slow]

NAME = load_resume(DEFAULT_RESUME_PATH).basics.name
PERIODS = ["today", "7d", "30d"]
WIDTHS = {390: {"width": 390, "height": 844}, 1366: {"width": 1366, "height": 900}}
SCHEMES = ["light", "dark"]
# Each width in one scheme here, the other scheme at the other width: every page is checked at
# both widths and in both schemes.
SHOWN = [(390, "dark"), (1366, "light")]
# The chart at each period and width, the scheme alternating: both schemes at each width.
CHARTS = [
    (period, width, SCHEMES[(number + index) % 2])
    for number, period in enumerate(PERIODS)
    for index, width in enumerate(WIDTHS)
]
READABLE_BAR = 6  # px: the narrowest bar the chart may draw
LABEL_GAP = 4  # px: at least this much between two dates
# Django's words and chrome, none of which the admin may show.
STOCK_WORDS = ("log in", "log out", "logged out", "resume site", "quality time", "was changed")
STOCK_CHROME = "#header, #branding, #user-tools, .breadcrumbs, #nav-sidebar, caption, .module"

# Every element wider than the screen, or whose own text is cut off (wider than its box while
# the box does not scroll); what lies inside a sideways scroller is the scroller's to show.
OVERFLOW = """() => {
  const screen = document.documentElement.clientWidth;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (el.classList.length ? "." + [...el.classList].join(".") : "");
  const scrolls = (el) => ["auto", "scroll"].includes(getComputedStyle(el).overflowX);
  const found = [];
  if (document.documentElement.scrollWidth > screen) found.push(`the page scrolls sideways`);
  for (const el of document.body.querySelectorAll("*")) {
    const style = getComputedStyle(el);
    if (style.display === "none" || style.visibility === "hidden") continue;
    const box = el.getBoundingClientRect();
    if (!box.width && !box.height) continue;
    const scroller = el.parentElement && el.parentElement.closest(".chart-scroll");
    if (!scroller && (box.left < -0.5 || box.right > screen + 0.5)) {
      found.push(`${name(el)} spans ${Math.round(box.left)} to ${Math.round(box.right)}`);
    }
    const ownText = [...el.childNodes].some(
      (node) => node.nodeType === Node.TEXT_NODE && node.textContent.trim());
    if (ownText && el.clientWidth && el.scrollWidth > el.clientWidth + 1 && !scrolls(el)) {
      found.push(`${name(el)} cuts its text: ${el.scrollWidth} in ${el.clientWidth}`);
    }
  }
  return found;
}"""

# Each day of the chart: its two bars' boxes, and its date's box and text (null without one).
CHART_DAYS = """() => [...document.querySelectorAll(".chart-days li")].map((day) => {
  const box = (el) => { const b = el.getBoundingClientRect(); return [b.left, b.right]; };
  const label = day.querySelector(".chart-x");
  return {
    views: box(day.querySelector("rect.views")),
    uniques: box(day.querySelector("rect.uniques")),
    label: label ? box(label) : null,
    text: label ? label.innerText.split(/\\s+/).join(" ") : null,
  };
})"""

# The widths of each table's columns on the dashboard, and the left edge of its Views column.
TABLE_COLUMNS = """() => [...document.querySelectorAll(".visitor-dashboard table")].map((t) => {
  const cells = [...t.querySelector("thead tr").cells].map((c) => c.getBoundingClientRect());
  return {id: t.id, widths: cells.slice(1).map((c) => c.width), views: cells[1].left,
          top: t.getBoundingClientRect().top};
})"""


def _sign_in(page: Any) -> None:
    page.goto("/admin/")
    page.get_by_label("Username").fill(OWNER)
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/admin/")


def _sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/admin/logout/")


@pytest.fixture(scope="module")
def signed_in(browser: Any, site: Site) -> dict[str, Any]:
    """The cookies of a signed-in owner, for tests that start on the dashboard."""
    context = browser.new_context(base_url=site.url)
    try:
        _sign_in(context.new_page())
        return context.storage_state()
    finally:
        context.close()


@pytest.fixture(scope="module")
def outage(site: Site) -> Iterator[str]:
    """The same site with its database gone (every call refused at once): a session signed in
    on `site` meets the outage page here (cookies do not tell ports apart). Its URL."""
    log = (ARTIFACTS / "outage-server.log").open("w", encoding="utf-8")
    try:
        server, url = local_server.runserver_start(
            env={**site.env, "DYNAMODB_ENDPOINT_URL": CLOSED_ENDPOINT},
            insecure=True,
            output=log,
            probe="/robots.txt",
        )
    except RuntimeError:
        log.close()
        raise
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def _luminance(rgb: str) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (int(part) for part in re.findall(r"\d+", rgb)[:3])
    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def _contrast(a: str, b: str) -> float:
    light, dark = sorted([_luminance(a), _luminance(b)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _finished(page: Any, where: str) -> list[str]:
    """What is wrong with the page as it is: axe's violations, anything too wide or cut off,
    Django's chrome or words, an upper-case link, a heading other than one h1."""
    problems = [f"{where}: {violation}" for violation in axe_violations(page)]
    problems += [f"{where}: {overflow}" for overflow in page.evaluate(OVERFLOW)]
    if page.locator(STOCK_CHROME).count():
        problems.append(f"{where}: Django's chrome ({STOCK_CHROME})")
    words = " ".join(page.locator("body").inner_text().lower().split())
    problems += [f"{where}: says {word!r}" for word in STOCK_WORDS if word in words]
    shouting = page.locator("a, button").evaluate_all(
        "els => els.filter(el => getComputedStyle(el).textTransform === 'uppercase').length"
    )
    if shouting:
        problems.append(f"{where}: {shouting} upper-case links")
    if page.locator("h1").count() != 1:
        problems.append(f"{where}: {page.locator('h1').count()} h1 headings")
    if page.locator(".site-owner").inner_text() != NAME:
        problems.append(f"{where}: the header does not name {NAME}")
    title = page.title()
    if not title.endswith(f" | {NAME}") or "log" in title.lower():
        problems.append(f"{where}: titled {title!r}")
    return problems


def test_sign_in_dashboard_password_page_and_sign_out_without_error_or_csp_violation(open_page):
    watched = open_page()
    page = watched.page
    _sign_in(page)
    assert page.locator("#total-views").is_visible()
    page.get_by_role("link", name="Change password").click()
    page.wait_for_url("**/admin/password_change/")
    _sign_out(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Signed out"
    assert page.title() == f"Signed out | {NAME}"
    assert watched.problems == []
    pages = [response for response in watched.documents if "/admin/" in response.url]
    assert len(pages) >= 4  # sign-in, dashboard, password page, signed out
    assert all("content-security-policy" in response.headers for response in pages)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_both_chart_series_stand_out_in_the_admin_theme(open_page, signed_in, scheme):
    page = open_page(storage_state=signed_in, color_scheme=scheme).page
    page.goto("/admin/")
    background, views, uniques = page.evaluate(
        """() => [
          getComputedStyle(document.body).backgroundColor,
          getComputedStyle(document.querySelector("rect.views")).fill,
          getComputedStyle(document.querySelector("rect.uniques")).fill,
        ]"""
    )
    # WCAG's 3:1 for graphics: each bar against the page, the uniques against the views.
    assert _contrast(views, background) >= 3
    assert _contrast(uniques, background) >= 3
    assert _contrast(uniques, views) >= 3


def test_the_chart_axis_shows_the_dates_and_the_maximum(open_page, signed_in):
    page = open_page(storage_state=signed_in).page
    page.goto("/admin/")
    rows = page.locator(".chart-section table tbody tr").evaluate_all(
        "rows => rows.map(row => [...row.cells].map(cell => cell.textContent.trim()))"
    )  # the table alternative, newest day first: ["Mon 23 Nov 2026", views, uniques]
    views = [int(row[1]) for row in rows]
    assert len(views) == 30
    assert len([day for day in views if day]) == 30
    assert page.locator(".chart-y span").first.inner_text() == str(max(views))
    dates = [day["text"] for day in page.evaluate(CHART_DAYS) if day["text"]]
    assert dates == [" ".join(row[0].split()[1:3]) for row in rows[::7]][::-1]


@pytest.mark.parametrize(("period", "width", "scheme"), CHARTS)
def test_the_chart_reads_right(open_page, signed_in, period, width, scheme):
    """Measured in the browser: each date centred under its own two bars, no two dates
    touching, every bar a readable width; today as a day; 30 days on a phone scroll sideways,
    starting at today, and say so."""
    page = open_page(storage_state=signed_in, viewport=WIDTHS[width], color_scheme=scheme).page
    page.goto(f"/admin/?period={period}")
    days = page.evaluate(CHART_DAYS)
    assert len(days) == {"today": 1, "7d": 7, "30d": 30}[period]
    for day in days:
        views, uniques = day["views"], day["uniques"]
        assert views[1] - views[0] >= READABLE_BAR, day
        assert uniques[1] - uniques[0] >= READABLE_BAR, day
        assert views[1] <= uniques[0], day  # side by side, never one over the other
        if day["label"]:
            middle = (day["label"][0] + day["label"][1]) / 2
            assert abs(middle - (views[0] + uniques[1]) / 2) <= 1, day  # under its own bars
    labels = [day["label"] for day in days if day["label"]]
    assert labels and days[-1]["label"]  # today always has its date
    for left, right in itertools.pairwise(labels):
        assert left[1] + LABEL_GAP <= right[0], (left, right)

    scroller = page.locator(".chart-scroll")
    scrolls = scroller.evaluate("el => el.scrollWidth > el.clientWidth + 1")
    assert scrolls == (period == "30d" and width == 390)
    assert page.locator(".chart-more").is_visible() == scrolls
    shown = scroller.bounding_box()
    last = days[-1]
    assert shown["x"] - 0.5 <= last["views"][0] <= last["uniques"][1] <= shown["x"] + shown["width"]
    if scrolls:
        assert scroller.get_attribute("tabindex") == "0"  # it scrolls from the keyboard too

    caption = " ".join(page.locator("#chart-caption").inner_text().split())
    if period == "today":
        assert re.fullmatch(r"Today, \d{1,2} [A-Z][a-z]{2} \d{4}", days[0]["text"])
        assert " to " not in caption
        assert "summed" not in page.locator(".figures").inner_text()
    else:
        assert re.search(r"\d [A-Z][a-z]{2}( \d{4})? to \d", caption)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_dashboard_uses_the_width_and_its_tables_line_up(open_page, signed_in, width):
    page = open_page(storage_state=signed_in, viewport=WIDTHS[width]).page
    page.goto("/admin/?period=7d")
    page.locator(".chart-section summary").click()  # the chart's table, measured too
    for table in ("sources", "campaigns", "countries", "devices"):
        assert page.locator(f"#{table} tbody tr").count() >= 2, table
    sources = page.locator("#sources tbody tr").evaluate_all(
        "rows => rows.map(row => Number(row.cells[1].textContent))"
    )
    assert sources == sorted(sources, reverse=True)
    align = page.locator("#sources td").first.evaluate("cell => getComputedStyle(cell).textAlign")
    assert align == "right"

    links = page.locator("#links tbody tr").evaluate_all(
        "rows => rows.map(row => Number(row.cells[1].textContent))"
    )
    assert len(links) == len(clicks.links_get())  # every link of the page, followed or not
    assert links == sorted(links, reverse=True)

    tables = page.evaluate(TABLE_COLUMNS)
    assert len(tables) == 6
    widths = {tuple(round(w, 1) for w in table["widths"]) for table in tables}
    assert len(widths) == 1, tables  # every numeric column as wide as its fellows
    origins = {table["id"]: table for table in tables if table["id"]}
    columns = {round(table["views"]) for table in origins.values()}
    if width == 1366:  # two by two: Sources beside Campaigns, Countries beside Devices, Links
        assert len(columns) == 2, origins
        assert origins["links"]["views"] == origins["sources"]["views"]
        assert origins["sources"]["top"] == origins["campaigns"]["top"]
        assert origins["countries"]["top"] == origins["devices"]["top"]
        assert origins["sources"]["views"] == origins["countries"]["views"]
        assert origins["campaigns"]["views"] == origins["devices"]["views"]
    else:  # one under another, their Views columns at one x
        assert len(columns) == 1, origins


def test_the_pause_message_fits_a_phone_and_says_what_is_paused(open_page):
    """Five wrong passwords for a name without an account pause that name from this address
    (five of the address's twenty, once: the owner's sign-ins here stay open)."""
    page = open_page(viewport=WIDTHS[390], color_scheme="dark").page
    page.goto("/admin/login/")
    for _ in range(5):
        page.get_by_label("Username").fill("not-the-owner")
        page.get_by_label("Password").fill("wrong-guess")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
    page.get_by_label("Username").fill("not-the-owner")
    page.get_by_label("Password").fill("wrong-guess")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    note = " ".join(page.locator(".errornote").inner_text().split())
    assert note.startswith("Too many failed sign-in attempts for this username")
    assert "Signing in as this username from it is paused" in note
    assert _finished(page, "sign-in paused") == []


# Last: its sign-outs end every session of the account, the shared `signed_in` one's too.
@pytest.mark.parametrize(("width", "scheme"), SHOWN)
def test_every_admin_page_is_accessible_finished_and_the_sites_own(
    open_page, outage, width, scheme
):
    """Each page the owner meets, signed out, signed in, in an outage and after signing out:
    axe finds nothing, nothing is wider than the screen or cut off, no Django chrome or words,
    the owner's name in the header; no console error or CSP violation."""
    watched = open_page(viewport=WIDTHS[width], color_scheme=scheme)
    page = watched.page
    problems = []

    def look(name: str) -> None:
        found = _finished(page, name)
        if found:  # the page as it was found, before the test goes on to the next
            screenshot(page, f"admin-{name}-{width}-{scheme}")
        problems.extend(found)

    page.goto("/admin/login/")
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in"
    look("sign-in")
    _sign_in(page)
    for period in PERIODS:
        page.goto(f"/admin/?period={period}")
        look(f"dashboard-{period}")
    page.goto("/admin/password_change/")
    look("password-change")
    page.goto("/admin/password_change/done/")  # no password changes here: it says how
    assert urlsplit(page.url).path == "/admin/password_change/"
    look("password-changed")

    # The database gone: the outage page, with the way back and the way out.
    response = page.goto(f"{outage}/admin/")
    assert response.status == 503
    look("outage")
    assert page.get_by_role("link", name="Back to the resume").get_attribute("href") == "/"
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/admin/logout/")
    look("signed-out-here")

    _sign_in(page)
    _sign_out(page)
    look("signed-out")
    assert problems == []
    # The outage pages answer 503, as they should, which Chromium logs as a console error.
    assert [text for text in watched.problems if "status of 503" not in text] == []
