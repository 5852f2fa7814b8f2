"""core/dynamodb.py: the models' base class, the error translation and table set-up."""

import logging
import threading
import time

import boto3
import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import GetError, UpdateError

from core import dynamodb
from counter import services as counter
from counter.services import items as counter_items
from harness.fault_proxy import FaultProxy
from owners import services as owners
from tests.conftest import CLOSED_ENDPOINT


class AppUnavailable(dynamodb.TableUnavailable):
    pass


class OtherAppUnavailable(dynamodb.TableUnavailable):
    pass


def test_the_models_read_the_table_from_the_settings_of_the_moment(settings):
    settings.DYNAMODB_TABLE = "first"
    settings.DYNAMODB_READ_TIMEOUT = 0.5
    assert counter_items.TotalItem.Meta.table_name == owners.AccountItem.Meta.table_name == "first"
    assert owners.AttemptsItem.Meta.read_timeout_seconds == 0.5
    settings.DYNAMODB_TABLE = "second"
    assert counter_items.DayItem.Meta.table_name == "second"


def test_the_real_endpoint_uses_the_credential_chain_and_a_local_one_signs_with_anything(
    settings, monkeypatch
):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    settings.DYNAMODB_ENDPOINT_URL = ""
    assert counter_items.TotalItem.Meta.host is None
    assert counter_items.TotalItem.Meta.aws_access_key_id is None
    settings.DYNAMODB_ENDPOINT_URL = "http://127.0.0.1:8001"
    assert counter_items.TotalItem.Meta.host == "http://127.0.0.1:8001"
    assert counter_items.TotalItem.Meta.aws_access_key_id == "local"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-the-environment")
    assert counter_items.TotalItem.Meta.aws_access_key_id is None  # boto3 reads the environment


def test_a_model_needs_no_binding_before_its_first_call(moto_table):
    class Note(dynamodb.TableModel):  # nothing has ever bound or used this class
        text = UnicodeAttribute()

    Note("note#1", text="first call").save()
    assert Note.get("note#1", consistent_read=True).text == "first call"


def test_changing_a_dynamodb_setting_drops_the_open_connections(moto_table, settings):
    counter.view_add()  # opens a connection to moto
    settings.DYNAMODB_ENDPOINT_URL = CLOSED_ENDPOINT
    with pytest.raises(counter.CounterUnavailable):
        counter.total_get()  # a kept connection would still have answered from moto


def test_every_model_shares_one_connection_and_reset_opens_a_new_one(moto_table):
    counter.total_get()
    owners.account_get(username="alex")
    opened = counter_items.TotalItem._get_connection()
    assert owners.AccountItem._get_connection() is opened
    assert counter_items.RateBucket._get_connection() is opened
    dynamodb.connections_reset()
    counter.total_get()
    assert counter_items.TotalItem._get_connection() is not opened
    assert owners.AccountItem._get_connection() is counter_items.TotalItem._get_connection()


def test_the_sdk_makes_one_attempt_and_the_resend_hook_decides(moto_table):
    client = dynamodb.TableModel._get_connection().connection.client
    assert client.meta.config.retries["total_max_attempts"] == 1
    emitted = client.meta.events.emit(
        "needs-retry.dynamodb.UpdateItem",
        attempts=1,
        response=None,
        caught_exception=EndpointConnectionError(endpoint_url=CLOSED_ENDPOINT),
        operation=None,
        request_dict={"context": {}},
        endpoint=None,
    )
    assert any(isinstance(delay, float) for _, delay in emitted)


def _client_error(code: str, **response) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, **response}, "UpdateItem")


def _cancelled(*codes: str) -> ClientError:
    reasons = [{"Code": code} for code in codes]
    return _client_error("TransactionCanceledException", CancellationReasons=reasons)


NOT_APPLIED = [
    EndpointConnectionError(endpoint_url=CLOSED_ENDPOINT),
    _client_error("ThrottlingException"),
    _client_error("ProvisionedThroughputExceededException"),
    _client_error("RequestLimitExceeded"),
    _client_error("TransactionConflictException"),
    _cancelled("None", "TransactionConflict"),
    _cancelled("ThrottlingError", "None"),
]
MAYBE_APPLIED = [
    ReadTimeoutError(endpoint_url=CLOSED_ENDPOINT),
    ConnectionClosedError(endpoint_url=CLOSED_ENDPOINT),
    ConnectTimeoutError(endpoint_url=CLOSED_ENDPOINT),  # sent nothing, but waits again
    _client_error("InternalServerError"),
    _client_error("ServiceUnavailable"),
    _client_error("ConditionalCheckFailedException"),
    _cancelled("ConditionalCheckFailed", "None"),
    _cancelled("None", "None"),
    _client_error("ValidationException"),
]


@pytest.mark.parametrize("error", NOT_APPLIED, ids=repr)
def test_failures_dynamodb_certainly_did_not_apply_are_sent_again(error, settings):
    assert dynamodb.failure_not_applied(error)
    assert dynamodb.failure_not_applied(UpdateError("Failed to update item", error))
    delay = _resend_delay(error, attempts=1)
    assert 0 <= delay <= dynamodb.RESEND_BACKOFF_SECONDS
    assert _resend_delay(error, attempts=1 + settings.DYNAMODB_MAX_RETRIES) is None


@pytest.mark.parametrize("error", MAYBE_APPLIED, ids=repr)
def test_failures_that_may_have_applied_are_never_sent_again(error):
    assert not dynamodb.failure_not_applied(error)
    assert not dynamodb.failure_not_applied(UpdateError("Failed to update item", error))
    assert _resend_delay(error, attempts=1) is None


def test_a_successful_answer_is_not_sent_again():
    assert dynamodb._resend_delay(attempts=1, response=(None, {}), caught_exception=None) is None


def _resend_delay(error: Exception, *, attempts: int) -> float | None:
    """The hook's answer to `error`, as botocore reports it: an exception raised while sending,
    or a parsed error response."""
    if isinstance(error, ClientError):
        return dynamodb._resend_delay(
            attempts=attempts, response=(None, error.response), caught_exception=None
        )
    return dynamodb._resend_delay(attempts=attempts, response=None, caught_exception=error)


def test_a_pynamodb_failure_becomes_the_apps_exception_and_is_logged(caplog):
    cause = GetError("Failed to get item: timed out")
    with pytest.raises(AppUnavailable) as raised, dynamodb.failures_raise(AppUnavailable):
        raise cause
    assert raised.value.__cause__ is cause
    assert "DynamoDB call failed: Failed to get item" in caplog.text


def test_a_botocore_failure_becomes_the_apps_exception():
    cause = EndpointConnectionError(endpoint_url=CLOSED_ENDPOINT)
    with pytest.raises(AppUnavailable) as raised, dynamodb.failures_raise(AppUnavailable):
        raise cause
    assert raised.value.__cause__ is cause


def test_another_apps_exception_becomes_this_apps_and_its_own_passes_unchanged(caplog):
    caplog.set_level(logging.WARNING)
    other = OtherAppUnavailable()
    with pytest.raises(AppUnavailable) as raised, dynamodb.failures_raise(AppUnavailable):
        raise other
    assert raised.value.__cause__ is other
    own = AppUnavailable("already translated")
    with pytest.raises(AppUnavailable) as raised, dynamodb.failures_raise(AppUnavailable):
        raise own
    assert raised.value is own
    assert caplog.text == ""  # logged once, where the DynamoDB error happened


def test_other_errors_pass_through_untouched():
    with pytest.raises(KeyError), dynamodb.failures_raise(AppUnavailable):
        raise KeyError("a bug, not an outage")


def test_failures_raise_decorates_a_function():
    @dynamodb.failures_raise(AppUnavailable)
    def read() -> None:
        raise GetError("Failed to get item")

    with pytest.raises(AppUnavailable):
        read()
    with pytest.raises(AppUnavailable):
        read()  # each call gets its own context


def _ttl(table: str) -> dict[str, str]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    return client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]


def test_table_ensure_creates_the_table_once_with_ttl(settings):
    from moto import mock_aws

    with mock_aws():
        settings.DYNAMODB_ENDPOINT_URL = ""
        settings.DYNAMODB_TABLE = "made-here"
        assert dynamodb.table_ensure() is True
        assert dynamodb.table_ensure() is False
        assert _ttl("made-here") == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}


def test_table_ensure_switches_ttl_back_on(moto_table):
    boto3.client("dynamodb", region_name="us-east-1").update_time_to_live(
        TableName=moto_table,
        TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires"},
    )
    assert dynamodb.table_ensure() is False
    assert _ttl(moto_table)["TimeToLiveStatus"] == "ENABLED"


def test_table_ensure_raises_table_unavailable_when_unreachable():
    with pytest.raises(dynamodb.TableUnavailable):
        dynamodb.table_ensure()


# --- Reading a failure, whatever botocore raised ------------------------------------------------


@pytest.mark.parametrize(
    "cause",
    [
        ReadTimeoutError(endpoint_url="http://engine"),
        ConnectionClosedError(endpoint_url="http://engine"),
        ConnectTimeoutError(endpoint_url="http://engine"),
        EndpointConnectionError(endpoint_url="http://engine"),
        dynamodb.MalformedAnswer(operation="UpdateItem"),
    ],
    ids=lambda cause: type(cause).__name__,
)
def test_a_failure_without_an_answer_has_no_code_and_is_no_failed_condition(cause):
    """PynamoDB's cause_response_code raised AttributeError on these (their `response` is None
    or missing), which escaped every handler as a 500."""
    error = UpdateError("Failed to update item", cause)
    assert dynamodb.failure_code(error) is None
    assert not dynamodb.condition_failed(error)


def test_a_failed_condition_is_read_from_the_answer():
    answer = {"Error": {"Code": "ConditionalCheckFailedException", "Message": "no"}}
    error = UpdateError("Failed to update item", ClientError(answer, "UpdateItem"))
    assert dynamodb.failure_code(error) == "ConditionalCheckFailedException"
    assert dynamodb.condition_failed(error)


@pytest.mark.parametrize("answer", [{}, {"Error": None}, {"Error": {"Code": 7}}, None])
def test_a_strange_error_answer_has_no_code(answer):
    cause = ClientError({"Error": {}}, "UpdateItem")
    cause.response = answer
    assert dynamodb.failure_code(UpdateError("Failed", cause)) is None


# --- One time budget per request ----------------------------------------------------------------


def test_calls_sent_together_spend_the_budget_once():
    budget = dynamodb._Budget(10.0)
    budget.call_started()
    budget.call_started()  # two calls in flight at once
    time.sleep(0.2)
    budget.call_ended()
    budget.call_ended()
    assert 9.7 < budget.remaining() <= 9.8 + 0.01


def test_time_between_calls_is_not_spent():
    budget = dynamodb._Budget(1.0)
    budget.call_started()
    budget.call_ended()
    time.sleep(0.3)  # the request's own work: a password hash, a template
    assert budget.remaining() > 0.95


def test_a_budget_cuts_each_wait_and_then_sends_nothing(settings, silent_endpoint):
    """A hung engine: the first call waits the budget, not DYNAMODB_READ_TIMEOUT; the next
    call is not sent at all."""
    settings.DYNAMODB_ENDPOINT_URL = silent_endpoint
    settings.DYNAMODB_READ_TIMEOUT = 5.0
    sent = []
    events = counter_items.TotalItem._get_connection().connection.client.meta.events
    events.register("before-send.dynamodb", lambda **_: sent.append(1))
    with dynamodb.budget(0.5):
        started = time.monotonic()
        with pytest.raises(counter.CounterUnavailable):
            counter.total_get()
        assert 0.4 < time.monotonic() - started < 2.0
        started = time.monotonic()
        with pytest.raises(counter.CounterUnavailable) as raised:
            counter.total_get()
        assert time.monotonic() - started < 0.2
    assert isinstance(raised.value.__cause__.cause, dynamodb.DeadlinePassed)
    assert len(sent) == 1  # registered after the budget's hook: the second call stopped there


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
        with dynamodb.budget(3.0):
            started = time.monotonic()
            assert owners.account_get(username="alex") is None  # answered, 0.6 s late
            assert time.monotonic() - started >= 0.6
            assert dynamodb.budget_remaining() < 2.4  # the wait was spent from the budget
    finally:
        proxy.stop()


def test_worker_threads_share_the_requests_budget():
    seen = []
    with dynamodb.budget(0.75):
        call = dynamodb.in_context(lambda: seen.append(dynamodb.budget_remaining()))
    thread = threading.Thread(target=call)
    thread.start()
    thread.join()
    assert seen and 0.7 < seen[0] <= 0.75
    assert dynamodb.budget_remaining() is None  # no budget outside a request


def test_a_malformed_answer_is_a_failure_not_a_crash(settings):
    proxy = FaultProxy(CLOSED_ENDPOINT)  # a malformed answer never reaches the engine
    proxy.fault = "malformed"
    settings.DYNAMODB_ENDPOINT_URL = proxy.url
    try:
        with pytest.raises(counter.CounterUnavailable) as raised:
            counter.view_add()
        with pytest.raises(owners.OwnersUnavailable):
            owners.account_get(username="alex")
    finally:
        proxy.stop()
    assert isinstance(raised.value.__cause__.cause, dynamodb.MalformedAnswer)


def test_a_fresh_processs_first_calls_from_many_threads_all_meet_the_hooks(settings):
    """A view's first calls start on several threads at once; each must get the hooked client,
    so a malformed answer is a failure on every one of them, never PynamoDB's KeyError."""
    proxy = FaultProxy(CLOSED_ENDPOINT)
    proxy.fault = "malformed"
    settings.DYNAMODB_ENDPOINT_URL = proxy.url
    settings.DYNAMODB_CONNECT_TIMEOUT = 10.0  # eight connections at once to a small test server
    start = threading.Barrier(8)
    raised: list[BaseException] = []

    def first_call() -> None:
        start.wait()
        try:
            counter_items.DailySalt("salt#x").update(
                actions=[counter_items.DailySalt.salt.set("a")]
            )
        except BaseException as error:  # sorted below
            raised.append(error)

    try:
        for _ in range(10):  # a fresh connection each round: the race is at its first use
            dynamodb.connections_reset()
            threads = [threading.Thread(target=first_call) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        proxy.stop()
    assert len(raised) == 80
    crashes = [
        e for e in raised if not isinstance(getattr(e, "cause", None), dynamodb.MalformedAnswer)
    ]
    assert crashes == []


def test_item_get_answers_none_for_a_missing_item(moto_table):
    assert dynamodb.item_get(counter_items.TotalItem, "total") is None
    counter_items.TotalItem("total", before=3).save()
    assert dynamodb.item_get(counter_items.TotalItem, "total").before == 3


def test_item_update_raw_returns_undeclared_attributes_and_raises_update_error(moto_table):
    from pynamodb.expressions.operand import Path

    bucket = counter_items.RateBucket
    answer = dynamodb.item_update_raw(
        bucket, "rate#x", actions=[Path(["visitor:a"]).add(2)], return_values="UPDATED_NEW"
    )
    assert answer["Attributes"]["visitor:a"] == {"N": "2"}
    with pytest.raises(UpdateError) as failure:
        dynamodb.item_update_raw(
            bucket,
            "rate#x",
            actions=[Path(["visitor:a"]).add(1)],
            condition=Path(["visitor:a"]) < 2,
        )
    assert dynamodb.condition_failed(failure.value)


def test_table_location_names_the_endpoint_or_the_region(settings):
    settings.DYNAMODB_ENDPOINT_URL = "http://127.0.0.1:8001"
    assert dynamodb.table_location() == "http://127.0.0.1:8001"
    settings.DYNAMODB_ENDPOINT_URL = ""
    settings.AWS_REGION = "eu-west-1"
    assert dynamodb.table_location() == "AWS region eu-west-1"
