"""counter/services/days.py: the day's views and unique visitors, against moto."""

import datetime as dt

from counter.services import days

DAY = dt.date(2026, 11, 23)


def test_every_view_counts_in_the_days_views(moto_table):
    days.day_view_add(day=DAY)
    days.day_view_add(day=DAY)
    assert days.days_stats(days=1, today=DAY) == [days.DayStats(day=DAY, views=2, uniques=0)]


def test_a_visitor_counts_once_a_day(moto_table):
    assert days.day_visitor_record(digest="a" * 32, day=DAY) is True
    assert days.day_visitor_record(digest="a" * 32, day=DAY) is False
    assert days.day_visitor_record(digest="b" * 32, day=DAY) is True
    assert days.day_visitor_record(digest="a" * 32, day=DAY + dt.timedelta(days=1)) is True
    stats = days.days_stats(days=2, today=DAY + dt.timedelta(days=1))
    assert [stat.uniques for stat in stats] == [2, 1]


def test_views_and_uniques_are_apart_and_markers_expire(table_scan):
    days.day_view_add(day=DAY)
    days.day_visitor_record(digest="a" * 32, day=DAY)
    items = {item["pk"]["S"]: item for item in table_scan()}
    assert set(items) == {
        f"day#{DAY.isoformat()}",
        f"uniques#{DAY.isoformat()}",
        f"visitor#{DAY.isoformat()}#{'a' * 32}",
    }
    assert items[f"day#{DAY.isoformat()}"]["views"]["N"] == "1"
    assert items[f"uniques#{DAY.isoformat()}"]["uniques"]["N"] == "1"
    midnight = dt.datetime.combine(DAY, dt.time(), dt.UTC)
    expires = int(items[f"visitor#{DAY.isoformat()}#{'a' * 32}"]["expires"]["N"])
    assert expires == int((midnight + dt.timedelta(days=2)).timestamp())


def test_days_stats_fills_quiet_days_with_zeros_oldest_first(moto_table):
    days.day_view_add(day=DAY)
    days.day_visitor_record(digest="a" * 32, day=DAY)
    stats = days.days_stats(days=30, today=DAY)
    assert len(stats) == 30
    assert stats[0].day == DAY - dt.timedelta(days=29)
    assert stats[-1] == days.DayStats(day=DAY, views=1, uniques=1)
    assert sum(s.views for s in stats) == 1


def test_days_stats_reads_more_days_than_one_batch_holds(moto_table):
    days.day_view_add(day=DAY - dt.timedelta(days=89))
    stats = days.days_stats(days=90, today=DAY)
    assert len(stats) == 90
    assert stats[0].views == 1
