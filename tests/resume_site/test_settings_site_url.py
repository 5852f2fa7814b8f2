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


def test_the_domain_is_set_once_hosts_and_csrf_follow_it(monkeypatch):
    monkeypatch.delenv("ALLOWED_HOSTS", raising=False)
    monkeypatch.delenv("CSRF_TRUSTED_ORIGINS", raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")

    read = settings_with(monkeypatch, **PRODUCTION, SITE_URL="https://cv.example.org")

    assert read["SITE_HOST"] == "cv.example.org"
    assert read["ALLOWED_HOSTS"] == ["cv.example.org", ".execute-api.eu-west-1.amazonaws.com"]
    assert read["CSRF_TRUSTED_ORIGINS"] == ["https://cv.example.org"]


def test_more_hosts_and_origins_may_be_added_but_never_a_wildcard(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    read = settings_with(
        monkeypatch,
        **PRODUCTION,
        SITE_URL="https://cv.example.org",
        ALLOWED_HOSTS="www.cv.example.org",
        CSRF_TRUSTED_ORIGINS="https://www.cv.example.org",
    )

    assert read["ALLOWED_HOSTS"][-1] == "www.cv.example.org"
    assert read["CSRF_TRUSTED_ORIGINS"] == ["https://cv.example.org", "https://www.cv.example.org"]
    with pytest.raises(ImproperlyConfigured, match="must not hold"):
        settings_with(
            monkeypatch, **PRODUCTION, SITE_URL="https://cv.example.org", ALLOWED_HOSTS="*"
        )


@pytest.mark.parametrize(
    ("value", "message"),
    [("short", "at least 32 characters"), (f"{'a' * 40},{'b' * 40},{'c' * 40}", "or two")],
)
def test_the_origin_secret_is_long_and_at_most_two_values(monkeypatch, value, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        settings_with(
            monkeypatch, **PRODUCTION, SITE_URL="https://cv.example.org", EDGE_ORIGIN_SECRET=value
        )


def test_a_rotation_holds_the_new_and_the_old_secret(monkeypatch):
    read = settings_with(
        monkeypatch,
        **PRODUCTION,
        SITE_URL="https://cv.example.org",
        EDGE_ORIGIN_SECRET=f"{'n' * 40}, {'o' * 40}",
    )

    assert read["EDGE_ORIGIN_SECRETS"] == ["n" * 40, "o" * 40]
