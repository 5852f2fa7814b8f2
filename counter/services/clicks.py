"""Counting a click on one of the page's links (docs/architecture.md, "What visitors did after
reading"): the e-mail address, the phone number, a profile, the website, a PDF download.

A click is a request of its own, never part of a view's: its limits, then one ADD on the day's
`clicks#` item, so a view's requests and round trips are what they were. The limits are the
views' (COUNTER_VISITOR_LIMIT, COUNTER_CLIENT_LIMIT a minute) in buckets of their own
(counter/services/limits.py, scope "clicks"): a visitor who follows a few links still has its
next view counted, and a reload never costs a click. Nothing is stored of the visitor but the
keyed hashes the limit buckets are keyed by, which expire within minutes: the day's clicks are
one number per link.
"""

import datetime as dt
import time
from dataclasses import dataclass

from core.clients import Client
from core.failures import failures_raise
from counter import clicks
from counter.services import days, limits, visitors
from counter.services.items import CounterUnavailable

SCOPE = "clicks"  # the limit buckets' scope: rate#clicks#client#<hash>#<minute>


@dataclass(frozen=True)
class ClickOutcome:
    counted: bool  # True if this request added a click
    refused: bool  # True past ten times a limit: the click answers 429
    retry_after: int  # seconds to the next minute, when the limits start again; 0 if counted


def _now() -> float:
    return time.time()


@failures_raise(CounterUnavailable)
def click_count(*, visitor: Client, link: str) -> ClickOutcome:
    """Count one click of `visitor` on the page's link `link` (its label: "email",
    "profile:github", "pdf"), within the limits, in today's clicks.

    ValueError, writing nothing, for a label that is not one of the page's links
    (counter/clicks.py; the view answers those 400 before calling this). An unknown visitor
    (`Client.known`: no IP) is answered not counted, with no request at all: it has no network
    to key the limits by. Raises CounterUnavailable when DynamoDB fails; nothing was counted
    then, unless the click's own ADD failed after it was sent.
    """
    if link not in clicks.links_get():
        raise ValueError(f"{link!r} is not one of the page's links")
    now = _now()
    if not visitor.known:
        return ClickOutcome(counted=False, refused=False, retry_after=0)
    minute = int(now // 60)
    day = dt.datetime.fromtimestamp(now, dt.UTC).date()
    digest = visitors.visitor_digest(visitor=visitor, day=day)
    standing = limits.limits_check(
        visitor=visitor, digest=digest, day=day, minute=minute, scope=SCOPE
    )
    if standing is not limits.Standing.UNDER:
        return ClickOutcome(
            counted=False,
            refused=standing is limits.Standing.REFUSED,
            retry_after=60 - int(now) % 60,
        )
    days.day_click_add(day=day, link=link)
    return ClickOutcome(counted=True, refused=False, retry_after=0)
