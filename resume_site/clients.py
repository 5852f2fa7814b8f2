"""Who sent a request, as both the counter and the owner's sign-in see it.

One place, so a page view and a sign-in attempt from the same browser are the same client.
"""

from dataclasses import dataclass

from django.http import HttpRequest

USER_AGENT_LIMIT = 512  # characters kept; enough to tell browsers apart, bounded for hashing


@dataclass(frozen=True)
class Client:
    """What a request tells about its sender. Never stored: only a daily keyed hash of it is."""

    ip: str
    user_agent: str


def client_of(request: HttpRequest) -> Client:
    """The request's client; REMOTE_ADDR is the source IP that API Gateway reports."""
    return Client(
        ip=request.META.get("REMOTE_ADDR", ""),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_LIMIT],
    )
