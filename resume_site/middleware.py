"""The site's own middleware: the Permissions-Policy header (Django has none of its own) and no
cookie on an answer every viewer shares. (The time budget of a request's DynamoDB calls starts
in core/budget.py, beside the budget it sets.)"""

from collections.abc import Callable, Mapping, Sequence

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def permissions_policy_build(*, policy: Mapping[str, Sequence[str]]) -> str:
    """The header value: ``camera=(), geolocation=(self)``; an empty list turns a feature off."""
    return ", ".join(f"{feature}=({' '.join(origins)})" for feature, origins in policy.items())


class PermissionsPolicyMiddleware:
    """Adds Permissions-Policy to every response that does not set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        header = permissions_policy_build(policy=getattr(settings, "PERMISSIONS_POLICY", {}))
        if header:
            response.headers.setdefault("Permissions-Policy", header)
        return response


def cache_directives(response: HttpResponse) -> set[str]:
    """The names of the response's Cache-Control directives, lower-case: {"public", "max-age"}."""
    parts = response.get("Cache-Control", "").split(",")
    return {part.split("=", 1)[0].strip().lower() for part in parts if part.strip()}


class SharedAnswerMiddleware:
    """An answer marked `Cache-Control: public` (the page, robots.txt, /favicon.ico, the 404
    page) is one copy that every viewer shares, at the edge and in browsers: it never sets a
    cookie and never varies on one, whatever cookies the request carried.

    Without this, a request's cookies changed the answer's headers: a session cookie that does
    not load made the session middleware delete it (`Set-Cookie: sessionid=""`), a malformed CSRF
    cookie made the CSRF middleware send a fresh one, and either added `Vary: Cookie`. Listed
    before the session, CSRF and messages middleware, this one sees their answer last and takes
    those headers off it. The distribution forwards no cookie on these paths anyway; this holds
    at API Gateway's address and locally too (docs/architecture.md, "Request flow")."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "public" not in cache_directives(response):
            return response
        response.cookies.clear()
        if "Vary" in response:
            names = [name.strip() for name in response["Vary"].split(",")]
            kept = [name for name in names if name and name.lower() != "cookie"]
            if kept:
                response["Vary"] = ", ".join(kept)
            else:
                del response["Vary"]
        return response
