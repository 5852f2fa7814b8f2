"""The one DynamoDB table every app keeps its items in: the models' base class, the
translation of DynamoDB failures into each app's own exception, and table set-up.

Every item is keyed by the string `pk`; the key's prefix says what an item is (the items are
listed in docs/architecture.md, Data model). Each app defines its item classes on `TableModel`
inside its own services module, and only that module uses them.

`TableModel.Meta` is read from the Django settings each time PynamoDB reads it, so no model can
be used before it is "bound": the first call of a fresh process (a sign-in as much as a page
view) finds the table, region, endpoint and timeouts the settings name. Nothing is read from the
network at import. Every model shares one connection (one botocore client, one pool of HTTP
connections), opened on first use with the settings of that moment; when a test changes a
DynamoDB setting, `setting_changed` drops it so the next call opens one against the new values.

A request is sent again only when DynamoDB certainly did not apply it (docs/architecture.md,
Decisions, "Sent again only if not applied"): `_resend_delay` below.
"""

import contextvars
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.connection import TableConnection
from pynamodb.connection.base import BOTOCORE_EXCEPTIONS
from pynamodb.exceptions import PynamoDBException, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model

logger = logging.getLogger(__name__)

# The settings a connection is opened with; changing one of them drops the open connections.
CONNECTION_SETTINGS = frozenset(
    {
        "DYNAMODB_TABLE",
        "DYNAMODB_ENDPOINT_URL",
        "DYNAMODB_CONNECT_TIMEOUT",
        "DYNAMODB_READ_TIMEOUT",
        "DYNAMODB_MAX_RETRIES",
        "AWS_REGION",
    }
)


class TableUnavailable(Exception):
    """DynamoDB could not be reached or refused the request; nothing was half-written.

    Each app raises its own subclass, so a caller can tell which part of the site is down.
    """

    def __init__(self, message: str = "the site's database is unavailable right now") -> None:
        super().__init__(message)


def _local_credentials() -> bool:
    """DynamoDB Local accepts any credentials, but a request must be signed with something."""
    return bool(settings.DYNAMODB_ENDPOINT_URL) and not os.environ.get("AWS_ACCESS_KEY_ID")


class _FromSettings(type):
    """What PynamoDB reads from a model's Meta, answered from the Django settings of the moment.

    Every name PynamoDB asks for at class creation (`hasattr`, to fill in its defaults) is
    defined here, so PynamoDB sets none of its own; the timeouts are short because a page must
    fail fast rather than hang (docs/architecture.md, Decisions). The SDK makes one attempt:
    what is sent again is decided by `_resend_delay`, not by the SDK's retries.
    """

    @property
    def table_name(cls) -> str:
        return settings.DYNAMODB_TABLE

    @property
    def region(cls) -> str:
        return settings.AWS_REGION

    @property
    def host(cls) -> str | None:
        return settings.DYNAMODB_ENDPOINT_URL or None  # None: AWS's endpoint for the region

    @property
    def connect_timeout_seconds(cls) -> float:
        return settings.DYNAMODB_CONNECT_TIMEOUT

    @property
    def read_timeout_seconds(cls) -> float:
        return settings.DYNAMODB_READ_TIMEOUT

    @property
    def aws_access_key_id(cls) -> str | None:
        return "local" if _local_credentials() else None  # None: boto3's credential chain

    @property
    def aws_secret_access_key(cls) -> str | None:
        return "local" if _local_credentials() else None

    max_retry_attempts = 0  # see _resend_delay
    max_pool_connections = 10  # PynamoDB's default
    extra_headers = None
    aws_session_token = None


class MalformedAnswer(BotoCoreError):
    """DynamoDB (or something posing as it) answered a call with a body that is not JSON; the
    call may have been applied."""

    fmt = "DynamoDB's answer to {operation} was not a JSON object"


def _answer_check(*, http_response: Any, model: Any, **_: Any) -> None:
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


class DeadlinePassed(BotoCoreError):
    """The request's time budget for DynamoDB was spent before this call was sent; nothing was
    sent, so nothing was applied."""

    fmt = "The request's time budget for DynamoDB ran out before the call was sent"


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


def _resend_delay(
    *,
    attempts: int,
    response: tuple[Any, dict[str, Any]] | None,
    caught_exception: BaseException | None,
    **_: Any,
) -> float | None:
    """botocore's `needs-retry` hook: seconds to wait before sending the request again, or None
    to give up. Sends again only what DynamoDB certainly did not apply, at most
    DYNAMODB_MAX_RETRIES times, with jittered exponential back-off."""
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


# --- One time budget per request ----------------------------------------------------------------


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
BUDGET_FLOOR_SECONDS = 0.01  # the shortest read timeout a call is sent with
_STARTED = "resume_site.budget_started"  # marks a request's context while its call is in flight


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


def _budget_apply(*, request: Any, **_: Any) -> None:
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


def _budget_charge(*, request_dict: dict[str, Any], **_: Any) -> None:
    """botocore's `needs-retry` hook, after every attempt: the wait ends."""
    current = request_dict.get("context", {}).pop(_STARTED, None)
    if current is not None:
        current.call_ended()


_connection_lock = threading.Lock()


class TableModel(Model):
    """The base of every item class: the table, endpoint and timeouts come from the settings.

    Subclasses declare their attributes only; they inherit `pk` and this `Meta`. All of them
    share one connection: the same table and key schema, one botocore client, one HTTP pool.
    """

    class Meta(metaclass=_FromSettings):
        pass

    pk = UnicodeAttribute(hash_key=True)

    @classmethod
    def _get_connection(cls) -> TableConnection:
        # Under a lock: a view's first calls start on several threads at once, and a client
        # made by one of them while another registers the hooks would have none (a malformed
        # answer then crashed PynamoDB with a KeyError, a 500).
        with _connection_lock:
            connection = TableModel.__dict__.get("_connection")
            if connection is None or connection.table_name != settings.DYNAMODB_TABLE:
                connection = Model._get_connection.__func__(TableModel)  # sets _connection
                # The client is made here, on first use, never at import. PynamoDB replaces it
                # only if it lost its credentials; the new one has no hook, so it sends nothing
                # again.
                events = connection.connection.client.meta.events
                events.register(
                    "needs-retry.dynamodb", _resend_delay, unique_id="resend-if-not-applied"
                )
                events.register("before-send.dynamodb", _budget_apply, unique_id="budget")
                events.register("needs-retry.dynamodb", _budget_charge, unique_id="budget-charge")
                events.register("after-call.dynamodb", _answer_check, unique_id="answer-check")
            return connection


def item_get[M: TableModel](model: type[M], key: str) -> M | None:
    """The item of `key` (strongly consistent), or None if there is none."""
    try:
        return model.get(key, consistent_read=True)
    except model.DoesNotExist:
        return None


BATCH_KEYS = 100  # BatchGetItem's limit
BATCH_ROUNDS = 5  # sends of the keys DynamoDB left unprocessed before giving up


def items_get_raw(keys: list[str]) -> dict[str, dict[str, Any]]:
    """The stored items of `keys` by key, as DynamoDB returns them (every attribute, declared or
    not), strongly consistent; missing keys are absent. BatchGetItem in groups of 100, sending
    again what it left unprocessed; TableUnavailable if some keys stay unprocessed."""
    table = TableModel._get_connection()
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(keys), BATCH_KEYS):
        pending = keys[start : start + BATCH_KEYS]
        for _ in range(BATCH_ROUNDS):
            if not pending:
                break
            answer = table.batch_get_item([{"pk": key} for key in pending], consistent_read=True)
            for item in answer.get("Responses", {}).get(table.table_name, []):
                found[item["pk"]["S"]] = item
            left = answer.get("UnprocessedKeys", {}).get(table.table_name, {}).get("Keys", [])
            pending = [key["pk"]["S"] for key in left]
        if pending:
            raise TableUnavailable()
    return found


def item_update_raw(
    model: type[TableModel],
    key: str,
    *,
    actions: list[Action],
    condition: Condition | None = None,
    return_values: str | None = None,
    return_values_on_condition_failure: str | None = None,
) -> dict[str, Any]:
    """One UpdateItem answered as DynamoDB returns it (`Attributes` in DynamoDB's JSON, any
    attribute, declared or not), for updates of attributes whose names are data (a label, a
    visitor's count); a failure raises UpdateError as `Model.update` does."""
    table = model._get_connection()
    request = table.get_operation_kwargs(
        key,
        actions=actions,
        condition=condition,
        return_values=return_values,
        return_values_on_condition_failure=return_values_on_condition_failure,
    )
    try:
        return table.connection.dispatch("UpdateItem", request)
    except BOTOCORE_EXCEPTIONS as error:
        raise UpdateError(f"Failed to update item: {error}", error) from error


def table_location() -> str:
    """Where the table's engine is, for a message: the endpoint, or the AWS region."""
    return settings.DYNAMODB_ENDPOINT_URL or f"AWS region {settings.AWS_REGION}"


def connections_reset() -> None:
    """Drop the models' open connection; the next call opens one with the current settings."""
    with _connection_lock:
        TableModel._connection = None


@receiver(setting_changed)
def _reconnect_on_setting_change(*, setting: str, **kwargs: Any) -> None:
    if setting in CONNECTION_SETTINGS:
        connections_reset()


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


class _TableSchema(TableModel):
    """The table as set-up creates it: the key every item has, and the attribute TTL reads."""

    expires = TTLAttribute(null=True)


@failures_raise(TableUnavailable)
def table_ensure(*, wait: bool = True) -> bool:
    """Create the table if missing (on-demand, TTL on `expires`); return True if it was made.

    On an existing table it only switches TTL on if it is off, so it is safe to run again.
    """
    if not _TableSchema.exists():
        _TableSchema.create_table(billing_mode="PAY_PER_REQUEST", wait=wait)  # also enables TTL
        return True
    client = _TableSchema._get_connection().connection.client
    ttl = client.describe_time_to_live(TableName=settings.DYNAMODB_TABLE)
    if ttl["TimeToLiveDescription"]["TimeToLiveStatus"] in {"DISABLED", "DISABLING"}:
        _TableSchema.update_ttl(ignore_update_ttl_errors=False)
    return False
