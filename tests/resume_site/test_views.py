import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.templatetags.static import static
from django.urls import reverse

import resume_site
from resume_site.resume import get_resume

EXAMPLE = Path(resume_site.__file__).resolve().parent / "data" / "resume.json"


def example_data() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


@pytest.fixture
def use_resume(tmp_path: Path, settings) -> Iterator[Callable[[dict[str, Any]], None]]:
    """Serve the page from the given resume data (written to a temporary RESUME_PATH)."""

    def use(data: dict[str, Any]) -> None:
        path = tmp_path / "resume.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        settings.RESUME_PATH = path
        get_resume.cache_clear()

    yield use
    get_resume.cache_clear()


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
    assert 'data-count-url="/api/count"' in html
    assert f'href="{static("css/resume.css")}"' in html
    assert f'src="{static("js/counter.js")}" defer' in html


def test_resume_page_route_name_is_resume() -> None:
    assert reverse("resume") == "/"


def test_dates_render_as_time_elements(client) -> None:
    html = client.get("/").content.decode()

    dash = "\N{EN DASH}"
    assert f'<time datetime="2021-03">Mar 2021</time> {dash} Present' in html
    assert (
        f'<time datetime="2018-06">Jun 2018</time> {dash} <time datetime="2021-02">Feb 2021</time>'
        in html
    )


def test_contact_links(client) -> None:
    html = client.get("/").content.decode()

    assert 'href="mailto:alex.rivera@example.com"' in html
    assert 'href="tel:+15035550142"' in html
    assert 'href="https://github.com/alex-rivera-example"' in html


def test_visitor_counter_is_hidden_until_the_script_fills_it(client) -> None:
    html = client.get("/").content.decode()

    assert (
        '<p class="visitor-count" data-count-url="/api/count" hidden>'
        'Visitors: <output id="visitor-count"></output></p>'
    ) in html


def test_resume_page_is_publicly_cacheable_for_a_short_time(client) -> None:
    response = client.get("/")

    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert directives == {"public", "max-age=300"}


def test_head_is_allowed(client) -> None:
    response = client.head("/")

    assert response.status_code == 200


def test_post_is_not_allowed(client) -> None:
    response = client.post("/")

    assert response.status_code == 405
    assert "GET" in response["Allow"]


def test_empty_sections_are_omitted(client, use_resume) -> None:
    data = example_data()
    data["projects"] = []
    data["certificates"] = []
    use_resume(data)

    html = client.get("/").content.decode()

    assert ">Projects</h2>" not in html
    assert ">Certifications</h2>" not in html
    assert ">Experience</h2>" in html


def test_resume_text_is_html_escaped(client, use_resume) -> None:
    data = example_data()
    data["basics"]["summary"] = '<script>alert("x")</script>'
    use_resume(data)

    html = client.get("/").content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
