"""Requests that came through the site's own CloudFront distribution, told apart from the rest.

The distribution adds a secret header (`X-Origin-Verify`, its value in EDGE_ORIGIN_SECRET) to
every request it sends to API Gateway; a viewer cannot see it or set it through the
distribution (CloudFront replaces a viewer's header of the same name with its own). So a request
that carries it came through the distribution, and only such a request is believed about what
CloudFront alone can know: the viewer's address and country (`core.clients.client_of`).

`EdgeOriginMiddleware`, the first middleware, does the rest with the same one check:
- with EDGE_ORIGIN_SECRET set, `/api/` and `/admin/` refuse a request without the secret (403 in
  the one error shape): the API and the admin are reached only through the distribution, where
  their answers are never cached and the viewer's address is known;
- with EDGE_ORIGIN_SECRET set, any other request without the secret (the page, robots.txt, a
  missing page: someone at API Gateway's own address) is sent to the same path and query on
  SITE_URL (301), so the site is never served at API Gateway's address, where every URL Django
  builds would carry its host and stage;
- a request with the secret is answered as the site's: its host is SITE_URL's (API Gateway sees
  the origin's own `*.execute-api` host) and it has no script prefix (Zappa gives a request to an
  `amazonaws.com` host the stage, `/prod`, as its script name), so every URL Django builds
  (redirects, the admin's links, `{% url %}`) is right for the viewer.

Without EDGE_ORIGIN_SECRET (locally, or a stage served by API Gateway alone) nothing is refused,
redirected or rewritten. docs/architecture.md, "The edge", gives the reasons.
"""

import hmac
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.urls import set_script_prefix
from django.utils.cache import add_never_cache_headers, patch_cache_control

ORIGIN_HEADER = "X-Origin-Verify"
_ORIGIN_META = "HTTP_X_ORIGIN_VERIFY"
# Reached only through the distribution once it is in front: the API counts the viewer's
# address, and the admin's sign-in pause is per viewer.
PROTECTED_PREFIXES = ("/api/", "/admin/")
_VERIFIED = "core.edge.verified"  # request.META key caching the check's outcome


def edge_request_verified(*, request: HttpRequest) -> bool:
    """True if the request carries one of EDGE_ORIGIN_SECRET's values in X-Origin-Verify, i.e.
    it came through the site's distribution. Each value is compared in constant time (all of
    them, so the time does not tell which one matched); False when no secret is set."""
    cached = request.META.get(_VERIFIED)
    if cached is not None:
        return cached
    sent = request.META.get(_ORIGIN_META, "").encode()
    verified = False
    for secret in settings.EDGE_ORIGIN_SECRETS:
        verified |= hmac.compare_digest(sent, secret.encode())
    verified = verified and bool(sent)
    request.META[_VERIFIED] = verified
    return verified


def _answer_as_the_site(request: HttpRequest) -> None:
    """Make a request that came through the distribution look as its viewer sent it: SITE_URL's
    host and no API Gateway stage prefix in the script name."""
    if settings.SITE_HOST:
        request.META["HTTP_HOST"] = settings.SITE_HOST
    request.META["SCRIPT_NAME"] = ""
    request.path = request.path_info
    set_script_prefix("/")


def _refusal() -> HttpResponse:
    response = JsonResponse(
        {
            "error": {
                "code": "edge_origin_required",
                "message": "This address answers only through the site's own domain.",
            }
        },
        status=403,
    )
    add_never_cache_headers(response)
    return response


def _to_the_site(request: HttpRequest) -> HttpResponse:
    """301 to the request's path and query on SITE_URL, the address the page is served at. A
    browser keeps it for BROWSER_CACHE_SECONDS, not for ever (a 301 without Cache-Control may be
    kept indefinitely), and it sets no cookie: nothing behind this middleware runs."""
    response = HttpResponsePermanentRedirect(settings.SITE_URL + request.get_full_path_info())
    patch_cache_control(response, public=True, max_age=settings.BROWSER_CACHE_SECONDS)
    return response


class EdgeOriginMiddleware:
    """When EDGE_ORIGIN_SECRET is set, refuses `/api/` and `/admin/` requests that did not come
    through the distribution and sends every other such request to SITE_URL; answers those that
    did as the site's own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if edge_request_verified(request=request):
            _answer_as_the_site(request)
        elif settings.EDGE_ORIGIN_SECRETS:
            if request.path_info.startswith(PROTECTED_PREFIXES):
                return _refusal()
            if settings.SITE_URL:
                return _to_the_site(request)
        return self.get_response(request)
