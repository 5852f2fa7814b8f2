"""counter/services.py: single calls against moto's in-process DynamoDB."""

import datetime as dt

import boto3
import pytest

from counter import services
from counter.models import FailureItem, TotalItem

DAY = dt.date(2026, 11, 23)
ALICE = services.Visitor(ip="203.0.113.7", user_agent="Mozilla/5.0 (Alice)")
BOB = services.Visitor(ip="198.51.100.4", user_agent="Mozilla/5.0 (Bob)")


def test_count_get_is_zero_before_the_first_view(moto_table):
    assert services.count_get() == 0


def test_count_increment_returns_the_new_total(moto_table):
    assert services.count_increment() == 1
    assert services.count_increment() == 2
    assert services.count_get() == 2


def test_count_increment_uses_one_item(moto_table):
    services.count_increment()
    services.count_increment()
    assert [(item.pk, item.count) for item in TotalItem.scan()] == [("total", 2)]


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


def test_no_raw_ip_or_user_agent_is_stored(moto_table):
    services.count_increment(visitor=ALICE, today=DAY)
    dump = str(boto3.client("dynamodb", region_name="us-east-1").scan(TableName=moto_table))
    assert ALICE.ip not in dump
    assert "Alice" not in dump


def test_visitor_markers_and_salts_expire(moto_table):
    services.count_increment(visitor=ALICE, today=DAY)
    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=moto_table)["Items"]
    expiring = [item for item in items if item["pk"]["S"].startswith(("visitor#", "salt#"))]
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


def test_sharded_counter_sums_its_shards(moto_table, settings):
    settings.COUNTER_SHARDS = 4
    totals = [services.count_increment() for _ in range(20)]
    assert totals[-1] == 20
    assert services.count_get() == 20
    assert len({item.pk for item in TotalItem.scan()}) > 1


def test_table_ensure_is_idempotent_and_enables_ttl(moto_table):
    assert services.table_ensure() is False
    ttl = boto3.client("dynamodb", region_name="us-east-1").describe_time_to_live(
        TableName=moto_table
    )["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}


def test_engine_unreachable_raises_counter_unavailable(settings):
    settings.DYNAMODB_ENDPOINT_URL = "http://127.0.0.1:9"
    with pytest.raises(services.CounterUnavailable):
        services.count_increment()
    with pytest.raises(services.CounterUnavailable):
        services.count_get()


# --- Owner accounts ---------------------------------------------------------------------------


def test_account_create_then_get(moto_table):
    made = services.account_create(username="alex", password_hash="md5$salt$hash")
    assert made.active
    assert services.account_get(username="alex") == made
    assert services.account_get(username="nobody") is None


def test_account_create_refuses_a_duplicate_and_keeps_the_first(moto_table):
    services.account_create(username="alex", password_hash="first")
    with pytest.raises(services.AccountExists):
        services.account_create(username="alex", password_hash="second")
    assert services.account_get(username="alex").password_hash == "first"


def test_account_updates_need_an_existing_account(moto_table):
    for update in (
        lambda: services.account_set_password(username="ghost", password_hash="x"),
        lambda: services.account_set_active(username="ghost", active=False),
        lambda: services.account_record_login(username="ghost", when=dt.datetime.now(dt.UTC)),
    ):
        with pytest.raises(services.AccountNotFound):
            update()
    assert services.account_get(username="ghost") is None  # no half-made item either


def test_account_updates_change_only_their_attribute(moto_table):
    services.account_create(username="alex", password_hash="old")
    when = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)
    services.account_set_password(username="alex", password_hash="new")
    services.account_set_active(username="alex", active=False)
    services.account_record_login(username="alex", when=when)
    account = services.account_get(username="alex")
    assert (account.password_hash, account.active, account.last_login) == ("new", False, when)


def test_account_list_is_sorted_and_empty_at_first(moto_table):
    assert services.account_list() == []
    for name in ("sam", "alex", "kim"):
        services.account_create(username=name, password_hash="h")
    assert [account.username for account in services.account_list()] == ["alex", "kim", "sam"]


def test_account_calls_raise_unavailable_when_the_engine_is_unreachable():
    with pytest.raises(services.CounterUnavailable):
        services.account_get(username="alex")
    with pytest.raises(services.CounterUnavailable):
        services.account_create(username="alex", password_hash="h")


# --- Sign-in failures -------------------------------------------------------------------------

NOON = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def _fail(subjects: list[str], times: int, now: dt.datetime) -> None:
    for _ in range(times):
        services.login_failure_record(subjects=subjects, now=now)


def test_login_subjects_are_the_username_and_a_hash_of_the_client(moto_table):
    subjects = services.login_subjects(username="Alex", client=ALICE)
    assert subjects[0] == "user#alex"
    assert subjects[1].startswith("client#")
    assert ALICE.ip not in subjects[1]
    assert services.login_subjects(username="alex", client=BOB)[1] != subjects[1]


def test_five_failures_lock_and_four_do_not(moto_table, settings):
    settings.LOGIN_MAX_FAILURES = 5
    subjects = ["user#alex", "client#one"]
    _fail(subjects, 4, NOON)
    assert not services.login_is_locked(subjects=subjects, now=NOON)
    _fail(subjects, 1, NOON)
    assert services.login_is_locked(subjects=subjects, now=NOON)


def test_any_one_locked_subject_locks(moto_table):
    _fail(["client#one"], 5, NOON)  # one client tried five usernames
    assert services.login_is_locked(subjects=["user#kim", "client#one"], now=NOON)
    assert not services.login_is_locked(subjects=["user#kim", "client#two"], now=NOON)


def test_the_lock_outlasts_a_window_boundary_then_expires(moto_table, settings):
    window = dt.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    subjects = ["user#alex"]
    _fail(subjects, 5, NOON)
    assert services.login_is_locked(subjects=subjects, now=NOON + window)
    assert not services.login_is_locked(subjects=subjects, now=NOON + 2 * window)


def test_failures_are_atomic_adds_with_an_expiry(moto_table, settings):
    _fail(["user#alex"], 3, NOON)
    items = list(FailureItem.scan())
    assert [int(item.failures) for item in items] == [3]
    expected = NOON + dt.timedelta(seconds=3 * settings.LOGIN_FAILURE_WINDOW_SECONDS)
    assert items[0].expires == expected
