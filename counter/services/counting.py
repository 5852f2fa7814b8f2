"""Counting a page view: the limits, the day's views (which carry the total), and the day's
unique visitors, in as few sequential DynamoDB round trips as the rules allow
(docs/architecture.md, "A POST's round trips").

1. The limits: one conditional UpdateItem on the client's bucket of the minute, which counts
   the visitor's attempts too (counter/services/limits.py). A view is counted only if both say
   "under", so this comes first. With it goes, for a visitor this process has not counted
   today, the claim of the visitor's first view of the day on its marker
   (counter/services/days.py).
2. The day's views ADD (with the view's source, campaign, country and device, and with a
   granted claim one more unique visitor), which returns the day's views. The total is the
   closed days' sum, which the process keeps for the day (counter/services/totals.py), plus the
   day's views.

So a unique visitor is only ever counted in the same write as a view: a day never has more
unique visitors than views. A view that was certainly not counted (over a limit, refused by
DynamoDB, never sent) releases its claim, so the visitor's next view counts it.

The calls of one step are sent together on the shared pool of DynamoDB calls
(core.dynamodb.call_submit); the requests and round trips of each case are in the same section
of docs/architecture.md.

A failed view's ADD is logged as counted or possibly counted (docs/architecture.md, "Sent again
only if not applied"); a failed claim is logged, and the view is counted without its visitor.
"""

import datetime as dt
import logging
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass

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


class _NotCounted(CounterUnavailable):
    """The view was certainly not counted: it was never sent, or DynamoDB refused it. Its cause
    is the failure's own, as for any CounterUnavailable."""


def _views_add(*, day: dt.date, visit: Visit | None, sums: Future | None, unique: bool) -> int:
    """ADD the view to its day's views, and with `unique` (its visitor's claimed first view of
    the day) to the day's unique visitors in the same write; return the total after it. Raises
    _NotCounted when the view was certainly not counted."""
    for attempt in range(2):
        try:
            if sums is not None and attempt == 0:
                day, before = sums.result()
            else:
                day, before = totals.sum_get(day=day)
        except CounterUnavailable as error:
            logger.warning("The view was not counted: the days before it could not be summed.")
            raise _NotCounted() from error.__cause__ or error
        try:
            return before + days.day_view_add(day=day, visit=visit, unique=unique)
        except days.DayClosed:
            day += totals.ONE_DAY  # closed while the view was on its way: it counts on the next
            unique = False  # the visitor's claim was on the closed day, not on this one
        except CounterUnavailable as error:
            if failure_not_applied(error.__cause__ or error):
                logger.warning("The view was not counted: DynamoDB refused it or never got it.")
                raise _NotCounted() from error.__cause__ or error
            logger.warning(
                "The view may have been counted: adding it to the day's views failed after "
                "it was sent (%s), and it is not sent again.",
                error.__cause__,
            )
            raise
    logger.warning("The view was not counted: its day and the next were closed on its way.")
    raise _NotCounted()


def _remember(*, digest: str, day: dt.date) -> None:
    """The visitor is among today's unique visitors: this process sends no more claims for it."""
    with _seen_lock:
        if day not in _seen or len(_seen[day]) >= SEEN_LIMIT:
            _seen.clear()  # a new day, or too many to keep: forget them all
            _seen[day] = set()
        _seen[day].add(digest)


def _claim_send(*, digest: str | None, day: dt.date) -> Future[str | None] | None:
    """Claim the visitor's first view of the day on its marker, on the pool (None: no visitor,
    or one this process already counted today)."""
    if digest is None or digest in _seen.get(day, ()):
        return None
    return call_submit(lambda: days.day_visitor_claim(digest=digest, day=day))


def _claim_token(claim: Future[str | None] | None, *, digest: str, day: dt.date) -> str | None:
    """Wait for the claim: its token if it was granted; None without one, if the visitor was
    seen today (then remembered), or if the claim failed (logged)."""
    if claim is None:
        return None
    try:
        token = claim.result()
    except CounterUnavailable as error:
        logger.warning("A view was left out of the day's visitors: its claim failed (%s).", error)
        return None
    if token is None:
        _remember(digest=digest, day=day)
    return token


def _claim_release(token: str, *, digest: str, day: dt.date) -> None:
    """The view a granted claim was sent for was certainly not counted: release the claim, so
    the visitor's next view counts it. A failure is logged: the visitor may then be left out of
    the day's unique visitors, but is never counted without a view."""
    try:
        days.day_visitor_release(digest=digest, day=day, claim=token)
    except CounterUnavailable as error:
        logger.warning("A claim of a view that was not counted was left in place: %s", error)


def _count(
    *,
    digest: str | None,
    day: dt.date,
    visit: Visit | None = None,
    sums: Future | None = None,
    claim: Future[str | None] | None = None,
) -> int:
    """The view's ADD on its day; with a granted claim (sent before, `_claim_send`) it counts
    the visitor among the day's unique visitors in the same write, and the claim is released if
    the view was certainly not counted. Returns the total after the view."""
    token = _claim_token(claim, digest=digest, day=day) if digest is not None else None
    try:
        total = _views_add(day=day, visit=visit, sums=sums, unique=token is not None)
    except _NotCounted:
        if token is not None:
            _claim_release(token, digest=digest, day=day)
        raise
    if token is not None:
        _remember(digest=digest, day=day)
    return total


@failures_raise(CounterUnavailable)
def view_add(
    *, visitor: Client | None = None, visit: Visit | None = None, today: dt.date | None = None
) -> int:
    """Count one page view, without the limits, and return the total after it.

    With a visitor, the day's unique visitors count it too (once per visitor and day): its claim
    goes first, then the view. `view_count` is what a visitor's request calls.
    """
    day = today or visitors.today()
    digest = visitors.visitor_digest(visitor=visitor, day=day) if visitor is not None else None
    return _count(digest=digest, day=day, visit=visit, claim=_claim_send(digest=digest, day=day))


@failures_raise(CounterUnavailable)
def view_count(*, visitor: Client, visit: Visit | None = None) -> CountOutcome:
    """Count one page view of `visitor`, within the limits (docs/architecture.md, Data model:
    Limits), and with `visit` under its labels in the day's figures.

    An unknown visitor (`Client.known`: no IP) is answered with the total and never counted,
    and nothing is written for it: it has no network to key the limits or its hash by.

    Raises CounterUnavailable when DynamoDB fails; nothing was counted then, unless the log
    says the view may have been counted.
    """
    now = _now()
    minute = int(now // 60)
    day = dt.datetime.fromtimestamp(now, dt.UTC).date()
    if not visitor.known:
        return CountOutcome(count=_total_get(day=day), counted=False, refused=False, retry_after=0)
    # A process's first view of the day reads the closed days' sum while it reads the salt.
    sums = None if totals.sum_known(day=day) else call_submit(lambda: totals.sum_get(day=day))
    digest = visitors.visitor_digest(visitor=visitor, day=day)
    # The visitor's claim on its first view of the day goes out with the limits' check.
    claim = _claim_send(digest=digest, day=day)
    try:
        standing = limits.limits_check(visitor=visitor, digest=digest, day=day, minute=minute)
    except CounterUnavailable:
        if (token := _claim_token(claim, digest=digest, day=day)) is not None:
            _claim_release(token, digest=digest, day=day)
        raise
    if standing is limits.Standing.UNDER:
        total = _count(digest=digest, day=day, visit=visit, sums=sums, claim=claim)
        return CountOutcome(count=total, counted=True, refused=False, retry_after=0)
    # Not counted: a granted claim is released while the current total is read.
    token = _claim_token(claim, digest=digest, day=day)
    released = None
    if token is not None:
        released = call_submit(lambda: _claim_release(token, digest=digest, day=day))
    try:
        count = _total_get(day=day, sums=sums)
    finally:
        if released is not None:
            released.result()
    return CountOutcome(
        count=count,
        counted=False,
        refused=standing is limits.Standing.REFUSED,
        retry_after=60 - int(now) % 60,
    )
