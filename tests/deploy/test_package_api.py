"""The counter API in the production shape: API Gateway events sent to the built zip's handler in
a fresh Python 3.13 process (tests/deploy/conftest.py), on DynamoDB Local. Who the client is
depends on the way the request came, so the client's rules run once straight through API
Gateway and once through the site's CloudFront distribution (the `site` fixture: the viewer's
address in CloudFront-Viewer-Address, the origin secret, an edge server as API Gateway's source
IP); HTTP API (payload v2) events only straight through API Gateway, the distribution's origin
being the REST API. The API's own request rules (methods, bodies, automated requests, origins)
are proven on the view (tests/counter/test_views.py, tests/counter/test_api.py): here one smoke
test each shows they hold in the zip, through the distribution, plus the origin rules that turn
on the package's SITE_URL and the Host the front door sends.

REST API (payload v1) events as API Gateway sends them, with `X-Forwarded-For` holding whatever
the client sent followed by the address API Gateway saw, and `requestContext.identity.sourceIp`
that address; HTTP API (payload v2) events for the v2 source IP. What was counted is read back
from the table: the total and today's views and unique visitors. No visitor here posts more
than five views but the two tests of the limits, whose checks follow the minutes the package
recorded (tests/deploy/conftest.py, minutes_of_burst).
"""

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.deploy.conftest import (
    minutes_of_burst,
    straight_through_api_gateway,
    through_the_distribution,
    visitor_attempts,
)
from tests.deploy.test_package import API_HOST, body_text

pytestmark = pytest.mark.dynamodb_local

VISITOR_LIMIT, CLIENT_LIMIT = 5, 60  # what the package ships with (a minute each)

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
BROWSER += "Chrome/131.0.0.0 Safari/537.36"


def http_api_event(
    method: str, path: str, *, source_ip: str, forwarded_for: str | None = None
) -> dict[str, Any]:
    """An HTTP API (payload v2) event on the default stage; headers arrive lower-cased."""
    chain = f"{forwarded_for}, {source_ip}" if forwarded_for else source_ip
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "host": API_HOST,
            "user-agent": BROWSER,
            "x-forwarded-for": chain,
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
            "content-length": "0",
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": API_HOST.split(".")[0],
            "domainName": API_HOST,
            "domainPrefix": API_HOST.split(".")[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": BROWSER,
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }


def answer(response: dict[str, Any]) -> dict[str, Any]:
    return json.loads(body_text(response))


@pytest.fixture
def figures(dynamodb_endpoint: str, stage_config: dict[str, Any]) -> Callable[[], tuple]:
    """Reads (total, today's views, today's unique visitors) from the package's table."""
    from django.test import override_settings

    from counter import services

    table = stage_config["environment_variables"]["DYNAMODB_TABLE"]

    def read() -> tuple[int, int, int]:
        with override_settings(
            DYNAMODB_ENDPOINT_URL=dynamodb_endpoint, DYNAMODB_TABLE=table, DYNAMODB_READ_TIMEOUT=10
        ):
            today = services.days_get(days=1)[0]
            return services.total_get(), today.views, today.uniques

    return read


@pytest.fixture
def clicks_today(dynamodb_endpoint: str, stage_config: dict[str, Any]) -> Callable[[], dict]:
    """Reads today's clicks per link from the package's table."""
    from django.test import override_settings

    from counter import services

    table = stage_config["environment_variables"]["DYNAMODB_TABLE"]

    def read() -> dict[str, int]:
        with override_settings(
            DYNAMODB_ENDPOINT_URL=dynamodb_endpoint, DYNAMODB_TABLE=table, DYNAMODB_READ_TIMEOUT=10
        ):
            return services.days_get(days=1)[0].clicks

    return read


def added(before: tuple[int, int, int], after: tuple[int, int, int]) -> tuple[int, int, int]:
    return tuple(b - a for a, b in zip(before, after, strict=True))


# --- The client is the address API Gateway saw ------------------------------------------------


def test_forged_forwarded_for_headers_make_one_visitor(site, figures) -> None:
    before = figures()
    answers = [
        site.respond(
            site.event("POST", "/api/count", source_ip="203.0.113.20", forwarded_for=forged),
        )
        for forged in ("10.9.0.1", "10.9.0.2", "10.9.0.3, 10.9.0.4", "192.0.2.99")
    ]

    assert [response["statusCode"] for response in answers] == [200] * 4
    assert all(answer(response)["counted"] for response in answers)
    assert added(before, figures()) == (4, 4, 1)


def test_five_source_addresses_are_five_visitors(site, figures) -> None:
    before = figures()
    for last in range(1, 6):
        event = site.event("POST", "/api/count", source_ip=f"198.51.100.{last}")
        assert answer(site.respond(event))["counted"]

    assert added(before, figures()) == (5, 5, 5)


@straight_through_api_gateway
def test_an_http_api_event_is_counted_by_its_source_ip(site, figures) -> None:
    before = figures()
    first = site.respond(
        http_api_event("POST", "/api/count", source_ip="2001:db8::5", forwarded_for="10.9.0.1"),
    )
    again = site.respond(
        http_api_event("POST", "/api/count", source_ip="2001:db8::5", forwarded_for="10.9.0.2"),
    )
    other = site.respond(http_api_event("POST", "/api/count", source_ip="192.0.2.5"))

    assert [r["statusCode"] for r in (first, again, other)] == [200, 200, 200]
    assert answer(again) == {"count": answer(first)["count"] + 1, "counted": True}
    assert added(before, figures()) == (3, 3, 2)


def _ipv6_post(site, version: str, address: str, user_agent: str = BROWSER) -> dict[str, Any]:
    if version == "rest":
        return site.event("POST", "/api/count", source_ip=address, user_agent=user_agent)
    event = http_api_event("POST", "/api/count", source_ip=address)
    event["headers"]["user-agent"] = user_agent
    return event


# The IPv6 rules: in REST events both ways, and in HTTP API (v2) events straight to API Gateway
# (the distribution's origin is the REST API).


def test_addresses_of_one_ipv6_64_are_one_visitor_within_one_limit(
    site, figures, buckets_read
) -> None:
    """One host usually holds a whole /64 and may send each request from another address of
    it: one visitor, one unique, one per-visitor limit (5 a minute, in each minute the 40
    requests fell in)."""
    one_visitor_within_one_limit(site, figures, buckets_read, version="rest")


@straight_through_api_gateway
def test_addresses_of_one_ipv6_64_in_http_api_events_are_one_visitor_within_one_limit(
    site, figures, buckets_read
) -> None:
    one_visitor_within_one_limit(site, figures, buckets_read, version="http")


def one_visitor_within_one_limit(site, figures, buckets_read, *, version: str) -> None:
    prefix = "2001:db8:64:1" if version == "rest" else "2001:db8:64:2"
    before, buckets = figures(), buckets_read()
    answers = [
        site.respond(_ipv6_post(site, version, f"{prefix}:{n:x}:{n:x}::{n:x}"))
        for n in range(1, 41)
    ]
    minutes = minutes_of_burst(buckets, buckets_read())

    total, views, uniques = added(before, figures())
    counted = sum(
        answer(response)["counted"] for response in answers if response["statusCode"] == 200
    )
    attempts = [visitor_attempts(minute) for minute in minutes]  # one visitor: one key each
    assert sum(attempts) == 40  # none refused: each minute's attempts are all there
    assert counted == total == views == sum(min(VISITOR_LIMIT, n) for n in attempts)
    assert uniques == 1


def test_addresses_of_one_ipv6_64_share_the_per_client_limit(site, figures, buckets_read) -> None:
    """70 browsers, each at its own address of one /64: one client, whose first 60 a minute
    count (in each minute the 70 requests fell in)."""
    one_client_limit_shared(site, figures, buckets_read, version="rest")


@straight_through_api_gateway
def test_addresses_of_one_ipv6_64_in_http_api_events_share_the_per_client_limit(
    site, figures, buckets_read
) -> None:
    one_client_limit_shared(site, figures, buckets_read, version="http")


def one_client_limit_shared(site, figures, buckets_read, *, version: str) -> None:
    prefix = "2001:db8:65:1" if version == "rest" else "2001:db8:65:2"
    before, buckets = figures(), buckets_read()
    for n in range(1, 71):
        agent = BROWSER.replace("Safari/537.36", f"Safari/537.36 Device/{n}")
        site.respond(_ipv6_post(site, version, f"{prefix}::{n:x}", agent))
    attempts = [minute["attempts"] for minute in minutes_of_burst(buckets, buckets_read())]

    total, _, uniques = added(before, figures())
    assert sum(attempts) == 70  # one client's bucket a minute, none refused
    assert total == sum(min(CLIENT_LIMIT, n) for n in attempts)
    assert uniques == total  # each browser is its own visitor


# --- What is never counted ----------------------------------------------------------------------


# The crawler list (crawlerdetect's data, shipped in the zip) and a prefetch: one smoke test of
# each; which User-Agents and headers are automated is proven on counter/api.py
# (tests/counter/test_api.py) and the view (tests/counter/test_views.py).
@pytest.mark.parametrize(
    "headers",
    [
        {"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"},
        {"Sec-Purpose": "prefetch"},
    ],
    ids=["googlebot", "prefetch"],
)
@through_the_distribution
def test_bots_and_prefetches_get_the_total_and_count_nothing(site, figures, headers) -> None:
    before = figures()
    event = site.event("POST", "/api/count", source_ip="192.0.2.30", headers=headers)
    response = site.respond(event)

    assert response["statusCode"] == 200
    assert answer(response) == {"count": before[0], "counted": False}
    assert added(before, figures()) == (0, 0, 0)


# The site's origin is SITE_URL, over HTTPS, whatever Host the front door sends; another site's
# page (any other Origin, or Sec-Fetch-Site: cross-site) is proven on the view
# (tests/counter/test_views.py).
@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://alexrivera.example.com"},  # the site's host, but not over HTTPS
        {"Origin": f"https://{API_HOST}"},  # API Gateway's address is not the site's origin
    ],
    ids=["plain-http", "api-gateway-host"],
)
def test_a_post_from_another_sites_page_is_403_and_counts_nothing(site, figures, headers) -> None:
    before = figures()
    event = site.event("POST", "/api/count", source_ip="192.0.2.31", headers=headers)
    response = site.respond(event)

    assert response["statusCode"] == 403
    assert answer(response)["error"]["code"] == "origin_not_allowed"
    assert not [name for name in response["headers"] if name.lower().startswith("access-control")]
    assert added(before, figures()) == (0, 0, 0)


def test_the_sites_own_https_origin_counts(site, figures) -> None:
    before = figures()
    headers = {"Origin": site.site_url, "Sec-Fetch-Site": "same-origin"}
    event = site.event("POST", "/api/count", source_ip="192.0.2.32", headers=headers)
    response = site.respond(event)

    assert response["statusCode"] == 200
    assert answer(response)["counted"] is True
    assert added(before, figures())[0] == 1


# The event's body and Content-Type reach the view's checks through Zappa's handler: a body far
# over the limit, and one of another type. Each body rule is proven on the view
# (tests/counter/test_views.py).
@pytest.mark.parametrize(
    ("content_type", "body", "status", "code"),
    [
        ("application/json", "x" * 200_000, 413, "body_too_large"),
        ("text/plain", "{}", 415, "unsupported_media_type"),
    ],
    ids=["200-kb", "text-plain"],
)
@through_the_distribution
def test_oversized_and_invalid_bodies_are_refused_and_count_nothing(
    site, figures, content_type, body, status, code
) -> None:
    before = figures()
    event = site.event(
        "POST",
        "/api/count",
        source_ip="192.0.2.33",
        headers={"Content-Type": content_type},
        body=body,
    )
    response = site.respond(event)

    assert response["statusCode"] == status
    assert set(answer(response)) == {"error"}
    assert answer(response)["error"]["code"] == code
    assert "no-store" in response["headers"]["Cache-Control"]
    assert added(before, figures()) == (0, 0, 0)


# --- The rest of the contract: one smoke test each, the rules proven on the view ---------------


@through_the_distribution
def test_a_preflight_is_204_without_cors_for_an_origin_not_allowed(site) -> None:
    headers = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    event = site.event("OPTIONS", "/api/count", source_ip="192.0.2.35", headers=headers)
    response = site.respond(event)

    assert response["statusCode"] == 204
    assert response["headers"]["Allow"] == "GET, POST, OPTIONS"
    assert not [name for name in response["headers"] if name.lower().startswith("access-control")]


@through_the_distribution
def test_other_methods_are_405_in_the_error_shape(site) -> None:
    response = site.respond(site.event("DELETE", "/api/count", source_ip="192.0.2.36"))

    assert response["statusCode"] == 405
    assert response["headers"]["Allow"] == "GET, POST, OPTIONS"
    assert answer(response)["error"]["code"] == "method_not_allowed"


@through_the_distribution
def test_the_openapi_document_ships_in_the_package(site) -> None:
    response = site.respond(site.event("GET", "/api/openapi.json", source_ip="192.0.2.37"))

    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "application/json"
    document = answer(response)
    assert document["openapi"].startswith("3.1.")
    assert set(document["paths"]["/api/count"]) == {"get", "post", "options"}
    assert set(document["paths"]["/api/click"]) == {"post", "options"}


# --- Clicks on the page's links -----------------------------------------------------------------


@through_the_distribution
def test_a_click_on_a_link_of_the_page_is_counted_and_an_unknown_label_refused(
    site, figures, clicks_today
) -> None:
    before, views = clicks_today(), figures()

    def click(link: str, source_ip: str) -> dict[str, Any]:
        headers = {"Content-Type": "application/json", "Origin": site.site_url}
        body = json.dumps({"link": link})
        return site.respond(
            site.event("POST", "/api/click", source_ip=source_ip, headers=headers, body=body)
        )

    counted = [click(link, "192.0.2.40") for link in ("email", "pdf", "profile:github")]
    refused = click("profile:myspace", "192.0.2.41")

    assert [r["statusCode"] for r in counted] == [200, 200, 200]
    assert [answer(r) for r in counted] == [{"counted": True}] * 3
    assert "no-store" in counted[0]["headers"]["Cache-Control"]
    assert refused["statusCode"] == 400
    assert answer(refused)["error"]["code"] == "unknown_link"
    after = clicks_today()
    assert {link: after.get(link, 0) - before.get(link, 0) for link in after} == {
        "email": 1,
        "pdf": 1,
        "profile:github": 1,
    }
    assert added(views, figures()) == (0, 0, 0)  # clicks are no views
