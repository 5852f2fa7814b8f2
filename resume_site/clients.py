"""Who sent a request, as both the counter and the owner's sign-in see it.

One place, so a page view and a sign-in attempt from the same browser are the same client, and
so the rule for the client's IP address (below) cannot be forgotten by one of its callers.
"""

import ipaddress
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

USER_AGENT_LIMIT = 512  # characters kept; enough to tell browsers apart, bounded for hashing
# An IPv6 client is keyed by its /64: one host (one home, one phone) is usually given a whole
# /64 and may use any address in it, as an IPv4 client uses its one address
# (docs/architecture.md, "The client's IP address").
IPV6_NETWORK_PREFIX = 64
UNKNOWN_COUNTRY = "unknown"


@dataclass(frozen=True)
class Client:
    """What a request tells about its sender. Never stored: only a daily keyed hash of it is."""

    ip: str
    user_agent: str
    # ISO 3166 code of the viewer's country as the site's own CloudFront distribution saw it;
    # "unknown" without one (never looked up from the IP).
    country: str = UNKNOWN_COUNTRY

    @property
    def network(self) -> str:
        """What the per-client limits, the sign-in pause and the visitor hash key a client by:
        an IPv4 address itself, an IPv6 address's /64 (like `2001:db8:1:2::/64`); an
        IPv4-mapped IPv6 address is its IPv4 address. Empty for no client."""
        if not self.ip:
            return ""
        address = ipaddress.ip_address(self.ip)
        if isinstance(address, ipaddress.IPv6Address):
            if address.ipv4_mapped is not None:
                return str(address.ipv4_mapped)
            return str(ipaddress.ip_network(f"{address}/{IPV6_NETWORK_PREFIX}", strict=False))
        return str(address)


def client_of(request: HttpRequest) -> Client:
    """The request's client: the source IP address API Gateway saw, and the User-Agent.

    On Lambda the IP is the one API Gateway itself records for the connection, in the event
    Zappa hands Django as `request.META["lambda.event"]`: `requestContext.identity.sourceIp` for
    a REST API (payload v1) or `requestContext.http.sourceIp` for an HTTP API (payload v2).
    Never a header: Zappa sets REMOTE_ADDR from the second-to-last `X-Forwarded-For` entry, and
    API Gateway only appends the real address to whatever `X-Forwarded-For` the client sent, so
    `X-Forwarded-For: 10.9.0.1` would make any client "10.9.0.1" (a new visitor per request,
    and a fresh sign-in limit per request). Without a Lambda event (`make run`, the tests'
    server) REMOTE_ADDR is the socket's peer address, which no header can change.

    An event without a usable source IP gives an empty IP: every such request is one client,
    rather than one the request's headers choose. See docs/architecture.md, "The client's IP
    address", for what changes if CloudFront is put in front of the API.
    """
    event = request.META.get("lambda.event")
    raw = _event_source_ip(event) if event is not None else request.META.get("REMOTE_ADDR", "")
    return Client(
        ip=_normalised_ip(raw),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_LIMIT],
    )


def _event_source_ip(event: Any) -> str:
    """`requestContext.http.sourceIp` (payload v2) or `requestContext.identity.sourceIp` (v1)."""
    context = event.get("requestContext") if isinstance(event, dict) else None
    if not isinstance(context, dict):
        return ""
    for section in ("http", "identity"):
        part = context.get(section)
        if isinstance(part, dict) and isinstance(part.get("sourceIp"), str):
            return part["sourceIp"]
    return ""


def _normalised_ip(raw: str) -> str:
    """One spelling per address (an IPv6 address has many), so one client is one client;
    anything that is not an IP address is no client."""
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        return ""
