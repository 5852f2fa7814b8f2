"""owners/admin.py: the owner's whole admin flow with Django's test client on DynamoDB Local.

DATABASES is {}, so Django's dummy backend raises on any ORM query: every request below would
fail if the login, the dashboard, the session or the logout touched the ORM, which the site
cannot have (it has no SQL database).
"""

import os
import re
import subprocess
import sys
import time

import pytest
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from core.clients import Client as Visitor
from counter import clicks, dashboard
from counter import services as counter
from counter.visits import Visit
from harness.fault_proxy import FaultProxy
from owners import services
from owners.models import Owner
from resume.resume import get_resume
from scripts import dynamodb_local
from tests.conftest import ALICE, BOB, CLOSED_ENDPOINT
from tests.counter.conftest import counter_clock_stop
from tests.owners.conftest import PASSWORD

pytestmark = pytest.mark.dynamodb_local


@pytest.fixture(autouse=True)
def counter_clock(monkeypatch) -> float:
    """The counter's clocks stopped on DAY (`counter_clock_stop`): the views a test counts and
    the dashboard's figures of today fall on the same day whenever it runs."""
    return counter_clock_stop(monkeypatch)


@pytest.fixture
def table(ddb_table: str, settings) -> str:
    """The owner's account is made in DynamoDB Local, where the whole site runs here; with a
    patient read timeout, as a loaded machine needs (each request's budget still bounds its
    waits, and the engine-down tests point the site at an engine that never answers)."""
    settings.DYNAMODB_READ_TIMEOUT = 10.0
    return ddb_table


@pytest.fixture
def table_scan_local(table: str, dynamodb_endpoint: str):
    """The keys of every item in the DynamoDB Local table, read past any proxy."""
    import boto3

    engine = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name="us-east-1")
    return lambda: [item["pk"]["S"] for item in engine.scan(TableName=table)["Items"]]


@pytest.fixture
def browser() -> Client:
    return Client(enforce_csrf_checks=True)


def _sign_in(browser: Client, username: str, password: str):
    page = browser.get("/admin/login/?next=/admin/")
    assert page.status_code == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return browser.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "csrfmiddlewaretoken": token},
    )


def _sign_out(browser: Client):
    token = browser.cookies["csrftoken"].value
    return browser.post("/admin/logout/", {"csrfmiddlewaretoken": token})


def _figure(page, element_id: str) -> int:
    return int(re.search(rf'id="{element_id}">(\d+)<', page.text).group(1))


def test_the_orm_is_unusable_so_these_tests_would_catch_a_query():
    with pytest.raises(ImproperlyConfigured):
        Owner.objects.count()


def test_anonymous_visitors_are_sent_to_the_login_page_and_see_no_figures(table, browser):
    counter.view_count(visitor=ALICE)
    response = browser.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"
    login = browser.get(response["Location"])
    assert 'id="total-views"' not in login.text
    assert 'name="csrfmiddlewaretoken"' in login.text


def test_the_login_form_needs_its_csrf_token(alex, browser):
    browser.get("/admin/login/")
    response = browser.post("/admin/login/", {"username": alex, "password": PASSWORD})
    assert response.status_code == 403


def test_the_owner_signs_in_sees_the_figures_and_signs_out(alex, browser):
    for visitor in (ALICE, ALICE, BOB):
        counter.view_count(visitor=visitor)
    response = _sign_in(browser, alex, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    page = browser.get("/admin/")
    assert page.status_code == 200
    assert _figure(page, "total-views") == counter.total_get() == 3
    assert _figure(page, "period-views") == 3  # the last 30 days
    assert _figure(page, "period-uniques") == 2
    assert page.text.count('<rect class="views"') == 30
    today = browser.get("/admin/?period=today")
    assert (_figure(today, "period-views"), _figure(today, "period-uniques")) == (3, 2)
    assert today.text.count('<rect class="views"') == 1
    assert 'href="?period=today" aria-current="page"' in today.text
    assert "Recent actions" not in page.text
    assert services.account_get(username=alex).last_login is not None

    token = browser.cookies["csrftoken"].value
    response = browser.post("/admin/logout/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert browser.get("/admin/").status_code == 302


def _text(page) -> str:
    """The page's words, without its tags."""
    return " ".join(re.sub(r"<[^>]+>", " ", page.content.decode()).split())


def test_every_page_says_sign_in_and_sign_out_and_the_owners_name(alex, browser):
    name = get_resume().basics.name
    login = browser.get("/admin/login/")
    assert "<title>Sign in | " + name + "</title>" in login.text
    assert re.search(r"<h1>Sign in</h1>", login.text)
    assert '<button type="submit" class="button">Sign in</button>' in login.text
    _sign_in(browser, alex, PASSWORD)
    pages = [login, browser.get("/admin/"), browser.get("/admin/password_change/")]
    for page in pages[1:]:
        assert '<button type="submit" class="link">Sign out</button>' in page.text
    pages.append(_sign_out(browser))
    for page in pages:
        assert f'class="site-owner" href="/admin/">{name}</a>' in page.text
        words = _text(page).lower()
        for stock in ("log in", "log out", "logged out", "login", "logout", "resume site"):
            assert stock not in words, (page.request["PATH_INFO"], stock)
        assert "/static/admin/" not in page.text  # none of Django's admin CSS or scripts
        assert 'class="breadcrumbs"' not in page.text


def test_signing_out_shows_the_sites_own_signed_out_page(alex, browser):
    _sign_in(browser, alex, PASSWORD)
    page = _sign_out(browser)
    assert page.status_code == 200
    assert "<h1>Signed out</h1>" in page.text
    assert "Every session of this account has ended" in page.text
    assert "quality time" not in page.text
    assert 'href="/admin/login/">Sign in again</a>' in page.text
    assert 'href="/">Back to the resume</a>' in page.text


def test_the_password_changed_address_shows_no_such_claim(alex, browser):
    """No password is changed on the web (the command does it, and ends every session), so
    /admin/password_change/done/ leads to the page that says how, never to "was changed"."""
    assert browser.get("/admin/password_change/done/")["Location"].startswith("/admin/login/")
    _sign_in(browser, alex, PASSWORD)
    response = browser.get("/admin/password_change/done/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/password_change/"
    assert "changed" not in browser.get("/admin/password_change/done/", follow=True).text.lower()


def test_the_dashboard_lists_where_the_views_came_from(alex, browser):
    phone = Visitor(ip="203.0.113.5", user_agent="Mozilla/5.0 (iPhone) Mobile/15E148")
    counter.view_count(visitor=phone, visit=Visit("linkedin.com", "acme", "DE", "phone"))
    counter.view_count(visitor=ALICE, visit=Visit("direct", "", "unknown", "desktop"))
    counter.view_count(visitor=BOB, visit=Visit("linkedin.com", "", "DE", "desktop"))
    _sign_in(browser, alex, PASSWORD)
    page = browser.get("/admin/?period=7d").text
    rows = re.findall(
        r'<tr><th scope="row">([^<]+)</th><td class="num">(\d+)</td>'
        r'<td class="num">([\d.]+)&nbsp;%',
        page,
    )
    assert rows == [
        ("linkedin.com", "2", "66.7"),
        ("direct", "1", "33.3"),
        ("acme", "1", "33.3"),
        ("no tag", "2", "66.7"),
        ("DE", "2", "66.7"),
        ("unknown", "1", "33.3"),
        ("desktop", "2", "66.7"),
        ("phone", "1", "33.3"),
    ]


def test_the_csv_download_has_the_periods_daily_figures(alex, browser):
    for visitor in (ALICE, ALICE, BOB):
        counter.view_count(visitor=visitor)
    assert browser.get("/admin/figures.csv").status_code == 302  # signed in only
    _sign_in(browser, alex, PASSWORD)
    response = browser.get("/admin/figures.csv?period=7d")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="views-7d.csv"'
    lines = response.content.decode().splitlines()
    links = list(clicks.links_get())
    assert lines[0] == "date,views,unique_visitors," + ",".join(f"clicks:{x}" for x in links)
    assert len(lines) == 1 + 7
    today = counter.days_get(days=1)[0].day
    assert lines[-1] == f"{today.isoformat()},3,2" + ",0" * len(links)
    assert all(line.endswith(",0,0" + ",0" * len(links)) for line in lines[1:-1])


def test_the_dashboard_lists_the_links_followed_and_the_pdf_downloads(alex, browser):
    for visitor in (ALICE, BOB, ALICE, BOB):
        counter.view_count(visitor=visitor)
    for visitor, link in [(ALICE, "pdf"), (BOB, "pdf-letter"), (BOB, "pdf"), (ALICE, "email")]:
        assert counter.click_count(visitor=visitor, link=link).counted
    _sign_in(browser, alex, PASSWORD)
    page = browser.get("/admin/?period=today")
    assert _figure(page, "period-downloads") == 3
    links = page.text[page.text.index('<table id="links">') :]
    rows = re.findall(
        r'<tr><th scope="row" title="([^"]+)">([^<]+)</th><td class="num">(\d+)</td>'
        r'<td class="num">([\d.]+)&nbsp;%',
        links[: links.index("</table>")],
    )
    assert rows == [
        ("pdf", "PDF, A4", "2", "50.0"),
        ("email", "E-mail", "1", "25.0"),
        ("pdf-letter", "PDF, US Letter", "1", "25.0"),
        ("phone", "Phone", "0", "0.0"),
        ("website", "Website", "0", "0.0"),
        ("profile:github", "GitHub", "0", "0.0"),
        ("profile:linkedin", "LinkedIn", "0", "0.0"),
    ]


def test_the_session_lives_in_a_signed_cookie(alex, browser):
    _sign_in(browser, alex, PASSWORD)
    cookie = browser.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert cookie.value.count(":") >= 2  # signing.dumps(): payload:timestamp:signature


def test_a_wrong_password_shows_the_usual_error(alex, browser):
    response = _sign_in(browser, alex, "not-the-password")
    assert response.status_code == 200
    assert "Please enter the correct username and password" in response.text
    assert browser.get("/admin/").status_code == 302


def test_an_inactive_account_cannot_sign_in(alex, browser):
    services.account_set_active(username=alex, active=False)
    response = _sign_in(browser, alex, PASSWORD)
    assert response.status_code == 200
    assert browser.get("/admin/").status_code == 302


def test_a_password_change_ends_existing_sessions(alex, browser):
    _sign_in(browser, alex, PASSWORD)
    assert browser.get("/admin/").status_code == 200
    services.account_set_password(username=alex, password_hash=make_password("a-new-one-9876"))
    assert browser.get("/admin/").status_code == 302


def test_deactivating_ends_existing_sessions(alex, browser):
    _sign_in(browser, alex, PASSWORD)
    services.account_set_active(username=alex, active=False)
    assert browser.get("/admin/").status_code == 302


def test_five_failures_pause_sign_in_even_with_the_right_password(alex, browser, settings):
    settings.LOGIN_MAX_FAILURES = 5
    for _ in range(5):
        assert "correct username" in _sign_in(browser, alex, "wrong-guess").text
    response = _sign_in(browser, alex, PASSWORD)
    assert response.status_code == 200
    assert "Too many failed sign-in attempts for this username" in response.text
    assert "Signing in as this username from it is paused" in response.text
    assert browser.get("/admin/").status_code == 302


def test_the_owner_signs_in_from_another_address_while_one_is_paused(alex, settings):
    settings.LOGIN_MAX_FAILURES = 5
    attacker = Client(enforce_csrf_checks=True, REMOTE_ADDR=ALICE.ip)
    for _ in range(5):
        assert "correct username" in _sign_in(attacker, alex, "wrong-guess").text
    assert "Too many failed" in _sign_in(attacker, alex, PASSWORD).text
    owner = Client(enforce_csrf_checks=True, REMOTE_ADDR=BOB.ip)
    assert _sign_in(owner, alex, PASSWORD)["Location"] == "/admin/"
    assert owner.get("/admin/").status_code == 200


def test_a_session_cookie_copied_before_logout_no_longer_opens_the_dashboard(alex, browser):
    _sign_in(browser, alex, PASSWORD)
    copied = browser.cookies["sessionid"].value
    token = browser.cookies["csrftoken"].value
    assert browser.post("/admin/logout/", {"csrfmiddlewaretoken": token}).status_code == 200

    replay = Client()
    replay.cookies["sessionid"] = copied
    response = replay.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"


def test_a_logout_that_cannot_end_the_sessions_signs_out_here_and_says_so(
    alex, browser, monkeypatch
):
    _sign_in(browser, alex, PASSWORD)
    copied = browser.cookies["sessionid"].value

    def unavailable(**kwargs):
        raise services.OwnersUnavailable()

    monkeypatch.setattr(services, "account_end_sessions", unavailable)
    response = _sign_out(browser)
    assert response.status_code == 503
    assert "You are signed out on this browser" in response.text
    assert "may still be open" in response.text
    assert browser.cookies["sessionid"].value == ""  # this browser's cookie is deleted
    assert browser.get("/admin/")["Location"] == "/admin/login/?next=/admin/"
    replay = Client()
    replay.cookies["sessionid"] = copied  # as the page says: other sessions stay open
    assert replay.get("/admin/").status_code == 200


# What a page may take past the admin's budget: its own work on a machine loaded to 8 on two
# cores. A call that waited DYNAMODB_READ_TIMEOUT (10 s, the `table` fixture) instead of the
# time left of the budget takes longer than the budget and this margin together.
LOAD_MARGIN_SECONDS = 5.0


def _signed_in_then_engine_down(browser: Client, username: str, settings, endpoint: str) -> float:
    """Sign in, then point the site at an engine that refuses or hangs, with the admin's budget
    as shipped; returns the seconds a page may then take (the budget plus margin for load)."""
    _sign_in(browser, username, PASSWORD)
    settings.DYNAMODB_ADMIN_BUDGET = 2.0
    settings.DYNAMODB_ENDPOINT_URL = endpoint
    return settings.DYNAMODB_ADMIN_BUDGET + LOAD_MARGIN_SECONDS


@pytest.mark.parametrize("engine", ["refused", "hung"])
def test_sign_out_with_the_engine_down_clears_this_browser_and_says_so(
    alex, browser, settings, silent_endpoint, engine
):
    engine_down = _signed_in_then_engine_down(
        browser, alex, settings, CLOSED_ENDPOINT if engine == "refused" else silent_endpoint
    )
    started = time.monotonic()
    response = _sign_out(browser)
    assert time.monotonic() - started < engine_down  # the budget, and margin for a loaded machine
    assert response.status_code == 503
    assert "You are signed out on this browser" in response.text
    assert browser.cookies["sessionid"].value == ""
    assert "Cache-Control" in response and "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize("engine", ["refused", "hung"])
def test_the_dashboard_with_the_engine_down_says_the_sign_in_could_not_be_checked(
    alex, browser, settings, silent_endpoint, engine
):
    engine_down = _signed_in_then_engine_down(
        browser, alex, settings, CLOSED_ENDPOINT if engine == "refused" else silent_endpoint
    )
    started = time.monotonic()
    page = browser.get("/admin/")
    assert time.monotonic() - started < engine_down
    assert page.status_code == 503
    assert "your sign-in could not be checked" in page.text
    assert "no-cache" in page["Cache-Control"]
    assert browser.cookies["sessionid"].value  # still signed in, as the page says
    # What is true meanwhile, the way back and the way out.
    words = _text(page)
    assert "the resume page is still served" in words
    assert "its visitor count is hidden and its views are not counted" in words
    assert "not affected" not in words
    assert 'href="/">Back to the resume</a>' in page.text
    assert re.search(r'<form class="sign-out" method="post" action="/admin/logout/">', page.text)
    signed_out = _sign_out(browser)  # the page's button: this browser, without the database
    assert signed_out.status_code == 503
    assert "You are signed out on this browser" in signed_out.text
    assert browser.cookies["sessionid"].value == ""


@pytest.mark.parametrize("late", [0.5, 1.0])
def test_the_owner_signs_in_while_every_answer_comes_late(
    alex, browser, settings, dynamodb_endpoint, table_scan_local, late
):
    """Each DynamoDB answer `late` seconds late, with the admin's budget as shipped: the
    sign-in's one read fits it, and nothing is counted against the owner."""
    proxy = FaultProxy(dynamodb_endpoint)
    page = browser.get("/admin/login/?next=/admin/")  # the form, before the engine slows down
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    settings.DYNAMODB_ADMIN_BUDGET = 2.0
    settings.DYNAMODB_ENDPOINT_URL = proxy.url
    proxy.fault, proxy.delay = "late", late
    try:
        started = time.monotonic()
        response = browser.post(
            "/admin/login/?next=/admin/",
            {"username": alex, "password": PASSWORD, "csrfmiddlewaretoken": token},
        )
        elapsed = time.monotonic() - started
    finally:
        proxy.stop()
    assert response.status_code == 302, response.text[:500]
    assert response["Location"] == "/admin/"
    assert elapsed < settings.DYNAMODB_ADMIN_BUDGET + LOAD_MARGIN_SECONDS
    assert not [key for key in table_scan_local() if key.startswith("login-failures#")]


def test_a_stale_session_cookie_is_just_signed_out(alex, browser):
    _sign_in(browser, alex, PASSWORD)
    copied = browser.cookies["sessionid"].value
    assert _sign_out(browser).status_code == 200
    stale = Client(enforce_csrf_checks=True)
    stale.cookies["sessionid"] = copied
    stale.get("/admin/login/")
    response = _sign_out(stale)  # a cookie from before the logout signs out no one else
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/"
    assert services.account_get(username=alex).session_version == 1


def test_an_unsafe_next_lands_on_the_dashboard(alex, browser):
    page = browser.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    for unsafe in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = browser.post(
            "/admin/login/",
            {"username": alex, "password": PASSWORD, "next": unsafe, "csrfmiddlewaretoken": token},
        )
        assert response.status_code == 302
        assert response["Location"] == "/admin/"
        token = browser.cookies["csrftoken"].value


def test_no_admin_url_answers_500(alex, browser):
    """Every URL the admin routes, signed in and not: none may query the (absent) ORM."""
    paths = [
        "/admin/",
        "/admin/login/",
        "/admin/password_change/",
        "/admin/password_change/done/",
        "/admin/figures.csv",
        "/admin/?period=nonsense",
        "/admin/jsi18n/",
        "/admin/autocomplete/",
        "/admin/r/1/1/",
        "/admin/owners/",
        "/admin/auth/",
        "/admin/nonexistent/",
    ]
    for signed_in in (False, True):
        if signed_in:
            _sign_in(browser, alex, PASSWORD)
        for path in paths:
            status = browser.get(path).status_code
            assert status < 500, (path, signed_in, status)
    assert browser.get("/admin/r/1/1/").status_code == 404


def test_the_dashboard_says_so_when_figures_are_unavailable(alex, browser, monkeypatch):
    _sign_in(browser, alex, PASSWORD)

    def unavailable(**kwargs):
        raise counter.CounterUnavailable("DynamoDB did not answer")

    monkeypatch.setattr(dashboard, "figures_get", unavailable)
    page = browser.get("/admin/")
    assert page.status_code == 200
    assert "The visitor figures are unavailable right now" in page.text


def test_a_sign_in_whose_sender_is_unknown_is_refused_503_and_counts_no_failure(
    alex, table, dynamodb_endpoint, settings
):
    """No address to pause (through the distribution, CloudFront-Viewer-Address missing): never
    the empty one, which every such sender would share; the page says why."""
    import boto3

    settings.LOGIN_MAX_FAILURES = 1
    nobody = Client(enforce_csrf_checks=True, REMOTE_ADDR="")
    for password in ("wrong-guess", "wrong-guess", PASSWORD):
        response = _sign_in(nobody, alex, password)
        assert response.status_code == 503
        assert "the site cannot tell where this request came from" in response.text
        assert "no-store" in response["Cache-Control"]
        assert "sessionid" not in response.cookies
    engine = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name="us-east-1")
    stored = [item["pk"]["S"] for item in engine.scan(TableName=table)["Items"]]
    assert not [key for key in stored if key.startswith("login-failures#")]
    assert _sign_in(Client(enforce_csrf_checks=True), alex, PASSWORD)["Location"] == "/admin/"


def test_a_username_over_150_characters_is_refused_by_the_form(alex, browser):
    response = _sign_in(browser, "a" * 10_000, PASSWORD)
    assert response.status_code == 200
    assert "at most 150 characters" in response.text
    assert "unavailable" not in response.text
    assert _sign_in(browser, alex, PASSWORD)["Location"] == "/admin/"


def test_sign_in_while_dynamodb_is_down_is_a_clear_error(alex, browser, settings):
    settings.DYNAMODB_ENDPOINT_URL = CLOSED_ENDPOINT
    response = _sign_in(browser, alex, PASSWORD)
    assert response.status_code == 200
    assert "Sign-in is unavailable right now" in response.text


def test_password_change_page_points_to_the_command(alex, browser):
    _sign_in(browser, alex, PASSWORD)
    page = browser.get("/admin/password_change/")
    assert page.status_code == 200
    assert "manage.py createadmin alex --change-password" in _text(page)


# A fresh process whose first request is a sign-in: nothing has touched DynamoDB before it.
FIRST_REQUEST_IS_A_SIGN_IN = """
import sys

import django

django.setup()
from django.test import Client

response = Client().post(
    "/admin/login/?next=/admin/",
    {"username": sys.argv[1], "password": sys.argv[2]},
    headers={"host": "localhost"},
)
print(response.status_code, response.get("Location", ""))
"""


def test_the_first_request_of_a_fresh_process_may_be_a_sign_in(ddb_table, dynamodb_endpoint):
    # The default (slow) hasher: the child process has the site's real settings.
    services.account_create(username="sam", password_hash=make_password(PASSWORD))
    child = subprocess.run(
        [sys.executable, "-c", FIRST_REQUEST_IS_A_SIGN_IN, "sam", PASSWORD],
        cwd=dynamodb_local.ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "resume_site.settings",
            "DYNAMODB_ENDPOINT_URL": dynamodb_endpoint,
            "DYNAMODB_TABLE": ddb_table,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.stdout.split() == ["302", "/admin/"], child.stderr
    assert services.account_get(username="sam").last_login is not None
