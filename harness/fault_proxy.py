"""An HTTP proxy on loopback between the site and DynamoDB Local that injects one fault at a
time, for the fault tests (tests/deploy/test_package_faults.py, tests/owners/test_admin.py).

Faults (`proxy.fault = ...`), each what a real engine or network can do:

- `None`: pass every request and its answer on at once;
- "refused": nothing listens on the port (the listener is closed, open connections too), so a
  connection is refused as with a stopped engine;
- "hung": requests are read and never answered;
- "stalled": as a stopped engine process (`kill -STOP`) that is then resumed: requests are read
  and held, and once the fault changes each is passed on (DynamoDB applies it) and answered,
  by then to a site that has long given up on it;
- "late": each request is passed on at once (DynamoDB applies it) and its answer is held
  `delay` seconds, less or more than the site's read timeout;
- "dropped": the request is passed on and applied, then the connection is closed unanswered;
- "throttled": answered 400 ThrottlingException, nothing passed on;
- "error500": answered 500 InternalServerError, nothing passed on;
- "malformed": answered 200 with a body that is not JSON, nothing passed on.

It records every request it passes on (`forwarded`: the X-Amz-Target operation), so a test can
tell what reached the engine. Standard library only.
"""

import contextlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTS = (
    None, "refused", "hung", "stalled", "late", "dropped", "throttled", "error500", "malformed"
)  # fmt: skip
HUNG_LIMIT_SECONDS = 60.0  # a hung or stalled request is let go after this (or when it changes)


def _error_body(kind: str, message: str) -> bytes:
    return json.dumps(
        {"__type": f"com.amazonaws.dynamodb.v20120810#{kind}", "message": message}
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's pool expects
    server: "_Server"

    def setup(self) -> None:
        super().setup()
        self.server.proxy.track(self.connection)

    def do_POST(self) -> None:
        proxy = self.server.proxy
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        fault = proxy.fault
        if fault == "hung":
            proxy.hang_until_changed(fault)
            self.close_connection = True
            return
        if fault == "stalled":
            with proxy.holding():
                proxy.hang_until_changed(fault)
                try:
                    status, headers, answer = proxy.forward(self.path, dict(self.headers), body)
                except OSError:  # the engine is gone too (the proxy is stopping)
                    self.close_connection = True
                    return
            self._answer(status, answer, content_type=headers.get("Content-Type"))
            return
        if fault == "throttled":
            self._answer(400, _error_body("ThrottlingException", "Rate exceeded"))
            return
        if fault == "error500":
            self._answer(500, _error_body("InternalServerError", "Internal server error"))
            return
        if fault == "malformed":
            self._answer(200, b"<html>not DynamoDB</html>", content_type="text/html")
            return
        status, headers, answer = proxy.forward(self.path, dict(self.headers), body)
        if fault == "dropped":
            self._drop()
            return
        if fault == "late":
            time.sleep(proxy.delay)
        self._answer(status, answer, content_type=headers.get("Content-Type"))

    def _answer(self, status: int, body: bytes, *, content_type: str | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type or "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True  # the site gave up on this connection first

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    proxy: "FaultProxy"


class FaultProxy:
    def __init__(self, upstream_url: str) -> None:
        self.upstream = upstream_url.removeprefix("http://")
        self.delay = 0.0
        self.forwarded: list[str] = []
        self._fault: str | None = None
        self._held = 0
        self._changed = threading.Condition()
        self._lock = threading.Lock()
        probe = socket.create_server(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._server: _Server | None = None
        self._connections: set[socket.socket] = set()
        self._listen()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def fault(self) -> str | None:
        return self._fault

    @fault.setter
    def fault(self, fault: str | None) -> None:
        assert fault in FAULTS, fault
        with self._changed:
            self._fault = fault
            self._changed.notify_all()
        if fault == "refused" and self._server is not None:
            self._close()
        elif fault != "refused" and self._server is None:
            self._listen()

    def hang_until_changed(self, fault: str) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self._fault != fault, timeout=HUNG_LIMIT_SECONDS)

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        """A stalled request is held inside this block, until it has been passed on."""
        with self._changed:
            self._held += 1
        try:
            yield
        finally:
            with self._changed:
                self._held -= 1
                self._changed.notify_all()

    def wait_released(self, timeout: float = 30.0) -> bool:
        """Wait until every stalled request has been passed on to the engine (once the fault has
        changed); False if some are still held after `timeout` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: self._held == 0, timeout=timeout)

    def track(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def forward(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any, bytes]:
        """Pass one request to the engine; its status, headers and body."""
        with self._lock:
            self.forwarded.append(headers.get("X-Amz-Target", "").rsplit(".", 1)[-1])
        connection = http.client.HTTPConnection(self.upstream, timeout=30)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()

    def _listen(self) -> None:
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.proxy = self
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._server = server

    def _close(self) -> None:
        server, self._server = self._server, None
        server.shutdown()
        server.server_close()
        # Open keep-alive connections go too, so the next request must connect (and is refused).
        with self._lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self.fault = None  # lets hung requests go
        if self._server is not None:
            self._close()
