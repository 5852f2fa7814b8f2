"""The site behind its CloudFront distribution, through the built package (tests/deploy/
conftest.py's `site`): what is cached at the edge and what never is, the origin secret, URLs
as the viewer sees them, what the function sees of the viewer (GET /api/health), and a
distribution that does not send the viewer's address. Each test runs straight through API
Gateway and through the distribution, or, where its rule is one way's alone, that way only
(`through_the_distribution`, `straight_through_api_gateway`)."""

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest

from core.clients import VIEWER_MISSING_MARKER
from harness import lambda_host
from harness.lambda_host import API_HOST, LambdaProcess, Site, rest_event
from tests.conftest import CLOSED_ENDPOINT
from tests.deploy.conftest import (
    minutes_of_burst,
    straight_through_api_gateway,
    through_the_distribution,
    visitor_attempts,
)
from tests.deploy.test_package import body_text
from tests.deploy.test_package_signin import CSRF_SECRET

pytestmark = pytest.mark.dynamodb_local

EDGE_CACHED = {"public", "max-age=300", "s-maxage=86400"}
VISITOR_LIMIT = 5  # views a minute, as the package ships


def directives(response: dict) -> set[str]:
    return {part.strip() for part in response["headers"].get("Cache-Control", "").split(",")}


def all_header_names(response: dict) -> set[str]:
    names = set(response.get("headers", {})) | set(response.get("multiValueHeaders", {}))
    return {name.lower() for name in names}


def varies_on_cookie(response: dict) -> bool:
    """Whether Vary names Cookie, in the single-value headers or the multi-value ones."""
    values = [response.get("headers", {}).get("Vary", "")]
    values += response.get("multiValueHeaders", {}).get("Vary", [])
    return any("cookie" in value.lower() for value in values)


def get(site: Site, path: str, **options) -> dict:
    return site.respond(site.event("GET", path, source_ip="198.51.100.60", **options))


# What a browser may send: nothing, a session cookie that does not load (the session middleware
# would delete it), a malformed CSRF cookie (the CSRF middleware would send a fresh one).
REQUEST_COOKIES = [None, "sessionid=", "sessionid=stale; csrftoken=short", "csrftoken=" + "a" * 32]


@pytest.mark.parametrize("cookie", REQUEST_COOKIES)
@pytest.mark.parametrize("path", ["/", "/robots.txt", "/favicon.ico"])
def test_cached_answers_stay_a_day_at_the_edge_and_carry_no_cookie(site, path, cookie) -> None:
    """The distribution forwards no cookie on these paths, but whatever reaches the function
    (API Gateway's address without the secret, or a cache policy that changed) never makes
    it write Set-Cookie or Vary: Cookie on an answer every viewer shares."""
    response = get(site, path, headers={"Cookie": cookie})

    assert response["statusCode"] in {200, 302}
    assert directives(response) == EDGE_CACHED
    assert "set-cookie" not in all_header_names(response)
    assert not varies_on_cookie(response)


@pytest.mark.parametrize("cookie", REQUEST_COOKIES)
def test_the_404_page_is_kept_minutes_and_carries_no_cookie(site, cookie) -> None:
    """Public and short (the browser's five minutes, five at the edge: no deploy invalidates a
    404), the site's own page, and no cookie whatever the request sent."""
    response = get(site, "/no-such-page/", headers={"Cookie": cookie})

    assert response["statusCode"] == 404
    assert "<title>Page not found</title>" in body_text(response)
    assert directives(response) == {"public", "max-age=300", "s-maxage=300"}
    assert "set-cookie" not in all_header_names(response)
    assert not varies_on_cookie(response)


def test_the_page_names_only_the_sites_own_urls(site) -> None:
    """Through the distribution and straight through API Gateway alike: the canonical URL,
    og:url, the JSON-LD and the counter's URL are SITE_URL's, with no stage prefix and no API
    Gateway address (the counter's is the distribution's /api/*)."""
    page = body_text(get(site, "/"))

    assert f'<link rel="canonical" href="{site.site_url}/">' in page
    assert f'<meta property="og:url" content="{site.site_url}/">' in page
    assert f'"url":"{site.site_url}/"' in page  # the JSON-LD Person's
    assert f'data-count-url="{site.site_url}/api/count"' in page
    assert API_HOST not in page
    assert "/prod/" not in page


@pytest.mark.parametrize("path", ["/admin/", "/admin/login/", "/api/count"])
def test_the_admin_and_the_api_are_never_cached(site, path) -> None:
    response = get(site, path)

    assert "no-store" in directives(response) or "private" in directives(response)
    assert "s-maxage=86400" not in directives(response)
    assert "public" not in directives(response)


def test_the_admins_links_and_redirects_are_the_viewers(site) -> None:
    redirect = get(site, "/admin/")
    login = body_text(get(site, "/admin/login/"))

    assert redirect["statusCode"] == 302
    assert (
        redirect["headers"]["Location"] == f"{site.prefix}/admin/login/?next={site.prefix}/admin/"
    )
    assert f'action="{site.prefix}/admin/login/"' in login
    if site.via == "cloudfront":
        assert "/prod/" not in login


def test_the_session_and_csrf_cookies_are_secure_and_host_only(site) -> None:
    response = get(site, "/admin/login/")
    cookies = response["multiValueHeaders"]["Set-Cookie"]

    assert cookies
    for cookie in cookies:
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
        assert "secure" in attributes
        assert "domain" not in attributes  # host-only: the site's own host, nothing wider


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/count"), ("GET", "/api/count"), ("GET", "/admin/login/"), ("GET", "/admin/")],
)
@through_the_distribution  # only a stage with an origin secret refuses direct requests
def test_behind_the_edge_a_request_that_skipped_it_is_refused(site, method, path) -> None:
    """Straight to API Gateway without the secret, or with a wrong one, while the distribution
    is in front: 403 in the one error shape, even with a forged CloudFront-Viewer-Address."""
    forged = {"CloudFront-Viewer-Address": "10.9.0.1:1234"}
    for secret in (None, "x" * 64):
        headers = {**forged, **({"X-Origin-Verify": secret} if secret else {})}
        event = rest_event(method, path, source_ip="203.0.113.90", user_agent="Direct/1.0")
        event["headers"].update(headers)
        event["multiValueHeaders"].update({name: [value] for name, value in headers.items()})
        response = site.respond(event)

        assert response["statusCode"] == 403
        assert json.loads(response["body"])["error"]["code"] == "edge_origin_required"
        assert "no-store" in directives(response)


@pytest.mark.parametrize("path", ["/", "/?ref=acme", "/robots.txt", "/favicon.ico", "/nope"])
@pytest.mark.parametrize("proto", ["https", "http"])
@through_the_distribution  # only a stage with an origin secret sends direct requests to the site
def test_behind_the_edge_a_page_request_that_skipped_it_goes_to_the_site(site, path, proto) -> None:
    """Straight to API Gateway's address without the secret, by HTTPS or plain HTTP, while the
    distribution is in front: 301 to the same path and query on SITE_URL, never the page at
    API Gateway's address (nor Django's HTTPS redirect to it); no cookie, whatever is sent."""
    bare, _, query = path.partition("?")
    event = rest_event(
        "GET",
        bare,
        source_ip="203.0.113.92",
        user_agent=lambda_host.BROWSER_USER_AGENT,
        proto=proto,
        query=dict([query.split("=")]) if query else None,
        headers={"Cookie": "sessionid=x; csrftoken=y"},
    )
    response = site.respond(event)

    assert response["statusCode"] == 301
    assert response["headers"]["Location"] == site.site_url + path
    assert "set-cookie" not in all_header_names(response)
    assert API_HOST not in json.dumps(response)


@straight_through_api_gateway  # the distribution's own requests carry the secret
def test_without_an_origin_secret_the_cloudfront_headers_are_not_believed(
    site, buckets_read
) -> None:
    """A stage served by API Gateway alone: a client that sends CloudFront's headers itself is
    still the source IP API Gateway saw, one visitor however it names itself, within one
    visitor's limit (in each minute its seven requests fell in)."""

    def post(viewer: str) -> dict:
        headers = {"CloudFront-Viewer-Address": f"{viewer}:443", "X-Origin-Verify": "guess"}
        event = site.event(
            "POST",
            "/api/count",
            source_ip="203.0.113.91",
            user_agent=lambda_host.BROWSER_USER_AGENT,
            headers=headers,
        )
        return json.loads(site.respond(event)["body"])

    buckets = buckets_read()
    answers = [post(f"10.9.0.{last}") for last in range(1, 8)]
    minutes = minutes_of_burst(buckets, buckets_read())

    attempts = [visitor_attempts(minute) for minute in minutes]  # one visitor, one client
    assert sum(attempts) == 7
    counted = sum(answer["counted"] for answer in answers)
    assert counted == sum(min(VISITOR_LIMIT, n) for n in attempts)  # 5 in one minute


@through_the_distribution  # the function has the secret only behind the distribution
def test_the_secret_never_reaches_a_page(site) -> None:
    for path in ("/", "/admin/login/", "/robots.txt"):
        assert site.secret not in body_text(get(site, path))
    assert not re.search(site.secret, json.dumps(get(site, "/")["headers"]))


# --- What the function sees of the viewer, and a distribution that does not send it --------
SEES_ALL = {"edge": True, "viewer_address": True, "viewer_country": True}
SEES_NOTHING = {"edge": False, "viewer_address": False, "viewer_country": False}
NO_VIEWER_ADDRESS = {"edge": True, "viewer_address": False, "viewer_country": True}
UNKNOWN_SENDER = "the site cannot tell where this request came from"


def without_viewer_address(
    site: Site, method: str, path: str, *, form: dict[str, str] | None = None
) -> dict[str, Any]:
    """The event of a distribution whose origin request policy forwards everything but
    CloudFront-Viewer-Address (the secret and the country still come); a form is posted with
    its CSRF token, as tests/deploy/test_package_signin.py posts it."""
    headers: dict[str, str | None] = {"CloudFront-Viewer-Address": None}
    body = None
    if form is not None:
        headers |= {
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": site.page_origin,
            "Cookie": f"csrftoken={CSRF_SECRET}",
        }
        body = urlencode({**form, "csrfmiddlewaretoken": CSRF_SECRET})
    return site.event(method, path, source_ip="198.51.100.70", headers=headers, body=body)


def stored_items(stage_config: dict[str, Any], dynamodb_endpoint: str) -> list[dict[str, Any]]:
    """Every item of the stage's table, read straight from the engine."""
    engine = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name="us-east-1")
    table = stage_config["environment_variables"]["DYNAMODB_TABLE"]
    items = engine.scan(TableName=table, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda item: item["pk"]["S"])


# Only a request with the origin secret is believed about the viewer: the tests of a
# distribution that does not send the viewer's address run through the distribution alone.


def test_health_says_the_function_sees_the_viewer_only_through_the_distribution(site) -> None:
    response = get(site, "/api/health")

    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == (SEES_ALL if site.via == "cloudfront" else SEES_NOTHING)
    assert "no-store" in directives(response)
    assert "198.51.100.60" not in response["body"]


@through_the_distribution
def test_health_says_when_the_distribution_did_not_send_the_viewer_address(site) -> None:
    response = site.respond(without_viewer_address(site, "GET", "/api/health"))

    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == NO_VIEWER_ADDRESS


@through_the_distribution
def test_without_the_viewer_address_a_view_is_answered_but_not_counted_or_stored(
    site, stage_config, dynamodb_endpoint
) -> None:
    total = json.loads(get(site, "/api/count")["body"])["count"]
    before = stored_items(stage_config, dynamodb_endpoint)

    for _ in range(2):
        response = site.respond(without_viewer_address(site, "POST", "/api/count"))
        assert response["statusCode"] == 200
        assert json.loads(response["body"]) == {"count": total, "counted": False}
    assert stored_items(stage_config, dynamodb_endpoint) == before


@through_the_distribution
def test_without_the_viewer_address_sign_in_is_refused_503_and_no_failure_is_kept(
    site, stage_config, dynamodb_endpoint
) -> None:
    form = {"username": "owner", "password": "wrong-guess", "next": "/admin/"}

    for _ in range(2):
        response = site.respond(without_viewer_address(site, "POST", "/admin/login/", form=form))
        assert response["statusCode"] == 503
        assert UNKNOWN_SENDER in body_text(response)
        assert "sessionid" not in json.dumps(response.get("multiValueHeaders", {}))
    stored = [item["pk"]["S"] for item in stored_items(stage_config, dynamodb_endpoint)]
    assert not [key for key in stored if key.startswith("login-failures#")]


def test_the_missing_viewer_address_is_logged_at_error_once_per_process(
    task_dir: Path,
    runtime_sdk_dir: Path,
    lambda_environment,
    stage_config: dict[str, Any],
    edge_secret: str,
    tmp_path: Path,
) -> None:
    """A process of its own, whose log (its stderr, which Lambda sends to CloudWatch Logs) is
    kept: the stack's metric filter counts the marker. DynamoDB is at a closed port: neither the
    health check nor the refused sign-in may need it."""
    environment = lambda_environment(CLOSED_ENDPOINT) | {"EDGE_ORIGIN_SECRET": edge_secret}
    log = tmp_path / "function.log"
    with log.open("wb") as stderr:
        process = LambdaProcess(task=task_dir, sdk=runtime_sdk_dir, env=environment, stderr=stderr)
        try:
            site = Site(
                process=process,
                via="cloudfront",
                secret=edge_secret,
                site_url=stage_config["environment_variables"]["SITE_URL"],
                stage="prod",
            )
            seen = site.respond(site.event("GET", "/api/health", source_ip="198.51.100.71"))
            assert json.loads(seen["body"]) == SEES_ALL
            assert VIEWER_MISSING_MARKER not in log.read_text()
            form = {"username": "owner", "password": "wrong-guess", "next": "/admin/"}
            answers = [
                site.respond(without_viewer_address(site, "GET", "/api/health")),
                site.respond(without_viewer_address(site, "POST", "/admin/login/", form=form)),
                site.respond(without_viewer_address(site, "GET", "/api/health")),
            ]
        finally:
            process.close()

    assert [json.loads(answers[n]["body"]) for n in (0, 2)] == [NO_VIEWER_ADDRESS] * 2
    assert answers[1]["statusCode"] == 503
    assert UNKNOWN_SENDER in body_text(answers[1])
    lines = [line for line in log.read_text().splitlines() if VIEWER_MISSING_MARKER in line]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"ERROR core.clients {VIEWER_MISSING_MARKER} ")
