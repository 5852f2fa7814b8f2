"""counter/services/totals.py: the total as the closed days' sum plus the open day's views; days
closing at midnight against moto, and a midnight of racing views on DynamoDB Local."""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from counter import services
from counter.services import days, totals
from tests.conftest import DAY
from tests.counter.conftest import view_add

ONE = dt.timedelta(days=1)


def _item(table_scan, key: str) -> dict:
    (item,) = [item for item in table_scan() if item["pk"]["S"] == key]
    return item


def test_the_first_view_of_a_day_closes_yesterday_and_carries_its_views(table_scan):
    assert [view_add(day=DAY) for _ in range(3)] == [1, 2, 3]
    assert view_add(day=DAY + ONE) == 4
    total = _item(table_scan, "total")
    assert (total["before"]["N"], total["through"]["S"]) == ("3", DAY.isoformat())
    assert _item(table_scan, f"day#{DAY.isoformat()}")["closed"]["BOOL"] is True
    assert "closed" not in _item(table_scan, f"day#{(DAY + ONE).isoformat()}")


def test_quiet_days_between_are_summed_too(moto_table):
    view_add(day=DAY)
    view_add(day=DAY + ONE)
    totals._sums.clear()  # a process that starts days later
    assert view_add(day=DAY + 5 * ONE) == 3
    assert [stat.views for stat in services.days_get(days=6, today=DAY + 5 * ONE)] == [
        1,
        1,
        0,
        0,
        0,
        1,
    ]


def test_a_view_on_its_way_at_midnight_counts_on_the_next_day(moto_table):
    view_add(day=DAY)
    late_process = dict(totals._sums)  # still holds DAY's sum: DAY is open for it
    totals._sums.clear()
    assert view_add(day=DAY + ONE) == 2  # another process closes DAY
    totals._sums.update(late_process)
    assert view_add(day=DAY) == 3  # DAY is closed: it counts on DAY + 1
    stats = services.days_get(days=2, today=DAY + ONE)
    assert [stat.views for stat in stats] == [1, 2]


def test_a_clock_behind_counts_on_the_open_day(moto_table):
    view_add(day=DAY + ONE)  # DAY is closed
    totals._sums.clear()
    assert view_add(day=DAY) == 2
    assert [stat.views for stat in services.days_get(days=2, today=DAY + ONE)] == [0, 2]


def test_the_running_total_of_the_earlier_design_is_carried_over(
    moto_table, table_scan, at_second_20
):
    engine = boto3.client("dynamodb", region_name="us-east-1")
    engine.put_item(TableName=moto_table, Item={"pk": {"S": "total"}, "count": {"N": "10"}})
    for _ in range(3):  # today's views so far, counted in the running total too
        days.day_view_add(day=DAY)
    assert services.total_get() == 10  # today is DAY (at_second_20)
    assert view_add(day=DAY) == 11
    total = _item(table_scan, "total")
    assert (total["before"]["N"], total["through"]["S"]) == ("7", (DAY - ONE).isoformat())
    assert _item(table_scan, f"day#{(DAY - ONE).isoformat()}")["closed"]["BOOL"] is True


def test_views_before_sends_nothing_once_known(moto_table, settings):
    totals.sum_get(day=DAY)
    assert totals.sum_known(day=DAY)
    settings.DYNAMODB_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing answers there
    assert totals.sum_get(day=DAY) == (DAY, 0)


LATE = 16
EARLY = 16


@pytest.mark.dynamodb_local
def test_midnight_under_concurrency_loses_and_repeats_no_view(patient_engine):
    """Views of the old day still on their way while views of the new day close it, 32 threads:
    the totals they return are exactly 1 to N, and the new day's total is N."""
    before_midnight = [view_add(day=DAY) for _ in range(10)]
    totals._sums.clear()  # each view below finds the sum not yet known, as a new process would

    def view(day: dt.date) -> int:
        return view_add(day=day)

    with ThreadPoolExecutor(max_workers=LATE + EARLY) as pool:
        returned = list(pool.map(view, [DAY] * LATE + [DAY + ONE] * EARLY))
    views = 10 + LATE + EARLY
    assert sorted(before_midnight + returned) == list(range(1, views + 1))
    stats = services.days_get(days=2, today=DAY + ONE)
    assert sum(stat.views for stat in stats) == views
    assert totals.sum_get(day=DAY + ONE) == (DAY + ONE, stats[0].views)
