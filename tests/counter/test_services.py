"""counter/services.py: single calls against moto's in-process DynamoDB."""

import datetime as dt

import pytest

from counter import services
from tests.conftest import ALICE, BOB, CLOSED_ENDPOINT

DAY = dt.date(2026, 11, 23)


def test_count_get_is_zero_before_the_first_view(moto_table):
    assert services.count_get() == 0


def test_count_increment_returns_the_new_total(moto_table):
    assert services.count_increment() == 1
    assert services.count_increment() == 2
    assert services.count_get() == 2


def test_count_increment_keeps_the_total_in_one_item(table_scan):
    services.count_increment()
    services.count_increment()
    assert [(item["pk"]["S"], item["count"]["N"]) for item in table_scan()] == [("total", "2")]


def test_a_visitor_counts_once_a_day_but_every_view_counts(moto_table):
    for _ in range(3):
        services.count_increment(visitor=ALICE, today=DAY)
    services.count_increment(visitor=BOB, today=DAY)
    stats = services.days_stats(days=1, today=DAY)
    assert stats == [services.DayStats(day=DAY, views=4, uniques=2)]


def test_the_same_visitor_counts_again_the_next_day(moto_table):
    services.count_increment(visitor=ALICE, today=DAY)
    services.count_increment(visitor=ALICE, today=DAY + dt.timedelta(days=1))
    stats = services.days_stats(days=2, today=DAY + dt.timedelta(days=1))
    assert [(s.views, s.uniques) for s in stats] == [(1, 1), (1, 1)]


def test_day_record_view_says_whether_the_visitor_is_new(moto_table):
    assert services.day_record_view(visitor=ALICE, day=DAY) is True
    assert services.day_record_view(visitor=ALICE, day=DAY) is False


def test_days_stats_fills_quiet_days_with_zeros_oldest_first(moto_table):
    services.count_increment(visitor=ALICE, today=DAY)
    stats = services.days_stats(days=30, today=DAY)
    assert len(stats) == 30
    assert stats[0].day == DAY - dt.timedelta(days=29)
    assert stats[-1] == services.DayStats(day=DAY, views=1, uniques=1)
    assert sum(s.views for s in stats) == 1


def test_no_raw_ip_or_user_agent_is_stored(table_scan):
    services.count_increment(visitor=ALICE, today=DAY)
    dump = str(table_scan())
    assert ALICE.ip not in dump
    assert "Alice" not in dump


def test_visitor_markers_and_salts_expire(table_scan):
    services.count_increment(visitor=ALICE, today=DAY)
    expiring = [item for item in table_scan() if item["pk"]["S"].startswith(("visitor#", "salt#"))]
    assert len(expiring) == 2
    assert all("expires" in item for item in expiring)


def test_visitor_hash_depends_on_the_salt():
    first = services.visitor_hash(visitor=ALICE, salt=b"a" * 32)
    assert first == services.visitor_hash(visitor=ALICE, salt=b"a" * 32)
    assert first != services.visitor_hash(visitor=ALICE, salt=b"b" * 32)
    assert first != services.visitor_hash(visitor=BOB, salt=b"a" * 32)


def test_the_daily_salt_is_shared_by_processes(moto_table):
    services.count_increment(visitor=ALICE, today=DAY)
    services._salts.clear()  # another process (or a cold start) has no cached salt
    services.count_increment(visitor=ALICE, today=DAY)
    assert services.days_stats(days=1, today=DAY)[0].uniques == 1


def test_sharded_counter_sums_its_shards(table_scan, settings):
    settings.COUNTER_SHARDS = 4
    totals = [services.count_increment() for _ in range(20)]
    assert totals[-1] == 20
    assert services.count_get() == 20
    assert len({item["pk"]["S"] for item in table_scan()}) > 1


def test_visitor_digest_is_the_days_hash_the_counter_stores(table_scan):
    digest = services.visitor_digest(visitor=ALICE, day=DAY)
    services.count_increment(visitor=ALICE, today=DAY)
    assert f"visitor#{DAY.isoformat()}#{digest}" in {item["pk"]["S"] for item in table_scan()}
    assert services.visitor_digest(visitor=ALICE, day=DAY) == digest
    assert services.visitor_digest(visitor=ALICE, day=DAY + dt.timedelta(days=1)) != digest


def test_engine_unreachable_raises_counter_unavailable(settings):
    settings.DYNAMODB_ENDPOINT_URL = CLOSED_ENDPOINT
    for call in (
        services.count_increment,
        services.count_get,
        lambda: services.visitor_digest(visitor=ALICE),
        lambda: services.days_stats(days=3),
    ):
        with pytest.raises(services.CounterUnavailable):
            call()
