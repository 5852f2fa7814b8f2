"""The live site checked after every deploy, as a visitor and an attacker would meet it.

Each check says what it proved or what failed; `make deploy` exits non-zero on any failure
(docs/deploy.md, "The checks after a deploy", says what each means and what to do).
"""

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 15
# A current browser's User-Agent: the counter counts people's browsers only.
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
CACHE_TRIES = 3  # the first request fills the edge's cache; one of the next must be a hit


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes = b""

    def json(self) -> dict:
        try:
            value = json.loads(self.body)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


Fetch = Callable[..., Answer]


@dataclass
class Result:
    name: str
    ok: bool
    detail: str


@dataclass
class Report:
    results: list[Result] = field(default_factory=list)

    @property
    def failed(self) -> list[Result]:
        return [result for result in self.results if not result.ok]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def fetch(
    method: str, url: str, *, headers: dict[str, str] | None = None, body: bytes | None = None
) -> Answer:
    """One request, redirects not followed; any HTTP status is an Answer."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310 (the site's own https URL)
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            status, raw_headers, content = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, raw_headers, content = error.code, error.headers, error.read()
    return Answer(status, {name.lower(): value for name, value in raw_headers.items()}, content)


def _check(report: Report, name: str, run: Callable[[], tuple[bool, str]]) -> None:
    try:
        ok, detail = run()
    except OSError as error:  # refused, timed out, TLS or DNS failures
        ok, detail = False, f"no answer: {error}"
    report.results.append(Result(name, ok, detail))


def run(*, site_url: str, api_url: str, fetch: Fetch = fetch) -> Report:
    """Every check against the site at `site_url` and its API Gateway stage at `api_url`.
    (Over 60 lines: six small checks, each a closure over the site's addresses and `fetch`,
    written where they run.)"""
    site, host = site_url.rstrip("/"), urlsplit(site_url).netloc
    report = Report()

    def https_redirect() -> tuple[bool, str]:
        answer = fetch("GET", f"http://{host}/")
        location = answer.headers.get("location", "")
        ok = answer.status in (301, 308) and location.startswith(f"https://{host}/")
        return ok, f"http://{host}/ answered {answer.status} to {location or 'nowhere'}"

    def page_from_edge() -> tuple[bool, str]:
        seen = []
        for _ in range(CACHE_TRIES):
            answer = fetch("GET", f"{site}/")
            cache = answer.headers.get("x-cache", "")
            seen.append(f"{answer.status} {cache or 'no X-Cache'}")
            if answer.status != 200:
                return False, f"the page answered {answer.status}"
            if len(seen) > 1 and cache.lower().startswith("hit"):
                return True, f"200, then served from the edge cache ({cache})"
        return False, f"the page was never served from the edge cache: {', '.join(seen)}"

    def view_counted() -> tuple[bool, str]:
        answer = fetch(
            "POST",
            f"{site}/api/count",
            headers={
                "User-Agent": BROWSER,
                "Origin": site,
                "Sec-Fetch-Site": "same-origin",
                "Content-Type": "application/json",
            },
            body=b"{}",
        )
        counted = answer.json().get("counted")
        return answer.status == 200 and counted is True, (
            f"POST /api/count answered {answer.status}, counted: {counted}"
        )

    def sign_in_uncached() -> tuple[bool, str]:
        answer = fetch("GET", f"{site}/admin/login/", headers={"User-Agent": BROWSER})
        control = answer.headers.get("cache-control", "")
        words = {word.strip() for word in control.lower().split(",")}
        ok = answer.status == 200 and bool(words & {"no-store", "private"})
        return ok, f"/admin/login/ answered {answer.status} with Cache-Control: {control!r}"

    def direct_api_refused() -> tuple[bool, str]:
        answer = fetch("GET", f"{api_url.rstrip('/')}/api/count")
        code = answer.json().get("error", {}).get("code")
        return answer.status == 403, f"API Gateway's own address answered {answer.status} {code}"

    def viewer_seen() -> tuple[bool, str]:
        answer = fetch("GET", f"{site}/api/health", headers={"User-Agent": BROWSER})
        facts = answer.json()
        wanted = ("edge", "viewer_address", "viewer_country")
        ok = answer.status == 200 and all(facts.get(name) is True for name in wanted)
        shown = ", ".join(f"{name}: {facts.get(name)}" for name in wanted)
        return ok, f"/api/health answered {answer.status}: {shown}"

    _check(report, "HTTP redirects to HTTPS", https_redirect)
    _check(report, "the page answers and is cached at the edge", page_from_edge)
    _check(report, "a view is counted", view_counted)
    _check(report, "the sign-in page is not cacheable", sign_in_uncached)
    _check(report, "API Gateway refuses a direct request", direct_api_refused)
    _check(report, "the function sees the viewer's address and country", viewer_seen)
    return report
