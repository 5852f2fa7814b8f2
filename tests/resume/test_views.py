"""resume/views.py: the resume page, rendered from resume.json without DynamoDB."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.http import Http404, HttpResponse
from django.templatetags.static import static
from django.urls import reverse

UseResume = Callable[[object], Path]


def test_resume_page_renders_the_resume(client) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "<h1>Alex Rivera</h1>" in html
    assert "Cloud Engineer" in html
    for heading in ("Summary", "Experience", "Education", "Skills", "Projects", "Certifications"):
        assert f">{heading}</h2>" in html
    assert "Senior Cloud Engineer" in html
    assert "<li>DynamoDB</li>" in html
    assert 'data-count-url="http://testserver/api/count"' in html
    assert f'href="{static("css/resume.css")}"' in html
    assert f'src="{static("js/counter.js")}" defer' in html


def test_resume_page_is_the_site_root() -> None:
    assert reverse("resume") == "/"


def test_dates_render_as_time_elements(client) -> None:
    html = client.get("/").content.decode()

    dash = "\N{EN DASH}"
    assert f'<time datetime="2021-03">Mar 2021</time> {dash} Present' in html
    assert (
        f'<time datetime="2018-06">Jun 2018</time> {dash} <time datetime="2021-02">Feb 2021</time>'
        in html
    )


def test_email_phone_and_profiles_are_links(client) -> None:
    html = client.get("/").content.decode()

    assert 'href="mailto:alex.rivera@example.com"' in html
    assert 'href="tel:+15035550142"' in html
    assert 'href="https://github.com/alex-rivera-example"' in html


def test_the_counter_is_hidden_until_the_script_fills_it_and_says_it_counts_views(client):
    html = client.get("/").content.decode()

    assert (
        '<p class="visitor-count" data-count-url="http://testserver/api/count" hidden>'
        '<output id="visitor-count"></output> '
        '<span data-one="view" data-other="views">views</span></p>'
    ) in html
    assert "Visitors" not in html


def directives(response: HttpResponse) -> set[str]:
    return {part.strip() for part in response["Cache-Control"].split(",")}


def sets_or_varies_on_a_cookie(response: HttpResponse) -> bool:
    return bool(response.cookies) or "cookie" in response.get("Vary", "").lower()


@pytest.mark.parametrize("path", ["/", "/robots.txt", "/favicon.ico"])
def test_edge_cached_answers_stay_a_day_at_the_edge_and_minutes_in_browsers(client, path) -> None:
    response = client.get(path)

    assert directives(response) == {"public", "max-age=300", "s-maxage=86400"}
    assert not sets_or_varies_on_a_cookie(response)


# Cookies a browser may send to the shared paths: a stale or malformed session (the session
# middleware would delete it), a malformed or valid CSRF cookie (a malformed one would be
# replaced), a message cookie; each made Django write Set-Cookie or Vary: Cookie before.
REQUEST_COOKIES = [
    {"sessionid": ""},
    {"sessionid": "not-a-signed-session"},
    {"csrftoken": "short"},
    {"csrftoken": "a" * 32},
    {"messages": "stale"},
    {"sessionid": "x", "csrftoken": "y", "messages": "z"},
]


@pytest.mark.parametrize("path", ["/", "/robots.txt", "/favicon.ico", "/no-such-page/"])
@pytest.mark.parametrize("cookies", REQUEST_COOKIES)
def test_the_shared_answers_never_set_or_vary_on_a_cookie_whatever_the_request_sent(
    client, path, cookies
) -> None:
    for name, value in cookies.items():
        client.cookies[name] = value

    response = client.get(path)

    assert response.status_code in {200, 302, 404}
    assert "public" in directives(response)
    assert not sets_or_varies_on_a_cookie(response), (response.cookies, response.get("Vary"))


@pytest.mark.parametrize("path", ["/", "/no-such-page/"])
def test_the_shared_answers_carry_no_cookie_for_a_signed_in_owner_either(client, path) -> None:
    """A session cookie that loads, as the admin sets one: still the one shared copy."""
    session = SessionStore()
    session["_auth_user_id"] = "owner"
    session.save()
    client.cookies["sessionid"] = session.session_key

    response = client.get(path)

    assert not sets_or_varies_on_a_cookie(response)


def test_the_404_page_is_kept_minutes_at_the_edge_and_in_browsers(client) -> None:
    """Public and short: BROWSER_CACHE_SECONDS in browsers, EDGE_NOT_FOUND_SECONDS (five
    minutes) at the edge, since no deploy invalidates it."""
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "<title>Page not found</title>" in response.content.decode()
    assert directives(response) == {"public", "max-age=300", "s-maxage=300"}
    assert not sets_or_varies_on_a_cookie(response)


def test_the_404_page_follows_the_settings(client, settings) -> None:
    settings.BROWSER_CACHE_SECONDS = 60
    settings.EDGE_NOT_FOUND_SECONDS = 120

    assert directives(client.get("/no-such-page/")) == {"public", "max-age=60", "s-maxage=120"}


def test_the_404_page_under_the_admin_is_never_cached(rf) -> None:
    from resume import views

    response = views.not_found(rf.get("/admin/no-such-page/"), Http404())

    assert response.status_code == 404
    assert "no-store" in directives(response)
    assert "public" not in directives(response)


def test_the_apis_404_keeps_its_own_shape_and_is_never_cached(client) -> None:
    response = client.get("/api/no-such-thing")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "no-store" in directives(response)


def test_edge_cached_answers_follow_the_settings(client, settings) -> None:
    settings.EDGE_CACHE_SECONDS = 3600
    settings.BROWSER_CACHE_SECONDS = 60

    assert directives(client.get("/")) == {"public", "max-age=60", "s-maxage=3600"}


def test_head_gets_the_page_headers_without_a_body(client) -> None:
    response = client.head("/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert response.content == b""


def test_post_gets_405_naming_the_allowed_methods(client) -> None:
    response = client.post("/")

    assert response.status_code == 405
    assert "GET" in response["Allow"]


def test_empty_sections_are_omitted(
    client, example_data: dict[str, Any], use_resume: UseResume
) -> None:
    example_data["projects"] = []
    example_data["certificates"] = []
    use_resume(example_data)

    html = client.get("/").content.decode()

    assert ">Projects</h2>" not in html
    assert ">Certifications</h2>" not in html
    assert ">Experience</h2>" in html


def test_resume_text_is_html_escaped(
    client, example_data: dict[str, Any], use_resume: UseResume
) -> None:
    example_data["basics"]["summary"] = '<script>alert("x")</script>'
    use_resume(example_data)

    html = client.get("/").content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_the_page_is_rendered_once_per_process_and_reused(client, monkeypatch) -> None:
    from resume import views

    renders: list[str] = []
    render = views.render_to_string

    def counting_render(template_name: str, context: dict[str, Any]) -> str:
        renders.append(template_name)
        return render(template_name, context)

    monkeypatch.setattr(views, "render_to_string", counting_render)
    views._forget_page()

    first, second = client.get("/"), client.get("/")

    assert renders == ["resume/resume.html"]
    assert first.content == second.content


def test_a_reloaded_resume_is_rendered_again(client, example_data, write_resume, settings) -> None:
    from resume.resume import get_resume

    settings.RESUME_PATH = path = write_resume(example_data)
    assert "<h1>Alex Rivera</h1>" in client.get("/").content.decode()

    example_data["basics"]["name"] = "Sam Example"
    assert write_resume(example_data) == path
    get_resume.cache_clear()  # reloaded without any setting changing

    assert "<h1>Sam Example</h1>" in client.get("/").content.decode()


def test_the_page_for_another_address_is_rendered_for_that_address(client, settings) -> None:
    """Without SITE_URL (locally) the canonical URL is the request's host, never a stale one."""
    settings.SITE_URL = ""
    settings.ALLOWED_HOSTS = ["one.example", "two.example"]

    first = client.get("/", HTTP_HOST="one.example").content.decode()
    second = client.get("/", HTTP_HOST="two.example").content.decode()

    assert '<link rel="canonical" href="http://one.example/">' in first
    assert 'data-count-url="http://one.example/api/count"' in first
    assert '<link rel="canonical" href="http://two.example/">' in second
    assert 'data-count-url="http://two.example/api/count"' in second


def test_the_page_first_asked_for_under_a_stage_links_the_sites_own_paths(settings):
    """With SITE_URL set the page is shared by every request, so the first one to render it
    must not lend it its script prefix: a request straight from API Gateway has its stage
    (`/prod/`) as one (Zappa gives it so)."""
    from django.urls import get_script_prefix, set_script_prefix

    from resume import views

    settings.SITE_URL = "https://resume.example.com"
    views._forget_page()
    set_script_prefix("/prod/")  # as Django's handler sets it for such a request
    try:
        page = views.page_html(url=settings.SITE_URL + "/", count_url="unused")
        assert get_script_prefix() == "/prod/"  # the request's own, given back
    finally:
        set_script_prefix("/")

    assert 'href="/resume.pdf"' in page
    assert 'data-click-url="/api/click"' in page
    assert "/prod/" not in page
