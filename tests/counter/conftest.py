"""The counter's tests call the API as the page's script does: a person's User-Agent (a request
without one is never counted, counter/api.py) and a POST without a body unless a test gives one.
Bots, bodies and content types are tested by giving them explicitly."""

import pytest
from django.test import Client

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


class BrowserClient(Client):
    """Django's test client, posting like static/js/counter.js: no body, no content type.
    (Django's own `post()` without data still sends an empty multipart form, which the API
    refuses with 415 as it would from any other client.)"""

    def post(self, path, data=None, content_type=None, **extra):
        if data is None and content_type is None:
            return self.generic("POST", path, **extra)
        return super().post(path, data, content_type or "multipart/form-data", **extra)


@pytest.fixture
def client() -> BrowserClient:
    return BrowserClient(HTTP_USER_AGENT=BROWSER)
