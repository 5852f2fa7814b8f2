"""Thin JSON views over counter.services."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from counter import services
from resume_site.clients import client_of

# The API changes no user's state and holds no session, so CSRF protection has nothing to
# protect; it is exempt on purpose so a plain fetch() (and other allow-listed front ends) works.
ALLOWED_METHODS = ("GET", "HEAD", "POST")


@csrf_exempt
@never_cache
def count(request: HttpRequest) -> JsonResponse:
    """GET: the current total. POST: count this page view and return the new total."""
    if request.method not in ALLOWED_METHODS:
        response = JsonResponse(
            {"error": f"method {request.method} not allowed; use GET or POST"}, status=405
        )
        response["Allow"] = ", ".join(ALLOWED_METHODS)
        return response
    try:
        if request.method == "POST":
            outcome = services.count_view(visitor=client_of(request))
        else:
            outcome = None
            total = services.count_get()
    except services.CounterUnavailable as error:
        response = JsonResponse({"error": str(error)}, status=503)
        response["Retry-After"] = "5"
        return response
    if outcome is None:
        return JsonResponse({"count": total})
    if outcome.refused:
        response = JsonResponse({"error": "too many views from this client"}, status=429)
        response["Retry-After"] = str(outcome.retry_after)
        return response
    return JsonResponse({"count": outcome.count, "counted": outcome.counted})
