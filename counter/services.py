"""The counter's DynamoDB access: page views, the day's figures and the visitors' daily hashes.

Every change to a count is one atomic DynamoDB operation, an ADD update or a transaction, never
read-add-write: concurrent views would otherwise overwrite each other and be lost
(docs/architecture.md, Decisions). Any failure of the engine surfaces as CounterUnavailable,
which the API turns into a 503 and the dashboard into a notice; the resume page never waits on
the counter.

The item classes below are this module's own; everything else uses the functions.
"""

import datetime as dt
import hashlib
import hmac
import logging
import random
import secrets
import uuid
from dataclasses import dataclass

from django.conf import settings
from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from resume_site.clients import Client
from resume_site.dynamodb import TableModel, TableUnavailable, failures_raise

logger = logging.getLogger(__name__)

TOTAL_KEY = "total"
MARKER_LIFETIME = dt.timedelta(days=2)


class CounterUnavailable(TableUnavailable):
    """The visitor counter's items could not be read or written."""

    def __init__(self, message: str = "the visitor counter is unavailable right now") -> None:
        super().__init__(message)


class TotalItem(TableModel):
    """The single counter item (one per shard when write sharding is on): total page views."""

    count = NumberAttribute(default=0)


class DayItem(TableModel):
    """Views and unique visitors of one UTC day, for the admin chart."""

    views = NumberAttribute(default=0)
    uniques = NumberAttribute(default=0)


class VisitorMarker(TableModel):
    """One per (day, visitor hash): proves a visitor was already counted that day."""

    expires = TTLAttribute()


class DailySalt(TableModel):
    """The random salt of one day's visitor hashes; it expires, so old hashes cannot be redone."""

    salt = UnicodeAttribute()
    expires = TTLAttribute()


@dataclass(frozen=True)
class DayStats:
    day: dt.date
    views: int
    uniques: int


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _total_keys() -> list[str]:
    shards = settings.COUNTER_SHARDS
    if shards == 1:
        return [TOTAL_KEY]
    return [f"{TOTAL_KEY}#{shard}" for shard in range(shards)]


def _transaction() -> Connection:
    return DayItem._get_connection().connection


@failures_raise(CounterUnavailable)
def count_get() -> int:
    """Total page views, without counting one (0 before the first view)."""
    keys = _total_keys()
    if len(keys) == 1:
        try:
            return int(TotalItem.get(keys[0], consistent_read=True).count)
        except TotalItem.DoesNotExist:
            return 0
    return sum(int(item.count) for item in TotalItem.batch_get(keys, consistent_read=True))


@failures_raise(CounterUnavailable)
def count_increment(*, visitor: Client | None = None, today: dt.date | None = None) -> int:
    """Count one page view with an atomic ADD and return the total after it.

    With a visitor, the day's views and (once per visitor and day) unique visitors are counted
    too; that bookkeeping failing is logged and does not lose the view already counted.
    """
    keys = _total_keys()
    item = TotalItem(random.choice(keys))  # noqa: S311 (spreads writes, not a secret)
    item.update(actions=[TotalItem.count.add(1)])
    total = int(item.count) if len(keys) == 1 else count_get()
    if visitor is not None:
        try:
            day_record_view(visitor=visitor, day=today or _today())
        except CounterUnavailable:
            logger.warning("The view was counted in the total but not in the day's figures.")
    return total


def _daily_salt(day: dt.date) -> bytes:
    """The day's random salt, made by whichever request needs it first (put-if-absent)."""
    cached = _salts.get(day)
    if cached is not None:
        return cached
    key = f"salt#{day.isoformat()}"
    expires = dt.datetime.combine(day, dt.time(), dt.UTC) + MARKER_LIFETIME
    candidate = DailySalt(key, salt=secrets.token_hex(32), expires=expires)
    try:
        candidate.save(condition=DailySalt.pk.does_not_exist())
        salt = candidate.salt
    except PutError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        salt = DailySalt.get(key, consistent_read=True).salt
    _salts.clear()  # keep only today's salt in memory
    _salts[day] = bytes.fromhex(salt)
    return _salts[day]


_salts: dict[dt.date, bytes] = {}


def visitor_hash(*, visitor: Client, salt: bytes) -> str:
    """A keyed hash of (IP, user agent). The salt changes daily and expires, so the hashes of
    two days cannot be linked and nobody can recompute an old one from an IP address."""
    message = f"{visitor.ip}\n{visitor.user_agent}".encode()
    return hmac.new(salt, message, hashlib.sha256).hexdigest()[:32]


@failures_raise(CounterUnavailable)
def visitor_digest(*, visitor: Client, day: dt.date | None = None) -> str:
    """The visitor's keyed hash of the day (today by default), as the counter stores it.

    Public so that the owner's sign-in can count failures per client without storing the
    client; the hash and its salt stay the counter's.
    """
    return visitor_hash(visitor=visitor, salt=_daily_salt(day or _today()))


@failures_raise(CounterUnavailable)
def day_record_view(*, visitor: Client, day: dt.date) -> bool:
    """Count a view in the day's figures; return True if it was the visitor's first that day.

    The marker and the unique-visitor ADD are one transaction with a does-not-exist condition,
    so a visitor counts once a day and a retried request (same token) never counts twice.
    """
    day_key = f"day#{day.isoformat()}"
    marker = VisitorMarker(
        f"visitor#{day.isoformat()}#{visitor_digest(visitor=visitor, day=day)}",
        expires=dt.datetime.combine(day, dt.time(), dt.UTC) + MARKER_LIFETIME,
    )
    try:
        with TransactWrite(connection=_transaction(), client_request_token=str(uuid.uuid4())) as tx:
            tx.save(marker, condition=VisitorMarker.pk.does_not_exist())
            tx.update(DayItem(day_key), actions=[DayItem.views.add(1), DayItem.uniques.add(1)])
        return True
    except TransactWriteError as error:
        reasons = error.cancellation_reasons
        if not reasons or reasons[0] is None or reasons[0].code != "ConditionalCheckFailed":
            raise
    DayItem(day_key).update(actions=[DayItem.views.add(1)])
    return False


@failures_raise(CounterUnavailable)
def days_stats(*, days: int = 30, today: dt.date | None = None) -> list[DayStats]:
    """Views and unique visitors of the last `days` days, oldest first, zeros for quiet days."""
    last = today or _today()
    wanted = [last - dt.timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    keys = [f"day#{day.isoformat()}" for day in wanted]
    found = {item.pk: item for item in DayItem.batch_get(keys, consistent_read=True)}
    stats = []
    for day in wanted:
        item = found.get(f"day#{day.isoformat()}")
        views, uniques = (int(item.views), int(item.uniques)) if item else (0, 0)
        stats.append(DayStats(day=day, views=views, uniques=uniques))
    return stats


# --- The view's counting interface (docs/architecture.md, "Request flow") --------------------
# `count_view` is what the API view calls for a POST. This version counts with count_increment
# and applies no limits (what the counter does with COUNTER_VISITOR_LIMIT and
# COUNTER_CLIENT_LIMIT off); the limited version replaces this block and keeps its interface.


@dataclass(frozen=True)
class CountOutcome:
    """What counting one view did, for the API to answer."""

    count: int  # the total after this request (the current total if it was not counted)
    counted: bool  # True if this request added a view
    refused: bool  # True past ten times a limit: the API answers 429
    retry_after: int  # seconds; meaningful when refused (or over the limit)


def count_view(*, visitor: Client) -> CountOutcome:
    """Count one page view of `visitor` and say what happened; raises CounterUnavailable."""
    return CountOutcome(
        count=count_increment(visitor=visitor), counted=True, refused=False, retry_after=0
    )
