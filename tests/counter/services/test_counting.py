"""counter/services/counting.py: a view within the limits, the total, the day's figures.

Single flows run against moto (where the calls of one step run one after another); the limits
under concurrency and the number of sequential round trips are proven on DynamoDB Local.
"""

import contextvars
import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.clients import Client
from core.dynamodb import TableModel
from counter import services
from counter.services import counting, days, limits, totals, uniques, visitors
from counter.visits import Visit
from tests.conftest import ALICE, BOB, CLOSED_ENDPOINT, DAY
from tests.counter.conftest import minute_start, view_add


def _items(table_scan, prefix: str) -> list[dict]:
    return [item for item in table_scan() if item["pk"]["S"].startswith(prefix)]


def test_count_get_is_zero_before_the_first_view(moto_table):
    assert services.total_get() == 0


def test_count_view_counts_and_returns_the_new_total(moto_table, at_second_20):
    first = services.view_count(visitor=ALICE)
    assert first == services.CountOutcome(count=1, counted=True, refused=False, retry_after=0)
    assert services.view_count(visitor=BOB).count == 2
    assert services.total_get() == 2
    assert services.days_get(days=1, today=DAY) == [services.DayStats(day=DAY, views=2, uniques=2)]


def test_over_the_visitor_limit_a_view_is_answered_with_the_total_but_not_counted(
    moto_table, settings, at_second_20
):
    settings.COUNTER_VISITOR_LIMIT = 2
    outcomes = [services.view_count(visitor=ALICE) for _ in range(4)]
    assert [outcome.counted for outcome in outcomes] == [True, True, False, False]
    assert outcomes[-1] == services.CountOutcome(
        count=2, counted=False, refused=False, retry_after=40
    )
    assert services.view_count(visitor=BOB).counted  # another visitor has a limit of its own
    assert services.days_get(days=1, today=DAY)[0].views == 3


def test_past_ten_times_the_limit_a_view_is_refused(moto_table, settings, at_second_20):
    settings.COUNTER_VISITOR_LIMIT = 1
    outcomes = [services.view_count(visitor=ALICE) for _ in range(12)]
    assert [outcome.refused for outcome in outcomes] == [False] * 10 + [True] * 2
    assert outcomes[-1] == services.CountOutcome(
        count=1, counted=False, refused=True, retry_after=40
    )


def test_the_limits_start_again_the_next_minute(moto_table, settings, monkeypatch):
    settings.COUNTER_VISITOR_LIMIT = 1
    minute = minute_start()
    monkeypatch.setattr(counting, "_now", lambda: minute + 59)
    assert [services.view_count(visitor=ALICE).counted for _ in range(2)] == [True, False]
    monkeypatch.setattr(counting, "_now", lambda: minute + 60)
    assert services.view_count(visitor=ALICE).counted


def test_the_client_limit_holds_whatever_the_user_agent(moto_table, settings, at_second_20):
    settings.COUNTER_CLIENT_LIMIT = 3
    browsers = [Client(ip=ALICE.ip, user_agent=f"Browser {number}") for number in range(5)]
    assert [services.view_count(visitor=b).counted for b in browsers] == [True] * 3 + [False] * 2
    assert services.view_count(visitor=BOB).counted  # another IP


def test_limits_of_zero_write_no_bucket(table_scan, settings, at_second_20):
    settings.COUNTER_VISITOR_LIMIT = 0
    settings.COUNTER_CLIENT_LIMIT = 0
    assert all(services.view_count(visitor=ALICE).counted for _ in range(20))
    assert _items(table_scan, "rate#") == []


def test_the_buckets_hold_only_keyed_hashes_and_expire(table_scan, at_second_20):
    services.view_count(visitor=ALICE)
    minute = int(at_second_20 // 60)
    visitor = services.visitor_digest(visitor=ALICE, day=DAY)
    client = services.client_digest(network=ALICE.network, day=DAY)
    (bucket,) = _items(table_scan, "rate#")
    assert bucket["pk"]["S"] == f"rate#client#{client}#{minute}"  # both limits, one item
    assert set(bucket) == {"pk", "attempts", f"visitor:{visitor}", "expires"}


def test_with_the_client_limit_off_the_visitor_has_a_bucket_of_its_own(
    table_scan, settings, at_second_20
):
    settings.COUNTER_CLIENT_LIMIT = 0
    settings.COUNTER_VISITOR_LIMIT = 1
    assert [services.view_count(visitor=ALICE).counted for _ in range(2)] == [True, False]
    visitor = services.visitor_digest(visitor=ALICE, day=DAY)
    (bucket,) = _items(table_scan, "rate#")
    assert bucket["pk"]["S"] == f"rate#visitor#{visitor}#{int(at_second_20 // 60)}"


@pytest.mark.parametrize("client_limit", [60, 0])
def test_an_unknown_visitor_is_answered_with_the_total_and_nothing_is_written(
    table_scan, settings, at_second_20, client_limit
):
    """No IP, no network: nothing to key the limits or the visitor's hash by, so the view is
    not counted, and only the total is read."""
    settings.COUNTER_CLIENT_LIMIT = client_limit
    unknown = Client(ip="", user_agent=ALICE.user_agent, country="DE")
    services.view_count(visitor=ALICE)
    before = sorted(table_scan(), key=lambda item: item["pk"]["S"])
    operations = []
    events = TableModel._get_connection().connection.client.meta.events
    events.register("before-call.dynamodb", lambda model, **_: operations.append(model.name))

    outcomes = [services.view_count(visitor=unknown) for _ in range(3)]

    not_counted = services.CountOutcome(count=1, counted=False, refused=False, retry_after=0)
    assert outcomes == [not_counted] * 3
    assert sorted(table_scan(), key=lambda item: item["pk"]["S"]) == before
    assert operations and set(operations) <= {"GetItem", "BatchGetItem"}


def test_count_increment_without_a_visitor_touches_only_the_days_views(table_scan):
    assert view_add(day=DAY) == 1
    assert view_add(day=DAY) == 2
    items = {item["pk"]["S"]: item for item in table_scan()}
    assert set(items) == {"total", f"day#{DAY.isoformat()}"}
    assert items[f"day#{DAY.isoformat()}"]["views"]["N"] == "2"
    # The closed days' sum: nothing before DAY, written once by the process's first view.
    assert items["total"]["before"]["N"] == "0"
    assert items["total"]["through"]["S"] == (DAY - dt.timedelta(days=1)).isoformat()


def test_count_increment_counts_a_visitor_once_a_day_but_every_view(moto_table):
    for _ in range(3):
        view_add(visitor=ALICE, day=DAY)
    view_add(visitor=BOB, day=DAY)
    view_add(visitor=ALICE, day=DAY + dt.timedelta(days=1))
    stats = services.days_get(days=2, today=DAY + dt.timedelta(days=1))
    assert [(s.views, s.uniques) for s in stats] == [(4, 2), (1, 1)]


def test_a_failure_of_the_visitors_claim_still_counts_the_view_without_it(
    moto_table, monkeypatch, caplog, at_second_20
):
    def fail(**_):
        raise services.CounterUnavailable()

    claim_send = uniques.day_visitor_claim
    monkeypatch.setattr(uniques, "day_visitor_claim", fail)
    outcome = services.view_count(visitor=ALICE)
    assert (outcome.count, outcome.counted) == (1, True)
    assert "left out of the day's visitors" in caplog.text
    monkeypatch.setattr(uniques, "day_visitor_claim", claim_send)  # the clocks stay stopped
    services.view_count(visitor=ALICE)  # not remembered as counted: the next view sends it
    assert services.days_get(days=1, today=DAY)[0].uniques == 1


def test_a_new_visitor_over_the_client_limit_is_counted_with_its_first_counted_view(
    moto_table, settings, at_second_20
):
    settings.COUNTER_CLIENT_LIMIT = 1
    assert services.view_count(visitor=BOB).counted  # the client's one view this minute
    office = Client(ip=BOB.ip, user_agent="Mozilla/5.0 (Office)")
    assert not services.view_count(visitor=office).counted  # its claim is released
    assert services.days_get(days=1, today=DAY) == [services.DayStats(day=DAY, views=1, uniques=1)]
    settings.COUNTER_CLIENT_LIMIT = 10  # room again
    assert services.view_count(visitor=office).counted
    assert services.days_get(days=1, today=DAY) == [services.DayStats(day=DAY, views=2, uniques=2)]


def test_a_view_refused_by_dynamodb_releases_its_claim(moto_table, monkeypatch, at_second_20):
    from botocore.exceptions import ClientError
    from pynamodb.exceptions import UpdateError

    def throttled(**_):
        error = ClientError({"Error": {"Code": "ThrottlingException"}}, "UpdateItem")
        raise services.CounterUnavailable() from UpdateError("Failed", error)

    view_write = days.day_view_add
    monkeypatch.setattr(days, "day_view_add", throttled)
    with pytest.raises(services.CounterUnavailable):
        services.view_count(visitor=ALICE)
    monkeypatch.setattr(days, "day_view_add", view_write)  # the clocks stay stopped
    assert services.days_get(days=1, today=DAY) == [services.DayStats(day=DAY, views=0, uniques=0)]
    services.view_count(visitor=ALICE)  # sent again by the visitor: counted, and unique once
    services.view_count(visitor=ALICE)
    assert services.days_get(days=1, today=DAY) == [services.DayStats(day=DAY, views=2, uniques=1)]


def test_an_unreachable_engine_raises_counter_unavailable(settings):
    settings.DYNAMODB_ENDPOINT_URL = CLOSED_ENDPOINT
    for call in (
        lambda: services.view_count(visitor=ALICE),
        services.total_get,
        lambda: services.days_get(days=3),
    ):
        with pytest.raises(services.CounterUnavailable):
            call()


@pytest.mark.dynamodb_local
def test_a_concurrent_burst_from_one_visitor_adds_exactly_the_limit(patient_engine, at_second_20):
    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(lambda _: services.view_count(visitor=ALICE), range(40)))
    assert sum(outcome.counted for outcome in outcomes) == 5
    assert not any(outcome.refused for outcome in outcomes)
    assert sorted(o.count for o in outcomes if o.counted) == [1, 2, 3, 4, 5]
    assert services.total_get() == 5
    assert services.days_get(days=1, today=DAY) == [services.DayStats(day=DAY, views=5, uniques=1)]


# Which of the forced race's two views a call belongs to: set on each view's thread, and seen by
# the calls it hands to the pool (core.budget.call_submit copies the context).
_VIEW: contextvars.ContextVar[str] = contextvars.ContextVar("view", default="")
GATE_SECONDS = 30.0  # a loaded machine's engine may take seconds; a stuck gate fails the test


@pytest.mark.dynamodb_local
@pytest.mark.parametrize("release", ["before the counted view's write", "after the counted view"])
def test_a_claim_won_by_a_view_over_the_limit_still_counts_the_counted_view_once(
    patient_engine, settings, monkeypatch, at_second_20, release
):
    """The burst's race, forced: view A's claim arrives first (granted) but its limits' check
    second (over the visitor limit of 1); view B's check arrives first (counted) and its claim
    second (refused: A holds it). A then gives its claim up, before B's write or after B's
    whole view. The visitor has one counted view, so it is counted once among the unique
    visitors whichever comes first."""
    settings.COUNTER_VISITOR_LIMIT = 1
    services.total_get()  # the closed days' sum is stored before the race
    gates = {
        name: threading.Event()
        for name in ("a claimed", "b checked", "b claimed", "a released", "b done")
    }

    def wait(gate: str) -> None:
        assert gates[gate].wait(GATE_SECONDS), f"never reached: {gate}"

    claim_send, limit_check = uniques.day_visitor_claim, limits.limit_check
    release_send, view_write = uniques.day_visitor_release, days.day_view_add

    def claim(**kwargs):
        if _VIEW.get() == "B":
            wait("a claimed")
        answer = claim_send(**kwargs)
        gates["a claimed" if _VIEW.get() == "A" else "b claimed"].set()
        return answer

    def check(**kwargs):
        if _VIEW.get() == "A":
            wait("b checked")
        standing = limit_check(**kwargs)
        if _VIEW.get() == "B":
            gates["b checked"].set()
        return standing

    def give_up(**kwargs):
        wait("b claimed" if release.startswith("before") else "b done")
        try:
            return release_send(**kwargs)
        finally:
            gates["a released"].set()

    def write(**kwargs):
        if _VIEW.get() == "B" and release.startswith("before"):
            wait("a released")
        return view_write(**kwargs)

    monkeypatch.setattr(uniques, "day_visitor_claim", claim)
    monkeypatch.setattr(limits, "limit_check", check)
    monkeypatch.setattr(uniques, "day_visitor_release", give_up)
    monkeypatch.setattr(days, "day_view_add", write)
    outcomes: dict[str, services.CountOutcome] = {}

    def view(name: str) -> None:
        _VIEW.set(name)
        try:
            outcomes[name] = services.view_count(visitor=ALICE)
        finally:
            if name == "B":
                gates["b done"].set()

    threads = [threading.Thread(target=view, args=(name,)) for name in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert (outcomes["A"].counted, outcomes["B"].counted) == (False, True)
    assert gates["a released"].is_set()
    assert services.days_get(days=1, today=DAY) == [services.DayStats(day=DAY, views=1, uniques=1)]
    # The race's gates off again; the clocks stay stopped (the same minute's limit).
    monkeypatch.setattr(uniques, "day_visitor_claim", claim_send)
    monkeypatch.setattr(limits, "limit_check", limit_check)
    monkeypatch.setattr(uniques, "day_visitor_release", release_send)
    monkeypatch.setattr(days, "day_view_add", view_write)
    assert services.view_count(visitor=ALICE).counted is False  # over the limit: changes nothing
    settings.COUNTER_VISITOR_LIMIT = 5
    assert services.view_count(visitor=ALICE).counted  # counted once, never twice
    assert services.days_get(days=1, today=DAY) == [services.DayStats(day=DAY, views=2, uniques=1)]


@pytest.mark.dynamodb_local
def test_a_concurrent_burst_from_one_ip_adds_exactly_the_client_limit(
    patient_engine, settings, at_second_20
):
    settings.COUNTER_CLIENT_LIMIT = 10
    browsers = [Client(ip=ALICE.ip, user_agent=f"Browser {number}") for number in range(30)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(lambda browser: services.view_count(visitor=browser), browsers))
    assert sum(outcome.counted for outcome in outcomes) == 10
    assert services.total_get() == 10
    assert services.days_get(days=1, today=DAY)[0].uniques == 10


@pytest.mark.dynamodb_local
def test_a_counted_view_sends_three_requests_in_two_round_trips(round_trips, at_second_20):
    services.view_count(visitor=ALICE)  # the table's first view: the sum is stored once
    assert (round_trips.requests(), round_trips.sequential()) == (6, 3)
    for memory in (visitors._salts, totals._sums, counting._seen):
        memory.clear()  # a new process
    round_trips.clear()
    services.view_count(visitor=ALICE)
    # the salt and the closed days' sum at once, the limits and the claim, the day's views;
    # then, ALICE's claim refused by a holder this process cannot tell from one still in flight
    # (which may not be counted), its deferral to it: once per visitor and day
    assert (round_trips.requests(), round_trips.sequential()) == (6, 4)
    for memory in (visitors._salts, totals._sums, counting._seen):
        memory.clear()  # another new process: the marker now says ALICE is settled
    round_trips.clear()
    services.view_count(visitor=ALICE)
    assert (round_trips.requests(), round_trips.sequential()) == (5, 3)
    visit = Visit(source="linkedin.com", campaign="acme", country="DE", device="phone")
    round_trips.clear()
    assert services.view_count(visitor=BOB, visit=visit).counted  # a new visitor
    # both limits and the visitor's claim at once, then the day's views with their labels
    assert (round_trips.requests(), round_trips.sequential()) == (3, 2)
    round_trips.clear()
    assert services.view_count(visitor=BOB, visit=visit).counted  # seen by this process today
    assert (round_trips.requests(), round_trips.sequential()) == (2, 2)
    assert services.days_get(days=1)[0].uniques == 2


@pytest.mark.dynamodb_local
def test_with_the_limits_off_a_view_waits_on_its_claim_then_its_write(
    round_trips, settings, at_second_20
):
    """No limits' check for the claim to go with: a new visitor's claim, then its view (a unique
    visitor is counted only in the write of its view, which must know the claim's answer); a
    visitor this process counted today, its view alone."""
    services.total_get()  # the day's salt and the closed days' sum are in memory
    services.visitor_digest(visitor=ALICE)
    settings.COUNTER_VISITOR_LIMIT = 0
    settings.COUNTER_CLIENT_LIMIT = 0
    round_trips.clear()
    assert services.view_count(visitor=ALICE).counted
    assert (round_trips.requests(), round_trips.sequential()) == (2, 2)
    round_trips.clear()
    assert services.view_count(visitor=ALICE).counted
    assert (round_trips.requests(), round_trips.sequential()) == (1, 1)


@pytest.mark.dynamodb_local
def test_a_new_visitor_over_a_limit_is_released_while_the_total_is_read(
    round_trips, settings, at_second_20
):
    settings.COUNTER_CLIENT_LIMIT = 1
    assert services.view_count(visitor=BOB).counted  # the client's one view this minute
    office = Client(ip=BOB.ip, user_agent="Mozilla/5.0 (Office)")
    round_trips.clear()
    assert not services.view_count(visitor=office).counted
    # the limits and the claim at once, then the open day's views and the release at once
    assert (round_trips.requests(), round_trips.sequential()) == (4, 2)
    assert services.days_get(days=1)[0].uniques == 1


@pytest.mark.dynamodb_local
def test_clicks_add_no_request_or_round_trip_to_a_view(round_trips, at_second_20):
    """A click is a request of its own: clicks before and between views leave a view's
    requests and round trips as above, and the day's views item untouched."""
    services.view_count(visitor=ALICE)  # the day's salt and the closed days' sum are in memory
    services.click_count(visitor=BOB, link="email")
    round_trips.clear()
    assert services.view_count(visitor=BOB).counted  # a new visitor
    assert (round_trips.requests(), round_trips.sequential()) == (3, 2)
    services.click_count(visitor=BOB, link="pdf")
    round_trips.clear()
    assert services.view_count(visitor=BOB).counted  # seen by this process today
    assert (round_trips.requests(), round_trips.sequential()) == (2, 2)
    today = services.days_get(days=1)[0]
    assert (today.views, today.uniques, today.clicks) == (3, 2, {"email": 1, "pdf": 1})


def _elsewhere(endpoint: str, table: str, key: str, update: str, **values: int | bool) -> None:
    """A write of another process's view, straight to the engine (no round trip of ours):
    `update` names each attribute `#name` and each value `:name`."""
    import re

    import boto3

    engine = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    names = {f"#{name}": name for name in re.findall(r"#(\w+)", update)}
    typed = {
        f":{name}": {"BOOL": value} if isinstance(value, bool) else {"N": str(value)}
        for name, value in values.items()
    }
    engine.update_item(
        TableName=table,
        Key={"pk": {"S": key}},
        UpdateExpression=update,
        ExpressionAttributeNames=names,
        **({"ExpressionAttributeValues": typed} if typed else {}),
    )


@pytest.mark.dynamodb_local
def test_a_view_refused_the_claim_by_a_holder_in_flight_defers_to_it_after_its_write(
    round_trips, at_second_20
):
    """The holder may not be counted (it is another view on its way), so the counted view
    defers to it: one request and round trip more, once. The holder, not counted, then hands
    the visitor over (its release refused, the day's unique visitors one more)."""
    assert services.view_count(visitor=BOB).counted  # the day's salt and sum are in memory
    digest = services.visitor_digest(visitor=ALICE)
    claim = uniques.day_visitor_claim(digest=digest, day=DAY).token  # ALICE's view elsewhere
    round_trips.clear()
    assert services.view_count(visitor=ALICE).counted
    # the limits and the claim (refused: held), the day's views, then the deferral
    assert (round_trips.requests(), round_trips.sequential()) == (4, 3)
    assert services.days_get(days=1)[0].uniques == 1
    round_trips.clear()
    assert services.view_count(visitor=ALICE).counted  # settled: no claim, no deferral
    assert (round_trips.requests(), round_trips.sequential()) == (2, 2)
    round_trips.clear()
    assert uniques.day_visitor_release(digest=digest, day=DAY, claim=claim)  # over a limit there
    # its release refused (a view deferred to it), then the visitor counted for that view
    assert (round_trips.requests(), round_trips.sequential()) == (2, 2)
    assert services.days_get(days=1) == [services.DayStats(day=DAY, views=3, uniques=2)]


@pytest.mark.dynamodb_local
def test_a_view_that_defers_to_a_holder_that_gave_up_counts_the_visitor_itself(
    round_trips, dynamodb_endpoint, ddb_table, monkeypatch, at_second_20
):
    assert services.view_count(visitor=BOB).counted
    digest = services.visitor_digest(visitor=ALICE)
    uniques.day_visitor_claim(digest=digest, day=DAY)  # ALICE's view elsewhere, over a limit
    marker = f"visitor#{DAY.isoformat()}#{digest}"
    view_write = days.day_view_add

    def write(**kwargs):  # that view gives its claim up while this one is on its way
        _elsewhere(dynamodb_endpoint, ddb_table, marker, "SET #released = :t REMOVE #claim", t=True)
        return view_write(**kwargs)

    monkeypatch.setattr(days, "day_view_add", write)
    round_trips.clear()
    assert services.view_count(visitor=ALICE).counted
    # the limits and the claim (refused: held), the day's views, the deferral (the claim was
    # released meanwhile), then the visitor counted for this view
    assert (round_trips.requests(), round_trips.sequential()) == (5, 4)
    assert services.days_get(days=1) == [services.DayStats(day=DAY, views=2, uniques=2)]


@pytest.mark.dynamodb_local
def test_a_holder_over_a_limit_hands_its_claim_to_a_view_that_deferred_to_it(
    round_trips, dynamodb_endpoint, ddb_table, settings, monkeypatch, at_second_20
):
    settings.COUNTER_CLIENT_LIMIT = 1
    assert services.view_count(visitor=BOB).counted  # the client's one view this minute
    office = Client(ip=BOB.ip, user_agent="Mozilla/5.0 (Office)")
    marker = f"visitor#{DAY.isoformat()}#{services.visitor_digest(visitor=office)}"
    release_send = uniques.day_visitor_release

    def give_up(**kwargs):  # meanwhile office's view elsewhere was counted, and deferred to it
        _elsewhere(dynamodb_endpoint, ddb_table, f"day#{DAY.isoformat()}", "ADD #views :one", one=1)
        _elsewhere(dynamodb_endpoint, ddb_table, marker, "SET #deferred = :t", t=True)
        return release_send(**kwargs)

    monkeypatch.setattr(uniques, "day_visitor_release", give_up)
    round_trips.clear()
    assert not services.view_count(visitor=office).counted
    # the limits and the claim, then the open day's views and the release (refused), then the
    # visitor counted for the view that deferred to it
    assert (round_trips.requests(), round_trips.sequential()) == (5, 3)
    assert services.days_get(days=1) == [services.DayStats(day=DAY, views=2, uniques=2)]
