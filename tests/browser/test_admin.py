"""The owner's admin in a real browser: sign-in to logout under the CSP, every admin page
accessible (axe) in the light and dark themes with no sidebar and no console error, and the
dashboard (chart, where views came from) readable on a phone and a desktop."""

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.browsing import (
    OWNER,
    OWNER_PASSWORD,
    PHONE,
    Site,
    axe_violations,
    screenshot,
)

pytestmark = [pytest.mark.dynamodb_local, pytest.mark.slow]

# The admin's pages a signed-in owner reaches, and the one after signing out.
ADMIN_PAGES = [
    "/admin/",
    "/admin/?period=today",
    "/admin/password_change/",
    "/admin/password_change/done/",
]


def _sign_in(page: Any) -> None:
    page.goto("/admin/")
    page.get_by_label("Username").fill(OWNER)
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/admin/")


@pytest.fixture(scope="module")
def signed_in(browser: Any, site: Site) -> dict[str, Any]:
    """The cookies of a signed-in owner, for tests that start on the dashboard."""
    context = browser.new_context(base_url=site.url)
    try:
        _sign_in(context.new_page())
        return context.storage_state()
    finally:
        context.close()


def _luminance(rgb: str) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (int(part) for part in re.findall(r"\d+", rgb)[:3])
    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def _contrast(a: str, b: str) -> float:
    light, dark = sorted([_luminance(a), _luminance(b)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_sign_in_dashboard_password_page_and_logout_without_error_or_csp_violation(open_page):
    watched = open_page()
    page = watched.page
    _sign_in(page)
    assert page.locator("#total-views").is_visible()
    page.get_by_role("button", name="Toggle theme").click()  # the admin's own script, under CSP
    page.get_by_role("link", name="Change password").click()
    page.wait_for_url("**/admin/password_change/")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/admin/logout/")
    assert page.get_by_role("heading", name="Logged out").is_visible()
    assert watched.problems == []
    pages = [response for response in watched.documents if "/admin/" in response.url]
    assert len(pages) >= 4  # login, dashboard, password page, logged out
    assert all("content-security-policy" in response.headers for response in pages)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations_on_the_dashboard(open_page, signed_in, scheme):
    page = open_page(storage_state=signed_in, color_scheme=scheme).page
    page.goto("/admin/")
    screenshot(page, f"dashboard-{scheme}")
    assert axe_violations(page) == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
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
    rows = page.locator(".chart-module table tbody tr").evaluate_all(
        "rows => rows.map(row => [...row.cells].map(cell => cell.textContent.trim()))"
    )  # the table alternative, newest day first: ["Mon 23 Nov 2026", views, uniques]
    views = [int(row[1]) for row in rows]
    assert len(views) == 30
    assert len([day for day in views if day]) == 30
    assert page.locator(".chart-y span").first.inner_text() == str(max(views))
    dates = [text for text in page.locator(".chart-x li").all_inner_texts() if text.strip()]
    assert dates == [" ".join(row[0].split()[1:3]) for row in rows[::7]][::-1]


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1366, "height": 900}])
def test_the_dashboard_fits_the_screen_and_lists_where_views_came_from(
    open_page, signed_in, viewport
):
    page = open_page(storage_state=signed_in, viewport=viewport).page
    page.goto("/admin/?period=7d")
    screenshot(page, f"dashboard-{viewport['width']}")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    for table in ("sources", "campaigns", "countries", "devices"):
        assert page.locator(f"#{table} tbody tr").count() >= 2, table
    sources = page.locator("#sources tbody tr").evaluate_all(
        "rows => rows.map(row => Number(row.cells[1].textContent))"
    )
    assert sources == sorted(sources, reverse=True)
    align = page.locator("#sources td").first.evaluate("cell => getComputedStyle(cell).textAlign")
    assert align == "right"
    views = page.locator("rect.views").first.bounding_box()
    uniques = page.locator("rect.uniques").first.bounding_box()
    assert views["x"] + views["width"] <= uniques["x"]  # side by side, never one over the other


# Last: its sign-out ends every session of the account, the shared `signed_in` one's too.
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_admin_page_is_accessible_finished_and_quiet(open_page, scheme):
    """Signed in, each page: axe finds nothing, no model sidebar or permission message, no
    console error or CSP violation; then the sign-in page and the signed-out page the same.
    (It signs in on its own: its sign-out ends every session, the shared one's too.)"""
    watched = open_page(color_scheme=scheme)
    page = watched.page
    page.goto("/admin/login/")
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in"
    assert axe_violations(page) == []
    screenshot(page, f"login-{scheme}")
    _sign_in(page)
    for path in ADMIN_PAGES:
        page.goto(path)
        assert axe_violations(page) == [], path
        assert page.locator("#nav-sidebar, #toggle-nav-sidebar").count() == 0, path
        assert "permission" not in page.locator("body").inner_text().lower(), path
        assert page.locator("h1").count() == 1, path
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/admin/logout/")
    assert axe_violations(page) == []
    assert watched.problems == []
