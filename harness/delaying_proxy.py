"""A TCP proxy on loopback in front of DynamoDB Local that can delay or drop its answers.

Requests pass at once, so the engine applies every write it is sent; the proxy can then hold
each answer back (`delay` seconds: past the read timeout the site gives up, though the write
was applied), or drop the connection once the answer has arrived (`drop`), the two ambiguous
failures a write must survive without being sent again. It records each request it passes
(`requests`: the X-Amz-Target operation and the JSON body), so a test can count what the site
sent. The counter's fault tests use it, and bench/lambda_cold.py to add network latency.
Standard library only.
"""

import contextlib
import re
import socket
import threading
import time
from dataclasses import dataclass

_TARGET = re.compile(rb"X-Amz-Target: DynamoDB_\d+\.(\w+)", re.IGNORECASE)
_CHUNK = 65536


@dataclass
class Request:
    operation: str
    body: str


class DelayingProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.delay = 0.0
        self.drop = False
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._stopping = threading.Event()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def operations(self, name: str, *, containing: str = "") -> list[Request]:
        """The requests of one operation passed so far, whose body holds `containing`."""
        with self._lock:
            return [r for r in self.requests if r.operation == name and containing in r.body]

    def start(self) -> "DelayingProxy":
        self._spawn(self._accept)
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            _close(sock)
        for thread in self._threads:
            thread.join(timeout=10)
        self._listener.close()

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            for sock in (client, upstream):  # pass each piece on at once (no Nagle wait)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._sockets += [client, upstream]
            answered = threading.Event()  # set when a request waits for its answer
            self._spawn(self._requests_pass, client, upstream, answered)
            self._spawn(self._answers_pass, upstream, client, answered)

    def _requests_pass(self, client: socket.socket, upstream: socket.socket, waiting) -> None:
        pending = b""
        while data := _recv(client):
            pending = self._record(pending + data)
            waiting.set()
            try:
                upstream.sendall(data)
            except OSError:
                break
        _close(upstream)

    def _record(self, data: bytes) -> bytes:
        """Record every complete request in `data`; return the incomplete rest."""
        while True:
            head, separator, rest = data.partition(b"\r\n\r\n")
            if not separator:
                return data
            length = re.search(rb"Content-Length: (\d+)", head, re.IGNORECASE)
            size = int(length.group(1)) if length else 0
            if len(rest) < size:
                return data
            target = _TARGET.search(head)
            with self._lock:
                self.requests.append(
                    Request(
                        operation=target.group(1).decode() if target else "",
                        body=rest[:size].decode(errors="replace"),
                    )
                )
            data = rest[size:]

    def _answers_pass(self, upstream: socket.socket, client: socket.socket, waiting) -> None:
        while data := _recv(upstream):
            if waiting.is_set():
                waiting.clear()
                if self.drop:
                    break
                if self.delay:
                    time.sleep(self.delay)
            try:
                client.sendall(data)
            except OSError:
                break
        _close(client)
        _close(upstream)


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(_CHUNK)
    except OSError:
        return b""


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
