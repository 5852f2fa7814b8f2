"""Who sent a request, as both the counter and the owner's sign-in see it.

One place, so a page view and a sign-in attempt from the same browser are the same client, and
so the rule for the client's IP address (below) cannot be forgotten by one of its callers.

A client without an IP is unknown: it is never counted and never keys a limit, a visitor hash or
the sign-in pause. Behind the distribution that is a request whose CloudFront-Viewer-Address
did not arrive, which is logged at ERROR once per process under VIEWER_MISSING_MARKER
(docs/architecture.md, "The client's IP address").
"""

import ipaddress
import logging
import threading
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from core.edge import edge_request_verified

USER_AGENT_LIMIT = 512  # characters kept; enough to tell browsers apart, bounded for hashing
# An IPv6 client is keyed by its /64: one host (one home, one phone) is usually given a whole
# /64 and may use any address in it, as an IPv4 client uses its one address
# (docs/architecture.md, "The client's IP address").
IPV6_NETWORK_PREFIX = 64
UNKNOWN_COUNTRY = "unknown"
# The first word of the ERROR logged when a request through the distribution has no usable
# CloudFront-Viewer-Address; the stack's metric filter and alarm match it, so it never changes.
VIEWER_MISSING_MARKER = "EDGE_VIEWER_ADDRESS_MISSING"
VIEWER_MISSING_MESSAGE = (
    f"{VIEWER_MISSING_MARKER} A request came through the site's CloudFront distribution (it "
    "carried the origin secret) without a usable CloudFront-Viewer-Address, so the site cannot "
    "tell who sent it: such requests are answered but not counted, and cannot sign in. The "
    "distribution's origin request policy did not forward CloudFront-Viewer-Address; see "
    'docs/deploy.md, "The edge". Logged once per process.'
)

logger = logging.getLogger(__name__)
_viewer_missing_logged = False
_viewer_missing_lock = threading.Lock()


@dataclass(frozen=True)
class Client:
    """What a request tells about its sender. Never stored: only a daily keyed hash of it is."""

    ip: str
    user_agent: str
    # ISO 3166 code of the viewer's country as the site's own CloudFront distribution saw it;
    # "unknown" without one (never looked up from the IP).
    country: str = UNKNOWN_COUNTRY

    @property
    def known(self) -> bool:
        """False when the request does not tell who sent it (no usable IP): such a client is
        never counted and never keys a limit, a visitor hash or the sign-in pause."""
        return bool(self.ip)

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
    """The request's client: its IP address, User-Agent and country. The IP is API Gateway's
    source IP for the connection, or, only on a request carrying the verified origin secret,
    CloudFront-Viewer-Address; never X-Forwarded-For (docs/architecture.md, "The client's IP
    address"). Without a usable IP the client is unknown (`Client.known`)."""
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_LIMIT]
    viewer = _edge_viewer(request)
    if viewer is not None:
        return Client(ip=viewer.ip, user_agent=user_agent, country=viewer.country)
    if (event := request.META.get("lambda.event")) is not None:
        raw = _event_source_ip(event)
    else:
        raw = request.META.get("REMOTE_ADDR", "")
    return Client(ip=_normalised_ip(raw), user_agent=user_agent)


@dataclass(frozen=True)
class ViewerSeen:
    """What the function learns of a request's viewer from the distribution, as yes or no
    only (GET /api/health): never the address or the country themselves."""

    edge: bool  # the request carried the verified origin secret: it came through it
    viewer_address: bool  # ... with a usable CloudFront-Viewer-Address
    viewer_country: bool  # ... with a two-letter CloudFront-Viewer-Country


def viewer_seen(request: HttpRequest) -> ViewerSeen:
    """Whether the request came through the site's distribution, and whether that sent the
    viewer's address and country as `client_of` reads them."""
    viewer = _edge_viewer(request)
    if viewer is None:
        return ViewerSeen(edge=False, viewer_address=False, viewer_country=False)
    return ViewerSeen(
        edge=True,
        viewer_address=bool(viewer.ip),
        viewer_country=viewer.country != UNKNOWN_COUNTRY,
    )


@dataclass(frozen=True)
class _Viewer:
    ip: str  # normalised; empty if CloudFront-Viewer-Address was missing or unusable
    country: str


def _edge_viewer(request: HttpRequest) -> _Viewer | None:
    """The viewer as the distribution names it, on a request carrying the verified origin
    secret; None on any other request, which is never believed about either header. A missing
    or unusable address is logged once per process (`_viewer_missing_report`)."""
    if not edge_request_verified(request=request):
        return None
    ip = _normalised_ip(_viewer_address_ip(request.META.get("HTTP_CLOUDFRONT_VIEWER_ADDRESS", "")))
    if not ip:
        _viewer_missing_report()
    country = _country_code(request.META.get("HTTP_CLOUDFRONT_VIEWER_COUNTRY", ""))
    return _Viewer(ip=ip, country=country)


def _viewer_missing_report() -> None:
    """Log VIEWER_MISSING_MESSAGE at ERROR, the first time only in this process: the cause is
    the distribution's configuration, so one line per container is enough for the alarm, and a
    flood of such requests does not flood the logs."""
    global _viewer_missing_logged
    with _viewer_missing_lock:
        if _viewer_missing_logged:
            return
        _viewer_missing_logged = True
    logger.error(VIEWER_MISSING_MESSAGE)


def _viewer_address_ip(value: str) -> str:
    """The IP of `CloudFront-Viewer-Address`: `198.51.100.10:46532` and, for IPv6, the address
    and port unbracketed (`2001:db8::1:46532`) or bracketed (`[2001:db8::1]:46532`)."""
    value = value.strip()
    if value.startswith("["):
        address, _, _ = value[1:].partition("]")
        return address
    address, separator, port = value.rpartition(":")
    return address if separator and port.isdigit() else ""


def _country_code(value: str) -> str:
    """A two-letter ISO 3166 code, upper-case, as CloudFront sends it; anything else is unknown."""
    value = value.strip()
    if len(value) == 2 and value.isascii() and value.isalpha():
        return value.upper()
    return UNKNOWN_COUNTRY


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
