"""resume_site/clients.py: who sent a request."""

from django.test import RequestFactory

from resume_site.clients import USER_AGENT_LIMIT, Client, client_of


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
