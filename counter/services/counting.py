"""Counting a page view: the limits, the day's views (which carry the total), and the day's
unique visitors, in as few sequential DynamoDB round trips as the rules allow
(docs/architecture.md, "A POST's round trips").

1. The limits: one conditional UpdateItem on the client's bucket of the minute, which counts
   the visitor's attempts too (counter/services/limits.py). A view is counted only if both say
   "under", so this comes first.
2. The day's views ADD (with the view's source, campaign, country and device), which returns
   the day's views, and the unique-visitor transaction, sent at the same time. The total is the
   closed days' sum, which the process keeps for the day (counter/services/totals.py), plus the
   day's views.

The calls of one step are sent together on the shared pool of DynamoDB calls
(core.dynamodb.call_submit); the requests and round trips of each case are in the same section
of docs/architecture.md.

A failed view's ADD is logged as counted or possibly counted (docs/architecture.md, "Sent again
only if not applied"); a failed unique-visitor transaction after the view was counted is logged
and the answer is still the total.
"""

import datetime as dt
import logging
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass

from django.conf import settings

from core.clients import Client
from core.dynamodb import call_submit, failure_not_applied, failures_raise
from counter.services import days, limits, totals, visitors
from counter.services.items import CounterUnavailable
from counter.visits import Visit

logger = logging.getLogger(__name__)

SEEN_LIMIT = 10_000  # visitors this process remembers as counted today, past which it forgets
# This process's visitors already among today's unique visitors, by their hash: their next
# views skip the marker transaction, whose condition would fail anyway. Today's only.
_seen: dict[dt.date, set[str]] = {}
_seen_lock = threading.Lock()


@dataclass(frozen=True)
class CountOutcome:
    count: int  # the total after this request (the current total if it was not counted)
    counted: bool  # True if this request added a view
    refused: bool  # True past ten times a limit: the view answers 429
    retry_after: int  # seconds to the next minute, when the limits start again; 0 if counted


def _now() -> float:
    return time.time()


@failures_raise(CounterUnavailable)
def total_get() -> int:
    """Total page views, without counting one (0 before the first view)."""
    return _total_get(day=visitors.today())


def _total_get(*, day: dt.date, sums: Future | None = None) -> int:
    day, before = sums.result() if sums is not None else totals.sum_get(day=day)
    return before + days.day_views_get(day=day)


def _views_add(*, day: dt.date, visit: Visit | None, sums: Future | None) -> int:
    """ADD the view to its day's views and return the total after it."""
    for attempt in range(2):
        try:
            if sums is not None and attempt == 0:
                day, before = sums.result()
            else:
                day, before = totals.sum_get(day=day)
        except CounterUnavailable:
            logger.warning("The view was not counted: the days before it could not be summed.")
            raise
        try:
            return before + days.day_view_add(day=day, visit=visit)
        except days.DayClosed:
            day += totals.ONE_DAY  # closed while the view was on its way: it counts on the next
        except CounterUnavailable as error:
            if failure_not_applied(error.__cause__ or error):
                logger.warning("The view was not counted: DynamoDB refused it or never got it.")
            else:
                logger.warning(
                    "The view may have been counted: adding it to the day's views failed after "
                    "it was sent (%s), and it is not sent again.",
                    error.__cause__,
                )
            raise
    logger.warning("The view was not counted: its day and the next were closed on its way.")
    raise CounterUnavailable()


def _visitor_record(*, digest: str, day: dt.date) -> None:
    days.day_visitor_record(digest=digest, day=day)
    with _seen_lock:
        if day not in _seen or len(_seen[day]) >= SEEN_LIMIT:
            _seen.clear()  # a new day, or too many to keep: forget them all
            _seen[day] = set()
        _seen[day].add(digest)


def _count(
    *, digest: str | None, day: dt.date, visit: Visit | None = None, sums: Future | None = None
) -> int:
    """The view's ADD on its day, and with a visitor not yet counted today the unique-visitor
    transaction, sent at the same time; returns the total after the view."""
    marker = None
    if digest is not None and digest not in _seen.get(day, ()):
        marker = call_submit(lambda: _visitor_record(digest=digest, day=day))
    try:
        return _views_add(day=day, visit=visit, sums=sums)
    finally:
        if marker is not None and marker.exception() is not None:
            logger.warning("A view was left out of the day's visitors: %s", marker.exception())


@failures_raise(CounterUnavailable)
def view_add(
    *, visitor: Client | None = None, visit: Visit | None = None, today: dt.date | None = None
) -> int:
    """Count one page view, without the limits, and return the total after it.

    With a visitor, the day's unique visitors count it too (once per visitor and day).
    `view_count` is what a visitor's request calls.
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
def view_count(*, visitor: Client, visit: Visit | None = None) -> CountOutcome:
    """Count one page view of `visitor`, within the limits (docs/architecture.md, Data model:
    Limits), and with `visit` under its labels in the day's figures.

    Raises CounterUnavailable when DynamoDB fails; nothing was counted then, unless the log
    says the view may have been counted.
    """
    now = _now()
    minute = int(now // 60)
    day = dt.datetime.fromtimestamp(now, dt.UTC).date()
    # A process's first view of the day reads the closed days' sum while it reads the salt.
    sums = None if totals.sum_known(day=day) else call_submit(lambda: totals.sum_get(day=day))
    digest = visitors.visitor_digest(visitor=visitor, day=day)
    standing = _limits_check(visitor=visitor, digest=digest, day=day, minute=minute)
    if standing is limits.Standing.UNDER:
        total = _count(digest=digest, day=day, visit=visit, sums=sums)
        return CountOutcome(count=total, counted=True, refused=False, retry_after=0)
    return CountOutcome(
        count=_total_get(day=day, sums=sums),
        counted=False,
        refused=standing is limits.Standing.REFUSED,
        retry_after=60 - int(now) % 60,
    )
