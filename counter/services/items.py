"""The counter's DynamoDB items, and the one exception their failures become.

Private to counter.services: the other modules of this package use these classes; everything
outside it uses the package's functions. Each item's key and lifetime are listed in
docs/architecture.md, Data model.
"""

import datetime as dt

from pynamodb.attributes import BooleanAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute

from core.dynamodb import TableModel
from core.failures import TableUnavailable

TOTAL_KEY = "total"
# Markers and salts outlive their day by a day, so a request that started just before midnight
# still finds them; after that DynamoDB deletes them (TTL).
DAY_ITEM_LIFETIME = dt.timedelta(days=2)


class CounterUnavailable(TableUnavailable):
    """The visitor counter's items could not be read or written."""

    def __init__(self, message: str = "the visitor counter is unavailable right now") -> None:
        super().__init__(message)


class TotalItem(TableModel):
    """The views of every closed day: `before` is the sum of the views of every day up to and
    including `through` (an ISO date), which is closed (counter/services/totals.py). `count` is
    the running total of the design before issue 17, read once to carry it over."""

    before = NumberAttribute(null=True)
    through = UnicodeAttribute(null=True)
    count = NumberAttribute(null=True)


class DayItem(TableModel):
    """The figures of one UTC day, `day#<day>`: its views (and their labels), its unique
    visitors, each counted in the same write as a view, and `closed` once the day's views are
    summed into the total. Days counted before the uniques moved here keep theirs in
    `uniques#<day>`, which is read for them and no longer written."""

    views = NumberAttribute(default=0)
    uniques = NumberAttribute(default=0)
    closed = BooleanAttribute(null=True)


class DayClicks(TableModel):
    """The clicks of one UTC day on the page's links, `clicks#<day>`: one number per link,
    `link:<label>` ("link:email", "link:profile:github", "link:pdf"); nothing else. An item of
    its own, not attributes of the day's views item, which every view writes and is billed by
    its size (docs/architecture.md, "What visitors did after reading")."""


class VisitorMarker(TableModel):
    """One per (day, visitor hash): the visitor's first view of the day is claimed here
    (`claim`, a random token) before it is written, and `released` again if that view was
    certainly not counted, so the visitor's next view can claim it. `deferred` says a view of
    the visitor was counted without it while another view held the claim: that holder counts
    the visitor if it is not counted itself, so the claim is never released again."""

    expires = TTLAttribute()
    claim = UnicodeAttribute(null=True)
    released = BooleanAttribute(null=True)
    deferred = BooleanAttribute(null=True)


class DailySalt(TableModel):
    """The random salt of one day; with SECRET_KEY it makes the day's hashing key. It expires,
    so old hashes cannot be recomputed."""

    salt = UnicodeAttribute()
    expires = TTLAttribute()


class RateBucket(TableModel):
    """The counting attempts of one visitor or client in one minute; it expires soon after."""

    attempts = NumberAttribute(default=0)
    expires = TTLAttribute()


def day_start(day: dt.date) -> dt.datetime:
    """Midnight (UTC) starting `day`."""
    return dt.datetime.combine(day, dt.time(), dt.UTC)
