"""The counter's DynamoDB access: page views, the limits, the day's figures, the visitors'
daily hashes.

Every change to a count is one atomic DynamoDB operation, an ADD update or a transaction, never
read-add-write: concurrent views would otherwise overwrite each other and be lost
(docs/architecture.md, Decisions). Any failure of the engine surfaces as CounterUnavailable,
which the API turns into a 503 and the dashboard into a notice; the resume page never waits on
the counter.

The modules: `counting` (a view: the limits, the day's figures, the total), `limits` (one
conditional write per check), `days` (the day's views and unique visitors), `totals` (the closed
days' sum, which with the open day's views is the total), `visitors` (the day's hashing key and
the keyed hashes), `items` (the PynamoDB items, private to this package).
Everything outside the package uses the names below.
"""

from counter.services.counting import CountOutcome, count_get, count_increment, count_view
from counter.services.days import DayStats, days_stats, labels_total
from counter.services.items import CounterUnavailable
from counter.services.visitors import client_digest, visitor_digest

__all__ = [
    "CountOutcome",
    "CounterUnavailable",
    "DayStats",
    "client_digest",
    "count_get",
    "count_increment",
    "count_view",
    "days_stats",
    "labels_total",
    "visitor_digest",
]
