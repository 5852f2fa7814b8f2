"""resume_site/settings.py: SITE_URL, the page's public address (required in production)."""

import runpy
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

import resume_site

SETTINGS_FILE = Path(resume_site.__file__).resolve().parent / "settings.py"
PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "s" * 60,
    "ALLOWED_HOSTS": "resume.example.com",
    "DYNAMODB_TABLE": "resume-prod",
}


def settings_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict:
    monkeypatch.delenv("SITE_URL", raising=False)
    monkeypatch.delenv("DJANGO_ENV", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


def test_production_refuses_to_start_without_it(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="The SITE_URL environment variable is required"):
        settings_with(monkeypatch, **PRODUCTION)


@pytest.mark.parametrize(
    "value",
    [
        "resume.example.com",
        "http://resume.example.com",
        "https://resume.example.com/cv",
        "https://",
    ],
)
def test_production_wants_an_https_origin(monkeypatch, value):
    with pytest.raises(ImproperlyConfigured, match="SITE_URL must be the site's address"):
        settings_with(monkeypatch, **PRODUCTION, SITE_URL=value)


def test_a_query_is_refused(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="SITE_URL must not have a query"):
        settings_with(monkeypatch, **PRODUCTION, SITE_URL="https://resume.example.com/?a=1")


def test_the_trailing_slash_is_dropped(monkeypatch):
    values = settings_with(monkeypatch, **PRODUCTION, SITE_URL="https://resume.example.com/")
    assert values["SITE_URL"] == "https://resume.example.com"


def test_locally_it_may_be_unset_or_plain_http(monkeypatch):
    assert settings_with(monkeypatch)["SITE_URL"] == ""
    local = settings_with(monkeypatch, SITE_URL="http://127.0.0.1:8000")
    assert local["SITE_URL"] == "http://127.0.0.1:8000"
