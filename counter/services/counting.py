"""Counting a page view: the limits, the day's views (which carry the total), and the day's
unique visitors, in as few sequential DynamoDB round trips as the rules allow
(docs/architecture.md, "A POST's round trips").

1. The limits: one conditional UpdateItem on the client's bucket of the minute, which counts
   the visitor's attempts too (counter/services/limits.py). A view is counted only if both say
   "under", so this comes first. With it goes, for a visitor this process has not settled
   today, the claim of the visitor's first view of the day on its marker
   (counter/services/uniques.py).
2. The day's views ADD (with the view's source, campaign, country and device, and with a
   granted claim one more unique visitor), which returns the day's views. The total is the
   closed days' sum, which the process keeps for the day (counter/services/totals.py), plus the
   day's views.
3. Only for a view counted without its visitor because another view held the claim, which may
   not be counted (the marker has no deferral yet): its deferral to that holder, which counts
   the visitor if it is not counted itself (or this view counts it, if the holder gave the
   claim up first).

So a unique visitor is counted in the same write as a view, or for a view counted before it:
a day never has more unique visitors than views, and a visitor with a counted view is counted
once whatever order its concurrent views take. A view that was certainly not counted (over a
limit, refused by DynamoDB, never sent) gives its claim up: released, so the visitor's next view
counts it, or, if a counted view deferred to it meanwhile, spent on counting the visitor for
that view (docs/architecture.md, Data model, "Unique visitors").

The calls of one step are sent together on the shared pool of DynamoDB calls
(core.budget.call_submit); the requests and round trips of each case are in the same section
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

from core.budget import call_submit
from core.clients import Client
from core.failures import failure_not_applied, failures_raise
from counter.services import days, limits, totals, uniques, visitors
from counter.services.items import CounterUnavailable
from counter.visits import Visit

logger = logging.getLogger(__name__)

SEEN_LIMIT = 10_000  # visitors this process remembers as counted today, past which it forgets
# This process's visitors settled among today's unique visitors, by their hash: counted, or
# deferred to a claim's holder that counts them. Their next views skip the claim, which would be
# refused anyway. Today's only.
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


def _views_add(
    *, day: dt.date, visit: Visit | None, sums: Future | None, unique: bool
) -> tuple[int, dt.date]:
    """ADD the view to its day's views, and with `unique` (its visitor's claimed first view of
    `day`) to the day's unique visitors in the same write; return the total after it and the day
    it was counted on (a later one if `day` was closed: then without its visitor, whose claim
    was on `day`). Raises _NotCounted when the view was certainly not counted."""
    claimed = day
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
            views = days.day_view_add(day=day, visit=visit, unique=unique and day == claimed)
            return before + views, day
        except days.DayClosed:
            day += totals.ONE_DAY  # closed while the view was on its way: it counts on the next
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


def _claim_send(*, digest: str, day: dt.date) -> Future[uniques.VisitorClaim] | None:
    """Claim the visitor's first view of the day on its marker, on the pool (None: a visitor
    this process settled today)."""
    if digest in _seen.get(day, ()):
        return None
    return call_submit(lambda: uniques.day_visitor_claim(digest=digest, day=day))


def _claim_wait(
    claim: Future[uniques.VisitorClaim] | None, *, digest: str, day: dt.date
) -> uniques.VisitorClaim | None:
    """Wait for the claim's answer: None without a claim, or if it failed (logged). A refused
    claim whose visitor is settled (`VisitorClaim.held` False) is remembered."""
    if claim is None:
        return None
    try:
        answer = claim.result()
    except CounterUnavailable as error:
        logger.warning("A view was left out of the day's visitors: its claim failed (%s).", error)
        return None
    if answer.token is None and not answer.held:
        _remember(digest=digest, day=day)
    return answer


def _claim_release(token: str, *, digest: str, day: dt.date) -> None:
    """The view a granted claim was sent for was certainly not counted on the claim's day: give
    the claim up, released for the visitor's next view, or spent on counting the visitor for a
    counted view that deferred to it (then it is remembered). A failure is logged: the visitor
    may then be left out of the day's unique visitors, but is never counted without a view."""
    try:
        if uniques.day_visitor_release(digest=digest, day=day, claim=token):
            _remember(digest=digest, day=day)
    except CounterUnavailable as error:
        logger.warning(
            "A claim of a view that was not counted was neither released nor handed over: %s",
            error,
        )


def _defer(*, digest: str, day: dt.date) -> None:
    """The view was counted on the claim's day without its visitor, whose claim another view
    held and may not be counted: defer the visitor to that holder, or count it now if the
    holder gave the claim up first (`uniques.day_visitor_defer`); either way it is settled, and
    remembered. A failure is logged: the visitor may then be left out, never counted twice."""
    try:
        uniques.day_visitor_defer(digest=digest, day=day)
    except CounterUnavailable as error:
        logger.warning(
            "A view was left out of the day's visitors: deferring it to its claim's holder "
            "failed (%s).",
            error,
        )
        return
    _remember(digest=digest, day=day)


def _count(
    *,
    digest: str,
    day: dt.date,
    visit: Visit | None = None,
    sums: Future | None = None,
    claim: Future[uniques.VisitorClaim] | None = None,
) -> int:
    """The view's ADD on its day; with a granted claim (sent before, `_claim_send`) it counts
    the visitor among the day's unique visitors in the same write, and the claim is given up if
    the view was certainly not counted on the claim's day. A view counted without its visitor
    while another view held the claim defers to it. Returns the total after the view."""
    answer = _claim_wait(claim, digest=digest, day=day)
    token = answer.token if answer is not None else None
    try:
        total, counted_on = _views_add(day=day, visit=visit, sums=sums, unique=token is not None)
    except _NotCounted:
        if token is not None:
            _claim_release(token, digest=digest, day=day)
        raise
    if counted_on != day:  # the claim's day was closed: the view counts on the next one
        if token is not None:
            _claim_release(token, digest=digest, day=day)
    elif token is not None:
        _remember(digest=digest, day=day)
    elif answer is not None and answer.held:
        _defer(digest=digest, day=day)
    return total


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
        answer = _claim_wait(claim, digest=digest, day=day)
        if answer is not None and answer.token is not None:
            _claim_release(answer.token, digest=digest, day=day)
        raise
    if standing is limits.Standing.UNDER:
        total = _count(digest=digest, day=day, visit=visit, sums=sums, claim=claim)
        return CountOutcome(count=total, counted=True, refused=False, retry_after=0)
    # Not counted: a granted claim is given up while the current total is read.
    answer = _claim_wait(claim, digest=digest, day=day)
    token = answer.token if answer is not None else None
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
