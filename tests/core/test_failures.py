"""core/failures.py: each app's own exception, DynamoDB's error code and a failed condition read
whatever botocore raised, a malformed answer, and what is sent again."""

import logging

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from pynamodb.exceptions import GetError, UpdateError, VerboseClientError

from core import failures
from core.budget import DeadlinePassed, budget
from counter import services as counter
from harness.fault_proxy import FaultProxy
from owners import services as owners
from tests.conftest import CLOSED_ENDPOINT


class AppUnavailable(failures.TableUnavailable):
    pass


class OtherAppUnavailable(failures.TableUnavailable):
    pass


# --- Each app's own exception -------------------------------------------------------------------


def test_a_pynamodb_failure_becomes_the_apps_exception_and_is_logged(caplog):
    cause = GetError("Failed to get item: timed out")
    with pytest.raises(AppUnavailable) as raised, failures.failures_raise(AppUnavailable):
        raise cause
    assert raised.value.__cause__ is cause
    assert "DynamoDB call failed: Failed to get item" in caplog.text


def test_a_botocore_failure_becomes_the_apps_exception():
    cause = EndpointConnectionError(endpoint_url=CLOSED_ENDPOINT)
    with pytest.raises(AppUnavailable) as raised, failures.failures_raise(AppUnavailable):
        raise cause
    assert raised.value.__cause__ is cause


def test_another_apps_exception_becomes_this_apps_and_its_own_passes_unchanged(caplog):
    caplog.set_level(logging.WARNING)
    other = OtherAppUnavailable()
    with pytest.raises(AppUnavailable) as raised, failures.failures_raise(AppUnavailable):
        raise other
    assert raised.value.__cause__ is other
    own = AppUnavailable("already translated")
    with pytest.raises(AppUnavailable) as raised, failures.failures_raise(AppUnavailable):
        raise own
    assert raised.value is own
    assert caplog.text == ""  # logged once, where the DynamoDB error happened


def test_other_errors_pass_through_untouched():
    with pytest.raises(KeyError), failures.failures_raise(AppUnavailable):
        raise KeyError("a bug, not an outage")


def test_failures_raise_decorates_a_function():
    @failures.failures_raise(AppUnavailable)
    def read() -> None:
        raise GetError("Failed to get item")

    with pytest.raises(AppUnavailable):
        read()
    with pytest.raises(AppUnavailable):
        read()  # each call gets its own context


# --- Reading a failure, whatever botocore raised ------------------------------------------------


@pytest.mark.parametrize(
    "cause",
    [
        ReadTimeoutError(endpoint_url="http://engine"),
        ConnectionClosedError(endpoint_url="http://engine"),
        ConnectTimeoutError(endpoint_url="http://engine"),
        EndpointConnectionError(endpoint_url="http://engine"),
        failures.MalformedAnswer(operation="UpdateItem"),
    ],
    ids=lambda cause: type(cause).__name__,
)
def test_a_failure_without_an_answer_has_no_code_and_is_no_failed_condition(cause):
    """PynamoDB's cause_response_code raised AttributeError on these (their `response` is None
    or missing), which escaped every handler as a 500."""
    error = UpdateError("Failed to update item", cause)
    assert failures.failure_code(error) is None
    assert not failures.condition_failed(error)


def test_a_failed_condition_is_read_from_the_answer():
    answer = {"Error": {"Code": "ConditionalCheckFailedException", "Message": "no"}}
    error = UpdateError("Failed to update item", ClientError(answer, "UpdateItem"))
    assert failures.failure_code(error) == "ConditionalCheckFailedException"
    assert failures.condition_failed(error)


def test_the_item_a_condition_failed_on_is_read_from_the_answer():
    refused = {"Code": "ConditionalCheckFailedException", "Message": "no"}
    answer = {"Error": refused, "Item": {"pk": {"S": "day#1"}}}
    error = UpdateError("Failed to update item", ClientError(answer, "UpdateItem"))
    assert failures.condition_failed_item(error) == {"pk": {"S": "day#1"}}
    # PynamoDB's own wrapper keeps only `Error`; the item is on the error it wraps.
    wrapped = VerboseClientError({"Error": refused}, "UpdateItem", {})
    wrapped.__cause__ = ClientError(answer, "UpdateItem")
    assert failures.condition_failed_item(UpdateError("Failed", wrapped)) == answer["Item"]
    without = UpdateError("Failed", ClientError({"Error": refused}, "UpdateItem"))
    assert failures.condition_failed_item(without) == {}  # an engine that did not return it
    timed_out = UpdateError("Failed", ReadTimeoutError(endpoint_url="http://engine"))
    assert failures.condition_failed_item(timed_out) is None


@pytest.mark.parametrize("answer", [{}, {"Error": None}, {"Error": {"Code": 7}}, None])
def test_a_strange_error_answer_has_no_code(answer):
    cause = ClientError({"Error": {}}, "UpdateItem")
    cause.response = answer
    assert failures.failure_code(UpdateError("Failed", cause)) is None


def test_a_malformed_answer_is_a_failure_not_a_crash(settings):
    proxy = FaultProxy(CLOSED_ENDPOINT)  # a malformed answer never reaches the engine
    proxy.fault = "malformed"
    settings.DYNAMODB_ENDPOINT_URL = proxy.url
    try:
        with pytest.raises(counter.CounterUnavailable) as raised:
            counter.total_get()
        with pytest.raises(owners.OwnersUnavailable):
            owners.account_get(username="alex")
    finally:
        proxy.stop()
    assert isinstance(raised.value.__cause__.cause, failures.MalformedAnswer)


# --- Sent again only if not applied -------------------------------------------------------------


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
    assert failures.failure_not_applied(error)
    assert failures.failure_not_applied(UpdateError("Failed to update item", error))
    delay = _resend_delay(error, attempts=1)
    assert 0 <= delay <= failures.RESEND_BACKOFF_SECONDS
    assert _resend_delay(error, attempts=1 + settings.DYNAMODB_MAX_RETRIES) is None


@pytest.mark.parametrize("error", MAYBE_APPLIED, ids=repr)
def test_failures_that_may_have_applied_are_never_sent_again(error):
    assert not failures.failure_not_applied(error)
    assert not failures.failure_not_applied(UpdateError("Failed to update item", error))
    assert _resend_delay(error, attempts=1) is None


def test_a_successful_answer_is_not_sent_again():
    assert failures.resend_delay(attempts=1, response=(None, {}), caught_exception=None) is None


def _resend_delay(error: Exception, *, attempts: int) -> float | None:
    """The hook's answer to `error`, as botocore reports it: an exception raised while sending,
    or a parsed error response."""
    if isinstance(error, ClientError):
        return failures.resend_delay(
            attempts=attempts, response=(None, error.response), caught_exception=None
        )
    return failures.resend_delay(attempts=attempts, response=None, caught_exception=error)


def test_a_request_is_not_sent_again_once_its_budget_has_no_time_for_it():
    refused = _client_error("ThrottlingException")
    with budget(0.0):
        assert _resend_delay(refused, attempts=1) is None
    deadline = DeadlinePassed()  # sent nothing, so applied nothing; but the time is spent
    assert failures.failure_not_applied(deadline)
    assert _resend_delay(deadline, attempts=1) is None
