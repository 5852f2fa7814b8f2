"""resume/seo.py and what the page and the crawler routes tell search engines and previews."""

import json
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.robotparser import RobotFileParser

import pytest
from django.templatetags.static import static
from django.test import RequestFactory
from django.urls import reverse, set_script_prefix

import resume
from resume import seo
from resume.parse import parse_resume
from resume.resume import get_resume, load_resume

EXAMPLE = Path(resume.__file__).resolve().parent / "data" / "resume.json"
PAGE = "https://resume.example.com/"


def example_data() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


class _Head(HTMLParser):
    """The page's <meta>, <link> and JSON-LD blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: dict[str, dict[str, str]] = {}
        self.json_ld: list[Any] = []
        self._in_json_ld = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "meta" and ("property" in values or "name" in values):
            self.meta[values.get("property") or values["name"]] = values.get("content", "")
        elif tag == "link":
            self.links[values["rel"]] = values
        elif tag == "script" and values.get("type") == "application/ld+json":
            self._in_json_ld = True

    def handle_endtag(self, tag: str) -> None:
        self._in_json_ld = False

    def handle_data(self, data: str) -> None:
        if self._in_json_ld:
            self.json_ld.append(json.loads(data))


def head_of(html: str) -> _Head:
    parser = _Head()
    parser.feed(html)
    return parser


@pytest.fixture
def site_url(settings) -> str:
    settings.SITE_URL = PAGE.rstrip("/")
    return PAGE


# --- The Person schema ----------------------------------------------------------------------


def test_person_names_who_what_and_where_else():
    person = seo.person_schema_build(resume=load_resume(EXAMPLE), url=PAGE)
    assert person["@context"] == "https://schema.org"
    assert person["@type"] == "Person"
    assert person["name"] == "Alex Rivera"
    assert person["jobTitle"] == "Cloud Engineer"
    assert person["url"] == PAGE
    assert person["sameAs"] == [
        "https://alexrivera.example.com",
        "https://github.com/alex-rivera-example",
        "https://www.linkedin.com/in/alex-rivera-example",
    ]


def test_works_for_is_the_current_job_only():
    person = seo.person_schema_build(resume=load_resume(EXAMPLE), url=PAGE)
    assert person["worksFor"] == [
        {
            "@type": "Organization",
            "name": "Northwind Logistics",
            "url": "https://northwind.example.com",
        }
    ]


def test_alumni_of_is_each_school_once():
    data = example_data()
    data["education"].append({**data["education"][0], "studyType": "Master of Science"})
    person = seo.person_schema_build(resume=parse_resume(data), url=PAGE)
    assert person["alumniOf"] == [
        {"@type": "EducationalOrganization", "name": "Oregon State University"}
    ]


def test_the_page_itself_is_not_listed_as_elsewhere():
    data = example_data()
    data["basics"]["url"] = PAGE
    person = seo.person_schema_build(resume=parse_resume(data), url=PAGE)
    assert PAGE not in person["sameAs"]
    assert PAGE.rstrip("/") not in person["sameAs"]


def test_without_a_current_job_or_school_those_keys_are_left_out():
    data = example_data()
    data["work"] = [job for job in data["work"] if job.get("endDate")]
    data["education"] = []
    person = seo.person_schema_build(resume=parse_resume(data), url=PAGE)
    assert "worksFor" not in person
    assert "alumniOf" not in person


# --- The page's URL and metadata ------------------------------------------------------------


def test_the_url_is_under_site_url_whatever_host_was_asked(site_url):
    request = RequestFactory().get("/", HTTP_HOST="127.0.0.1")
    assert seo.page_url_get(request=request, name="resume") == site_url
    assert seo.page_url_get(request=request, name="counter:count") == site_url + "api/count"


def test_without_site_url_the_url_is_the_address_asked(settings):
    settings.SITE_URL = ""
    request = RequestFactory().get("/", HTTP_HOST="localhost:8000")
    assert seo.page_url_get(request=request, name="resume") == "http://localhost:8000/"


@pytest.fixture
def api_gateway_stage() -> Iterator[None]:
    """The script prefix Zappa gives a request straight from API Gateway: its stage."""
    set_script_prefix("/prod/")
    yield
    set_script_prefix("/")


@pytest.mark.usefixtures("api_gateway_stage")
def test_the_sites_paths_leave_out_api_gateways_stage(site_url):
    assert reverse("counter:count") == "/prod/api/count"  # API Gateway's address, not the site's
    assert seo.site_path_get(name="resume") == "/"
    assert seo.site_path_get(name="counter:count") == "/api/count"
    assert seo.site_url_get(name="resume") == site_url


def test_every_url_the_page_names_is_site_urls_however_the_request_came(client, site_url, settings):
    """Straight to API Gateway's address and stage (the host and script name Zappa gives such a
    request) as through the site's domain: the canonical URL, og:url, the JSON-LD and the
    counter's URL are SITE_URL's, and the two pages are one."""
    api_host = "a1b2c3.execute-api.us-east-1.amazonaws.com"
    settings.ALLOWED_HOSTS = ["resume.example.com", api_host]
    direct = client.get("/", secure=True, HTTP_HOST=api_host, SCRIPT_NAME="/prod")
    edge = client.get("/", secure=True, HTTP_HOST="resume.example.com")
    direct, edge = direct.content.decode(), edge.content.decode()

    head = head_of(direct)
    assert head.links["canonical"]["href"] == site_url
    assert head.meta["og:url"] == site_url
    assert head.json_ld[0]["url"] == site_url
    assert f'data-count-url="{site_url}api/count"' in direct
    assert "/prod/" not in direct
    assert "execute-api" not in direct
    assert direct == edge


def test_the_description_is_short_enough_for_a_search_result():
    meta = seo.page_meta_build(resume=load_resume(EXAMPLE), url=PAGE)
    assert meta.title == "Alex Rivera \N{EN DASH} Cloud Engineer"
    assert meta.description.startswith("Alex Rivera, Cloud Engineer. Cloud engineer with")
    assert len(meta.description) <= 170


def test_the_page_names_its_canonical_url_and_preview_tags(client, site_url):
    head = head_of(client.get("/").content.decode())
    assert head.links["canonical"]["href"] == site_url
    assert head.meta["og:url"] == site_url
    assert head.meta["og:type"] == "profile"
    assert head.meta["og:title"] == "Alex Rivera \N{EN DASH} Cloud Engineer"
    assert head.meta["og:description"] == head.meta["description"]
    assert head.meta["twitter:card"] == "summary"
    assert head.meta["twitter:title"] == head.meta["og:title"]
    assert head.meta["twitter:description"] == head.meta["description"]


def test_the_page_carries_the_person_as_json_ld(client, site_url):
    (person,) = head_of(client.get("/").content.decode()).json_ld
    assert person == seo.person_schema_build(resume=get_resume(), url=site_url)


def test_json_ld_cannot_close_its_script_element(client, settings, tmp_path):
    data = example_data()
    data["basics"]["summary"] = "Ends early </script><script>alert(1)</script> & more"
    path = tmp_path / "resume.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    settings.RESUME_PATH = path
    try:
        html = client.get("/").content.decode()
    finally:
        get_resume.cache_clear()
    assert "</script><script>alert" not in html
    (person,) = head_of(html).json_ld
    assert person["description"] == data["basics"]["summary"]


def test_the_page_has_an_svg_favicon(client):
    head = head_of(client.get("/").content.decode())
    assert head.links["icon"]["href"] == static("favicon.svg")
    assert head.links["icon"]["type"] == "image/svg+xml"


# --- robots.txt and /favicon.ico ------------------------------------------------------------


def test_robots_txt_keeps_crawlers_out_of_the_admin_and_the_api(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    robots = RobotFileParser()
    robots.parse(response.content.decode().splitlines())
    assert robots.can_fetch("*", reverse("resume"))
    assert not robots.can_fetch("*", reverse("admin:index"))
    assert not robots.can_fetch("*", reverse("admin:login"))
    assert not robots.can_fetch("*", reverse("counter:count"))


def test_favicon_ico_sends_browsers_to_the_static_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == static("favicon.ico")
    assert "s-maxage=86400" in response["Cache-Control"]


def test_the_static_icons_exist():
    root = Path(resume.__file__).resolve().parent.parent / "static"
    assert (root / "favicon.ico").read_bytes()[:4] == b"\x00\x00\x01\x00"  # an ICO header
    assert (root / "favicon.svg").read_text(encoding="utf-8").startswith("<svg ")
