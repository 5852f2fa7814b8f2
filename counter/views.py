"""Thin JSON views over counter.services; the request rules are in counter.api."""

from dataclasses import asdict
from pathlib import Path

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from core.clients import client_of, viewer_seen
from counter import api, clicks, services, visits

OPENAPI_DOCUMENT = Path(__file__).with_name("openapi.json")
UNAVAILABLE_RETRY_AFTER = "5"  # seconds: long enough for a slow engine to recover
HEALTH_METHODS = ("GET", "HEAD")


# The API changes no user's state and holds no session, so CSRF protection has nothing to
# protect; it is exempt on purpose, and the Origin check in counter.api stops other sites' pages.
@csrf_exempt
@never_cache
def count(request: HttpRequest) -> HttpResponse:
    """GET: the current total. POST: count this page view. OPTIONS: the CORS preflight.

    Every answer is `{"count": N, "counted": true|false}` or the one error shape.
    """
    try:
        response = _count(request)
    except api.ApiError as error:
        response = api.error_response(error=error)
    for name, value in api.cors_headers(request=request).items():
        response[name] = value
    patch_vary_headers(response, ["Origin"])
    return response


def _count(request: HttpRequest) -> HttpResponse:
    api.method_check(request=request)
    if request.method == "OPTIONS":
        preflight = HttpResponse(status=204, headers={"Allow": ", ".join(api.METHODS)})
        del preflight["Content-Type"]  # no content, so no type
        return preflight
    try:
        if request.method == "GET":
            return JsonResponse({"count": services.total_get(), "counted": False})
        api.origin_check(request=request)
        body = api.body_check(request=request)
        if api.request_is_automated(request=request):
            return JsonResponse({"count": services.total_get(), "counted": False})
        client = client_of(request)
        if not client.known:  # who sent it is unknown: answered, never counted or keyed
            return JsonResponse({"count": services.total_get(), "counted": False})
        visit = visits.visit_describe(body=body, client=client, site_host=request.get_host())
        outcome = services.view_count(visitor=client, visit=visit)
    except services.CounterUnavailable as error:
        raise _unavailable(error) from error
    if outcome.refused:
        raise _too_many(code="too_many_views", what="views", retry_after=outcome.retry_after)
    return JsonResponse({"count": outcome.count, "counted": outcome.counted})


@csrf_exempt
@never_cache
def click(request: HttpRequest) -> HttpResponse:
    """POST: count a click on one of the page's links, `{"link": "<label>"}`. OPTIONS: the
    CORS preflight. The same rules as a view: origins, body, automated and unknown senders
    answered but not counted, the limits. Every answer is `{"counted": true|false}` or the one
    error shape; a label that is not one of the page's links is 400 and stores nothing."""
    try:
        response = _click(request)
    except api.ApiError as error:
        response = api.error_response(error=error)
    for name, value in api.cors_headers(request=request, methods="POST").items():
        response[name] = value
    patch_vary_headers(response, ["Origin"])
    return response


def _click(request: HttpRequest) -> HttpResponse:
    api.method_check(request=request, methods=api.CLICK_METHODS)
    if request.method == "OPTIONS":
        preflight = HttpResponse(status=204, headers={"Allow": ", ".join(api.CLICK_METHODS)})
        del preflight["Content-Type"]
        return preflight
    api.origin_check(request=request)
    link = clicks.link_of(body=api.body_check(request=request))
    if link is None:
        raise api.ApiError(
            status=400,
            code="unknown_link",
            message='The body must name one of the page\'s links: {"link": "email"}.',
        )
    client = client_of(request)
    # Automated, or who sent it is unknown: answered, never counted or keyed (as a view).
    if api.request_is_automated(request=request) or not client.known:
        return JsonResponse({"counted": False})
    try:
        outcome = services.click_count(visitor=client, link=link)
    except services.CounterUnavailable as error:
        raise _unavailable(error) from error
    if outcome.refused:
        raise _too_many(code="too_many_clicks", what="clicks", retry_after=outcome.retry_after)
    return JsonResponse({"counted": outcome.counted})


def _unavailable(error: services.CounterUnavailable) -> api.ApiError:
    return api.ApiError(
        status=503,
        code="counter_unavailable",
        message=str(error),
        headers={"Retry-After": UNAVAILABLE_RETRY_AFTER},
    )


def _too_many(*, code: str, what: str, retry_after: int) -> api.ApiError:
    return api.ApiError(
        status=429,
        code=code,
        message=f"Too many {what} from this client; try again later.",
        headers={"Retry-After": str(max(1, retry_after))},
    )


@csrf_exempt
@never_cache
def health(request: HttpRequest) -> HttpResponse:
    """GET or HEAD: whether this request came through the site's distribution with the
    viewer's address and country, as booleans only (`core.clients.ViewerSeen`). The deploy's
    live check reads it through the distribution; it makes no DynamoDB call and counts nothing.
    """
    try:
        api.method_check(request=request, methods=HEALTH_METHODS)
    except api.ApiError as error:
        return api.error_response(error=error)
    return JsonResponse(asdict(viewer_seen(request)))


@csrf_exempt
@never_cache
def openapi(request: HttpRequest) -> HttpResponse:
    """The API's OpenAPI 3.1 document, as kept in the repository (counter/openapi.json)."""
    if request.method != "GET":
        return api.error_response(
            error=api.ApiError(
                status=405,
                code="method_not_allowed",
                message=f"Method {request.method} is not allowed here; use GET.",
                headers={"Allow": "GET"},
            )
        )
    return HttpResponse(OPENAPI_DOCUMENT.read_bytes(), content_type="application/json")


@csrf_exempt
@never_cache
def not_found(request: HttpRequest) -> HttpResponse:
    """Any other path under /api/: 404 in the one error shape, whatever the method."""
    return api.error_response(
        error=api.ApiError(
            status=404,
            code="not_found",
            message="There is no API at this address; see /api/openapi.json.",
        )
    )
