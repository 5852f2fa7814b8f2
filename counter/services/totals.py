"""The total page views: the views of every closed day, kept in the `total` item, plus those of
the open day, kept in its `day#` item (docs/architecture.md, Data model: "The total").

A view is one ADD on its day's item, which returns the day's views; the total is then the closed
days' sum, which this process keeps in memory for the day, plus that number. The first process
to need the new day's sum closes yesterday (no view is added to a closed day: a late one counts
on the next day), adds its views, and those of any quiet days in between, to the sum, and stores
it with the condition that nobody stored it first. Every process that races it computes the same
sum, because a closed day's views cannot change.
"""

import datetime as dt
import logging

from pynamodb.exceptions import UpdateError

from core.failures import condition_failed, failures_raise
from core.items import item_get
from counter.services import days
from counter.services.items import TOTAL_KEY, CounterUnavailable, TotalItem

logger = logging.getLogger(__name__)

ONE_DAY = dt.timedelta(days=1)
STORE_ATTEMPTS = 3  # reads of the total when another process stores the sum first

_sums: dict[dt.date, int] = {}  # this process's copy: the views before the open day


def _sum_through(stored: TotalItem | None, yesterday: dt.date) -> int:
    """The views of every day up to and including `yesterday`, once it is closed."""
    if stored is None:  # a new table: nothing was counted before (every view is on a day)
        return 0
    if stored.through is None:
        # The running total of the design before issue 17 holds every view so far, today's
        # included; today's are on today's item too. Yesterday is closed all the same, so that
        # a late view of it counts today and is not lost.
        days.day_close(day=yesterday)
        return int(stored.count or 0) - days.day_views_get(day=yesterday + ONE_DAY)
    through = dt.date.fromisoformat(stored.through)
    # Only yesterday can still receive a view in flight; older days are final already.
    closed = days.day_close(day=yesterday)
    quiet = days.days_views_sum(first=through + ONE_DAY, last=yesterday - ONE_DAY)
    return int(stored.before or 0) + closed + quiet


def _store(stored: TotalItem | None, before: int, yesterday: dt.date) -> bool:
    """Store the sum through yesterday unless another process moved the total on first."""
    item = TotalItem(TOTAL_KEY)
    if stored is None or stored.through is None:
        condition = TotalItem.through.does_not_exist()
    else:
        condition = TotalItem.through == stored.through
    try:
        item.update(
            actions=[TotalItem.before.set(before), TotalItem.through.set(yesterday.isoformat())],
            condition=condition,
        )
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    return True


@failures_raise(CounterUnavailable)
def sum_get(*, day: dt.date) -> tuple[dt.date, int]:
    """The day a view made on `day` counts on, and the views of every day before that one.

    That is `day` itself, unless a process whose clock runs ahead has closed it already; then
    the day after the last closed one. One GetItem on a process's first call of the day; the
    first process of the day also closes yesterday and stores the new sum.
    """
    cached = _sums.get(day)
    if cached is not None:
        return day, cached
    yesterday = day - ONE_DAY
    for _ in range(STORE_ATTEMPTS):
        stored = item_get(TotalItem, TOTAL_KEY)
        if stored is not None and stored.through is not None:
            through = dt.date.fromisoformat(stored.through)
            if through >= yesterday:
                open_day = max(day, through + ONE_DAY)
                return open_day, _remember(open_day, int(stored.before or 0))
        before = _sum_through(stored, yesterday)
        if _store(stored, before, yesterday):
            logger.info("The total now holds every view through %s: %d.", yesterday, before)
            return day, _remember(day, before)
    raise CounterUnavailable("the total kept moving while this process summed the days")


def sum_known(*, day: dt.date) -> bool:
    """True if this process has the views before `day` in memory (sum_get sends nothing)."""
    return day in _sums


def _remember(day: dt.date, before: int) -> int:
    _sums.clear()  # keep only the latest day's sum in memory
    _sums[day] = before
    return before
