"""counter/services/limits.py: one conditional write for both limits; the standings under
concurrency are proven on DynamoDB Local."""

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from counter.services import limits

# A Unix minute a day from now, never a fixed past one: DynamoDB Local deletes a bucket soon after
# its `expires` (minutes past its minute) has passed, as DynamoDB does.
MINUTE = int(time.time() // 60) + 24 * 60


def _standings(times: int, *, limit: int, subject: str = "visitor#abc", minute: int = MINUTE):
    return [limits.limit_check(subject=subject, limit=limit, minute=minute) for _ in range(times)]


def test_the_first_attempts_are_under_then_over_then_refused_past_ten_times(moto_table):
    standings = _standings(25, limit=2)
    assert standings[:2] == [limits.Standing.UNDER] * 2
    assert standings[2:20] == [limits.Standing.OVER] * 18
    assert standings[20:] == [limits.Standing.REFUSED] * 5


def test_each_subject_and_minute_has_its_own_bucket(moto_table):
    assert _standings(2, limit=1)[-1] is limits.Standing.OVER
    assert _standings(1, limit=1, subject="visitor#other") == [limits.Standing.UNDER]
    assert _standings(1, limit=1, minute=MINUTE + 1) == [limits.Standing.UNDER]


def test_the_bucket_stops_growing_when_refusing_and_expires_minutes_later(table_scan):
    _standings(15, limit=1)
    (bucket,) = table_scan()
    assert bucket["pk"]["S"] == f"rate#visitor#abc#{MINUTE}"
    assert bucket["attempts"]["N"] == "10"
    end_of_minute = dt.datetime.fromtimestamp((MINUTE + 1) * 60, dt.UTC)
    assert int(bucket["expires"]["N"]) == int((end_of_minute + limits.BUCKET_LIFETIME).timestamp())


def test_one_bucket_holds_the_client_and_each_visitor_within_it(moto_table, table_scan):
    def check(visitor: str) -> limits.Standing:
        return limits.limit_check(
            subject="client#abc", limit=4, minute=MINUTE, visitor=visitor, visitor_limit=2
        )

    assert [check("v1") for _ in range(3)] == [limits.Standing.UNDER] * 2 + [
        limits.Standing.OVER
    ]  # the visitor's own limit
    assert [check("v2") for _ in range(2)] == [limits.Standing.UNDER, limits.Standing.OVER]
    # the client's limit (4) is used up by both: v2's second attempt was the client's 5th
    (bucket,) = table_scan()
    assert bucket["pk"]["S"] == f"rate#client#abc#{MINUTE}"
    assert (bucket["attempts"]["N"], bucket["visitor:v1"]["N"], bucket["visitor:v2"]["N"]) == (
        "5",
        "3",
        "2",
    )


def test_past_ten_times_the_visitors_limit_nothing_is_written_and_it_is_refused(table_scan):
    standings = [
        limits.limit_check(
            subject="client#abc", limit=60, minute=MINUTE, visitor="v1", visitor_limit=1
        )
        for _ in range(12)
    ]
    assert standings[-2:] == [limits.Standing.REFUSED] * 2
    (bucket,) = table_scan()
    assert (bucket["attempts"]["N"], bucket["visitor:v1"]["N"]) == ("10", "10")


def test_an_unreachable_engine_raises_counter_unavailable():
    from counter import services

    with pytest.raises(services.CounterUnavailable):
        limits.limit_check(subject="visitor#abc", limit=5, minute=MINUTE)


@pytest.mark.dynamodb_local
def test_a_concurrent_burst_gets_exactly_the_limit_and_exactly_the_refusals(patient_engine):
    with ThreadPoolExecutor(max_workers=16) as pool:
        standings = list(
            pool.map(
                lambda _: limits.limit_check(subject="client#abc", limit=3, minute=MINUTE),
                range(45),
            )
        )
    assert standings.count(limits.Standing.UNDER) == 3
    assert standings.count(limits.Standing.OVER) == 27
    assert standings.count(limits.Standing.REFUSED) == 15


@pytest.mark.dynamodb_local
def test_a_concurrent_burst_of_visitors_in_one_client_numbers_every_attempt(patient_engine):
    """20 visitors of one client at once, each once: the client's limit (12) binds exactly."""

    def check(number: int) -> limits.Standing:
        return limits.limit_check(
            subject="client#abc", limit=12, minute=MINUTE, visitor=f"v{number}", visitor_limit=5
        )

    with ThreadPoolExecutor(max_workers=16) as pool:
        standings = list(pool.map(check, range(20)))
    assert standings.count(limits.Standing.UNDER) == 12
    assert standings.count(limits.Standing.OVER) == 8


@pytest.mark.dynamodb_local
def test_a_concurrent_burst_of_one_visitor_in_its_clients_bucket_gets_its_own_limit(
    patient_engine,
):
    def check(_: int) -> limits.Standing:
        return limits.limit_check(
            subject="client#abc", limit=60, minute=MINUTE, visitor="v0", visitor_limit=3
        )

    with ThreadPoolExecutor(max_workers=16) as pool:
        standings = list(pool.map(check, range(40)))
    assert standings.count(limits.Standing.UNDER) == 3
    assert standings.count(limits.Standing.OVER) == 27
    assert standings.count(limits.Standing.REFUSED) == 10
