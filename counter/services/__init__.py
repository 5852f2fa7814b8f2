"""The counter's DynamoDB access: page views, clicks on the page's links, the limits, the day's
figures, the visitors' daily hashes.

Every change to a count is one atomic DynamoDB operation, an ADD update or a transaction, never
read-add-write: concurrent views would otherwise overwrite each other and be lost
(docs/architecture.md, Decisions). Any failure of the engine surfaces as CounterUnavailable,
which the API turns into a 503 and the dashboard into a notice; the resume page never waits on
the counter.

The modules: `counting` (a view: the limits, the day's figures, the total), `clicks` (a click
on one of the page's links: its limits, the day's clicks), `limits` (one conditional write per
check), `days` (the day's views, unique visitors and clicks), `uniques` (the claims that count
each visitor once a day), `totals` (the closed days' sum, which with the open day's views is the
total), `visitors` (the day's hashing key and the keyed hashes), `items` (the PynamoDB items,
private to this package).
Everything outside the package uses the names below.
"""

from counter.services.clicks import ClickOutcome, click_count
from counter.services.counting import CountOutcome, total_get, view_count
from counter.services.days import DayStats, days_get, labels_sum
from counter.services.items import CounterUnavailable
from counter.services.visitors import client_digest, visitor_digest

__all__ = [
    "ClickOutcome",
    "CountOutcome",
    "CounterUnavailable",
    "DayStats",
    "click_count",
    "client_digest",
    "days_get",
    "labels_sum",
    "total_get",
    "view_count",
    "visitor_digest",
]
