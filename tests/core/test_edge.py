"""core/edge.py: requests through the site's CloudFront distribution, and the rest."""

import json

import pytest
from django.test import RequestFactory

from core.edge import edge_request_verified

SECRET = "e" * 40
API_HOST = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"


@pytest.fixture
def behind_the_edge(settings):
    """Production's shape: SITE_URL, API Gateway's host allowed, the origin secret set."""
    settings.SITE_URL = "https://resume.example.com"
    settings.SITE_HOST = "resume.example.com"
    settings.ALLOWED_HOSTS = ["resume.example.com", ".execute-api.us-east-1.amazonaws.com"]
    settings.EDGE_ORIGIN_SECRETS = [SECRET]
    return settings


def through_api_gateway(client, method, path, *, secret=None, **extra):
    """A request as Zappa hands it to Django from API Gateway: API Gateway's host and the stage
    as the script name."""
    if secret is not None:
        extra["HTTP_X_ORIGIN_VERIFY"] = secret
    return getattr(client, method)(
        path, secure=True, HTTP_HOST=API_HOST, SCRIPT_NAME="/prod", **extra
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/count"),
        ("post", "/api/count"),
        ("get", "/api/health"),
        ("get", "/admin/"),
        ("get", "/admin/login/"),
    ],
)
@pytest.mark.parametrize("secret", [None, "", "x" * 40])
def test_api_and_admin_refuse_requests_that_skipped_the_distribution(
    client, behind_the_edge, method, path, secret
):
    response = through_api_gateway(client, method, path, secret=secret)

    assert response.status_code == 403
    assert json.loads(response.content)["error"]["code"] == "edge_origin_required"
    assert "no-store" in response["Cache-Control"]
    assert "Set-Cookie" not in response


@pytest.mark.parametrize("path", ["/", "/?ref=acme", "/robots.txt", "/favicon.ico", "/no-such/"])
@pytest.mark.parametrize("secret", [None, "x" * 40])
def test_a_page_request_that_skipped_the_distribution_goes_to_the_site(
    client, behind_the_edge, path, secret
):
    """Straight to API Gateway's address without the secret (or with a wrong one): 301 to the
    same path and query on SITE_URL, never an answer at API Gateway's address; no cookie."""
    response = through_api_gateway(client, "get", path, secret=secret)

    assert response.status_code == 301
    assert response["Location"] == "https://resume.example.com" + path
    assert "Set-Cookie" not in response
    assert {part.strip() for part in response["Cache-Control"].split(",")} == {
        "public",
        "max-age=300",
    }


@pytest.mark.parametrize("method", ["head", "post"])
def test_every_method_of_a_page_request_goes_to_the_site(client, behind_the_edge, method):
    response = through_api_gateway(client, method, "/")

    assert response.status_code == 301
    assert response["Location"] == "https://resume.example.com/"


def test_a_plain_http_page_request_goes_to_the_site_not_to_api_gateway(client, behind_the_edge):
    """Django's HTTPS redirect would send it to API Gateway's own address and stage."""
    behind_the_edge.SECURE_SSL_REDIRECT = True
    behind_the_edge.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = client.get(
        "/", HTTP_HOST=API_HOST, SCRIPT_NAME="/prod", HTTP_X_FORWARDED_PROTO="http"
    )

    assert response.status_code == 301
    assert response["Location"] == "https://resume.example.com/"


@pytest.mark.parametrize("path", ["/api/openapi.json", "/api/health", "/admin/login/"])
def test_with_the_secret_they_answer(client, behind_the_edge, path):
    assert through_api_gateway(client, "get", path, secret=SECRET).status_code == 200


def test_without_a_secret_set_nothing_is_refused(client, settings):
    settings.EDGE_ORIGIN_SECRETS = []

    assert client.get("/admin/login/").status_code == 200
    assert client.get("/api/count").status_code != 403


def test_during_a_rotation_both_values_pass_and_others_do_not(client, behind_the_edge):
    behind_the_edge.EDGE_ORIGIN_SECRETS = ["n" * 40, "o" * 40]

    for secret, status in (("n" * 40, 200), ("o" * 40, 200), (SECRET, 403)):
        assert through_api_gateway(client, "get", "/admin/login/", secret=secret).status_code == (
            status
        )


def test_a_verified_request_is_answered_as_the_sites_host_without_the_stage(
    client, behind_the_edge
):
    """The admin's redirect to its sign-in and the sign-in form's action name the viewer's
    paths: no /prod, the host SITE_URL's."""
    redirect = through_api_gateway(client, "get", "/admin/", secret=SECRET)
    assert redirect.status_code == 302
    assert redirect["Location"] == "/admin/login/?next=/admin/"

    login = through_api_gateway(client, "get", "/admin/login/", secret=SECRET)
    assert b'action="/admin/login/"' in login.content
    assert b"/prod/" not in login.content
    assert login.wsgi_request.get_host() == "resume.example.com"
    assert login.wsgi_request.build_absolute_uri() == "https://resume.example.com/admin/login/"


def test_without_a_secret_set_a_page_request_is_served_at_api_gateways_stage(
    client, behind_the_edge
):
    """A stage that API Gateway alone serves: the page answers there, as before."""
    behind_the_edge.EDGE_ORIGIN_SECRETS = []
    response = through_api_gateway(client, "get", "/robots.txt")

    assert response.status_code == 200
    assert response.wsgi_request.path == "/prod/robots.txt"
    assert response.wsgi_request.get_host() == API_HOST


def test_with_a_secret_set_but_no_site_url_a_page_request_is_served(client, settings):
    """Nowhere to send it (locally, trying the secret out): it is answered where it came."""
    settings.SITE_URL = ""
    settings.EDGE_ORIGIN_SECRETS = [SECRET]

    assert client.get("/robots.txt").status_code == 200


def test_the_check_is_constant_time_per_value_and_cached_on_the_request(settings, monkeypatch):
    settings.EDGE_ORIGIN_SECRETS = ["n" * 40, "o" * 40]
    compared = []
    import hmac

    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: compared.append(b) or real(a, b))
    request = RequestFactory().get("/", HTTP_X_ORIGIN_VERIFY="n" * 40)

    assert edge_request_verified(request=request) is True
    assert edge_request_verified(request=request) is True
    assert compared == [b"n" * 40, b"o" * 40]  # every value compared, once per request
