"""Exact totals under concurrency, proven against the real engine (DynamoDB Local).

moto serialises nothing and loses concurrent updates, so it cannot prove atomicity: these tests
run on the real engine, and moto is kept for unit tests of single calls. The load is sized to
what it proves: 400 views from 16 threads, the same load a naive read-then-write counter beside
it is shown to lose updates under (the control), so the load can catch a lost update.
"""

import json
import multiprocessing
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from counter import services
from tests.conftest import ALICE
from tests.counter.http_load import post_many

pytestmark = [pytest.mark.dynamodb_local, pytest.mark.slow]

THREADS = 16
PER_THREAD = 25
PROCESSES = 4
PER_PROCESS = 100


@pytest.fixture
def no_limits(patient_engine: str, settings) -> None:
    """The limits off (they would refuse a burst from one visitor) on a patient engine."""
    settings.COUNTER_VISITOR_LIMIT = 0
    settings.COUNTER_CLIENT_LIMIT = 0


def _view_many(times: int) -> list[int]:
    return [services.view_count(visitor=ALICE).count for _ in range(times)]


def test_the_load_makes_a_naive_read_then_write_counter_lose_updates(
    patient_engine, dynamodb_endpoint
):
    """The control: the same threads and views, counted by reading the total and writing it
    back plus one, end below the views sent; so a counter that kept them all did not by luck."""
    engine = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name="us-east-1")
    key = {"pk": {"S": "naive-control"}}

    def naive_add(times: int) -> None:
        for _ in range(times):
            item = engine.get_item(TableName=patient_engine, Key=key, ConsistentRead=True)
            count = int(item.get("Item", {}).get("count", {"N": "0"})["N"])
            engine.put_item(TableName=patient_engine, Item={**key, "count": {"N": str(count + 1)}})

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(naive_add, [PER_THREAD] * THREADS))
    stored = engine.get_item(TableName=patient_engine, Key=key, ConsistentRead=True)["Item"]
    assert int(stored["count"]["N"]) < THREADS * PER_THREAD


def test_threads_through_the_service_lose_no_update(no_limits):
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(_view_many, [PER_THREAD] * THREADS))
    returned = [total for chunk in results for total in chunk]
    assert services.total_get() == THREADS * PER_THREAD
    # Each ADD returned a distinct value: no two increments saw the same total.
    assert sorted(returned) == list(range(1, THREADS * PER_THREAD + 1))
    today = services.days_get(days=1)[0]
    assert (today.views, today.uniques) == (THREADS * PER_THREAD, 1)


@pytest.fixture
def unlimited_site(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> str:
    """The live site, started with the limits off and patient timeouts."""
    for name, value in {
        "COUNTER_VISITOR_LIMIT": "0",
        "COUNTER_CLIENT_LIMIT": "0",
        "DYNAMODB_CONNECT_TIMEOUT": "10",
        "DYNAMODB_READ_TIMEOUT": "30",
    }.items():
        monkeypatch.setenv(name, value)
    return request.getfixturevalue("live_site")


def test_processes_over_http_lose_no_update(unlimited_site, settings):
    settings.DYNAMODB_READ_TIMEOUT = 30.0
    # Spawned children import post_many's module, which must not need Django set up.
    context = multiprocessing.get_context("spawn")
    with context.Pool(PROCESSES) as pool:
        work = pool.starmap_async(post_many, [(unlimited_site, PER_PROCESS)] * PROCESSES)
        results = work.get(timeout=300)  # a broken child fails the test, never hangs it
    returned = sorted(total for chunk in results for total in chunk)
    assert returned == list(range(1, PROCESSES * PER_PROCESS + 1))
    with urllib.request.urlopen(f"{unlimited_site}/api/count", timeout=5) as response:
        assert json.load(response)["count"] == PROCESSES * PER_PROCESS
    today = services.days_get(days=1)[0]
    assert today.views == PROCESSES * PER_PROCESS
    assert today.uniques == 1  # one machine, one user agent
