"""core/clients.py: who sent a request."""

import logging
import threading

import pytest
from django.test import RequestFactory

from core import clients
from core.clients import (
    USER_AGENT_LIMIT,
    VIEWER_MISSING_MARKER,
    Client,
    ViewerSeen,
    client_of,
    viewer_seen,
)


def rest_event(source_ip: object) -> dict:
    """The parts of an API Gateway REST (payload v1) event the function reads."""
    return {"httpMethod": "POST", "requestContext": {"identity": {"sourceIp": source_ip}}}


def http_api_event(source_ip: object) -> dict:
    """The parts of an API Gateway HTTP API (payload v2) event the function reads."""
    return {"version": "2.0", "requestContext": {"http": {"method": "POST", "sourceIp": source_ip}}}


def lambda_request(event: dict, **meta: str):
    """A request as Zappa builds it: REMOTE_ADDR from X-Forwarded-For, the event in META."""
    return RequestFactory().post("/api/count", **{"lambda.event": event, **meta})


def test_locally_the_client_is_the_socket_address_and_the_user_agent():
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Browser A")
    assert client_of(request) == Client(ip="203.0.113.9", user_agent="Browser A")


def test_locally_a_forwarded_for_header_is_ignored():
    request = RequestFactory().get(
        "/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="10.9.0.1", HTTP_X_REAL_IP="10.9.0.2"
    )
    assert client_of(request).ip == "203.0.113.9"


def test_on_a_rest_api_the_ip_is_the_source_ip_api_gateway_saw():
    request = lambda_request(
        rest_event("198.51.100.4"),
        REMOTE_ADDR="10.9.0.1",  # what Zappa made of a forged X-Forwarded-For
        HTTP_X_FORWARDED_FOR="10.9.0.1, 198.51.100.4",
        HTTP_USER_AGENT="Browser B",
    )
    assert client_of(request) == Client(ip="198.51.100.4", user_agent="Browser B")


def test_on_an_http_api_the_ip_is_the_source_ip_api_gateway_saw():
    request = lambda_request(
        http_api_event("2001:db8::7"), REMOTE_ADDR="10.9.0.1", HTTP_X_FORWARDED_FOR="10.9.0.1"
    )
    assert client_of(request).ip == "2001:db8::7"


def test_an_ipv6_address_has_one_spelling():
    request = lambda_request(rest_event("2001:0DB8:0000:0000:0000:0000:0000:0007"))
    assert client_of(request).ip == "2001:db8::7"


def test_an_event_without_a_source_ip_is_no_client_not_remote_addr():
    for event in (rest_event(None), rest_event("not an address"), {"requestContext": {}}, {}):
        request = lambda_request(event, REMOTE_ADDR="10.9.0.1")
        assert client_of(request).ip == "", event


def test_a_long_user_agent_is_cut_and_a_missing_one_is_empty():
    long = RequestFactory().get("/", HTTP_USER_AGENT="x" * 5000)
    assert client_of(long).user_agent == "x" * USER_AGENT_LIMIT
    request = RequestFactory().get("/")
    del request.META["REMOTE_ADDR"]
    assert client_of(request) == Client(ip="", user_agent="")


def test_an_ipv4_client_is_keyed_by_its_address():
    assert Client(ip="198.51.100.4", user_agent="").network == "198.51.100.4"


def test_an_ipv6_client_is_keyed_by_its_64():
    first = Client(ip="2001:db8:1:2::7", user_agent="")
    other = Client(ip="2001:db8:1:2:ffff:1:2:3", user_agent="")
    neighbour = Client(ip="2001:db8:1:3::7", user_agent="")
    assert first.network == other.network == "2001:db8:1:2::/64"
    assert neighbour.network != first.network


def test_an_ipv4_mapped_ipv6_client_is_its_ipv4_address():
    assert Client(ip="::ffff:198.51.100.4", user_agent="").network == "198.51.100.4"


def test_no_client_has_no_network():
    assert Client(ip="", user_agent="").network == ""


def test_a_client_without_an_ip_is_unknown_and_one_with_an_ip_is_known():
    assert not Client(ip="", user_agent="Mozilla/5.0 (Alice)", country="DE").known
    assert Client(ip="198.51.100.4", user_agent="").known
    assert Client(ip="2001:db8::1", user_agent="").known


def test_an_event_without_a_source_ip_is_an_unknown_client():
    assert not client_of(lambda_request({}, REMOTE_ADDR="10.9.0.1")).known


# --- Behind the site's CloudFront distribution ---------------------------------------------
EDGE_SECRET = "s" * 40


def edge_request(*, secret: str | None = EDGE_SECRET, **meta: str):
    """A REST event as CloudFront forwards it: API Gateway saw an edge server's address."""
    if secret is not None:
        meta["HTTP_X_ORIGIN_VERIFY"] = secret
    return lambda_request(rest_event("130.176.1.1"), **meta)


@pytest.mark.parametrize(
    ("viewer_address", "ip"),
    [
        ("198.51.100.10:46532", "198.51.100.10"),
        ("2001:db8:0:0:0:0:0:1:46532", "2001:db8::1"),
        ("2001:db8::1:443", "2001:db8::1"),
        ("[2001:db8::7]:443", "2001:db8::7"),
    ],
)
def test_through_the_distribution_the_ip_is_cloudfronts_viewer_address(
    settings, viewer_address, ip
):
    settings.EDGE_ORIGIN_SECRETS = [EDGE_SECRET]
    request = edge_request(
        HTTP_CLOUDFRONT_VIEWER_ADDRESS=viewer_address,
        HTTP_CLOUDFRONT_VIEWER_COUNTRY="DE",
        HTTP_X_FORWARDED_FOR="10.9.0.1, 198.51.100.10, 130.176.1.1",
    )

    assert client_of(request).ip == ip
    assert client_of(request).country == "DE"


@pytest.mark.parametrize("secret", [None, "", "t" * 40, EDGE_SECRET + "x"])
def test_without_the_secret_the_cloudfront_headers_are_not_believed(settings, secret):
    settings.EDGE_ORIGIN_SECRETS = [EDGE_SECRET]
    request = edge_request(
        secret=secret,
        HTTP_CLOUDFRONT_VIEWER_ADDRESS="198.51.100.10:46532",
        HTTP_CLOUDFRONT_VIEWER_COUNTRY="DE",
    )

    assert client_of(request) == Client(ip="130.176.1.1", user_agent="", country="unknown")


def test_with_no_secret_set_nothing_is_believed_even_an_empty_header(settings):
    settings.EDGE_ORIGIN_SECRETS = []
    request = edge_request(secret="", HTTP_CLOUDFRONT_VIEWER_ADDRESS="198.51.100.10:1")

    assert client_of(request).ip == "130.176.1.1"


def test_during_a_rotation_either_secret_is_believed(settings):
    old, new = "o" * 40, "n" * 40
    settings.EDGE_ORIGIN_SECRETS = [new, old]
    for secret in (old, new):
        request = edge_request(secret=secret, HTTP_CLOUDFRONT_VIEWER_ADDRESS="192.0.2.5:80")
        assert client_of(request).ip == "192.0.2.5"


@pytest.mark.parametrize("country", ["", "USA", "u1", "--", "ÄÖ", "XX-1"])
def test_a_country_that_is_not_two_letters_is_unknown(settings, country):
    settings.EDGE_ORIGIN_SECRETS = [EDGE_SECRET]
    request = edge_request(
        HTTP_CLOUDFRONT_VIEWER_ADDRESS="192.0.2.5:80", HTTP_CLOUDFRONT_VIEWER_COUNTRY=country
    )

    assert client_of(request).country == "unknown"


def test_a_lower_case_country_is_upper_cased(settings):
    settings.EDGE_ORIGIN_SECRETS = [EDGE_SECRET]
    request = edge_request(
        HTTP_CLOUDFRONT_VIEWER_ADDRESS="192.0.2.5:80", HTTP_CLOUDFRONT_VIEWER_COUNTRY="fr"
    )

    assert client_of(request).country == "FR"


@pytest.mark.parametrize("viewer_address", ["", "garbage", "198.51.100.10", "999.1.1.1:80"])
def test_a_verified_request_without_a_usable_viewer_address_is_no_client(settings, viewer_address):
    """Not the edge server's address: that would make everyone one edge's visitors."""
    settings.EDGE_ORIGIN_SECRETS = [EDGE_SECRET]
    request = edge_request(HTTP_CLOUDFRONT_VIEWER_ADDRESS=viewer_address)

    assert client_of(request).ip == ""
    assert not client_of(request).known


def test_a_verified_request_without_the_viewer_address_header_is_an_unknown_client(settings):
    settings.EDGE_ORIGIN_SECRETS = [EDGE_SECRET]
    request = edge_request(HTTP_CLOUDFRONT_VIEWER_COUNTRY="DE")

    assert client_of(request) == Client(ip="", user_agent="", country="DE")
    assert not client_of(request).known


# --- The missing viewer address, logged once per process ------------------------------------


@pytest.fixture
def fresh_process(monkeypatch, caplog):
    """A process that has not logged the missing viewer address yet; the log is captured."""
    monkeypatch.setattr(clients, "_viewer_missing_logged", False)
    caplog.set_level(logging.INFO, logger="core.clients")
    return caplog


def missing_lines(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if VIEWER_MISSING_MARKER in record.getMessage()]


def test_the_marker_is_the_one_the_alarm_matches():
    assert VIEWER_MISSING_MARKER == "EDGE_VIEWER_ADDRESS_MISSING"


def test_a_missing_viewer_address_is_logged_at_error_once_per_process(settings, fresh_process):
    settings.EDGE_ORIGIN_SECRETS = [EDGE_SECRET]
    for _ in range(3):
        client_of(edge_request())
    viewer_seen(edge_request(HTTP_CLOUDFRONT_VIEWER_ADDRESS="garbage"))

    (record,) = missing_lines(fresh_process)
    assert record.levelno == logging.ERROR
    assert record.name == "core.clients"
    message = record.getMessage()
    assert message.startswith(f"{VIEWER_MISSING_MARKER} ")
    assert "origin request policy did not forward CloudFront-Viewer-Address" in message
    assert "docs/deploy.md" in message


def test_the_missing_viewer_address_is_logged_once_by_threads_at_once(settings, fresh_process):
    settings.EDGE_ORIGIN_SECRETS = [EDGE_SECRET]
    requests = [edge_request() for _ in range(16)]
    start = threading.Barrier(len(requests))

    def look(request) -> None:
        start.wait()
        client_of(request)

    threads = [threading.Thread(target=look, args=(request,)) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(missing_lines(fresh_process)) == 1


def test_requests_that_tell_their_client_log_nothing(settings, fresh_process):
    """Only a request through the distribution without the viewer's address is the
    distribution's fault: a known viewer, or a request without the secret, logs nothing."""
    settings.EDGE_ORIGIN_SECRETS = [EDGE_SECRET]
    client_of(edge_request(HTTP_CLOUDFRONT_VIEWER_ADDRESS="198.51.100.10:443"))
    viewer_seen(edge_request(HTTP_CLOUDFRONT_VIEWER_ADDRESS="198.51.100.10:443"))
    client_of(edge_request(secret=None))
    client_of(lambda_request({}))
    viewer_seen(RequestFactory().get("/api/health"))

    assert missing_lines(fresh_process) == []
    assert not clients._viewer_missing_logged


# --- What the function sees of the viewer (GET /api/health) ---------------------------------


def test_a_normal_request_through_the_distribution_sees_the_viewer(settings):
    settings.EDGE_ORIGIN_SECRETS = [EDGE_SECRET]
    request = edge_request(
        HTTP_CLOUDFRONT_VIEWER_ADDRESS="198.51.100.10:46532", HTTP_CLOUDFRONT_VIEWER_COUNTRY="DE"
    )

    assert viewer_seen(request) == ViewerSeen(edge=True, viewer_address=True, viewer_country=True)


@pytest.mark.parametrize("viewer_address", [None, "", "garbage", "999.1.1.1:80"])
def test_through_the_distribution_without_a_usable_address_the_viewer_is_unseen(
    settings, viewer_address
):
    settings.EDGE_ORIGIN_SECRETS = [EDGE_SECRET]
    meta = {"HTTP_CLOUDFRONT_VIEWER_COUNTRY": "DE"}
    if viewer_address is not None:
        meta["HTTP_CLOUDFRONT_VIEWER_ADDRESS"] = viewer_address

    assert viewer_seen(edge_request(**meta)) == ViewerSeen(
        edge=True, viewer_address=False, viewer_country=True
    )


@pytest.mark.parametrize("country", [None, "", "USA", "u1"])
def test_through_the_distribution_without_a_valid_country_it_is_unseen(settings, country):
    settings.EDGE_ORIGIN_SECRETS = [EDGE_SECRET]
    meta = {"HTTP_CLOUDFRONT_VIEWER_ADDRESS": "2001:db8::1:443"}
    if country is not None:
        meta["HTTP_CLOUDFRONT_VIEWER_COUNTRY"] = country

    assert viewer_seen(edge_request(**meta)) == ViewerSeen(
        edge=True, viewer_address=True, viewer_country=False
    )


@pytest.mark.parametrize("secrets", [[EDGE_SECRET], []])
@pytest.mark.parametrize("secret", [None, "", "t" * 40])
def test_without_the_secret_nothing_of_the_viewer_is_seen(settings, secrets, secret):
    """Forged CloudFront headers on a request that did not come through the distribution."""
    settings.EDGE_ORIGIN_SECRETS = secrets
    request = edge_request(
        secret=secret,
        HTTP_CLOUDFRONT_VIEWER_ADDRESS="198.51.100.10:46532",
        HTTP_CLOUDFRONT_VIEWER_COUNTRY="DE",
    )

    assert viewer_seen(request) == ViewerSeen(
        edge=False, viewer_address=False, viewer_country=False
    )
