"""The one DynamoDB table every app keeps its items in: the models' base class, the
translation of DynamoDB failures into each app's own exception, and table set-up.

Every item is keyed by the string `pk`; the key's prefix says what an item is (the items are
listed in docs/architecture.md, Data model). Each app defines its item classes on `TableModel`
inside its own services module, and only that module uses them.

`TableModel.Meta` is read from the Django settings each time PynamoDB reads it, so no model can
be used before it is "bound": the first call of a fresh process (a sign-in as much as a page
view) finds the table, region, endpoint and timeouts the settings name. Nothing is read from the
network at import. PynamoDB keeps one connection per model class, opened on first use with the
settings of that moment; when a test changes a DynamoDB setting, `setting_changed` drops those
connections so the next call opens one against the new values.
"""

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import PynamoDBException
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
    defined here, so PynamoDB sets none of its own; the timeouts are short and the retries few
    because a page must fail fast rather than hang (docs/architecture.md, Decisions).
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
    def max_retry_attempts(cls) -> int:
        return settings.DYNAMODB_MAX_RETRIES

    @property
    def aws_access_key_id(cls) -> str | None:
        return "local" if _local_credentials() else None  # None: boto3's credential chain

    @property
    def aws_secret_access_key(cls) -> str | None:
        return "local" if _local_credentials() else None

    max_pool_connections = 10  # PynamoDB's default
    extra_headers = None
    aws_session_token = None


class TableModel(Model):
    """The base of every item class: the table, endpoint and timeouts come from the settings.

    Subclasses declare their attributes only; they inherit `pk` and this `Meta`.
    """

    class Meta(metaclass=_FromSettings):
        pass

    pk = UnicodeAttribute(hash_key=True)


def _models(base: type[Model] = TableModel) -> Iterator[type[Model]]:
    yield base
    for subclass in base.__subclasses__():
        yield from _models(subclass)


def connections_reset() -> None:
    """Drop every model's open connection; the next call opens one with the current settings."""
    for model in _models():
        model._connection = None


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
