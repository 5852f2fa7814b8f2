"""deploy/checks.py: the live checks pass on a healthy site and name exactly what is broken."""

import http.server
import threading
from collections.abc import Iterator

import pytest

from deploy import checks
from tests.deploy.fake_site import FAULTS, FakeSite

HOST = "resume.example.com"
SITE = f"https://{HOST}"
API = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod"
BROKEN_CHECK = {
    "no-redirect": "HTTP redirects to HTTPS",
    "never-cached": "the page answers and is cached at the edge",
    "page-down": "the page answers and is cached at the edge",
    "not-counted": "a view is counted",
    "cacheable-sign-in": "the sign-in page is not cacheable",
    "api-open": "API Gateway refuses a direct request",
    "no-viewer": "the function sees the viewer's address and country",
}


def test_a_healthy_site_passes_every_check() -> None:
    report = checks.run(site_url=SITE, api_url=API, fetch=FakeSite(HOST))
    assert len(report.results) == 6
    assert report.failed == []


@pytest.mark.parametrize("fault", sorted(BROKEN_CHECK))
def test_each_fault_fails_its_own_check_and_no_other(fault: str) -> None:
    report = checks.run(site_url=SITE, api_url=API, fetch=FakeSite(HOST, fault=fault))
    assert [result.name for result in report.failed] == [BROKEN_CHECK[fault]]


def test_an_unreachable_site_fails_every_check_without_raising() -> None:
    report = checks.run(site_url=SITE, api_url=API, fetch=FakeSite(HOST, fault="unreachable"))
    assert len(report.failed) == 6
    assert all(result.detail.startswith("no answer:") for result in report.failed)


def test_the_faults_listed_are_the_ones_tested() -> None:
    assert set(FAULTS) == set(BROKEN_CHECK) | {"unreachable"}


def test_the_checks_make_no_request_beyond_the_site_and_its_api() -> None:
    site = FakeSite(HOST)
    checks.run(site_url=SITE, api_url=API, fetch=site)
    hosts = {url.split("/")[2] for _, url in site.requests}
    assert hosts == {HOST, API.split("/")[2]}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/moved":
            self.send_response(301)
            self.send_header("Location", "https://elsewhere.example/")
        else:
            self.send_response(404)
            self.send_header("X-Cache", "Error from cloudfront")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"no")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_fetch_follows_no_redirect_and_returns_error_statuses(server: str) -> None:
    moved = checks.fetch("GET", f"{server}/moved")
    assert (moved.status, moved.headers["location"]) == (301, "https://elsewhere.example/")
    missing = checks.fetch("GET", f"{server}/missing")
    assert (missing.status, missing.headers["x-cache"], missing.body) == (
        404,
        "Error from cloudfront",
        b"no",
    )
