"""counter/views.py: the JSON API's answers, on the real engine.

The view maps what counter.services.view_count says to responses; tests that need a particular
outcome (over the limit, refused) give the view that outcome. No test here posts more than five
views for one visitor, so the counts hold with the per-visitor limit on or off.
"""

import io
import json

import pytest

from counter import services
from tests.counter.conftest import BROWSER, BrowserClient

BROWSER_A = BROWSER.replace("rv:133.0", "rv:133.0; Browser A")

pytestmark = pytest.mark.dynamodb_local

OWN = "http://testserver"  # the origin of Django's test client
PARTNER = "https://partner.example"


def total() -> int:
    return services.total_get()


# --- Counting -------------------------------------------------------------------------------


def test_get_returns_zero_before_any_view(client, ddb_table):
    response = client.get("/api/count")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"count": 0, "counted": False}


def test_post_counts_and_returns_the_new_total(client, ddb_table):
    assert client.post("/api/count").json() == {"count": 1, "counted": True}
    assert client.post("/api/count").json() == {"count": 2, "counted": True}
    assert client.get("/api/count").json() == {"count": 2, "counted": False}


def test_get_does_not_count(client, ddb_table):
    client.get("/api/count")
    client.get("/api/count")
    assert total() == 0


def test_post_needs_no_csrf_token(ddb_table):
    strict = BrowserClient(enforce_csrf_checks=True, HTTP_USER_AGENT=BROWSER)
    assert strict.post("/api/count").status_code == 200


def test_the_query_string_is_ignored(client, ddb_table):
    assert client.post("/api/count?count=1000000&counted=false").json() == {
        "count": 1,
        "counted": True,
    }
    assert client.get("/api/count?count=1000000").json() == {"count": 1, "counted": False}


def test_post_records_the_visitor_by_source_address(client, ddb_table):
    client.post("/api/count", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT=BROWSER_A)
    client.post("/api/count", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT=BROWSER_A)
    client.post("/api/count", REMOTE_ADDR="203.0.113.10", HTTP_USER_AGENT=BROWSER_A)
    today = services.days_get(days=1)[0]
    assert (today.views, today.uniques) == (3, 2)


def test_on_lambda_a_forged_forwarded_for_does_not_make_new_visitors(client, ddb_table):
    event = {"requestContext": {"identity": {"sourceIp": "198.51.100.4"}}}
    for forged in ("10.9.0.1", "10.9.0.2", "10.9.0.3"):
        # Zappa would have set REMOTE_ADDR from the forged header.
        client.post(
            "/api/count",
            REMOTE_ADDR=forged,
            HTTP_X_FORWARDED_FOR=f"{forged}, 198.51.100.4",
            **{"lambda.event": event},
        )
    today = services.days_get(days=1)[0]
    assert (today.views, today.uniques) == (3, 1)


def test_a_view_over_the_limit_answers_the_total_uncounted(client, ddb_table, monkeypatch):
    client.post("/api/count")
    over = services.CountOutcome(count=total(), counted=False, refused=False, retry_after=40)
    monkeypatch.setattr(services, "view_count", lambda *, visitor, visit: over)
    response = client.post("/api/count")
    assert response.status_code == 200
    assert response.json() == {"count": 1, "counted": False}
    assert "Retry-After" not in response


def test_a_refused_view_is_a_429_with_retry_after(client, monkeypatch):
    refused = services.CountOutcome(count=7, counted=False, refused=True, retry_after=42)
    monkeypatch.setattr(services, "view_count", lambda *, visitor, visit: refused)
    response = client.post("/api/count")
    assert response.status_code == 429
    assert response["Retry-After"] == "42"
    assert response.json()["error"]["code"] == "too_many_views"


def test_the_view_gives_count_view_the_requests_client(client, monkeypatch):
    seen = []

    def view_count(*, visitor, visit):
        seen.append(visitor)
        return services.CountOutcome(count=1, counted=True, refused=False, retry_after=0)

    monkeypatch.setattr(services, "view_count", view_count)
    client.post("/api/count", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT=BROWSER_A)
    assert [(v.ip, v.user_agent) for v in seen] == [("203.0.113.9", BROWSER_A)]


# --- Errors: one shape, never cached --------------------------------------------------------


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


def test_api_responses_are_never_cached(client, ddb_table):
    for response in (
        client.post("/api/count"),
        client.get("/api/count"),
        client.options("/api/count"),
        client.put("/api/count"),
        client.post("/api/count", data="[]", content_type="application/json"),
    ):
        assert "no-store" in response["Cache-Control"], response.status_code


@pytest.mark.parametrize("method", ["put", "patch", "delete", "head", "trace"])
def test_other_methods_get_405_with_allow(client, method):
    response = getattr(client, method)("/api/count")
    assert response.status_code == 405
    assert response["Allow"] == "GET, POST, OPTIONS"
    if method != "head":
        assert_error(response, 405, "method_not_allowed")


def test_engine_down_is_a_503_with_retry_after(client):
    # No table fixture: DynamoDB is at a closed port.
    for response in (client.post("/api/count"), client.get("/api/count")):
        assert_error(response, 503, "counter_unavailable")
        assert response["Retry-After"] == "5"


# --- Origins and CORS -----------------------------------------------------------------------


def test_a_post_from_another_sites_page_is_403_and_counts_nothing(client, ddb_table):
    for origin in ("https://evil.example", "null", "http://testserver.evil.example"):
        assert_error(client.post("/api/count", HTTP_ORIGIN=origin), 403, "origin_not_allowed")
    assert total() == 0
    assert services.days_get(days=1)[0].views == 0


def test_a_cross_site_post_without_origin_is_403(client, ddb_table):
    response = client.post("/api/count", HTTP_SEC_FETCH_SITE="cross-site")
    assert_error(response, 403, "origin_not_allowed")
    assert total() == 0


def test_the_sites_own_pages_and_origin_less_clients_count(client, ddb_table):
    assert client.post("/api/count", HTTP_ORIGIN=OWN, HTTP_SEC_FETCH_SITE="same-origin").json()[
        "counted"
    ]
    assert client.post("/api/count").json()["counted"]  # no Origin: curl, a server
    assert total() == 2


def test_the_own_origin_follows_the_scheme_and_host_django_sees(client, ddb_table, settings):
    settings.ALLOWED_HOSTS = ["resume.example.com"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proxied = {"HTTP_HOST": "resume.example.com", "HTTP_X_FORWARDED_PROTO": "https"}
    ok = client.post("/api/count", HTTP_ORIGIN="https://resume.example.com", **proxied)
    plain = client.post("/api/count", HTTP_ORIGIN="http://resume.example.com", **proxied)
    assert ok.status_code == 200
    assert plain.status_code == 403


def test_an_allowed_origin_counts_and_gets_cors_headers(client, ddb_table, settings):
    settings.COUNTER_ALLOWED_ORIGINS = [PARTNER]
    response = client.post("/api/count", HTTP_ORIGIN=PARTNER, HTTP_SEC_FETCH_SITE="cross-site")
    assert response.json() == {"count": 1, "counted": True}
    assert response["Access-Control-Allow-Origin"] == PARTNER
    assert response["Access-Control-Expose-Headers"] == "Retry-After"
    assert "Origin" in response["Vary"]
    assert "Access-Control-Allow-Credentials" not in response


def test_an_allowed_origins_preflight_is_answered_204(client, settings):
    settings.COUNTER_ALLOWED_ORIGINS = [PARTNER]
    response = client.options(
        "/api/count",
        HTTP_ORIGIN=PARTNER,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    assert response.status_code == 204
    assert response.content == b""
    assert response["Access-Control-Allow-Origin"] == PARTNER
    assert response["Access-Control-Allow-Methods"] == "GET, POST"
    assert response["Access-Control-Allow-Headers"] == "Content-Type"
    assert int(response["Access-Control-Max-Age"]) > 0


def test_nobody_else_gets_any_cors_header(client, ddb_table, settings):
    settings.COUNTER_ALLOWED_ORIGINS = [PARTNER]
    responses = [
        client.options("/api/count", HTTP_ORIGIN="https://evil.example"),
        client.get("/api/count", HTTP_ORIGIN="https://evil.example"),
        client.post("/api/count", HTTP_ORIGIN="https://evil.example"),
        client.post("/api/count", HTTP_ORIGIN=OWN),
        client.options("/api/count"),
        client.get("/api/count"),
    ]
    assert [r.status_code for r in responses] == [204, 200, 403, 200, 204, 200]
    for response in responses:
        assert not [name for name in response.headers if name.lower().startswith("access-control")]


def test_an_options_request_is_204_with_allow(client):
    response = client.options("/api/count")
    assert response.status_code == 204
    assert response["Allow"] == "GET, POST, OPTIONS"


# --- Bodies ---------------------------------------------------------------------------------


def post_json(client, text: str, content_type: str = "application/json", **extra):
    return client.post("/api/count", data=text, content_type=content_type, **extra)


def test_an_empty_body_or_a_small_json_object_counts(client, ddb_table):
    padding = "x" * (1024 - len('{"p": ""}'))
    assert post_json(client, "").json()["counted"]
    assert post_json(client, "{}").json()["counted"]
    assert post_json(client, '{"page": "/"}', "application/json; charset=utf-8").json()["counted"]
    assert post_json(client, json.dumps({"p": padding})).json()["counted"]  # exactly 1 KiB
    assert total() == 4


def test_the_body_says_where_the_view_came_from(client, ddb_table):
    body = {"referrer": "https://www.linkedin.com/feed/", "campaign": "Acme"}
    phone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
    )
    assert post_json(client, json.dumps(body), HTTP_USER_AGENT=phone).json()["counted"]
    assert post_json(client, "").json()["counted"]
    today = services.days_get(days=1)[0]
    assert today.views == 2
    assert today.sources == {"linkedin.com": 1, "direct": 1}
    assert today.campaigns == {"acme": 1}
    assert today.countries == {"unknown": 2}  # no CloudFront in front of the test client
    assert today.devices == {"phone": 1, "desktop": 1}


@pytest.mark.parametrize(
    "body",
    [
        {"referrer": 7, "campaign": ["a"]},
        {"referrer": "https://exa mple.com/", "campaign": "a" * 300},
        {"referrer": None, "campaign": {"utm_source": "x"}},
        {"referrer": "http://[::1", "campaign": "</script>"},
    ],
)
def test_a_strange_referrer_or_tag_counts_as_other_and_never_fails(client, ddb_table, body):
    assert post_json(client, json.dumps(body)).json() == {"count": 1, "counted": True}
    today = services.days_get(days=1)[0]
    assert set(today.sources) <= {"other", "direct"}
    assert set(today.campaigns) <= {"other"}


def test_a_body_over_1_kib_is_413_and_counts_nothing(client, ddb_table):
    just_over = json.dumps({"p": "x" * (1025 - len('{"p": ""}'))})
    assert len(just_over) == 1025
    for body in (just_over, "x" * 20_000_000):
        assert_error(post_json(client, body), 413, "body_too_large")
    assert total() == 0


def test_a_body_that_is_not_a_json_object_is_400_and_counts_nothing(client, ddb_table):
    for body in ("{not json", "[]", "1", '"text"', "null", " ", "\xff"):
        assert_error(post_json(client, body), 400, "invalid_body")
    assert total() == 0


def test_a_body_of_another_type_is_415_and_counts_nothing(client, ddb_table):
    assert_error(post_json(client, "{}", "text/plain"), 415, "unsupported_media_type")
    form = client.post("/api/count", data={"count": "1000000"})  # multipart form
    assert_error(form, 415, "unsupported_media_type")
    urlencoded = post_json(client, "count=1000000", "application/x-www-form-urlencoded")
    assert_error(urlencoded, 415, "unsupported_media_type")
    assert total() == 0


class CountingStream(io.BytesIO):
    """A request body that records how many bytes were read from it."""

    def __init__(self, size: int) -> None:
        super().__init__(b"{" + b" " * (size - 2) + b"}")
        self.taken = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.taken += len(data)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        data = super().readline(size)
        self.taken += len(data)
        return data


def post_stream(client, stream: CountingStream, content_length: str):
    """A POST whose body is `stream` and whose Content-Length header says `content_length`."""
    environ = {
        "wsgi.input": stream,
        "CONTENT_LENGTH": content_length,
        "CONTENT_TYPE": "application/json",
    }
    return client.generic("POST", "/api/count", **environ)


def test_a_large_declared_body_is_refused_without_reading_it(client, ddb_table):
    stream = CountingStream(5 * 1024 * 1024)
    response = post_stream(client, stream, str(5 * 1024 * 1024))
    assert response.status_code == 413
    assert stream.taken == 0


def test_a_body_longer_than_its_content_length_is_read_only_that_far(client, ddb_table):
    stream = CountingStream(5 * 1024 * 1024)
    response = post_stream(client, stream, "1000")  # a lie: the body is 5 MiB
    assert response.status_code == 400  # the first 1,000 bytes are no JSON object
    assert stream.taken == 1000
    assert total() == 0


# --- Automated requests ---------------------------------------------------------------------
# Which User-Agents and headers are automated is counter/api.py's rule, proven there
# (tests/counter/test_api.py: crawlers, tools, headless browsers, no User-Agent, prefetches);
# here, that the views answer one uncounted: a crawler on the list, and an empty User-Agent.

BOTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "",
]


@pytest.mark.parametrize("user_agent", BOTS)
def test_crawlers_tools_and_headless_browsers_see_the_total_but_count_nothing(
    client, ddb_table, user_agent
):
    client.post("/api/count")
    response = client.post("/api/count", HTTP_USER_AGENT=user_agent)
    assert response.status_code == 200
    assert response.json() == {"count": 1, "counted": False}
    assert total() == 1
    assert services.days_get(days=1)[0].views == 1


def test_a_prefetch_sees_the_total_but_counts_nothing(client, ddb_table):
    response = client.post("/api/count", HTTP_SEC_PURPOSE="prefetch")
    assert response.json() == {"count": 0, "counted": False}
    assert total() == 0


# --- A sender the site cannot tell ----------------------------------------------------------
EDGE_SECRET = "s" * 40
VIEWER = {"HTTP_X_ORIGIN_VERIFY": EDGE_SECRET, "HTTP_CLOUDFRONT_VIEWER_ADDRESS": "192.0.2.8:443"}


def stored_items(endpoint: str, table: str) -> list[dict]:
    """Every item of the table, read straight from the engine."""
    import boto3

    engine = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    items = engine.scan(TableName=table, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda item: item["pk"]["S"])


@pytest.mark.parametrize(
    "unknown",
    [
        {"HTTP_X_ORIGIN_VERIFY": EDGE_SECRET},  # through the distribution, no viewer address
        {"HTTP_X_ORIGIN_VERIFY": EDGE_SECRET, "HTTP_CLOUDFRONT_VIEWER_ADDRESS": "garbage"},
        {"lambda.event": {"requestContext": {"identity": {}}}},  # API Gateway, no source IP
    ],
)
def test_a_post_whose_sender_is_unknown_is_answered_uncounted_and_writes_nothing(
    client, ddb_table, dynamodb_endpoint, settings, unknown
):
    """Never the empty client: unknown senders would share one visitor and one limit."""
    settings.EDGE_ORIGIN_SECRETS = [EDGE_SECRET] if "HTTP_X_ORIGIN_VERIFY" in unknown else []
    assert client.post("/api/count", **VIEWER).json() == {"count": 1, "counted": True}
    before = stored_items(dynamodb_endpoint, ddb_table)

    for _ in range(3):
        response = client.post("/api/count", **unknown)
        assert response.status_code == 200
        assert response.json() == {"count": 1, "counted": False}
    assert stored_items(dynamodb_endpoint, ddb_table) == before


# --- The OpenAPI document -------------------------------------------------------------------


def test_the_openapi_document_is_served_from_the_repository(client):
    from counter.views import OPENAPI_DOCUMENT

    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == json.loads(OPENAPI_DOCUMENT.read_text())
    assert response.json()["openapi"].startswith("3.1.")


def test_the_openapi_document_refuses_other_methods_in_the_error_shape(client):
    response = client.post("/api/openapi.json")
    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET"


# --- Health: what the function sees of the viewer ------------------------------------------
SEES_NOTHING = {"edge": False, "viewer_address": False, "viewer_country": False}


@pytest.fixture
def dynamodb_requests() -> list[str]:
    """The DynamoDB requests the site sends from here on, by operation."""
    from core.dynamodb import TableModel

    sent: list[str] = []
    events = TableModel._get_connection().connection.client.meta.events
    events.register("before-call.dynamodb", lambda model, **_: sent.append(model.name))
    return sent


def test_health_through_the_distribution_says_it_sees_the_viewer_and_never_who(
    client, settings, dynamodb_requests
):
    settings.EDGE_ORIGIN_SECRETS = [EDGE_SECRET]
    response = client.get(
        "/api/health",
        HTTP_X_ORIGIN_VERIFY=EDGE_SECRET,
        HTTP_CLOUDFRONT_VIEWER_ADDRESS="198.51.100.10:46532",
        HTTP_CLOUDFRONT_VIEWER_COUNTRY="NL",
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"edge": True, "viewer_address": True, "viewer_country": True}
    assert b"198.51.100.10" not in response.content
    assert b"NL" not in response.content
    assert "no-store" in response["Cache-Control"]
    assert dynamodb_requests == []


def test_health_through_the_distribution_without_the_viewer_address_says_so(
    client, settings, dynamodb_requests
):
    settings.EDGE_ORIGIN_SECRETS = [EDGE_SECRET]
    response = client.get(
        "/api/health", HTTP_X_ORIGIN_VERIFY=EDGE_SECRET, HTTP_CLOUDFRONT_VIEWER_COUNTRY="NL"
    )

    assert response.status_code == 200
    assert response.json() == {"edge": True, "viewer_address": False, "viewer_country": True}
    assert dynamodb_requests == []


def test_health_without_the_distribution_sees_nothing_and_costs_nothing(
    client, settings, dynamodb_requests
):
    """Locally (no secret set), with forged CloudFront headers; HEAD as GET. It is never
    cached, sends no DynamoDB request, and counts no view (DynamoDB is at a closed port here,
    so a call would fail the answer too)."""
    settings.EDGE_ORIGIN_SECRETS = []
    forged = {
        "HTTP_CLOUDFRONT_VIEWER_ADDRESS": "10.9.0.1:1",
        "HTTP_CLOUDFRONT_VIEWER_COUNTRY": "DE",
    }
    response = client.get("/api/health", **forged)
    head = client.head("/api/health")

    assert response.status_code == head.status_code == 200
    assert response.json() == SEES_NOTHING
    assert "no-store" in response["Cache-Control"] and "no-store" in head["Cache-Control"]
    assert dynamodb_requests == []


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options", "trace"])
def test_health_answers_other_methods_405_in_the_error_shape(client, method, dynamodb_requests):
    response = getattr(client, method)("/api/health")

    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET, HEAD"
    assert "no-store" in response["Cache-Control"]
    assert dynamodb_requests == []


# --- Clicks on the page's links ------------------------------------------------------------


def post_json_to(client, path: str, text: str, content_type: str = "application/json", **extra):
    return client.post(path, data=text, content_type=content_type, **extra)


def click(client, link="email", **extra):
    """A click as static/js/clicks.js reports it: {"link": <label>} as JSON."""
    return post_json_to(client, "/api/click", json.dumps({"link": link}), **extra)


def clicks_today() -> dict[str, int]:
    return services.days_get(days=1)[0].clicks


def test_a_click_on_one_of_the_pages_links_is_counted_for_the_day(client, ddb_table):
    for link in ("email", "profile:github", "pdf", "email"):
        response = click(client, link, HTTP_ORIGIN=OWN, HTTP_SEC_FETCH_SITE="same-origin")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"counted": True}
        assert "no-store" in response["Cache-Control"]
    assert clicks_today() == {"email": 2, "profile:github": 1, "pdf": 1}
    assert total() == 0  # a click is no view


@pytest.mark.parametrize(
    "body",
    [
        {"link": "profile:myspace"},
        {"link": "EMAIL"},
        {"link": ["email"]},
        {"link": None},
        {"page": "/"},
        {},
    ],
)
def test_a_click_naming_no_link_of_the_page_is_400_and_stores_nothing(
    client, ddb_table, dynamodb_endpoint, body
):
    response = post_json_to(client, "/api/click", json.dumps(body))
    assert_error(response, 400, "unknown_link")
    assert stored_items(dynamodb_endpoint, ddb_table) == []


def test_a_click_body_follows_the_apis_body_rules(client, ddb_table, dynamodb_endpoint):
    assert_error(post_json_to(client, "/api/click", ""), 400, "unknown_link")  # empty: no link
    assert_error(post_json_to(client, "/api/click", "[]"), 400, "invalid_body")
    assert_error(
        post_json_to(client, "/api/click", "{", "text/plain"), 415, "unsupported_media_type"
    )
    padded = json.dumps({"link": "email", "p": "x" * 1024})
    assert_error(post_json_to(client, "/api/click", padded), 413, "body_too_large")
    assert stored_items(dynamodb_endpoint, ddb_table) == []


def test_a_click_from_another_sites_page_is_403_and_stores_nothing(
    client, ddb_table, dynamodb_endpoint
):
    assert_error(click(client, HTTP_ORIGIN="https://evil.example"), 403, "origin_not_allowed")
    assert_error(click(client, HTTP_SEC_FETCH_SITE="cross-site"), 403, "origin_not_allowed")
    assert stored_items(dynamodb_endpoint, ddb_table) == []


def test_an_allowed_origin_may_report_clicks_with_cors(client, ddb_table, settings):
    settings.COUNTER_ALLOWED_ORIGINS = [PARTNER]
    response = click(client, HTTP_ORIGIN=PARTNER, HTTP_SEC_FETCH_SITE="cross-site")
    assert response.json() == {"counted": True}
    assert response["Access-Control-Allow-Origin"] == PARTNER
    preflight = client.options(
        "/api/click", HTTP_ORIGIN=PARTNER, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert preflight.status_code == 204
    assert preflight["Allow"] == "POST, OPTIONS"
    assert preflight["Access-Control-Allow-Methods"] == "POST"


@pytest.mark.parametrize("method", ["get", "put", "delete", "head"])
def test_a_click_is_only_ever_posted(client, method):
    response = getattr(client, method)("/api/click")
    assert response.status_code == 405
    assert response["Allow"] == "POST, OPTIONS"
    if method != "head":
        assert_error(response, 405, "method_not_allowed")


@pytest.mark.parametrize("user_agent", BOTS)
def test_crawlers_and_tools_clicks_are_answered_but_not_counted(
    client, ddb_table, dynamodb_endpoint, user_agent
):
    assert click(client, HTTP_USER_AGENT=user_agent).json() == {"counted": False}
    assert click(client, HTTP_SEC_PURPOSE="prefetch").json() == {"counted": False}
    assert stored_items(dynamodb_endpoint, ddb_table) == []


@pytest.mark.parametrize(
    "unknown",
    [
        {"HTTP_X_ORIGIN_VERIFY": EDGE_SECRET},  # through the distribution, no viewer address
        {"lambda.event": {"requestContext": {"identity": {}}}},  # API Gateway, no source IP
    ],
)
def test_a_click_whose_sender_is_unknown_is_answered_uncounted_and_writes_nothing(
    client, ddb_table, dynamodb_endpoint, settings, unknown
):
    settings.EDGE_ORIGIN_SECRETS = [EDGE_SECRET] if "HTTP_X_ORIGIN_VERIFY" in unknown else []
    assert click(client, **unknown).json() == {"counted": False}
    assert stored_items(dynamodb_endpoint, ddb_table) == []


def test_a_click_far_over_the_limits_is_a_429_with_retry_after(client, monkeypatch):
    refused = services.ClickOutcome(counted=False, refused=True, retry_after=17)
    monkeypatch.setattr(services, "click_count", lambda *, visitor, link: refused)
    response = click(client)
    assert_error(response, 429, "too_many_clicks")
    assert response["Retry-After"] == "17"


def test_a_click_with_the_engine_down_is_a_503_with_retry_after(client):
    response = click(client)  # no table fixture: DynamoDB is at a closed port
    assert_error(response, 503, "counter_unavailable")
    assert response["Retry-After"] == "5"
