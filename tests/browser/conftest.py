"""Browser tests: Debian's Chromium, driven by Playwright for Python, against the site as a
visitor gets it (DEBUG off, served by Django's server, counting in DynamoDB Local).

One server for the session; one browser per test module. (Playwright's synchronous API runs an
event loop while it is open, and Django refuses some calls inside one: closing the browser when
its module ends keeps it away from the other tests.) Playwright's own browser download is never
used: it points at the Chromium on PATH, which `.ci/run` installs with apt.
"""

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts import local_server
from tests.browser.browsing import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    DESKTOP,
    OWNER,
    OWNER_PASSWORD,
    WATCH_CSP,
    Site,
    Watched,
    chromium_path,
    screenshot,
)

NO_CHROMIUM = "Chromium is not installed (apt-get install chromium; .ci/run does it)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without Chromium, skip this folder's tests before any of their fixtures start a server."""
    if chromium_path() is not None:
        return
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.skip(reason=NO_CHROMIUM))


PERSON_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)


# Thirty days of views, so every day of the dashboard's chart has a bar: one to seven visitors a
# day, each viewing the page once or twice, and one to five clicks a day on the page's links.
# Written when the site starts, oldest first, as they happen: each view is the site's own
# `view_count` with the counter's clock at noon of its day (the limits are off, see `site`), so a
# day's first view closes the day before it.
HISTORY = """
import datetime as dt
from counter import services
from counter.services import counting, days
from counter.visits import Visit
from core.clients import Client
today = dt.datetime.now(dt.UTC).date()
sources = ["linkedin.com", "github.com", "direct", "a-rather-long-recruiting-site-name.example"]
for offset in reversed(range(30)):
    day = today - dt.timedelta(days=offset)
    noon = dt.datetime.combine(day, dt.time(12), dt.UTC).timestamp()
    counting._now = lambda noon=noon: noon
    for n in range(offset % 7 + 1):
        visitor = Client(ip=f"198.51.100.{n}", user_agent="seed")
        visit = Visit(sources[n % 4], "acme" if n % 3 else "", "DE" if n % 2 else "US",
                      "phone" if n % 2 else "desktop")
        for _ in range(1 + n % 2):
            assert services.view_count(visitor=visitor, visit=visit).counted
    for n, link in enumerate(["pdf", "profile:github", "email", "pdf", "profile:linkedin"]):
        if n <= offset % 5:
            days.day_click_add(day=day, link=link)
"""


@pytest.fixture(scope="session")
def site(dynamodb_endpoint: str) -> Iterator[Site]:
    """The site on a free port with DEBUG off (static files served with --insecure, as
    CloudFront would), a fresh table and one owner account."""
    env = {
        **os.environ,
        "DYNAMODB_ENDPOINT_URL": dynamodb_endpoint,
        "DYNAMODB_TABLE": f"browser-{uuid.uuid4().hex[:12]}",
        "DJANGO_DEBUG": "false",
        # These tests look at the page, not at DynamoDB's latency: on a busy two-core machine
        # DynamoDB Local can take over the site's 1 s to answer (a create_table retried after a
        # timeout then finds its own table).
        "DYNAMODB_READ_TIMEOUT": "10",
        # Every test here loads the page from one browser on one address, well past the
        # per-minute limits (tested in tests/counter); a reload must still count.
        "COUNTER_VISITOR_LIMIT": "0",
        "COUNTER_CLIENT_LIMIT": "0",
    }
    env.pop("SITE_URL", None)
    site = Site(url="", env=env)
    site.manage("create_table")
    site.manage("createadmin", OWNER, ADMIN_PASSWORD=OWNER_PASSWORD)
    site.manage("shell", "-c", HISTORY)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = (ARTIFACTS / "server.log").open("w", encoding="utf-8")
    try:
        server, url = local_server.runserver_start(
            env=env, insecure=True, output=log, probe="/robots.txt"
        )
    except RuntimeError:
        log.close()
        raise
    try:
        yield Site(url=url, env=env)
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        pytest.skip(NO_CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator:
    """Marks a test whose call failed, for open_page's screenshots."""
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report


@pytest.fixture
def open_page(
    request: pytest.FixtureRequest, browser: Any, site: Site
) -> Iterator[Callable[..., Watched]]:
    """Opens a page in a fresh browser context (options as Playwright's new_context) and
    watches it; the contexts close when the test ends, and if it failed, each page it had open
    is saved as it was then (build/browser/<the test's name>-<n>.png)."""
    contexts = []

    def open_(**options: Any) -> Watched:
        options.setdefault("viewport", DESKTOP)
        # A person's browser: headless Chromium names itself in its User-Agent and client
        # hints, and the counter rightly never counts it (counter/api.py).
        options.setdefault("user_agent", PERSON_USER_AGENT)
        context = browser.new_context(base_url=site.url, **options)
        contexts.append(context)
        page = context.new_page()
        watched = Watched(page=page)
        page.expose_function("reportCspViolation", lambda text: watched.csp_violations.append(text))
        page.add_init_script(WATCH_CSP)
        page.on(
            "console",
            lambda message: (
                watched.console_errors.append(f"console: {message.text}")
                if message.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda error: watched.page_errors.append(f"page error: {error}"))
        page.on(
            "response",
            lambda response: (
                watched.documents.append(response)
                if response.request.resource_type == "document"
                else None
            ),
        )
        return watched

    yield open_
    try:
        if request.node.stash.get(FAILED, False):
            pages = [page for context in contexts for page in context.pages]
            for number, page in enumerate(pages, 1):
                screenshot(page, f"{request.node.name} {number}")
    finally:  # a page that cannot be shot (it crashed) still has its context closed
        for context in contexts:
            context.close()
