"""Fault behaviour: the engine stopped, slow or throttling. Nothing lost, clear errors within
the deadline (a page fails fast rather than hangs), and the resume page still renders."""

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scripts import dynamodb_local

# 1 s connect + 1 s read with 1 retry is the budget; allow for the retry's back-off.
DEADLINE_SECONDS = 3.0


def _timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


@pytest.mark.dynamodb_local
def test_a_stopped_engine_gives_503_and_a_restarted_one_lost_nothing(client, settings, tmp_path):
    port = dynamodb_local.free_port()
    settings.DYNAMODB_ENDPOINT_URL = f"http://127.0.0.1:{port}"
    settings.DYNAMODB_TABLE = "faults"
    engine = dynamodb_local.start(port, tmp_path)
    try:
        from resume_site import dynamodb

        dynamodb.table_ensure()
        for expected in (1, 2, 3):
            assert client.post("/api/count").json() == {"count": expected, "counted": True}
    finally:
        dynamodb_local.stop(engine)

    page = client.get("/")
    assert page.status_code == 200
    response, elapsed = _timed(lambda: client.post("/api/count"))
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert "unavailable" in response.json()["error"]["message"]
    assert elapsed < DEADLINE_SECONDS
    assert client.get("/api/count").status_code == 503

    engine = dynamodb_local.start(port, tmp_path)
    try:
        assert client.get("/api/count").json()["count"] == 3  # nothing lost on disk
        assert client.post("/api/count").json() == {"count": 4, "counted": True}
    finally:
        dynamodb_local.stop(engine)


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A TCP server that accepts connections and never answers: a hung engine."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_slow_engine_gives_503_within_the_deadline(client, settings, silent_endpoint):
    settings.DYNAMODB_ENDPOINT_URL = silent_endpoint
    response, elapsed = _timed(lambda: client.post("/api/count"))
    assert response.status_code == 503
    assert elapsed < DEADLINE_SECONDS
    assert client.get("/").status_code == 200


class _Throttling(BaseHTTPRequestHandler):
    calls = 0

    def do_POST(self) -> None:
        type(self).calls += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps(
            {
                "__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                "message": "Rate of requests exceeds the allowed throughput.",
            }
        ).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_throttling_gives_503_after_a_bounded_retry(client, settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Throttling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings.DYNAMODB_ENDPOINT_URL = f"http://127.0.0.1:{server.server_port}"
        _Throttling.calls = 0
        response, elapsed = _timed(lambda: client.post("/api/count"))
        assert response.status_code == 503
        assert response["Retry-After"] == "5"
        assert elapsed < DEADLINE_SECONDS
        assert _Throttling.calls == 1 + settings.DYNAMODB_MAX_RETRIES
    finally:
        server.shutdown()
        server.server_close()
