"""resume_site/warmup.py: the first request's lazy work, done at start-up without the network."""

import logging
import socket
from pathlib import Path

import pytest
from django.template import engines
from django.urls import clear_url_caches, get_resolver

from resume import views
from resume.resume import get_resume
from resume_site.warmup import caches_warm


@pytest.fixture
def cold_caches() -> None:
    """A process that has served nothing yet: no compiled template, no URL resolver, no page."""
    engines["django"].engine.template_loaders[0].reset()
    clear_url_caches()
    views._forget_page()


def cached_templates() -> set[str]:
    return set(engines["django"].engine.template_loaders[0].get_template_cache)


def test_warming_renders_the_page_and_builds_the_resolver(
    cold_caches, settings, monkeypatch
) -> None:
    settings.SITE_URL = "https://resume.example.com"  # as in production
    assert "resume/resume.html" not in cached_templates()

    assert caches_warm() is True

    assert {"resume/resume.html", "base.html"} <= cached_templates()
    assert get_resolver()._populated  # reverse() and resolve() find their tables built
    monkeypatch.setattr(views, "render_to_string", None)  # a request that rendered would fail
    page = views.page_html(
        url="https://resume.example.com/", count_url="https://resume.example.com/api/count"
    )
    assert "<h1>Alex Rivera</h1>" in page


def test_without_a_site_url_warming_compiles_the_page_without_rendering_it(
    cold_caches, settings
) -> None:
    """Locally the page's canonical URL comes from the request, so no page is kept yet."""
    settings.SITE_URL = ""

    assert caches_warm() is True

    assert "resume/resume.html" in cached_templates()
    assert views._rendered is None


def test_warming_opens_no_network_connection(cold_caches, settings, monkeypatch) -> None:
    settings.SITE_URL = "https://resume.example.com"  # the page is rendered too
    attempts: list[object] = []

    def refuse(sock: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("the warm-up must not use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)

    assert caches_warm() is True
    assert attempts == []


def test_a_failed_warm_up_is_logged_and_does_not_stop_the_process(
    cold_caches, settings, tmp_path: Path, caplog
) -> None:
    settings.SITE_URL = "https://resume.example.com"
    settings.RESUME_PATH = tmp_path / "missing.json"  # the page cannot render
    get_resume.cache_clear()

    with caplog.at_level(logging.ERROR, logger="resume_site.warmup"):
        assert caches_warm() is False

    assert "Warm-up failed" in caplog.text
    get_resume.cache_clear()
