"""The owner's sign-in through the built package: API Gateway REST (v1) proxy events sent to
Zappa's handler from the unzipped zip in a fresh process (tests/deploy/conftest.py), on
DynamoDB Local; every rule once straight through API Gateway and once through the site's
CloudFront distribution (the `site` fixture), where the client is the viewer's address that
CloudFront sends and the function answers as the site's own host, without the stage prefix.

Each event's client IP is in `requestContext.identity.sourceIp`, where API Gateway puts the
address it saw; `X-Forwarded-For` carries the same address, as API Gateway sends it for a client
that set none. The tests therefore hold whichever of the two the site reads.

The CSRF cookie and token are made here, as a browser holding a token from an earlier visit
would send them (Django accepts any secret of the right form when the cookie and the form field
agree), so the first event of the process can be the sign-in POST itself.
"""

import http.cookies
import secrets
import string
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from django.test import override_settings

from harness.lambda_host import Site
from tests.deploy.test_package import USER_AGENT, body_text
from tests.owners.conftest import PASSWORD

pytestmark = pytest.mark.dynamodb_local

OWNER = "owner"
CSRF_SECRET = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
WRONG = "Please enter the correct username and password"
PAUSED = "Too many failed sign-in attempts"


def event(
    site: Site,
    method: str,
    path: str,
    *,
    ip: str,
    user_agent: str = USER_AGENT,
    cookies: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A REST (v1) event from a client at `ip`; a form is posted with its CSRF token."""
    headers = {"User-Agent": user_agent}
    jar = dict(cookies or {})
    body = None
    if form is not None:
        jar["csrftoken"] = CSRF_SECRET
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Origin"] = site.page_origin
        body = urlencode({**form, "csrfmiddlewaretoken": CSRF_SECRET})
    if jar:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in jar.items())
    return site.event(method, path, source_ip=ip, user_agent=user_agent, headers=headers, body=body)


def cookies_set(response: dict[str, Any]) -> dict[str, str]:
    jar: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
    for header in response.get("multiValueHeaders", {}).get("Set-Cookie", []):
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


def sign_in(site: Site, *, ip: str, password: str, user_agent: str = USER_AGENT):
    # `next` as the rendered login page's hidden field holds it (through API Gateway the stage
    # is the script name; through the distribution there is none).
    form = {"username": OWNER, "password": password, "next": f"{site.prefix}/admin/"}
    return site.respond(
        event(site, "POST", "/admin/login/", ip=ip, user_agent=user_agent, form=form)
    )


def dashboard(site: Site, *, ip: str, session: str) -> dict[str, Any]:
    return site.respond(event(site, "GET", "/admin/", ip=ip, cookies={"sessionid": session}))


@pytest.fixture(scope="module")
def stage_table(stage_config: dict[str, Any], dynamodb_endpoint: str) -> Iterator[str]:
    """The settings pointed at the stage's table in DynamoDB Local, for set-up and checks."""
    table = stage_config["environment_variables"]["DYNAMODB_TABLE"]
    patient = {"DYNAMODB_CONNECT_TIMEOUT": 10.0, "DYNAMODB_READ_TIMEOUT": 30.0}
    with override_settings(
        DYNAMODB_ENDPOINT_URL=dynamodb_endpoint, DYNAMODB_TABLE=table, **patient
    ):
        yield table


@pytest.fixture(scope="module")
def first_sign_in(
    site: Site, stage_table: str, owner_password_hash: str
) -> tuple[Site, dict[str, Any]]:
    """The owner's account, then the fresh process's very first event: the sign-in POST.

    Every test of this module uses the process through this fixture, so no other event can
    come first, whatever order the tests run in."""
    from owners import services

    services.account_create(username=OWNER, password_hash=owner_password_hash)
    return site, sign_in(site, ip="198.51.100.1", password=PASSWORD)


@pytest.fixture(scope="module")
def signed(first_sign_in) -> Site:
    return first_sign_in[0]


def test_the_first_event_of_a_fresh_process_may_be_a_sign_in(first_sign_in) -> None:
    site, response = first_sign_in

    assert response["statusCode"] == 302, body_text(response)[:2000]
    assert response["headers"]["Location"] == f"{site.prefix}/admin/"
    session = cookies_set(response)["sessionid"]
    page = dashboard(site, ip="198.51.100.1", session=session)
    assert page["statusCode"] == 200
    assert 'id="total-views"' in body_text(page)


def test_a_session_cookie_replayed_after_logout_is_sent_to_sign_in(signed) -> None:
    site = signed
    ip = "198.51.100.2"
    session = cookies_set(sign_in(site, ip=ip, password=PASSWORD))["sessionid"]
    assert dashboard(site, ip=ip, session=session)["statusCode"] == 200

    logout = event(site, "POST", "/admin/logout/", ip=ip, cookies={"sessionid": session}, form={})
    assert site.respond(logout)["statusCode"] == 200

    replayed = dashboard(site, ip="192.0.2.50", session=session)  # the copy, used elsewhere
    assert replayed["statusCode"] == 302
    assert "/admin/login/?next=" in replayed["headers"]["Location"]


def test_five_failures_pause_client_a_whatever_its_user_agent_and_leave_client_b_free(
    signed,
) -> None:
    """Five wrong passwords from client A: A is paused, the right password included, and a new
    User-Agent does not reopen it (the client is its address); client B signs in."""
    site = signed
    client_a, client_b = "203.0.113.30", "198.51.100.31"
    for _ in range(5):
        assert WRONG in body_text(sign_in(site, ip=client_a, password="wrong-guess"))
    assert PAUSED in body_text(sign_in(site, ip=client_a, password=PASSWORD))

    response = sign_in(site, ip=client_a, password=PASSWORD, user_agent="Mozilla/5.0 (Other)")
    assert response["statusCode"] == 200
    assert PAUSED in body_text(response)
    assert "try again in 15 minutes" in body_text(response)
    assert "sessionid" not in cookies_set(response)

    response = sign_in(site, ip=client_b, password=PASSWORD)
    assert response["statusCode"] == 302
    session = cookies_set(response)["sessionid"]
    assert dashboard(site, ip=client_b, session=session)["statusCode"] == 200


def test_failures_from_addresses_of_one_ipv6_64_pause_the_whole_64(signed) -> None:
    """One host usually holds a whole /64: six addresses of it are one client, so five wrong
    passwords from five of them pause the sixth, the right password included."""
    site = signed
    for n in range(1, 6):
        ip = f"2001:db8:77:1::{n:x}"
        assert WRONG in body_text(sign_in(site, ip=ip, password="wrong-guess"))
    paused = sign_in(site, ip="2001:db8:77:1:ffff::6", password=PASSWORD)
    assert PAUSED in body_text(paused)
    assert "sessionid" not in cookies_set(paused)
    neighbour = sign_in(site, ip="2001:db8:77:2::1", password=PASSWORD)  # another /64
    assert neighbour["statusCode"] == 302


def test_the_table_holds_no_typed_username_or_client_ip(
    signed, stage_table: str, dynamodb_endpoint: str
) -> None:
    site = signed
    guessed = "Mallory.Guessed-Name"
    site.respond(
        event(
            site,
            "POST",
            "/admin/login/",
            ip="2001:db8::77",
            form={"username": guessed, "password": "wrong-guess"},
        ),
    )
    engine = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name="us-east-1")
    items = engine.scan(TableName=stage_table)["Items"]
    stored = repr(items).lower()

    assert any(item["pk"]["S"].startswith("login-failures#") for item in items)
    assert guessed.lower() not in stored
    for ip in ("198.51.100.", "203.0.113.", "192.0.2.", "2001:db8"):
        assert ip not in stored
