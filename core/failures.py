"""DynamoDB's failures, read the same way by every app: which exception of its own an app
raises, DynamoDB's error code, a failed condition (and the item it failed on), an answer that
is not one, and whether a failed request was applied, which decides whether it is sent again.

A request is sent again only when DynamoDB certainly did not apply it (docs/architecture.md,
Decisions, "Sent again only if not applied"): `resend_delay` below, a hook that `TableModel`
(core/dynamodb.py) registers on the one shared client, as it does `answer_check`.
"""

import json
import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from django.conf import settings
from pynamodb.exceptions import PynamoDBException, TransactWriteError, VerboseClientError

from core.budget import DeadlinePassed, budget_remaining

logger = logging.getLogger(__name__)

# DynamoDB refused these requests before applying anything (throttled, or in conflict with a
# transaction in progress on the same item), so sending one again cannot apply it twice.
NOT_APPLIED_CODES = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TransactionConflictException",
    }
)
# The reasons a cancelled transaction gives for one of its items; a cancelled transaction
# applied nothing, and one cancelled only for these reasons may succeed when sent again.
RESENDABLE_CANCELLATIONS = frozenset(
    {"None", "ThrottlingError", "TransactionConflict", "ProvisionedThroughputExceeded"}
)
RESEND_BACKOFF_SECONDS = 0.05  # the first resend waits up to this, each next one twice as long


class TableUnavailable(Exception):
    """DynamoDB could not be reached or refused the request; nothing was half-written.

    Each app raises its own subclass, so a caller can tell which part of the site is down.
    """

    def __init__(self, message: str = "the site's database is unavailable right now") -> None:
        super().__init__(message)


@contextmanager
def failures_raise(unavailable: type[TableUnavailable]) -> Iterator[None]:
    """Turn a DynamoDB failure inside the block into `unavailable`; use it as a decorator too.

    A failure is any PynamoDB or botocore error the block lets out (errors a service expects,
    like a failed condition, it catches itself), and another app's TableUnavailable raised by a
    service the block called, so each app's callers only ever see that app's exception.
    """
    try:
        yield
    except (PynamoDBException, BotoCoreError) as error:
        logger.warning("DynamoDB call failed: %s", error)
        raise unavailable() from error
    except TableUnavailable as error:
        if isinstance(error, unavailable):
            raise
        raise unavailable() from error


def failure_code(error: BaseException) -> str | None:
    """DynamoDB's error code (`ConditionalCheckFailedException`, ...) of a failed call, or None
    when DynamoDB gave none: a timeout, a dropped connection, a malformed answer.

    PynamoDB's `cause_response_code` assumes every cause has a `response`; botocore's
    ReadTimeoutError and ConnectionClosedError have `response = None`, and reading it raised
    AttributeError past every handler (a 500 instead of a 503). Every service reads the code
    here instead.
    """
    cause = error.cause if isinstance(error, PynamoDBException) else error
    return _response_code(getattr(cause, "response", None))


def _response_code(response: object) -> str | None:
    if not isinstance(response, dict):
        return None
    error_part = response.get("Error")
    code = error_part.get("Code") if isinstance(error_part, dict) else None
    return code if isinstance(code, str) else None


def condition_failed(error: PynamoDBException) -> bool:
    """True if a conditional write failed on its condition (nothing was written): an
    UpdateItem's or PutItem's, or the first item's of a transaction (the one that carries it)."""
    if isinstance(error, TransactWriteError):
        reasons = error.cancellation_reasons
        return (
            bool(reasons)
            and reasons[0] is not None
            and reasons[0].code == ("ConditionalCheckFailed")
        )
    return failure_code(error) == "ConditionalCheckFailedException"


def condition_failed_item(error: PynamoDBException) -> dict[str, Any] | None:
    """The item as it was when a write's condition failed, as DynamoDB returns it for a write
    sent with `return_values_on_condition_failure="ALL_OLD"`; {} if the engine did not return
    it; None if the write failed for another reason."""
    if not condition_failed(error):
        return None
    # PynamoDB raises botocore's error again as a VerboseClientError that keeps only its `Error`;
    # the item is on botocore's own error, chained as that one's cause.
    cause = error.cause
    if isinstance(cause, VerboseClientError):
        cause = cause.__cause__
    response = getattr(cause, "response", None)
    item = response.get("Item") if isinstance(response, dict) else None
    return item if isinstance(item, dict) else {}


class MalformedAnswer(BotoCoreError):
    """DynamoDB (or something posing as it) answered a call with a body that is not JSON; the
    call may have been applied."""

    fmt = "DynamoDB's answer to {operation} was not a JSON object"


def answer_check(*, http_response: Any, model: Any, **_: Any) -> None:
    """botocore's `after-call` hook: a successful answer must be a JSON object. botocore reads
    an unparseable body as an empty answer, which PynamoDB then fails on with a KeyError (a 500);
    this turns it into a failure like any other."""
    if http_response is None or http_response.status_code >= 300:
        return  # an error answer: botocore has made it a ClientError already
    try:
        body = json.loads(http_response.content or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise MalformedAnswer(operation=model.name)


def _not_applied(*, error_code: str | None, response: dict[str, Any] | None) -> bool:
    if error_code in NOT_APPLIED_CODES:
        return True
    if error_code == "TransactionCanceledException" and response is not None:
        codes = {reason.get("Code") for reason in response.get("CancellationReasons", [])}
        return bool(codes) and codes <= RESENDABLE_CANCELLATIONS and codes != {"None"}
    return False


def failure_not_applied(error: BaseException) -> bool:
    """True if DynamoDB certainly did not apply the request that failed with `error`: a refused
    connection, or DynamoDB's own refusal (docs/architecture.md, "Sent again only if not
    applied", says which failures are which and why)."""
    cause = error.cause if isinstance(error, PynamoDBException) else error
    if isinstance(cause, EndpointConnectionError | DeadlinePassed):
        return True
    if isinstance(cause, ClientError):
        return _not_applied(error_code=failure_code(cause), response=cause.response)
    return False


def resend_delay(
    *,
    attempts: int,
    response: tuple[Any, dict[str, Any]] | None,
    caught_exception: BaseException | None,
    **_: Any,
) -> float | None:
    """botocore's `needs-retry` hook: seconds to wait before sending the request again, or None
    to give up. Sends again only what DynamoDB certainly did not apply, at most
    DYNAMODB_MAX_RETRIES times, with jittered exponential back-off, and only while the request's
    budget (core/budget.py) has time left for it."""
    if attempts > settings.DYNAMODB_MAX_RETRIES:
        return None
    if caught_exception is not None:
        if isinstance(caught_exception, DeadlinePassed) or not failure_not_applied(
            caught_exception
        ):
            return None
    elif response is None or not _not_applied(
        error_code=_response_code(response[1]), response=response[1]
    ):
        return None
    delay = random.uniform(0, RESEND_BACKOFF_SECONDS * 2 ** (attempts - 1))  # noqa: S311
    remaining = budget_remaining()
    if remaining is not None and delay >= remaining:
        return None  # no time left to send it again and wait for the answer
    return delay
