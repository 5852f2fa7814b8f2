"""resume_site/middleware.py: the shared answer middleware (the Permissions-Policy header is
tested in test_security_headers.py; the DynamoDB budget's middleware, core/budget.py, in
tests/core/test_budget.py)."""

import pytest
from django.http import HttpResponse
from django.utils.cache import patch_cache_control

from resume_site.middleware import SharedAnswerMiddleware, cache_directives


def answer(*, vary: str | None = None, **cache_control: object) -> HttpResponse:
    """A response that sets two cookies, with the given Cache-Control and Vary."""
    response = HttpResponse("body")
    response.set_cookie("sessionid", "")
    response.set_cookie("csrftoken", "fresh")
    if cache_control:
        patch_cache_control(response, **cache_control)
    if vary is not None:
        response["Vary"] = vary
    return response


def through_the_middleware(response: HttpResponse, rf) -> HttpResponse:
    return SharedAnswerMiddleware(lambda request: response)(rf.get("/"))


def test_the_directives_are_read_by_name_whatever_their_case_and_spacing():
    response = HttpResponse()
    response["Cache-Control"] = "Public,max-age=300 ,  s-maxage=86400"

    assert cache_directives(response) == {"public", "max-age", "s-maxage"}


@pytest.mark.parametrize(
    ("vary", "left"),
    [("Cookie", None), ("Accept-Encoding, Cookie", "Accept-Encoding"), ("cookie,Origin", "Origin")],
)
def test_a_public_answer_loses_its_cookies_and_its_vary_on_cookie(rf, vary, left):
    response = through_the_middleware(answer(public=True, max_age=300, vary=vary), rf)

    assert not response.cookies
    assert response.get("Vary") == left


@pytest.mark.parametrize(
    "cache_control",
    [{}, {"private": True}, {"no_store": True, "no_cache": True}, {"max_age": 0}],
)
def test_any_other_answer_keeps_its_cookies_and_vary(rf, cache_control):
    response = through_the_middleware(answer(vary="Cookie", **cache_control), rf)

    assert set(response.cookies) == {"sessionid", "csrftoken"}
    assert response["Vary"] == "Cookie"
