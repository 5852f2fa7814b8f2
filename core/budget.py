"""One time budget per request for waiting on DynamoDB: the middleware that starts it, the
context it lives in (worker threads included), and the botocore hooks that spend it.

A timeout per call is not enough: a request that makes several calls one after another would
wait the sum of their timeouts. So all of a request's calls share one budget, and each waits for
its answer at most the time left of it (docs/architecture.md, "The page never waits on the
counter"). The hooks are registered on the one shared client by `TableModel`
(core/dynamodb.py).
"""

import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError
from django.conf import settings
from django.http import HttpRequest, HttpResponse

API_PREFIX = "/api/"
BUDGET_FLOOR_SECONDS = 0.01  # the shortest read timeout a call is sent with
_STARTED = "resume_site.budget_started"  # marks a request's context while its call is in flight


class DeadlinePassed(BotoCoreError):
    """The request's time budget for DynamoDB was spent before this call was sent; nothing was
    sent, so nothing was applied."""

    fmt = "The request's time budget for DynamoDB ran out before the call was sent"


class _Budget:
    """The seconds a request may still spend waiting on DynamoDB: wall-clock time while at least
    one of its calls is in flight (calls sent at the same time wait together, so they are
    counted once), and none of its own work (rendering, hashing a password)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._in_flight = 0
        self._busy_since = 0.0
        self._spent = 0.0

    def remaining(self) -> float:
        with self._lock:
            busy = time.monotonic() - self._busy_since if self._in_flight else 0.0
            return self.seconds - self._spent - busy

    def call_started(self) -> None:
        with self._lock:
            if not self._in_flight:
                self._busy_since = time.monotonic()
            self._in_flight += 1

    def call_ended(self) -> None:
        with self._lock:
            self._in_flight -= 1
            if not self._in_flight:
                self._spent += time.monotonic() - self._busy_since


_budget: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar(
    "dynamodb_budget", default=None
)


class DynamoDBBudgetMiddleware:
    """Every request's DynamoDB calls share one time budget: DYNAMODB_API_BUDGET for the API,
    DYNAMODB_ADMIN_BUDGET for everything else (the owner's pages; the resume page makes none)
    (`budget` below)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        api = request.path_info.startswith(API_PREFIX)
        seconds = settings.DYNAMODB_API_BUDGET if api else settings.DYNAMODB_ADMIN_BUDGET
        with budget(seconds):
            return self.get_response(request)


@contextmanager
def budget(seconds: float | None) -> Iterator[None]:
    """Give the DynamoDB calls made inside the block (on this thread, and on the threads that
    `in_context` hands them to) `seconds` of waiting in all: each call waits for its answer at
    most the time left, and none is sent once it is spent. So a request that makes several
    calls one after another answers within its own work plus the budget, however late each
    answer is, and one that needs a single slow answer gets it if it comes within the budget
    (docs/architecture.md, "The page never waits on the counter"). None: no budget (commands,
    the tests' set-up), where each call waits at most DYNAMODB_READ_TIMEOUT."""
    token = _budget.set(None if seconds is None else _Budget(seconds))
    try:
        yield
    finally:
        _budget.reset(token)


def budget_remaining() -> float | None:
    """Seconds left of the current budget (0 or less: spent), or None without one."""
    current = _budget.get()
    return None if current is None else current.remaining()


def in_context[T](call: Callable[[], T]) -> Callable[[], T]:
    """`call`, to run on another thread within this thread's budget (a worker thread does not
    inherit context variables)."""
    context = contextvars.copy_context()
    return lambda: context.run(call)


# The most calls one request sends at once is four; a few more serve a threaded local server.
POOL_WORKERS = 8
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=POOL_WORKERS, thread_name_prefix="dynamodb")
        return _pool


def call_submit[T](call: Callable[[], T]) -> Future[T]:
    """Start `call` (DynamoDB calls) on a small shared thread pool, within this thread's budget
    (`in_context`), so calls that do not wait on each other are sent together and their waits
    overlap. The pool is made on first use, never at import; botocore clients are thread-safe
    and every model shares one."""
    return _executor().submit(in_context(call))


def budget_apply(*, request: Any, **_: Any) -> None:
    """botocore's `before-send` hook: the read timeout of this one request is the time left of
    the budget (botocore reads `read_timeout` from the request's context), not the client's
    DYNAMODB_READ_TIMEOUT, which would cut a late answer that the budget still has time for;
    with none left, nothing is sent."""
    current = _budget.get()
    if current is None:
        return
    remaining = current.remaining()
    if remaining <= 0:
        raise DeadlinePassed()
    request.context["read_timeout"] = max(remaining, BUDGET_FLOOR_SECONDS)
    request.context[_STARTED] = current
    current.call_started()


def budget_charge(*, request_dict: dict[str, Any], **_: Any) -> None:
    """botocore's `needs-retry` hook, after every attempt: the wait ends."""
    current = request_dict.get("context", {}).pop(_STARTED, None)
    if current is not None:
        current.call_ended()
