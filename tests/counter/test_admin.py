"""counter/admin.py: the owner's whole admin flow with Django's test client on DynamoDB Local.

DATABASES is {}, so Django's dummy backend raises on any ORM query: every request below would
fail if the login, the dashboard, the session or the logout touched the ORM (rule 2).
"""

import re

import pytest
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from counter import dashboard, services
from counter.models import Owner

pytestmark = pytest.mark.dynamodb_local

PASSWORD = "plum-orchard-lantern-42"
ALICE = services.Visitor(ip="203.0.113.7", user_agent="Mozilla/5.0 (Alice)")
BOB = services.Visitor(ip="198.51.100.4", user_agent="Mozilla/5.0 (Bob)")


@pytest.fixture
def owner(ddb_table, fast_passwords) -> str:
    services.account_create(username="alex", password_hash=make_password(PASSWORD))
    return "alex"


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


def _figure(page, element_id: str) -> int:
    return int(re.search(rf'id="{element_id}">(\d+)<', page.text).group(1))


def test_the_orm_is_unusable_so_these_tests_would_catch_a_query():
    with pytest.raises(ImproperlyConfigured):
        Owner.objects.count()


def test_anonymous_visitors_are_sent_to_the_login_page_and_see_no_figures(ddb_table, browser):
    services.count_increment(visitor=ALICE)
    response = browser.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"
    login = browser.get(response["Location"])
    assert 'id="total-views"' not in login.text
    assert 'name="csrfmiddlewaretoken"' in login.text


def test_the_login_form_needs_its_csrf_token(owner, browser):
    browser.get("/admin/login/")
    response = browser.post("/admin/login/", {"username": owner, "password": PASSWORD})
    assert response.status_code == 403


def test_sign_in_dashboard_sign_out(owner, browser):
    for visitor in (ALICE, ALICE, BOB):
        services.count_increment(visitor=visitor)
    response = _sign_in(browser, owner, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    page = browser.get("/admin/")
    assert page.status_code == 200
    assert _figure(page, "total-views") == services.count_get() == 3
    assert _figure(page, "views-today") == 3
    assert _figure(page, "uniques-today") == 2
    assert page.text.count('<rect class="views"') == 30
    assert "Recent actions" not in page.text
    assert services.account_get(username=owner).last_login is not None

    token = browser.cookies["csrftoken"].value
    response = browser.post("/admin/logout/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert browser.get("/admin/").status_code == 302


def test_the_session_lives_in_a_signed_cookie(owner, browser):
    _sign_in(browser, owner, PASSWORD)
    cookie = browser.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert cookie.value.count(":") >= 2  # signing.dumps(): payload:timestamp:signature


def test_a_wrong_password_shows_the_usual_error(owner, browser):
    response = _sign_in(browser, owner, "not-the-password")
    assert response.status_code == 200
    assert "Please enter the correct username and password" in response.text
    assert browser.get("/admin/").status_code == 302


def test_an_inactive_account_cannot_sign_in(owner, browser):
    services.account_set_active(username=owner, active=False)
    response = _sign_in(browser, owner, PASSWORD)
    assert response.status_code == 200
    assert browser.get("/admin/").status_code == 302


def test_a_password_change_ends_existing_sessions(owner, browser):
    _sign_in(browser, owner, PASSWORD)
    assert browser.get("/admin/").status_code == 200
    services.account_set_password(username=owner, password_hash=make_password("a-new-one-9876"))
    assert browser.get("/admin/").status_code == 302


def test_deactivating_ends_existing_sessions(owner, browser):
    _sign_in(browser, owner, PASSWORD)
    services.account_set_active(username=owner, active=False)
    assert browser.get("/admin/").status_code == 302


def test_five_failures_pause_sign_in_even_with_the_right_password(owner, browser, settings):
    settings.LOGIN_MAX_FAILURES = 5
    for _ in range(5):
        assert "correct username" in _sign_in(browser, owner, "wrong-guess").text
    response = _sign_in(browser, owner, PASSWORD)
    assert response.status_code == 200
    assert "Too many failed sign-in attempts" in response.text
    assert browser.get("/admin/").status_code == 302


def test_the_dashboard_says_so_when_figures_are_unavailable(owner, browser, monkeypatch):
    _sign_in(browser, owner, PASSWORD)

    def unavailable(**kwargs):
        raise services.CounterUnavailable("DynamoDB did not answer")

    monkeypatch.setattr(dashboard, "figures_get", unavailable)
    page = browser.get("/admin/")
    assert page.status_code == 200
    assert "The visitor figures are unavailable right now" in page.text


def test_sign_in_while_dynamodb_is_down_is_a_clear_error(owner, browser, settings):
    settings.DYNAMODB_ENDPOINT_URL = "http://127.0.0.1:9"
    response = _sign_in(browser, owner, PASSWORD)
    assert response.status_code == 200
    assert "Sign-in is unavailable right now" in response.text


def test_password_change_page_points_to_the_command(owner, browser):
    _sign_in(browser, owner, PASSWORD)
    page = browser.get("/admin/password_change/")
    assert page.status_code == 200
    assert "manage.py createadmin alex --change-password" in page.text
