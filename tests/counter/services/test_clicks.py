"""counter/services/clicks.py: a click on one of the page's links, within its own limits, as one
number per link and day. Single flows against moto; the requests and round trips, and a burst,
on DynamoDB Local."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from core.clients import Client
from counter import services
from counter.services import visitors
from tests.conftest import ALICE, BOB, CLOSED_ENDPOINT, DAY
from tests.counter.conftest import RoundTrips

COUNTED = services.ClickOutcome(counted=True, refused=False, retry_after=0)


def _clicks_today() -> dict[str, int]:
    return services.days_get(days=1, today=DAY)[0].clicks


def test_a_click_is_counted_under_its_link_for_the_day(moto_table, at_second_20):
    assert services.click_count(visitor=ALICE, link="email") == COUNTED
    assert services.click_count(visitor=BOB, link="email") == COUNTED
    assert services.click_count(visitor=ALICE, link="pdf") == COUNTED
    assert _clicks_today() == {"email": 2, "pdf": 1}
    assert services.days_get(days=1, today=DAY)[0].views == 0  # a click is no view


def test_a_label_that_is_not_one_of_the_pages_links_is_refused_and_nothing_is_written(
    table_scan, at_second_20
):
    for label in ("profile:myspace", "EMAIL", "email ", "", "link:email", "pdf-a3"):
        with pytest.raises(ValueError):
            services.click_count(visitor=ALICE, link=label)
    assert table_scan() == []


def test_the_day_holds_one_number_per_link_and_nothing_of_the_visitor(table_scan, at_second_20):
    services.click_count(visitor=ALICE, link="profile:github")
    services.click_count(visitor=BOB, link="profile:github")
    (day,) = [item for item in table_scan() if item["pk"]["S"].startswith("clicks#")]
    assert day == {"pk": {"S": f"clicks#{DAY.isoformat()}"}, "link:profile:github": {"N": "2"}}


def test_clicks_have_limit_buckets_of_their_own(table_scan, settings, at_second_20):
    """A visitor's clicks never use up its views' minute, nor its views its clicks'."""
    settings.COUNTER_VISITOR_LIMIT = 2
    assert [services.view_count(visitor=ALICE).counted for _ in range(3)] == [True, True, False]
    outcomes = [services.click_count(visitor=ALICE, link="email") for _ in range(3)]
    assert [outcome.counted for outcome in outcomes] == [True, True, False]
    assert outcomes[-1] == services.ClickOutcome(counted=False, refused=False, retry_after=40)
    client = services.client_digest(network=ALICE.network, day=DAY)
    minute = int(at_second_20 // 60)
    buckets = {item["pk"]["S"] for item in table_scan() if item["pk"]["S"].startswith("rate#")}
    assert buckets == {f"rate#client#{client}#{minute}", f"rate#clicks#client#{client}#{minute}"}
    assert _clicks_today() == {"email": 2}


def test_past_ten_times_the_limit_a_click_is_refused(moto_table, settings, at_second_20):
    settings.COUNTER_VISITOR_LIMIT = 1
    outcomes = [services.click_count(visitor=ALICE, link="phone") for _ in range(12)]
    assert [outcome.refused for outcome in outcomes] == [False] * 10 + [True] * 2
    assert _clicks_today() == {"phone": 1}


def test_with_the_client_limit_off_the_visitor_has_a_clicks_bucket_of_its_own(
    table_scan, settings, at_second_20
):
    settings.COUNTER_CLIENT_LIMIT = 0
    settings.COUNTER_VISITOR_LIMIT = 1
    assert [services.click_count(visitor=ALICE, link="pdf").counted for _ in range(2)] == [
        True,
        False,
    ]
    visitor = services.visitor_digest(visitor=ALICE, day=DAY)
    (bucket,) = [item for item in table_scan() if item["pk"]["S"].startswith("rate#")]
    assert bucket["pk"]["S"] == f"rate#clicks#visitor#{visitor}#{int(at_second_20 // 60)}"


def test_limits_of_zero_write_only_the_days_clicks(table_scan, settings, at_second_20):
    settings.COUNTER_VISITOR_LIMIT = 0
    settings.COUNTER_CLIENT_LIMIT = 0
    assert all(services.click_count(visitor=ALICE, link="pdf").counted for _ in range(20))
    assert {item["pk"]["S"].split("#")[0] for item in table_scan()} == {"clicks", "salt"}
    assert _clicks_today() == {"pdf": 20}


def test_an_unknown_visitor_is_answered_not_counted_without_any_request(settings, at_second_20):
    """No IP: nothing to key the limits by. DynamoDB is at a closed port here, so any request
    would raise."""
    settings.DYNAMODB_ENDPOINT_URL = CLOSED_ENDPOINT
    unknown = Client(ip="", user_agent=ALICE.user_agent, country="DE")
    assert services.click_count(visitor=unknown, link="email") == services.ClickOutcome(
        counted=False, refused=False, retry_after=0
    )


def test_an_unreachable_engine_raises_counter_unavailable(settings):
    settings.DYNAMODB_ENDPOINT_URL = CLOSED_ENDPOINT
    with pytest.raises(services.CounterUnavailable):
        services.click_count(visitor=ALICE, link="email")


@pytest.mark.dynamodb_local
def test_a_concurrent_burst_of_one_visitors_clicks_adds_exactly_the_limit(
    patient_engine, at_second_20
):
    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(
            pool.map(lambda _: services.click_count(visitor=ALICE, link="email"), range(40))
        )
    assert sum(outcome.counted for outcome in outcomes) == 5
    assert _clicks_today() == {"email": 5}


@pytest.mark.dynamodb_local
def test_a_click_sends_two_requests_one_after_the_other(round_trips: RoundTrips, at_second_20):
    """The limits, then the click's ADD; a process's first request of the day makes the day's
    salt first (one more)."""
    assert services.click_count(visitor=ALICE, link="email").counted
    assert (round_trips.requests(), round_trips.sequential()) == (3, 3)
    round_trips.clear()
    assert services.click_count(visitor=BOB, link="pdf").counted
    assert (round_trips.requests(), round_trips.sequential()) == (2, 2)
    assert visitors._salts  # kept for the day
