"""The site's own middleware: the Permissions-Policy header (Django has none of its own), and
the time budget of a request's DynamoDB calls."""

from collections.abc import Callable, Mapping, Sequence

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from core.dynamodb import budget

API_PREFIX = "/api/"


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


class DynamoDBBudgetMiddleware:
    """Every request's DynamoDB calls share one time budget: DYNAMODB_API_BUDGET for the API,
    DYNAMODB_ADMIN_BUDGET for everything else (the owner's pages; the resume page makes none)
    (core.dynamodb.budget)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        api = request.path_info.startswith(API_PREFIX)
        seconds = settings.DYNAMODB_API_BUDGET if api else settings.DYNAMODB_ADMIN_BUDGET
        with budget(seconds):
            return self.get_response(request)
