"""templates/404.html and templates/500.html: error pages in the site's style that need neither
resume.json nor DynamoDB (the autouse fixture points DynamoDB at a closed port)."""

from pathlib import Path

import pytest
from django.templatetags.static import static
from django.test import RequestFactory
from django.views import defaults

from resume.resume import get_resume


@pytest.fixture
def broken_resume(settings, tmp_path: Path):
    """A resume file that does not load: the error pages must not depend on it."""
    path = tmp_path / "resume.json"
    path.write_text("{ not json", encoding="utf-8")
    settings.RESUME_PATH = path
    get_resume.cache_clear()
    yield path
    get_resume.cache_clear()


@pytest.fixture
def production_errors(settings) -> None:
    settings.DEBUG = False


@pytest.mark.usefixtures("production_errors", "broken_resume")
def test_a_missing_page_is_a_404_in_the_sites_style(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<title>Page not found</title>" in html
    assert f'href="{static("css/resume.css")}"' in html
    assert 'href="/"' in html  # a way back to the resume
    assert '<meta name="robots" content="noindex">' in html


@pytest.mark.usefixtures("production_errors", "broken_resume")
def test_a_failing_page_is_a_500_in_the_sites_style(client):
    client.raise_request_exception = False
    response = client.get("/")  # the resume page itself fails: its file does not load
    assert response.status_code == 500
    html = response.content.decode()
    assert "<title>Something went wrong</title>" in html
    assert f'href="{static("css/resume.css")}"' in html
    assert "Traceback" not in html


def test_the_500_page_renders_with_no_context_at_all():
    """Django renders 500.html with an empty context, not even the request's."""
    response = defaults.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


@pytest.mark.usefixtures("production_errors")
def test_error_pages_carry_the_security_headers(client):
    response = client.get("/no-such-page/")
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert "camera=()" in response["Permissions-Policy"]
