"""The one DynamoDB table every app keeps its items in: the models' base class, their one
connection, and table set-up.

Every item is keyed by the string `pk`; the key's prefix says what an item is (the items are
listed in docs/architecture.md, Data model). Each app defines its item classes on `TableModel`
inside its own services module, and only that module uses them.

`TableModel.Meta` is read from the Django settings each time PynamoDB reads it, so no model can
be used before it is "bound": the first call of a fresh process (a sign-in as much as a page
view) finds the table, region, endpoint and timeouts the settings name. Nothing is read from the
network at import. Every model shares one connection (one botocore client, one pool of HTTP
connections), opened on first use with the settings of that moment; when a test changes a
DynamoDB setting, `setting_changed` drops it so the next call opens one against the new values.

The connection's client carries the hooks of the other core modules: the request's time budget
(core/budget.py), and what is sent again and what is no answer (core/failures.py).
"""

import os
import threading
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.connection import TableConnection
from pynamodb.models import Model

from core.budget import budget_apply, budget_charge
from core.failures import TableUnavailable, answer_check, failures_raise, resend_delay
from core.lifetime import kept_for_life

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


def _local_credentials() -> bool:
    """DynamoDB Local accepts any credentials, but a request must be signed with something."""
    return bool(settings.DYNAMODB_ENDPOINT_URL) and not os.environ.get("AWS_ACCESS_KEY_ID")


class _FromSettings(type):
    """What PynamoDB reads from a model's Meta, answered from the Django settings of the moment.

    Every name PynamoDB asks for at class creation (`hasattr`, to fill in its defaults) is
    defined here, so PynamoDB sets none of its own; the timeouts are short because a page must
    fail fast rather than hang (docs/architecture.md, Decisions). The SDK makes one attempt:
    what is sent again is decided by `resend_delay`, not by the SDK's retries.
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

    max_retry_attempts = 0  # see core.failures.resend_delay
    max_pool_connections = 10  # PynamoDB's default
    extra_headers = None
    aws_session_token = None


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
                with kept_for_life("the DynamoDB client"):
                    events = connection.connection.client.meta.events
                events.register(
                    "needs-retry.dynamodb", resend_delay, unique_id="resend-if-not-applied"
                )
                events.register("before-send.dynamodb", budget_apply, unique_id="budget")
                events.register("needs-retry.dynamodb", budget_charge, unique_id="budget-charge")
                events.register("after-call.dynamodb", answer_check, unique_id="answer-check")
            return connection


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
