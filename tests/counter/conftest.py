"""The counter's tests call the API as a browser would: a person's User-Agent, since a request
without one is never counted (counter/api.py). Bots are tested by giving another one."""

import pytest

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.fixture
def client():
    """Django's test client with a browser's User-Agent on every request."""
    from django.test import Client

    return Client(HTTP_USER_AGENT=BROWSER)
