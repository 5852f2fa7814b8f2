"""Counting a page view: the limits, the total, and the day's figures, in as few sequential
DynamoDB round trips as the rules allow (docs/architecture.md, "A POST's round trips").

1. The limits: one conditional UpdateItem on the client's bucket of the minute, which counts
   the visitor's attempts too (counter/services/limits.py). A view is counted only if both say
   "under", so this comes first.
2. The total's ADD, the day's views ADD (with the view's source, campaign, country and device)
   and the unique-visitor transaction, sent at the same time. They touch different items, so
   none waits for another.

So a counted view sends four requests and waits on two round trips (three requests in one with
both limits off), plus one for the day's
salt on a process's first view of the day. The calls of one step run on a small thread pool
(botocore clients are thread-safe), made on first use and never at import.

The total's ADD is never sent again once it may have been applied (resume_site/dynamodb.py):
a timeout answers 503 and logs that the view may have been counted, so the stored total never
exceeds the views. A failure of the day's figures after the total was counted is logged and the
answer is still the total.
"""

import datetime as dt
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from pynamodb.exceptions import PynamoDBException

from counter.services import days, limits, visitors
from counter.services.items import TOTAL_KEY, CounterUnavailable, TotalItem
from counter.visits import Visit
from resume_site.clients import Client
from resume_site.dynamodb import failure_not_applied, failures_raise, in_context

logger = logging.getLogger(__name__)

# The most calls one request sends at once is three; a few more serve a threaded local server.
POOL_WORKERS = 8
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


@dataclass(frozen=True)
class CountOutcome:
    count: int  # the total after this request (the current total if it was not counted)
    counted: bool  # True if this request added a view
    refused: bool  # True past ten times a limit: the view answers 429
    retry_after: int  # seconds to the next minute, when the limits start again; 0 if counted


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=POOL_WORKERS, thread_name_prefix="counter")
        return _pool


def _now() -> float:
    return time.time()


def _total_keys() -> list[str]:
    shards = settings.COUNTER_SHARDS
    if shards == 1:
        return [TOTAL_KEY]
    return [f"{TOTAL_KEY}#{shard}" for shard in range(shards)]


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


def _total_add() -> int:
    """ADD 1 to the total (one shard of it when sharded) and return the total after it."""
    keys = _total_keys()
    item = TotalItem(random.choice(keys))  # noqa: S311 (spreads writes, not a secret)
    try:
        item.update(actions=[TotalItem.count.add(1)])
    except PynamoDBException as error:
        if failure_not_applied(error):
            logger.warning(
                "The view was not counted: DynamoDB refused it or it was never sent (%s).", error
            )
        else:
            logger.warning(
                "The view may have been counted: adding it to the total failed after it was "
                "sent (%s), and it is not sent again.",
                error,
            )
        raise CounterUnavailable() from error
    return int(item.count) if len(keys) == 1 else count_get()


def _day_figures(*, digest: str, day: dt.date, visit: Visit | None) -> list[Callable[[], object]]:
    return [
        lambda: days.day_view_add(day=day, visit=visit),
        lambda: days.day_visitor_record(digest=digest, day=day),
    ]


def _count(*, digest: str | None, day: dt.date, visit: Visit | None = None) -> int:
    """The total's ADD, and with a visitor the day's figures, sent at the same time."""
    bookkeeping = _day_figures(digest=digest, day=day, visit=visit) if digest is not None else []
    futures = [_executor().submit(in_context(call)) for call in bookkeeping]
    try:
        total = _total_add()
    finally:
        for future in futures:
            if future.exception() is not None:
                logger.warning("A view was left out of the day's figures: %s", future.exception())
    return total


@failures_raise(CounterUnavailable)
def count_increment(
    *, visitor: Client | None = None, visit: Visit | None = None, today: dt.date | None = None
) -> int:
    """Count one page view, without the limits, and return the total after it.

    With a visitor, the day's views and (once per visitor and day) unique visitors are counted
    too, at the same time as the total. `count_view` is what a visitor's request calls.
    """
    day = today or visitors.today()
    digest = visitors.visitor_digest(visitor=visitor, day=day) if visitor is not None else None
    return _count(digest=digest, day=day, visit=visit)


def _limits_check(*, visitor: Client, digest: str, day: dt.date, minute: int) -> limits.Standing:
    """Both limits in one request: the client's bucket of the minute, with the visitor's count
    in it; only the visitor's own bucket when the client limit is off; none with both off."""
    client_limit, visitor_limit = settings.COUNTER_CLIENT_LIMIT, settings.COUNTER_VISITOR_LIMIT
    if client_limit:
        client = visitors.client_digest(network=visitor.network, day=day)
        return limits.limit_check(
            subject=f"client#{client}",
            limit=client_limit,
            minute=minute,
            visitor=digest if visitor_limit else "",
            visitor_limit=visitor_limit,
        )
    if visitor_limit:
        return limits.limit_check(subject=f"visitor#{digest}", limit=visitor_limit, minute=minute)
    return limits.Standing.UNDER


@failures_raise(CounterUnavailable)
def count_view(*, visitor: Client, visit: Visit | None = None) -> CountOutcome:
    """Count one page view of `visitor`, within the limits (docs/architecture.md, Data model:
    Limits), and with `visit` under its labels in the day's figures.

    Raises CounterUnavailable when DynamoDB fails; nothing was counted then, unless the log
    says the view may have been counted.
    """
    now = _now()
    minute = int(now // 60)
    day = dt.datetime.fromtimestamp(now, dt.UTC).date()
    digest = visitors.visitor_digest(visitor=visitor, day=day)
    standing = _limits_check(visitor=visitor, digest=digest, day=day, minute=minute)
    if standing is limits.Standing.UNDER:
        total = _count(digest=digest, day=day, visit=visit)
        return CountOutcome(count=total, counted=True, refused=False, retry_after=0)
    return CountOutcome(
        count=count_get(),
        counted=False,
        refused=standing is limits.Standing.REFUSED,
        retry_after=60 - int(now) % 60,
    )
