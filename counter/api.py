"""The counter API's rules for a request, apart from counting it: which pages may call it (the
site's own origin and COUNTER_ALLOWED_ORIGINS, with CORS for the latter), what a body may be,
which requests are automated (crawlers, headless browsers, prefetches) and so never counted, and
the one JSON shape of every error. They hold for a view (/api/count) and a click on one of the
page's links (/api/click) alike. docs/architecture.md, "Request flow", gives the order.
"""

import json
import re
from functools import cache, lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse

METHODS = ("GET", "POST", "OPTIONS")
CLICK_METHODS = ("POST", "OPTIONS")  # a click is only ever reported, never read
BODY_LIMIT = 1024  # bytes; a body is empty or a JSON object of at most this size
# Who is a person (docs/architecture.md, "Only people's views count"). The crawler list is
# ~1,500 patterns tried at every position of the text, and crafted text costs more than linear
# time (bench/crawler_detection.py), so the whole User-Agent is matched in windows of 256
# characters that overlap by half: any name of up to 128 characters lies whole in one window, and
# the cost grows linearly, bounded by USER_AGENT_MAX.
DETECTOR_WINDOW = 256
DETECTOR_STRIDE = 128
USER_AGENT_MAX = 1024  # characters; no browser sends more, and a longer one is not counted
# Every current browser's User-Agent starts with "Mozilla/5.0 (" and names its engine: Blink and
# WebKit say AppleWebKit/, Gecko says Gecko/ (and Trident/ for the last Internet Explorer).
# Anything else is a tool, a library or a script: `node`, `Deno/1.40`, `k6/0.49`, a bare
# `Mozilla/5.0`, `Mozilla/5.0 (compatible; MyScanner/1.0)`, one-character agents.
BROWSER_PREFIX = "mozilla/5.0 ("
BROWSER_ENGINES = ("applewebkit/", "gecko/", "trident/")
# Browser engines driven by a program, which name themselves in an otherwise browser-like
# User-Agent and are not on the crawler list.
AUTOMATION_PATTERN = re.compile(r"\b(?:electron|cypress|jsdom)/", re.IGNORECASE)
HEADLESS_MARKERS = ("headless", "phantomjs", "slimerjs")  # also in Sec-CH-UA, beyond the list
# A prefetch or a preview is the browser guessing, not a person reading the page:
# `Sec-Purpose: prefetch` (and `prefetch;prerender`), `Purpose: prefetch`, `X-Moz: prefetch`,
# `X-Purpose: preview`.
PURPOSE_HEADERS = ("HTTP_SEC_PURPOSE", "HTTP_PURPOSE", "HTTP_X_PURPOSE", "HTTP_X_MOZ")
PURPOSE_WORDS = ("prefetch", "preview")
PREFLIGHT_MAX_AGE = 600  # seconds a browser may reuse an answered preflight


class ApiError(Exception):
    """A request the API answers with an error: status, a stable code and a sentence."""

    def __init__(
        self, *, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_response(*, error: ApiError) -> JsonResponse:
    """The one error shape: `{"error": {"code": ..., "message": ...}}`."""
    return JsonResponse(
        {"error": {"code": error.code, "message": error.message}},
        status=error.status,
        headers=error.headers,
    )


def method_check(*, request: HttpRequest, methods: tuple[str, ...] = METHODS) -> None:
    """405 with `Allow` for any method but `methods` (the counter's: GET, POST and OPTIONS)."""
    if request.method not in methods:
        raise ApiError(
            status=405,
            code="method_not_allowed",
            message=f"Method {request.method} is not allowed here; use {', '.join(methods)}.",
            headers={"Allow": ", ".join(methods)},
        )


def _own_origin(request: HttpRequest) -> str:
    """The site's canonical origin, SITE_URL (always set in production), never the `Host` API
    Gateway saw: behind CloudFront that is the origin's `*.execute-api` name, not the address the
    page was read at. Locally, without SITE_URL, the scheme and host the request came to."""
    if settings.SITE_URL:
        return settings.SITE_URL.lower()
    return f"{request.scheme}://{request.get_host()}".lower()


def _allowed_extra_origin(request: HttpRequest) -> str | None:
    """The request's Origin if it is one of COUNTER_ALLOWED_ORIGINS."""
    origin = request.headers.get("Origin", "").lower()
    return origin if origin in settings.COUNTER_ALLOWED_ORIGINS else None


def origin_check(*, request: HttpRequest) -> None:
    """403 for a POST that a page of another site sent.

    A browser names the page's origin in `Origin` on every POST made by script; it must be the
    site's own or in COUNTER_ALLOWED_ORIGINS, so no other page on the web can add views. Without
    `Origin` (curl, a server) the request is allowed, and counted within the limits like any
    other, unless the browser says in `Sec-Fetch-Site` that it crossed sites.
    """
    origin = request.headers.get("Origin")
    accepted = origin is not None and (
        origin.lower() == _own_origin(request) or _allowed_extra_origin(request) is not None
    )
    if origin is not None and not accepted:
        raise ApiError(
            status=403,
            code="origin_not_allowed",
            message=f"Pages of {origin} may not count views here.",
        )
    if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site" and not accepted:
        raise ApiError(
            status=403,
            code="origin_not_allowed",
            message="A cross-site request needs an Origin that may count views here.",
        )


def cors_headers(*, request: HttpRequest, methods: str = "GET, POST") -> dict[str, str]:
    """CORS headers for a request from one of COUNTER_ALLOWED_ORIGINS, none for anyone else;
    a preflight is told `methods` (the count's GET and POST; a click's POST).

    The site's own pages need none (same origin). Credentials are never allowed: the API holds
    no session.
    """
    origin = _allowed_extra_origin(request)
    if origin is None:
        return {}
    headers = {"Access-Control-Allow-Origin": origin}
    if request.method == "OPTIONS":
        headers["Access-Control-Allow-Methods"] = methods
        headers["Access-Control-Allow-Headers"] = "Content-Type"
        headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
    else:
        headers["Access-Control-Expose-Headers"] = "Retry-After"
    return headers


def body_check(*, request: HttpRequest) -> dict[str, Any]:
    """The POST body: empty, or a JSON object of at most BODY_LIMIT bytes; returns the object.

    Reads at most BODY_LIMIT + 1 bytes whatever Content-Length says, so a large body costs
    nothing to refuse (413). A body needs `Content-Type: application/json` (415) and must be a
    JSON object (400). The query string is never read.
    """
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0  # Django then reads no body at all
    if declared > BODY_LIMIT:
        raise _too_large()
    data = request.read(BODY_LIMIT + 1)
    if len(data) > BODY_LIMIT:
        raise _too_large()
    if not data:
        return {}
    if request.content_type != "application/json":
        raise ApiError(
            status=415,
            code="unsupported_media_type",
            message="A body must be sent as Content-Type: application/json.",
        )
    try:
        parsed = json.loads(data)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ApiError(
            status=400, code="invalid_body", message="The body must be empty or a JSON object."
        )
    return parsed


def _too_large() -> ApiError:
    return ApiError(
        status=413,
        code="body_too_large",
        message=f"The body must be at most {BODY_LIMIT} bytes.",
    )


# What makes a crawler pattern a regular expression rather than plain text.
REGEX_SYNTAX = frozenset(".^$*+?{}[]\\|()")
CRAWLER_CACHE_SIZE = 1024  # User-Agents whose answer a process keeps, as crawlerdetect does


def plain_text(pattern: str) -> tuple[bool, str] | None:
    """(anchored at the start, the text) of a pattern that only looks for ASCII text, perhaps
    at the start: `^Java\\/` is (True, "Java/"); None for any other pattern. A backslash before
    any ASCII character but a letter or a digit stands for that character."""
    anchored = pattern.startswith("^")
    text: list[str] = []
    rest = iter(pattern[1:] if anchored else pattern)
    for char in rest:
        if char == "\\":
            char = next(rest, "")
            if not char or not char.isascii() or char.isalnum():
                return None
        elif char in REGEX_SYNTAX or not char.isascii():
            return None
        text.append(char)
    return (anchored, "".join(text)) if text else None


class CrawlerList:
    """crawlerdetect's list (its `CrawlerDetect.is_crawler`), matched the way it matches it, at
    a fraction of the cost of its first use.

    crawlerdetect joins its ~1,500 patterns into one case-insensitive expression and searches the
    User-Agent for it once the exclusions (browser tokens: `Safari/537.36`, `Linux`, ...) are
    removed. Compiling that expression is most of what its first use costs (about 25 ms of a
    cold start, bench/README.md), yet all but a few dozen patterns only look for a text, some
    at the start: those are looked for as text in the lower-cased User-Agent, and only the rest
    is compiled. For an ASCII User-Agent the answer is crawlerdetect's, pattern for pattern (no
    pattern matches an empty text, so "anywhere" means the same in both); any other text is left
    to crawlerdetect itself, whose case rules reach beyond ASCII. tests/counter/test_api.py
    compares the two.
    """

    def __init__(self) -> None:
        from crawlerdetect import CrawlerDetect
        from crawlerdetect.providers.crawlers import data as crawlers
        from crawlerdetect.providers.exclusions import data as exclusions

        anywhere: dict[str, None] = {}
        starts: dict[str, None] = {}
        patterns = []
        for pattern in crawlers:
            if (plain := plain_text(pattern)) is None:
                patterns.append(pattern)
            else:
                (starts if plain[0] else anywhere)[plain[1].lower()] = None
        self._anywhere, self._starts = tuple(anywhere), tuple(starts)
        # An empty expression would match every text: with no pattern left, there is none.
        self._patterns = re.compile(f"({'|'.join(patterns)})", re.IGNORECASE) if patterns else None
        self._exclusions = re.compile(f"({'|'.join(exclusions)})", re.IGNORECASE)
        self._library = cache(CrawlerDetect)  # made, its expression compiled, only if needed
        self.is_crawler = lru_cache(maxsize=CRAWLER_CACHE_SIZE)(self._is_crawler)

    def _is_crawler(self, text: str) -> bool:
        text = text.strip()
        if not text:
            return False
        if not text.isascii():
            return self._library().is_crawler(text)
        agent = self._exclusions.sub("", text)
        if not agent:
            return False
        lowered = agent.lower()
        return (
            lowered.startswith(self._starts)
            or any(word in lowered for word in self._anywhere)
            or bool(self._patterns and self._patterns.search(agent))
        )


@cache
def _crawler_detector() -> CrawlerList:
    """The crawler list, loaded on the first POST of a process, not at import: a page view
    should not pay for it (bench/crawler_detection.py). Kept for the process's life."""
    return CrawlerList()


def request_is_automated(*, request: HttpRequest) -> bool:
    """True for a request no person is behind, which is answered but never counted: an empty
    User-Agent, a prefetch or preview, a headless browser, anything not shaped like a browser's
    User-Agent, a browser engine driven by a program (Electron, Cypress, jsdom), or a known crawler
    or tool anywhere in the User-Agent (crawlerdetect's maintained list: Googlebot, bingbot, curl,
    python-requests, ...)."""
    user_agent = request.headers.get("User-Agent", "").strip()
    if not user_agent or len(user_agent) > USER_AGENT_MAX:
        return True
    for header in PURPOSE_HEADERS:
        if any(word in request.META.get(header, "").lower() for word in PURPOSE_WORDS):
            return True
    hints = f"{user_agent} {request.headers.get('Sec-CH-UA', '')}".lower()
    if any(marker in hints for marker in HEADLESS_MARKERS):
        return True
    if not user_agent_is_browser_shaped(user_agent=user_agent):
        return True
    if AUTOMATION_PATTERN.search(user_agent):
        return True
    return user_agent_is_listed(user_agent=user_agent)


def user_agent_is_browser_shaped(*, user_agent: str) -> bool:
    """True if it starts with "Mozilla/5.0 (" and names a browser engine, as every current
    browser's does (Chrome, Edge, Safari, Firefox, Samsung Internet, on desktop and phone)."""
    lowered = user_agent.lower()
    return lowered.startswith(BROWSER_PREFIX) and any(
        engine in lowered for engine in BROWSER_ENGINES
    )


def user_agent_is_listed(*, user_agent: str) -> bool:
    """True if the crawler list matches anywhere in the User-Agent, in windows of
    DETECTOR_WINDOW characters overlapping by half: linear time in the length, which
    request_is_automated bounds by USER_AGENT_MAX."""
    detector = _crawler_detector()
    last = max(len(user_agent) - DETECTOR_WINDOW, 0)
    starts = [*range(0, last, DETECTOR_STRIDE), last]
    return any(detector.is_crawler(user_agent[start : start + DETECTOR_WINDOW]) for start in starts)
