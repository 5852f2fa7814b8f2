"""resume_site/clients.py: who sent a request."""

from django.test import RequestFactory

from resume_site.clients import USER_AGENT_LIMIT, Client, client_of


def test_the_client_is_the_source_address_and_the_user_agent():
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Browser A")
    assert client_of(request) == Client(ip="203.0.113.9", user_agent="Browser A")


def test_a_long_user_agent_is_cut_and_a_missing_one_is_empty():
    long = RequestFactory().get("/", HTTP_USER_AGENT="x" * 5000)
    assert client_of(long).user_agent == "x" * USER_AGENT_LIMIT
    request = RequestFactory().get("/")
    del request.META["REMOTE_ADDR"]
    assert client_of(request) == Client(ip="", user_agent="")
