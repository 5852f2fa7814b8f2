"""The site behind its CloudFront distribution, through the built package (tests/deploy/
conftest.py's `site`): what is cached at the edge and what never is, the origin secret, and
URLs as the viewer sees them. Each test runs straight through API Gateway and through the
distribution."""

import json
import re

import pytest

from bench import lambda_host
from bench.lambda_host import API_HOST, Site, rest_event
from tests.deploy.test_package import body_text

pytestmark = pytest.mark.dynamodb_local

EDGE_CACHED = {"public", "max-age=300", "s-maxage=86400"}


def directives(response: dict) -> set[str]:
    return {part.strip() for part in response["headers"].get("Cache-Control", "").split(",")}


def all_header_names(response: dict) -> set[str]:
    names = set(response.get("headers", {})) | set(response.get("multiValueHeaders", {}))
    return {name.lower() for name in names}


def get(site: Site, path: str, **options) -> dict:
    return site.respond(site.event("GET", path, source_ip="198.51.100.60", **options))


@pytest.mark.parametrize("path", ["/", "/robots.txt", "/favicon.ico"])
def test_cached_answers_stay_a_day_at_the_edge_and_carry_no_cookie(site, path) -> None:
    response = get(site, path)

    assert response["statusCode"] in {200, 302}
    assert directives(response) == EDGE_CACHED
    assert "set-cookie" not in all_header_names(response)
    assert "cookie" not in response["headers"].get("Vary", "").lower()


def test_the_page_names_the_sites_own_urls(site) -> None:
    """Through the distribution: the canonical URL and the counter's URL are the viewer's, with
    no stage prefix (the counter's is the distribution's /api/*). Straight through API Gateway
    the counter's URL keeps the stage, where API Gateway serves it."""
    page = body_text(get(site, "/"))

    assert f'data-count-url="{site.prefix}/api/count"' in page
    assert API_HOST not in page
    if site.via == "cloudfront":
        assert f'<link rel="canonical" href="{site.site_url}/">' in page
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
def test_behind_the_edge_a_request_that_skipped_it_is_refused(site, method, path) -> None:
    """Straight to API Gateway without the secret, or with a wrong one, while the distribution
    is in front: 403 in the one error shape, even with a forged CloudFront-Viewer-Address."""
    if site.via != "cloudfront":
        pytest.skip("only a stage with an origin secret refuses direct requests")
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


def test_without_an_origin_secret_the_cloudfront_headers_are_not_believed(site) -> None:
    """A stage served by API Gateway alone: a client that sends CloudFront's headers itself is
    still the source IP API Gateway saw, one visitor however it names itself."""
    if site.via != "api-gateway":
        pytest.skip("the distribution's own requests carry the secret")

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

    answers = [post(f"10.9.0.{last}") for last in range(1, 8)]

    assert sum(answer["counted"] for answer in answers) == 5  # one visitor's limit a minute


def test_the_secret_never_reaches_a_page(site) -> None:
    for path in ("/", "/admin/login/", "/robots.txt"):
        assert site.secret not in body_text(get(site, path))
    assert not re.search(site.secret, json.dumps(get(site, "/")["headers"]))
