"""Fixtures of the counter's tests: a client that calls the API as the page's script does,
patient timeouts, a delaying proxy, the stored total, the DynamoDB round trips of a call, the
counter's clocks stopped on DAY, and views counted on a given day.

The client sends a person's User-Agent (a request without one is never counted, counter/api.py)
and a POST without a body unless a test gives one; bots, bodies and content types are tested by
giving them explicitly."""

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from django.test import Client
from django.test.client import MULTIPART_CONTENT

from core.clients import Client as Visitor
from core.dynamodb import TableModel
from core.failures import failures_raise
from counter.services import CounterUnavailable, clicks, counting, visitors
from counter.visits import Visit
from harness.delaying_proxy import DelayingProxy
from tests.conftest import DAY, stored_views

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


class BrowserClient(Client):
    """Django's test client, posting like static/js/counter.js: no body, no content type.
    (Django's own `post()` without data still sends an empty multipart form, which the API
    refuses with 415 as it would from any other client.)"""

    def post(self, path, data=None, content_type=None, **extra):
        if data is None and content_type is None:
            return self.generic("POST", path, **extra)
        return super().post(path, data, content_type or MULTIPART_CONTENT, **extra)


@pytest.fixture
def client() -> BrowserClient:
    return BrowserClient(HTTP_USER_AGENT=BROWSER)


@pytest.fixture
def patient_engine(ddb_table: str, settings) -> str:
    """DynamoDB Local with long timeouts: for proofs of exact counts under load, where a busy
    machine may answer slower than the site's one-second timeout, and a request that timed out
    would (rightly) fail instead of being sent again. Yields the table's name."""
    settings.DYNAMODB_CONNECT_TIMEOUT = 10.0
    settings.DYNAMODB_READ_TIMEOUT = 30.0
    return ddb_table


@pytest.fixture
def proxy(ddb_table: str, dynamodb_endpoint: str, settings) -> Iterator[DelayingProxy]:
    """The site's DynamoDB calls go through a DelayingProxy to DynamoDB Local (a fresh table)."""
    port = int(dynamodb_endpoint.rsplit(":", 1)[1])
    running = DelayingProxy(port).start()
    settings.DYNAMODB_ENDPOINT_URL = running.url
    yield running
    running.stop()


@pytest.fixture
def engine_total(ddb_table: str, dynamodb_endpoint: str) -> Callable[[], int]:
    """Reads the stored total straight from DynamoDB Local, past any proxy or setting."""
    return lambda: stored_views(dynamodb_endpoint, ddb_table)


class RoundTrips:
    """Records each DynamoDB request's sending and answer on the shared client, to count how
    many a call waited on one after another."""

    def __init__(self) -> None:
        self._events: list[tuple[str, int]] = []
        self._lock = threading.Lock()

    def _record(self, kind: str) -> None:
        with self._lock:
            self._events.append((kind, threading.get_ident()))

    def sent(self, **_) -> None:
        self._record("sent")

    def answered(self, **_) -> None:
        self._record("answered")

    def clear(self) -> None:
        with self._lock:
            self._events.clear()

    def requests(self) -> int:
        return sum(kind == "sent" for kind, _ in self._events)

    def sequential(self) -> int:
        """The longest chain of requests each sent after the one before it was answered."""
        open_requests: dict[int, int] = {}
        spans = []
        for position, (kind, thread) in enumerate(self._events):
            if kind == "sent":
                open_requests[thread] = position
            else:
                spans.append((open_requests.pop(thread), position))
        spans.sort()
        chain: list[int] = []
        for index, (sent, _) in enumerate(spans):
            before = [chain[j] for j in range(index) if spans[j][1] < sent]
            chain.append(1 + max(before, default=0))
        return max(chain, default=0)


@pytest.fixture
def round_trips(proxy, settings) -> RoundTrips:
    """Round trips through a proxy that holds each answer 0.2 s, so that requests sent at the
    same time are all out before the first answer (patient timeouts: a busy machine's engine
    may add seconds)."""
    settings.DYNAMODB_READ_TIMEOUT = 30.0
    proxy.delay = 0.2
    recorder = RoundTrips()
    events = TableModel._get_connection().connection.client.meta.events
    events.register("before-send.dynamodb", recorder.sent)
    events.register("needs-retry.dynamodb", recorder.answered)
    return recorder


def minute_start() -> float:
    """The start of the current minute of DAY (its last minute once DAY is over): the clock the
    limits' tests set their services to."""
    last = dt.datetime.combine(DAY, dt.time(23, 59), dt.UTC).timestamp()
    return min(time.time() // 60 * 60, last)


def counter_clock_stop(monkeypatch: pytest.MonkeyPatch) -> float:
    """Stop the counter's clocks 20 seconds into `minute_start()`, and its today at DAY: the
    views and clicks a test makes, their limits' minute and the day's figures it reads all fall
    on DAY, whenever it runs (across midnight too). Returns the time the clocks show."""
    now = minute_start() + 20
    monkeypatch.setattr(counting, "_now", lambda: now)
    monkeypatch.setattr(clicks, "_now", lambda: now)
    monkeypatch.setattr(visitors, "today", lambda: DAY)
    return now


@pytest.fixture
def at_second_20(monkeypatch: pytest.MonkeyPatch) -> float:
    """The counter's clocks stopped 20 seconds into the current minute of DAY
    (`counter_clock_stop`); the fixture's value is the time they show."""
    return counter_clock_stop(monkeypatch)


def view_add(
    *, visitor: Visitor | None = None, visit: Visit | None = None, day: dt.date = DAY
) -> int:
    """Count one view on `day` (DAY unless given) and return the total after it, without the
    limits: with a visitor as `view_count` counts one its limits let through (the claim of the
    visitor's first view of the day, then the view's ADD), without one the view's ADD alone.
    For the tests that need views on a given day, more than the limits allow, or the day's
    views alone; the site itself only ever calls `view_count`."""
    with failures_raise(CounterUnavailable):
        if visitor is None:
            return counting._views_add(day=day, visit=visit, sums=None, unique=False)[0]
        digest = visitors.visitor_digest(visitor=visitor, day=day)
        claim = counting._claim_send(digest=digest, day=day)
        return counting._count(digest=digest, day=day, visit=visit, claim=claim)
