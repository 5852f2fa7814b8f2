"""The live site as deploy/checks.py meets it, without a network: a `fetch` that answers as the
deployed site does (docs/deploy.md, "The checks after a deploy"), or with one thing broken."""

import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from deploy.checks import Answer

FAULTS = (
    "no-redirect",  # CloudFront serves plain HTTP
    "never-cached",  # every page request reaches the function
    "page-down",  # the page answers 502
    "not-counted",  # the count answers but counts nothing
    "cacheable-sign-in",  # the sign-in page is cacheable
    "api-open",  # API Gateway's own address serves the API
    "no-viewer",  # the distribution does not forward CloudFront-Viewer-Address
    "unreachable",  # nothing answers at all
)


@dataclass
class FakeSite:
    host: str
    fault: str = ""
    requests: list[tuple[str, str]] = field(default_factory=list)
    _page_served: bool = False

    def __call__(
        self, method: str, url: str, *, headers: dict | None = None, body: bytes | None = None
    ) -> Answer:
        self.requests.append((method, url))
        if self.fault == "unreachable":
            raise ConnectionRefusedError(111, "Connection refused")
        parts = urlsplit(url)
        if parts.netloc != self.host:  # API Gateway's own address
            if self.fault == "api-open":
                return _json(200, {"count": 3})
            return _json(403, {"error": {"code": "edge_origin_required", "message": "..."}})
        if parts.scheme == "http":
            if self.fault == "no-redirect":
                return Answer(200, {"content-type": "text/html"}, b"<html>")
            return Answer(301, {"location": f"https://{self.host}{parts.path}"})
        return self._https(method, parts.path)

    def _https(self, method: str, path: str) -> Answer:
        if path == "/":
            if self.fault == "page-down":
                return Answer(502, {})
            hit = self._page_served and self.fault != "never-cached"
            self._page_served = True
            cache = "Hit from cloudfront" if hit else "Miss from cloudfront"
            return Answer(200, {"x-cache": cache, "content-type": "text/html"}, b"<html>")
        if path == "/api/count" and method == "POST":
            return _json(200, {"count": 4, "counted": self.fault != "not-counted"})
        if path == "/admin/login/":
            control = (
                "max-age=300, public"
                if self.fault == "cacheable-sign-in"
                else ("max-age=0, no-cache, no-store, must-revalidate, private")
            )
            return Answer(200, {"cache-control": control}, b"<form>")
        if path == "/api/health":
            seen = self.fault != "no-viewer"
            return _json(200, {"edge": True, "viewer_address": seen, "viewer_country": seen})
        return Answer(404, {})


def _json(status: int, value: dict) -> Answer:
    return Answer(status, {"content-type": "application/json"}, json.dumps(value).encode())
