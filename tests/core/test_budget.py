"""core/budget.py: one time budget per request for waiting on DynamoDB, the middleware that
starts it, the worker threads that share it, and the hooks that spend it.

The budget's own arithmetic runs on a stopped clock; the calls to an engine that hangs or
answers late assert what the hooks did (the read timeout each call was sent with, what was
sent), and time only what a loaded machine cannot shorten: a wait that must be at least the
budget, or far less than a read timeout no budget would cut."""

import threading
import time
from types import SimpleNamespace

import pytest
from botocore.exceptions import ReadTimeoutError
from django.http import HttpResponse
from django.test import RequestFactory

from core import budget as budgets
from core.budget import DeadlinePassed, DynamoDBBudgetMiddleware, budget, budget_remaining
from counter import services as counter
from counter.services import items as counter_items
from harness.fault_proxy import FaultProxy
from owners import services as owners


@pytest.fixture
def clock(monkeypatch) -> SimpleNamespace:
    """The budget's clock, stopped: a test moves it on by `clock.now += seconds`."""
    stopped = SimpleNamespace(now=1000.0)
    monkeypatch.setattr(budgets, "time", SimpleNamespace(monotonic=lambda: stopped.now))
    return stopped


def _sent_with(events) -> list[float]:
    """The read timeout each call is sent with, recorded after the budget's hook set it (a call
    the budget stops is not sent, and not recorded)."""
    timeouts: list[float] = []
    events.register(
        "before-send.dynamodb",
        lambda request, **_: timeouts.append(request.context["read_timeout"]),
    )
    return timeouts


def test_calls_sent_together_spend_the_budget_once(clock):
    spent = budgets._Budget(10.0)
    spent.call_started()
    spent.call_started()  # two calls in flight at once
    clock.now += 0.2
    spent.call_ended()
    spent.call_ended()
    assert spent.remaining() == pytest.approx(9.8)


def test_time_between_calls_is_not_spent(clock):
    spent = budgets._Budget(1.0)
    spent.call_started()
    clock.now += 0.1
    spent.call_ended()
    clock.now += 0.3  # the request's own work: a password hash, a template
    assert spent.remaining() == pytest.approx(0.9)
    spent.call_started()
    clock.now += 0.05
    assert spent.remaining() == pytest.approx(0.85)  # a call in flight spends as it waits


def test_the_api_and_the_owners_pages_each_have_their_budget(settings):
    settings.DYNAMODB_API_BUDGET, settings.DYNAMODB_ADMIN_BUDGET = 1.0, 2.0
    seen = []

    def view(request) -> HttpResponse:
        seen.append(budget_remaining())
        return HttpResponse()

    middleware = DynamoDBBudgetMiddleware(view)
    for path in ("/api/count", "/admin/", "/"):
        middleware(RequestFactory().get(path))
    assert seen == [1.0, 2.0, 2.0]
    assert budget_remaining() is None  # none once the request is answered


def test_a_budget_cuts_each_wait_and_then_sends_nothing(settings, silent_endpoint):
    """A hung engine: the first call is sent with the budget as its read timeout, not
    DYNAMODB_READ_TIMEOUT, and waits that long; the next call is not sent at all."""
    settings.DYNAMODB_ENDPOINT_URL = silent_endpoint
    settings.DYNAMODB_READ_TIMEOUT = 30.0
    events = counter_items.TotalItem._get_connection().connection.client.meta.events
    sent_with = _sent_with(events)
    with budget(0.5):
        started = time.monotonic()
        with pytest.raises(counter.CounterUnavailable) as first:
            counter.total_get()
        waited = time.monotonic() - started
        with pytest.raises(counter.CounterUnavailable) as second:
            counter.total_get()
    assert sent_with == [0.5]  # the second call was stopped before it was sent
    assert isinstance(first.value.__cause__.cause, ReadTimeoutError)
    assert isinstance(second.value.__cause__.cause, DeadlinePassed)
    # At least the budget (a timeout never fires early), and far less than the 30 s a call
    # sent with the read timeout would wait, however loaded the machine.
    assert 0.4 < waited < 10.0


@pytest.mark.dynamodb_local
def test_within_a_budget_a_call_waits_past_the_read_timeout_for_the_time_left(
    ddb_table, settings, dynamodb_endpoint
):
    """DYNAMODB_READ_TIMEOUT bounds a call made outside a request; a request's call waits for
    as long as its budget has left, so one answer later than the read timeout still arrives."""
    proxy = FaultProxy(dynamodb_endpoint)
    proxy.fault, proxy.delay = "late", 0.6
    settings.DYNAMODB_ENDPOINT_URL = proxy.url
    settings.DYNAMODB_READ_TIMEOUT = 0.3
    try:
        with pytest.raises(owners.OwnersUnavailable) as raised:
            owners.account_get(username="alex")  # no budget: the read timeout
        assert isinstance(raised.value.__cause__.cause, ReadTimeoutError)
        events = owners.AccountItem._get_connection().connection.client.meta.events
        sent_with = _sent_with(events)
        with budget(10.0):  # room for a loaded machine's engine
            assert owners.account_get(username="alex") is None  # answered, 0.6 s late
            assert budget_remaining() <= 10.0 - 0.6  # the wait was spent from the budget
    finally:
        proxy.stop()
    assert sent_with[0] == 10.0  # the time left, not the read timeout


def test_worker_threads_share_the_requests_budget():
    seen = []
    with budget(0.75):
        call = budgets.in_context(lambda: seen.append(budget_remaining()))
    thread = threading.Thread(target=call)
    thread.start()
    thread.join()
    assert seen == [0.75]  # no call was in flight: nothing spent
    assert budget_remaining() is None  # no budget outside a request
