"""The Content-Security-Policy (Django's middleware, SECURE_CSP in resume_site/settings.py) and
the Permissions-Policy (resume_site/middleware.py) on the page and the admin."""

import re
import runpy
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.http import HttpRequest, HttpResponse

import resume_site
from resume_site import middleware

SETTINGS_FILE = Path(resume_site.__file__).resolve().parent / "settings.py"


def directives(header: str) -> dict[str, list[str]]:
    policy = {}
    for part in header.split(";"):
        name, *values = part.split()
        policy[name] = values
    return policy


class _Inline(HTMLParser):
    """What a strict CSP would block in a page: inline scripts, <style> and style attributes,
    unless they carry a nonce."""

    def __init__(self) -> None:
        super().__init__()
        self.nonces: set[str] = set()
        self.blocked: list[str] = []
        self._tag: tuple[str, dict[str, str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if "nonce" in values:
            self.nonces.add(values["nonce"])
        if "style" in values:
            self.blocked.append(f"style attribute on <{tag}>")
        if any(name.startswith("on") for name in values):
            self.blocked.append(f"event handler attribute on <{tag}>")
        self._tag = (tag, values)

    def handle_data(self, data: str) -> None:
        if self._tag is None or not data.strip():
            return
        tag, values = self._tag
        data_block = values.get("type") in {"application/ld+json", "application/json"}
        if tag in {"script", "style"} and "nonce" not in values and not data_block:
            self.blocked.append(f"inline <{tag}> without a nonce")

    def handle_endtag(self, tag: str) -> None:
        self._tag = None


def inline_of(html: str) -> _Inline:
    parser = _Inline()
    parser.feed(html)
    return parser


# --- Content-Security-Policy ----------------------------------------------------------------


def test_the_page_policy_is_strict(client):
    policy = directives(client.get("/")["Content-Security-Policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]  # the counter's fetch() and nothing else
    for name in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in policy[name]
        assert "'unsafe-eval'" not in policy[name]
        assert "'unsafe-hashes'" not in policy[name]


def test_the_page_needs_nothing_inline_so_every_visitor_gets_the_same_header(client):
    first, second = client.get("/"), client.get("/")
    assert "nonce-" not in first["Content-Security-Policy"]
    assert first["Content-Security-Policy"] == second["Content-Security-Policy"]
    assert inline_of(first.content.decode()).blocked == []


def test_the_error_page_needs_nothing_inline(client):
    assert inline_of(client.get("/no-such-page/").content.decode()).blocked == []


def test_the_admin_login_allows_exactly_its_own_nonce(client):
    response = client.get("/admin/login/")
    policy = directives(response["Content-Security-Policy"])
    page = inline_of(response.content.decode())
    (nonce,) = page.nonces  # the admin's templates print the request's nonce
    assert f"'nonce-{nonce}'" in policy["script-src"]
    assert f"'nonce-{nonce}'" in policy["style-src"]
    assert page.blocked == []


def test_each_request_gets_a_new_nonce(client):
    first = re.search(r"'nonce-([^']+)'", client.get("/admin/login/")["Content-Security-Policy"])
    second = re.search(r"'nonce-([^']+)'", client.get("/admin/login/")["Content-Security-Policy"])
    assert first and second
    assert first[1] != second[1]


def test_in_production_scripts_and_styles_come_from_the_cloudfront_domain(monkeypatch):
    for name, value in {
        "DJANGO_ENV": "production",
        "SECRET_KEY": "s" * 60,
        "ALLOWED_HOSTS": "resume.example.com",
        "DYNAMODB_TABLE": "resume-prod",
        "SITE_URL": "https://resume.example.com",
        "STATIC_BUCKET": "resume-static",
        "STATIC_DOMAIN": "d111111abcdef8.cloudfront.net",
    }.items():
        monkeypatch.setenv(name, value)
    csp = runpy.run_path(str(SETTINGS_FILE))["SECURE_CSP"]
    cloudfront = "https://d111111abcdef8.cloudfront.net"
    assert csp["script-src"][0] == cloudfront
    assert csp["style-src"][0] == cloudfront
    assert cloudfront in csp["img-src"]
    assert "'self'" not in csp["script-src"]
    assert "'self'" not in csp["style-src"]


# --- Permissions-Policy ---------------------------------------------------------------------


def test_the_policy_header_turns_features_off():
    header = middleware.permissions_policy_build(
        policy={
            "camera": [],
            "geolocation": ["self"],
            "fullscreen": ["self", '"https://a.example"'],
        }
    )
    assert header == 'camera=(), geolocation=(self), fullscreen=(self "https://a.example")'


@pytest.mark.parametrize("path", ["/", "/admin/login/", "/robots.txt"])
def test_every_response_turns_off_the_unused_features(client, path):
    header = client.get(path)["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in header.split(", ")


def test_a_view_may_set_its_own_permissions_policy(rf, settings):
    settings.PERMISSIONS_POLICY = {"camera": []}

    def view(request: HttpRequest) -> HttpResponse:
        response = HttpResponse()
        response["Permissions-Policy"] = "camera=(self)"
        return response

    response = middleware.PermissionsPolicyMiddleware(view)(rf.get("/"))
    assert response["Permissions-Policy"] == "camera=(self)"


def test_an_empty_setting_sends_no_header(rf, settings):
    settings.PERMISSIONS_POLICY = {}
    response = middleware.PermissionsPolicyMiddleware(lambda request: HttpResponse())(rf.get("/"))
    assert "Permissions-Policy" not in response
