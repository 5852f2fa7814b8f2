"""The day's figures: views, and unique visitors counted once per visitor and day."""

import datetime as dt
import uuid
from dataclasses import dataclass

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from counter.services import visitors
from counter.services.items import (
    DAY_ITEM_LIFETIME,
    CounterUnavailable,
    DayItem,
    VisitorMarker,
    day_start,
)
from resume_site.dynamodb import condition_failed, failures_raise


@dataclass(frozen=True)
class DayStats:
    day: dt.date
    views: int
    uniques: int


def _views_key(day: dt.date) -> str:
    return f"day#{day.isoformat()}"


def _uniques_key(day: dt.date) -> str:
    return f"uniques#{day.isoformat()}"


@failures_raise(CounterUnavailable)
def day_view_add(*, day: dt.date) -> None:
    """Count a view in the day's views: one ADD."""
    DayItem(_views_key(day)).update(actions=[DayItem.views.add(1)])


@failures_raise(CounterUnavailable)
def day_visitor_record(*, digest: str, day: dt.date) -> bool:
    """Count the visitor (by the day's hash) among the day's unique visitors, once a day;
    return True if this was the visitor's first view that day.

    The marker (put if it does not exist) and the unique-visitor ADD are one transaction, so a
    visitor counts once a day, and a resent transaction (same client request token) never counts
    twice.
    """
    marker = VisitorMarker(
        f"visitor#{day.isoformat()}#{digest}", expires=day_start(day) + DAY_ITEM_LIFETIME
    )
    connection = VisitorMarker._get_connection().connection
    try:
        with TransactWrite(connection=connection, client_request_token=str(uuid.uuid4())) as tx:
            tx.save(marker, condition=VisitorMarker.pk.does_not_exist())
            tx.update(DayItem(_uniques_key(day)), actions=[DayItem.uniques.add(1)])
    except TransactWriteError as error:
        if condition_failed(error):
            return False
        raise
    return True


@failures_raise(CounterUnavailable)
def days_stats(*, days: int = 30, today: dt.date | None = None) -> list[DayStats]:
    """Views and unique visitors of the last `days` days, oldest first, zeros for quiet days.

    One BatchGetItem for both figures of every day (PynamoDB splits it past 100 keys)."""
    last = today or visitors.today()
    wanted = [last - dt.timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    keys = [key for day in wanted for key in (_views_key(day), _uniques_key(day))]
    found = {item.pk: item for item in DayItem.batch_get(keys, consistent_read=True)}
    stats = []
    for day in wanted:
        views, uniques = found.get(_views_key(day)), found.get(_uniques_key(day))
        stats.append(
            DayStats(
                day=day,
                views=int(views.views) if views else 0,
                uniques=int(uniques.uniques) if uniques else 0,
            )
        )
    return stats
