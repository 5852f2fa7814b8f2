"""counter/services/days.py: the day's views, their labels and unique visitors, against moto;
the labels' bound under load on DynamoDB Local."""

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from core.clients import Client
from counter import clicks, services, visits
from counter.services import days
from tests.conftest import DAY


def test_every_view_counts_in_the_days_views(moto_table):
    days.day_view_add(day=DAY)
    days.day_view_add(day=DAY)
    assert days.days_get(days=1, today=DAY) == [days.DayStats(day=DAY, views=2, uniques=0)]


A, B = "a" * 32, "b" * 32


def _first_view(digest: str, day=DAY) -> bool:
    """A visitor's view: claimed, then counted with the claim; True if it was a unique one."""
    claim = days.day_visitor_claim(digest=digest, day=day)
    days.day_view_add(day=day, unique=claim.token is not None)
    return claim.token is not None


def test_a_visitor_counts_once_a_day(moto_table):
    assert [_first_view(A), _first_view(A), _first_view(B)] == [True, False, True]
    assert _first_view(A, day=DAY + dt.timedelta(days=1)) is True
    stats = days.days_get(days=2, today=DAY + dt.timedelta(days=1))
    assert [(stat.views, stat.uniques) for stat in stats] == [(3, 2), (1, 1)]


def test_a_unique_visitor_is_counted_only_in_the_write_of_its_view(table_scan):
    claim = days.day_visitor_claim(digest=A, day=DAY)
    assert claim.token is not None
    items = {item["pk"]["S"]: item for item in table_scan()}
    assert set(items) == {f"visitor#{DAY.isoformat()}#{A}"}  # a claim counts nothing
    days.day_view_add(day=DAY, unique=True)
    items = {item["pk"]["S"]: item for item in table_scan()}
    assert set(items) == {f"day#{DAY.isoformat()}", f"visitor#{DAY.isoformat()}#{A}"}
    assert (
        items[f"day#{DAY.isoformat()}"]["views"],
        items[f"day#{DAY.isoformat()}"]["uniques"],
    ) == (
        {"N": "1"},
        {"N": "1"},
    )
    midnight = dt.datetime.combine(DAY, dt.time(), dt.UTC)
    expires = int(items[f"visitor#{DAY.isoformat()}#{A}"]["expires"]["N"])
    assert expires == int((midnight + dt.timedelta(days=2)).timestamp())


HELD = days.VisitorClaim(token=None, held=True)  # refused: its holder may not be counted
SETTLED = days.VisitorClaim(token=None, held=False)  # refused: the visitor is settled


def test_a_released_claim_can_be_claimed_again_and_only_by_one(moto_table):
    claim = days.day_visitor_claim(digest=A, day=DAY).token
    assert not days.day_visitor_release(digest=A, day=DAY, claim="another")  # not the marker's
    assert days.day_visitor_claim(digest=A, day=DAY) == HELD
    assert not days.day_visitor_release(digest=A, day=DAY, claim=claim)
    again = days.day_visitor_claim(digest=A, day=DAY).token
    assert again is not None and again != claim
    assert days.day_visitor_claim(digest=A, day=DAY) == HELD
    days.day_visitor_release(digest=A, day=DAY, claim=claim)  # an old claim releases nothing
    assert days.day_visitor_claim(digest=A, day=DAY) == HELD
    days.day_visitor_release(digest=B, day=DAY, claim=claim)  # no marker: none is made
    assert days.day_visitor_claim(digest=B, day=DAY).token is not None


def test_a_marker_from_before_claims_counts_as_seen(moto_table):
    boto3.client("dynamodb", region_name="us-east-1").put_item(
        TableName=moto_table,
        Item={"pk": {"S": f"visitor#{DAY.isoformat()}#{A}"}, "expires": {"N": "4102444800"}},
    )
    assert days.day_visitor_claim(digest=A, day=DAY) == SETTLED


# --- Claims handed over: a holder that was not counted, a counted view refused the claim ------


def _counted_without_claim(digest: str) -> days.VisitorClaim:
    """A view of the visitor refused the claim (another view holds it), counted without it."""
    answer = days.day_visitor_claim(digest=digest, day=DAY)
    days.day_view_add(day=DAY)
    return answer


def _figures() -> tuple[int, int]:
    (stats,) = days.days_get(days=1, today=DAY)
    return stats.views, stats.uniques


def test_a_holder_not_counted_counts_the_visitor_for_a_view_that_deferred_to_it(moto_table):
    claim = days.day_visitor_claim(digest=A, day=DAY).token  # its view is then over a limit
    assert _counted_without_claim(A) == HELD
    assert not days.day_visitor_defer(digest=A, day=DAY)  # deferred to the holder
    assert _figures() == (1, 0)
    assert days.day_visitor_release(digest=A, day=DAY, claim=claim)  # handed over: counted
    assert _figures() == (1, 1)
    assert days.day_visitor_claim(digest=A, day=DAY) == SETTLED  # never claimed again
    assert _counted_without_claim(A) == SETTLED
    assert _figures() == (2, 1)


def test_a_view_that_defers_after_the_holder_released_counts_the_visitor_itself(moto_table):
    claim = days.day_visitor_claim(digest=A, day=DAY).token
    assert _counted_without_claim(A) == HELD
    assert not days.day_visitor_release(digest=A, day=DAY, claim=claim)  # released
    assert days.day_visitor_defer(digest=A, day=DAY)  # the claim was free: counted here
    assert _figures() == (1, 1)
    assert not days.day_visitor_defer(digest=A, day=DAY)  # a second one counts nothing
    assert days.day_visitor_claim(digest=A, day=DAY) == SETTLED
    assert not days.day_visitor_release(digest=A, day=DAY, claim=claim)
    assert _figures() == (1, 1)


def test_a_deferral_to_a_counted_holder_changes_no_figure(moto_table, table_scan):
    assert _first_view(A)
    assert _counted_without_claim(A) == HELD  # it cannot tell the holder was counted
    assert not days.day_visitor_defer(digest=A, day=DAY)
    assert _figures() == (2, 1)
    assert _counted_without_claim(A) == SETTLED
    (marker,) = [item for item in table_scan() if item["pk"]["S"].startswith("visitor#")]
    assert set(marker) == {"pk", "claim", "expires", "deferred"}  # no more than before; expires


def test_a_deferral_never_makes_a_marker(moto_table, table_scan):
    days.day_view_add(day=DAY)
    assert not days.day_visitor_defer(digest=A, day=DAY)
    assert [item["pk"]["S"] for item in table_scan()] == [f"day#{DAY.isoformat()}"]


def test_a_handed_over_visitor_is_never_counted_above_the_days_views(moto_table):
    """The one write of `uniques` that is not a view's own keeps them within the views."""
    claim = days.day_visitor_claim(digest=A, day=DAY).token
    days.day_visitor_defer(digest=A, day=DAY)  # as if a view were counted: none was
    with pytest.raises(days.CounterUnavailable):
        days.day_visitor_release(digest=A, day=DAY, claim=claim)
    days.day_view_add(day=DAY, unique=True)  # another visitor's view: the day has 1 and 1
    claim = days.day_visitor_claim(digest=B, day=DAY).token
    days.day_visitor_defer(digest=B, day=DAY)
    with pytest.raises(days.CounterUnavailable):
        days.day_visitor_release(digest=B, day=DAY, claim=claim)
    assert _figures() == (1, 1)


def test_a_days_uniques_from_before_are_added_to_its_new_ones(moto_table):
    boto3.client("dynamodb", region_name="us-east-1").put_item(
        TableName=moto_table,
        Item={"pk": {"S": f"uniques#{DAY.isoformat()}"}, "uniques": {"N": "3"}},
    )
    days.day_view_add(day=DAY)
    _first_view(A)
    assert days.days_get(days=1, today=DAY)[0].uniques == 4


def test_days_stats_fills_quiet_days_with_zeros_oldest_first(moto_table):
    _first_view(A)
    stats = days.days_get(days=30, today=DAY)
    assert len(stats) == 30
    assert stats[0].day == DAY - dt.timedelta(days=29)
    assert stats[-1] == days.DayStats(day=DAY, views=1, uniques=1)
    assert sum(s.views for s in stats) == 1


def test_days_stats_reads_more_days_than_one_batch_holds(moto_table):
    days.day_view_add(day=DAY - dt.timedelta(days=89))
    stats = days.days_get(days=90, today=DAY)
    assert len(stats) == 90
    assert stats[0].views == 1


# --- Where views come from: labels, bounded whatever visitors send ----------------------------

SITE = "resume.example.com"


def _visit(index: int) -> visits.Visit:
    client = Client(ip=f"10.{index // 250}.{index % 250}.1", user_agent=f"Browser {index}")
    return visits.visit_describe(
        body={"referrer": f"https://www.site-{index}.example/", "campaign": f"tag-{index}"},
        client=client,
        site_host=SITE,
    )


def test_a_views_labels_are_counted_with_it(moto_table):
    days.day_view_add(day=DAY, visit=visits.Visit("linkedin.com", "acme", "DE", "phone"))
    days.day_view_add(day=DAY, visit=visits.Visit("direct", "", "unknown", "desktop"))
    days.day_view_add(day=DAY)  # counted without labels (view_add without a visit)
    (stats,) = days.days_get(days=1, today=DAY)
    assert stats.views == 3
    assert stats.sources == {"linkedin.com": 1, "direct": 1}
    assert stats.campaigns == {"acme": 1}
    assert stats.countries == {"DE": 1, "unknown": 1}
    assert stats.devices == {"phone": 1, "desktop": 1}


def test_past_the_limit_a_new_source_or_campaign_counts_as_other(moto_table, table_scan):
    for index in range(days.SOURCES_LIMIT + 5):
        days.day_view_add(day=DAY, visit=_visit(index))
    days.day_view_add(day=DAY, visit=_visit(0))  # one already named keeps its name
    (stats,) = days.days_get(days=1, today=DAY)
    assert stats.views == days.SOURCES_LIMIT + 6
    assert len(stats.sources) == days.SOURCES_LIMIT + 1  # and "other"
    assert stats.sources["other"] == 5
    assert stats.sources["site-0.example"] == 2
    assert stats.campaigns["other"] == 5
    assert stats.campaigns["tag-0"] == 2
    (item,) = [item for item in table_scan() if item["pk"]["S"] == f"day#{DAY.isoformat()}"]
    assert len(item["sources"]["SS"]) == days.SOURCES_LIMIT
    assert len(item["campaigns"]["SS"]) == days.CAMPAIGNS_LIMIT


def test_a_process_that_found_the_set_full_sends_new_names_as_other_at_once(
    moto_table, monkeypatch
):
    """The failed send's answer holds the day's item, so the process learns the full set from
    it: the first new name past the limit costs one failed send, later ones none."""
    for index in range(days.SOURCES_LIMIT):
        days.day_view_add(day=DAY, visit=_visit(index))
    sends = []
    update = days._day_update
    monkeypatch.setattr(days, "_day_update", lambda **kw: sends.append(kw) or update(**kw))
    days.day_view_add(day=DAY, visit=_visit(1000))
    assert [(send["source"], send["campaign"]) for send in sends] == [
        ("site-1000.example", "tag-1000"),
        ("other", "other"),
    ]
    sends.clear()
    days.day_view_add(day=DAY, visit=_visit(1001))
    days.day_view_add(day=DAY, visit=_visit(3))  # a name the day holds keeps it
    assert [(send["source"], send["campaign"]) for send in sends] == [
        ("other", "other"),
        ("site-3.example", "tag-3"),
    ]


def test_a_days_clicks_are_one_number_per_link_read_with_its_figures(table_scan):
    assert [days.day_click_add(day=DAY, link=link) for link in ("email", "pdf", "email")] == [
        1,
        1,
        2,
    ]
    days.day_click_add(day=DAY - dt.timedelta(days=1), link="pdf")
    stats = days.days_get(days=2, today=DAY)
    assert [(s.views, s.clicks) for s in stats] == [(0, {"pdf": 1}), (0, {"email": 2, "pdf": 1})]
    assert services.labels_sum(stats, "clicks") == {"pdf": 2, "email": 2}
    items = {item["pk"]["S"]: item for item in table_scan()}
    assert set(items) == {f"clicks#{(DAY - dt.timedelta(days=1)).isoformat()}", f"clicks#{DAY}"}


def test_a_click_on_a_closed_day_is_still_counted_and_leaves_its_views_alone(moto_table):
    """Clicks are not in the total, so the day's closing does not hold them back."""
    days.day_view_add(day=DAY)
    days.day_close(day=DAY)
    days.day_click_add(day=DAY, link="phone")
    (stats,) = days.days_get(days=1, today=DAY)
    assert (stats.views, stats.clicks) == (1, {"phone": 1})


VIEWS = 10_000
VISITORS = 500
THREADS = 16


def _engine_item(endpoint: str, table: str, key: str) -> dict:
    engine = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    return engine.get_item(TableName=table, Key={"pk": {"S": key}}, ConsistentRead=True)["Item"]


@pytest.mark.dynamodb_local
@pytest.mark.slow
def test_ten_thousand_distinct_referrers_and_tags_stay_bounded_and_exact(
    patient_engine, dynamodb_endpoint
):
    """10,000 views, each from its own client address with its own referrer and tag, 16 at a
    time: the day's views stay exact, its item holds at most 50 named sources and 50 campaigns
    (the rest under "other"), and stays a few KiB."""
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(lambda index: days.day_view_add(day=DAY, visit=_visit(index)), range(VIEWS)))
    (stats,) = days.days_get(days=1, today=DAY)
    assert stats.views == VIEWS
    for labels in (stats.sources, stats.campaigns, stats.devices, stats.countries):
        assert sum(labels.values()) == VIEWS
    assert len(stats.sources) == days.SOURCES_LIMIT + 1
    assert len(stats.campaigns) == days.CAMPAIGNS_LIMIT + 1
    assert stats.sources["other"] == stats.campaigns["other"] == VIEWS - days.SOURCES_LIMIT
    item = _engine_item(dynamodb_endpoint, patient_engine, f"day#{DAY.isoformat()}")
    # pk, views, 51 sources, 51 campaigns, 1 country, 1 device, the two sets of 50 names
    assert len(item) == 2 + 51 + 51 + 1 + 1 + 2
    assert len(item["sources"]["SS"]) == len(item["campaigns"]["SS"]) == 50
    assert len(json.dumps(item)) < 8 * 1024


@pytest.mark.dynamodb_local
@pytest.mark.slow
def test_counted_views_with_distinct_labels_keep_the_total_and_uniques_exact(patient_engine):
    """Through view_count with the limits on, from many client addresses at once: every view
    counted once in the total, the day's views, its labels and its unique visitors."""
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = list(
            pool.map(
                lambda index: services.view_count(
                    visitor=Client(
                        ip=f"10.{index // 250}.{index % 250}.1", user_agent=f"Browser {index}"
                    ),
                    visit=_visit(index),
                ),
                range(VISITORS),
            )
        )
    assert all(outcome.counted for outcome in outcomes)
    assert sorted(outcome.count for outcome in outcomes) == list(range(1, VISITORS + 1))
    assert services.total_get() == VISITORS
    (stats,) = days.days_get(days=1)
    assert (stats.views, stats.uniques) == (VISITORS, VISITORS)
    assert sum(stats.sources.values()) == sum(stats.campaigns.values()) == VISITORS
    assert len(stats.sources) == days.SOURCES_LIMIT + 1


@pytest.mark.dynamodb_local
def test_ten_thousand_distinct_link_labels_store_only_the_pages_links(
    patient_engine, dynamodb_endpoint, settings
):
    """10,000 clicks from 10,000 client addresses, each naming a label of its own, among them
    the page's seven links: the seven are counted, everything else refused before any write,
    and the day's clicks item holds one number per link of the page, nothing else."""
    settings.COUNTER_VISITOR_LIMIT = settings.COUNTER_CLIENT_LIMIT = 0
    links = list(clicks.links_get())
    labels = [*links, *(f"profile:site-{index}" for index in range(VIEWS - len(links)))]

    def click(index: int) -> bool:
        client = Client(ip=f"10.{index // 250}.{index % 250}.2", user_agent=f"Browser {index}")
        try:
            return services.click_count(visitor=client, link=labels[index]).counted
        except ValueError:
            return False

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        counted = list(pool.map(click, range(VIEWS)))
    assert sum(counted) == len(links) == 7
    (stats,) = days.days_get(days=1)
    assert stats.clicks == dict.fromkeys(links, 1)
    item = _engine_item(dynamodb_endpoint, patient_engine, f"clicks#{DAY.isoformat()}")
    assert set(item) == {"pk", *(f"link:{link}" for link in links)}
