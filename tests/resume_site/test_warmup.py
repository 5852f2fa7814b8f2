"""resume_site/warmup.py: the first request's common lazy work, done at start-up without the
network."""

import logging
import socket

import pytest
from django.template import engines
from django.urls import clear_url_caches, get_resolver

from resume import views
from resume_site.warmup import caches_warm


@pytest.fixture
def cold_caches() -> None:
    """A process that has served nothing yet: no compiled template, no URL resolver, no page."""
    engines["django"].engine.template_loaders[0].reset()
    clear_url_caches()
    views._forget_page()


def cached_templates() -> set[str]:
    return set(engines["django"].engine.template_loaders[0].get_template_cache)


def test_warming_builds_the_resolver_and_leaves_the_page_to_the_first_get(
    cold_caches, settings
) -> None:
    """A deployed process's first request is almost always the counter's POST (the page comes
    from the distribution's cache), so the page is neither compiled nor rendered here."""
    settings.SITE_URL = "https://resume.example.com"  # as in production

    assert caches_warm() is True

    assert "url_patterns" in vars(get_resolver())  # the URLconf and its views are imported
    assert cached_templates() == set()
    assert views._rendered is None


def test_warming_opens_no_network_connection(cold_caches, settings, monkeypatch) -> None:
    settings.SITE_URL = "https://resume.example.com"
    attempts: list[object] = []

    def refuse(sock: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("the warm-up must not use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)

    assert caches_warm() is True
    assert attempts == []


def test_a_failed_warm_up_is_logged_and_does_not_stop_the_process(
    cold_caches, settings, caplog
) -> None:
    settings.ROOT_URLCONF = "resume_site.no_such_urlconf"  # the resolver cannot be built

    with caplog.at_level(logging.ERROR, logger="resume_site.warmup"):
        assert caches_warm() is False

    assert "Warm-up failed" in caplog.text
