"""Fault behaviour: the engine stopped, hung, slow, dropping connections or throttling.

Nothing is lost and nothing is counted twice: a write DynamoDB may have applied (its answer
came too late, or its connection dropped after it was sent) is never sent again, so the stored
total never exceeds the views posted, and each POST adds at most one; a write DynamoDB certainly
did not apply (throttled, connection refused) is sent again. Errors come within the deadline (a
page fails fast rather than hangs), and the resume page still renders.
"""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.awsrequest import AWSResponse

from counter import services
from counter.services import totals, visitors
from scripts import dynamodb_local
from tests.conftest import DAY
from tests.counter.conftest import view_add

# The API's budget (1 s) and nothing sent again, with room for the request's own work on a
# machine loaded to 8 on two cores; a hang (PynamoDB's own timeouts are 15 s and 30 s) is far
# past it. What was sent again is counted, not timed (the proxy's log, the hooks' counts).
DEADLINE_SECONDS = 5.0
VIEWS_UPDATE = '{"pk": {"S": "day#'  # how the day's views' key starts in a request body
AMBIGUOUS = "The view may have been counted"
NOT_APPLIED = "The view was not counted: DynamoDB refused it"


def _timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


@pytest.fixture(autouse=True)
def shipped_budgets(settings) -> None:
    """The budgets the site ships with (tests/conftest.py makes them patient elsewhere)."""
    settings.DYNAMODB_API_BUDGET = 1.0
    settings.DYNAMODB_ADMIN_BUDGET = 2.0


@pytest.fixture
def no_limits(settings) -> None:
    settings.COUNTER_VISITOR_LIMIT = 0
    settings.COUNTER_CLIENT_LIMIT = 0


def _warm_up(client, settings) -> None:
    """One counted POST with patient timeouts, so that the day's salt and the closed days' sum
    are in memory (a loaded machine's engine may take longer than the shipped second)."""
    shipped = settings.DYNAMODB_READ_TIMEOUT, settings.DYNAMODB_API_BUDGET
    settings.DYNAMODB_READ_TIMEOUT, settings.DYNAMODB_API_BUDGET = 30.0, 30.0
    assert client.post("/api/count").status_code == 200
    settings.DYNAMODB_READ_TIMEOUT, settings.DYNAMODB_API_BUDGET = shipped


@pytest.mark.dynamodb_local
def test_a_stopped_engine_gives_503_and_a_restarted_one_lost_nothing(client, settings, tmp_path):
    port = dynamodb_local.free_port()
    settings.DYNAMODB_ENDPOINT_URL = f"http://127.0.0.1:{port}"
    settings.DYNAMODB_TABLE = "faults"
    engine = dynamodb_local.start(port, tmp_path)
    try:
        from core import dynamodb

        # A freshly started engine can take seconds to answer, and a request that timed out is
        # never sent again; the stopped engine below refuses connections at once anyway.
        settings.DYNAMODB_READ_TIMEOUT = 30.0
        settings.DYNAMODB_API_BUDGET = 30.0
        dynamodb.table_ensure()
        for expected in (1, 2, 3):
            assert client.post("/api/count").json() == {"count": expected, "counted": True}
    finally:
        dynamodb_local.stop(engine)
    settings.DYNAMODB_API_BUDGET = 1.0

    page = client.get("/")
    assert page.status_code == 200
    response, elapsed = _timed(lambda: client.post("/api/count"))
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert "unavailable" in response.json()["error"]["message"]
    assert elapsed < DEADLINE_SECONDS
    assert client.get("/api/count").status_code == 503

    engine = dynamodb_local.start(port, tmp_path)
    settings.DYNAMODB_API_BUDGET = 30.0  # the restarted engine may again be slow to answer
    try:
        assert client.get("/api/count").json()["count"] == 3  # nothing lost on disk
        assert client.post("/api/count").json() == {"count": 4, "counted": True}
    finally:
        dynamodb_local.stop(engine)


def test_a_hung_engine_gives_503_within_the_deadline(client, settings, silent_endpoint):
    settings.DYNAMODB_ENDPOINT_URL = silent_endpoint
    response, elapsed = _timed(lambda: client.post("/api/count"))
    assert response.status_code == 503
    assert elapsed < DEADLINE_SECONDS
    assert client.get("/").status_code == 200


@pytest.mark.dynamodb_local
def test_answers_held_past_the_timeout_never_count_a_post_twice(
    client, proxy, engine_total, no_limits, caplog, settings
):
    _warm_up(client, settings)
    proxy.delay = 2.5  # the engine applies each write; its answer comes after the timeout
    for posted in range(1, 5):
        response, elapsed = _timed(lambda: client.post("/api/count"))
        assert response.status_code == 503
        assert elapsed < DEADLINE_SECONDS
        assert engine_total() == 1 + posted  # applied once, never sent again
    assert len(proxy.operations("UpdateItem", containing=VIEWS_UPDATE)) == 5
    assert caplog.text.count(AMBIGUOUS) == 4


@pytest.mark.dynamodb_local
def test_late_and_timely_answers_mixed_add_one_per_post(
    client, proxy, engine_total, no_limits, settings
):
    _warm_up(client, settings)
    stored = engine_total()
    for late in (True, False, True, True, False, False, True, False):
        proxy.delay = 2.5 if late else 0.0
        response = client.post("/api/count")
        assert response.status_code == (503 if late else 200)
        assert engine_total() == stored + 1
        stored += 1
        if not late:
            assert response.json()["count"] == stored


@pytest.mark.dynamodb_local
def test_a_connection_dropped_after_the_write_does_not_count_it_again(
    client, proxy, engine_total, no_limits, caplog, settings
):
    _warm_up(client, settings)
    proxy.drop = True  # the engine applies the write; the site never gets the answer
    assert client.post("/api/count").status_code == 503
    proxy.drop = False
    assert engine_total() == 2
    assert len(proxy.operations("UpdateItem", containing=VIEWS_UPDATE)) == 2
    assert caplog.text.count(AMBIGUOUS) == 1
    assert client.post("/api/count").json()["count"] == 3


def test_a_refused_connection_is_tried_again_then_503(client, settings, no_limits):
    from core.dynamodb import TableModel

    attempts = []  # nothing listens at the test settings' endpoint: each attempt is refused
    events = TableModel._get_connection().connection.client.meta.events
    events.register("before-send.dynamodb", lambda **_: attempts.append(1))
    with pytest.raises(services.CounterUnavailable):
        services.total_get()  # its first call (the closed days' sum) is refused
    assert len(attempts) == 1 + settings.DYNAMODB_MAX_RETRIES
    assert client.post("/api/count").status_code == 503


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


@pytest.fixture
def throttling_endpoint(settings) -> Iterator[None]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Throttling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.DYNAMODB_ENDPOINT_URL = f"http://127.0.0.1:{server.server_port}"
    _Throttling.calls = 0
    yield
    server.shutdown()
    server.server_close()


def test_throttling_gives_503_after_a_bounded_retry(
    client, settings, throttling_endpoint, at_second_20
):
    totals._sums[DAY] = 0  # the day's sum and salt in memory: the limits go first
    visitors._salts[DAY] = bytes(32)
    response, elapsed = _timed(lambda: client.post("/api/count"))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert elapsed < DEADLINE_SECONDS
    # The limits' check and the visitor's claim, sent together, each tried 1 + retries times.
    assert _Throttling.calls == 2 * (1 + settings.DYNAMODB_MAX_RETRIES)


def test_a_throttled_view_is_sent_again_and_logged_as_not_counted(
    settings, throttling_endpoint, caplog, at_second_20
):
    totals._sums[DAY] = 0  # the closed days' sum in memory: the ADD goes first
    with pytest.raises(services.CounterUnavailable):
        view_add()
    assert _Throttling.calls == 1 + settings.DYNAMODB_MAX_RETRIES
    assert "The view was not counted" in caplog.text
    assert AMBIGUOUS not in caplog.text


class _DayWriteFault:
    """A botocore hook that, while `on`, answers the day's UpdateItem (the view's write) itself
    with DynamoDB's error `code` and `status`, without sending it: only that write fails, the
    limits' check and the visitor's claim go through."""

    def __init__(self, status: int, code: str) -> None:
        self.status, self.code = status, code
        self.on = False
        self.answered = 0

    def __call__(self, request, **_) -> AWSResponse | None:
        if not self.on or VIEWS_UPDATE.encode() not in request.body:
            return None
        self.answered += 1
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{self.code}"}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, self.status, headers, _Raw(body))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_) -> Iterator[bytes]:
        yield self.body


@pytest.mark.dynamodb_local
@pytest.mark.parametrize(
    ("status", "code"), [(400, "ThrottlingException"), (500, "InternalServerError")]
)
def test_when_only_the_days_write_fails_no_visitor_is_counted_without_its_view(
    client, ddb_table, settings, caplog, status, code, at_second_20
):
    """A day's unique visitors never exceed its views: the visitor is counted in the view's own
    write. A view DynamoDB refused (throttled) releases its visitor's claim, so the visitor's
    next view counts it once; one that may have been applied (a 500) keeps it, so the visitor
    is at worst left out, never counted twice."""
    from core.dynamodb import TableModel

    settings.DYNAMODB_API_BUDGET = 10.0  # the fault decides here, not a loaded machine's engine
    fault = _DayWriteFault(status, code)
    events = TableModel._get_connection().connection.client.meta.events
    events.register("before-send.dynamodb.UpdateItem", fault, unique_id="day-write-fault")
    visitors_ips = [f"203.0.113.{number}" for number in range(1, 6)]

    def figures() -> services.DayStats:
        return services.days_get(days=1)[0]

    fault.on = True
    for ip in visitors_ips:
        assert client.post("/api/count", REMOTE_ADDR=ip).status_code == 503
        assert figures().uniques <= figures().views == 0
    assert fault.answered == len(visitors_ips) * (1 + (status == 400))  # throttled: sent twice
    fault.on = False
    for ip in visitors_ips * 2:  # each visitor sends its view again, then one more
        assert client.post("/api/count", REMOTE_ADDR=ip).json()["counted"] is True
        assert figures().uniques <= figures().views
    assert figures().views == 2 * len(visitors_ips)
    if status == 400:  # certainly not applied: the claims were released
        assert figures().uniques == len(visitors_ips)
        assert caplog.text.count(NOT_APPLIED) == len(visitors_ips)
        assert AMBIGUOUS not in caplog.text
    else:  # may have been applied: the claims stay, and these visitors are left out today
        assert figures().uniques == 0
        assert caplog.text.count(AMBIGUOUS) == len(visitors_ips)
