"""The data model: PynamoDB models of the one DynamoDB table, and the owner's user class.

Every item lives in one table keyed by the string `pk`; the key's prefix says what an item is.
The PynamoDB models are private to `counter.services`. Their table name, region, endpoint,
timeouts and credentials come from Django settings when first used (`bind_models`), never at
import (rule 4).

`Owner` is the only Django model: the class Django's auth and admin expect of a user. It has no
table (there is no SQL database, rule 2); instances are built from account items and never saved.
"""

import os
from collections.abc import Iterable
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver
from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model


class _TableMeta:
    """Filled in by bind_models(); a model used before binding has no table name and fails."""

    table_name: str | None = None


class TotalItem(Model):
    """The single counter item (one per shard when write sharding is on): total page views."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    count = NumberAttribute(default=0)


class DayItem(Model):
    """Views and unique visitors of one UTC day, for the admin chart."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    views = NumberAttribute(default=0)
    uniques = NumberAttribute(default=0)


class VisitorMarker(Model):
    """One per (day, visitor hash): proves a visitor was already counted that day."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    expires = TTLAttribute()


class DailySalt(Model):
    """The random salt of one day's visitor hashes; it expires, so old hashes cannot be redone."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    salt = UnicodeAttribute()
    expires = TTLAttribute()


class AccountItem(Model):
    """An owner account: username, Django password hash, active flag, times."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    username = UnicodeAttribute()
    password = UnicodeAttribute()
    active = BooleanAttribute(default=True)
    created = UTCDateTimeAttribute()
    last_login = UTCDateTimeAttribute(null=True)


class AccountIndex(Model):
    """The set of usernames, so accounts are listed without a table scan."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    usernames = UnicodeSetAttribute(default=set)


class FailureItem(Model):
    """Failed sign-ins of one username or client in one time window; it expires."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    failures = NumberAttribute(default=0)
    expires = TTLAttribute(null=True)


MODELS: tuple[type[Model], ...] = (
    TotalItem,
    DayItem,
    VisitorMarker,
    DailySalt,
    AccountItem,
    AccountIndex,
    FailureItem,
)
_bound = False


def bind_models(models: Iterable[type[Model]] = MODELS) -> None:
    """Point every model at the table and endpoint that the settings name now."""
    global _bound
    # DynamoDB Local accepts any credentials, but requests must be signed with something.
    local_keys = bool(settings.DYNAMODB_ENDPOINT_URL) and not os.environ.get("AWS_ACCESS_KEY_ID")
    options: dict[str, Any] = {
        "table_name": settings.DYNAMODB_TABLE,
        "region": settings.AWS_REGION,
        "host": settings.DYNAMODB_ENDPOINT_URL or None,
        "connect_timeout_seconds": settings.DYNAMODB_CONNECT_TIMEOUT,
        "read_timeout_seconds": settings.DYNAMODB_READ_TIMEOUT,
        "max_retry_attempts": settings.DYNAMODB_MAX_RETRIES,
        "aws_access_key_id": "local" if local_keys else None,
        "aws_secret_access_key": "local" if local_keys else None,
    }
    for model in models:
        for name, value in options.items():
            setattr(model.Meta, name, value)
        model._connection = None  # the next call opens a connection with the new options
    _bound = True


def ensure_bound() -> None:
    if not _bound:
        bind_models()


@receiver(setting_changed)
def _rebind_on_setting_change(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("DYNAMODB_") or setting == "AWS_REGION":
        bind_models()


class Owner(AbstractBaseUser, PermissionsMixin):
    """The site owner as Django sees a user. Built from an AccountItem; never saved."""

    username = models.CharField(max_length=150, primary_key=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=True)

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        managed = False

    def __str__(self) -> str:
        return self.username

    def save(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            "Owner accounts live in DynamoDB: change them with `manage.py createadmin`."
        )
