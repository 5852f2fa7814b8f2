"""What search engines and link previews read about the resume page, built from resume.json.

The page's title and description, its URLs (the canonical one, also in its OpenGraph tags and
JSON-LD, and the counter's: ``settings.SITE_URL``'s, or locally the address the request came
to) and a schema.org ``Person`` for its JSON-LD block.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import get_script_prefix, reverse, set_script_prefix
from django.utils.text import Truncator

from resume.model import Resume

DESCRIPTION_SUMMARY_CHARS = 140  # search engines show about 155 characters of a description


@dataclass(frozen=True, slots=True)
class PageMeta:
    title: str
    description: str
    url: str
    person: dict[str, Any]


@contextmanager
def _at_the_sites_root() -> Iterator[None]:
    """Within the block, ``reverse()`` and ``{% url %}`` give the site's own paths: the script
    prefix is the site's root, not the request's. A request straight from API Gateway has its
    stage (``/prod/``) as the script prefix (Zappa gives it so), which is a path of API Gateway's
    address, never of the site's. The request's prefix is given back after the block."""
    prefix = get_script_prefix()
    set_script_prefix("/")
    try:
        yield
    finally:
        set_script_prefix(prefix)


def site_path_get(*, name: str) -> str:
    """The site's path of the named route: ``reverse(name)`` at the site's root, whatever
    script prefix the request brought."""
    with _at_the_sites_root():
        return reverse(name)


@contextmanager
def site_paths() -> Iterator[None]:
    """The site's own paths within the block when SITE_URL is set (`_at_the_sites_root`),
    whatever request is being answered; locally the request's. For what is rendered once and
    shared by every request (the page: resume.views.page_html)."""
    if not settings.SITE_URL:
        yield
        return
    with _at_the_sites_root():
        yield


def site_url_get(*, name: str) -> str | None:
    """The absolute public URL of the named route under SITE_URL; None when SITE_URL is unset
    (locally), where only a request can tell the address."""
    return settings.SITE_URL + site_path_get(name=name) if settings.SITE_URL else None


def page_url_get(*, request: HttpRequest, name: str) -> str:
    """The absolute public URL of the named route: under SITE_URL when it is set (always in
    production), however the request reached the function (through the distribution, or
    straight to API Gateway's address and stage); else the address the request came to."""
    return site_url_get(name=name) or request.build_absolute_uri(reverse(name))


def _same_url(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def person_schema_build(*, resume: Resume, url: str) -> dict[str, Any]:
    """A schema.org Person: who, what they do, where else they are, where they work and studied."""
    basics = resume.basics
    person: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Person",
        "name": basics.name,
        "jobTitle": basics.label,
        "url": url,
        "email": f"mailto:{basics.email}",
        "description": basics.summary,
    }
    if basics.location is not None:
        address = {
            "@type": "PostalAddress",
            "addressLocality": basics.location.city,
            "addressRegion": basics.location.region,
            "addressCountry": basics.location.country_code,
        }
        person["address"] = {key: value for key, value in address.items() if value}
    same_as: list[str] = []
    for link in [basics.url, *(profile.url for profile in basics.profiles)]:
        if link and not _same_url(link, url) and not any(_same_url(link, s) for s in same_as):
            same_as.append(link)
    if same_as:
        person["sameAs"] = same_as
    current = [
        {"@type": "Organization", "name": job.name, **({"url": job.url} if job.url else {})}
        for job in resume.work
        if job.end_date is None
    ]
    if current:
        person["worksFor"] = current
    schools = list(dict.fromkeys(school.institution for school in resume.education))
    if schools:
        person["alumniOf"] = [
            {"@type": "EducationalOrganization", "name": school} for school in schools
        ]
    return person


def page_meta_build(*, resume: Resume, url: str) -> PageMeta:
    """Title, description, canonical URL and Person schema of the resume page at ``url``."""
    basics = resume.basics
    summary = Truncator(basics.summary).chars(DESCRIPTION_SUMMARY_CHARS)
    return PageMeta(
        title=f"{basics.name} \N{EN DASH} {basics.label}",
        description=f"{basics.name}, {basics.label}. {summary}",
        url=url,
        person=person_schema_build(resume=resume, url=url),
    )
