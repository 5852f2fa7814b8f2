"""counter/services/days.py: the day's views, their labels and unique visitors, against moto;
the labels' bound under load on DynamoDB Local. (The claims that count a visitor once are
tests/counter/services/test_uniques.py's.)"""

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


def test_a_days_uniques_from_before_are_added_to_its_new_ones(moto_table):
    boto3.client("dynamodb", region_name="us-east-1").put_item(
        TableName=moto_table,
        Item={"pk": {"S": f"uniques#{DAY.isoformat()}"}, "uniques": {"N": "3"}},
    )
    days.day_view_add(day=DAY)
    days.day_view_add(day=DAY, unique=True)  # a visitor's claimed first view of the day
    assert days.days_get(days=1, today=DAY)[0].uniques == 4


def test_days_stats_fills_quiet_days_with_zeros_oldest_first(moto_table):
    days.day_view_add(day=DAY, unique=True)
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
def test_counted_views_with_distinct_labels_keep_the_total_and_uniques_exact(
    patient_engine, at_second_20
):
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
    patient_engine, dynamodb_endpoint, settings, at_second_20
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
