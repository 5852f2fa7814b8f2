"""The docs' figures that come from the code or the build, each in its generated block
(tests/docs/figures.py): a test per block fails, naming it and `make docs`, when the block
differs from what the code gives; `make docs` writes them."""

import datetime as dt
import re

import pytest

from tests.counter.conftest import proxy  # noqa: F401 (DynamoDB Local behind a delaying proxy)
from tests.deploy.conftest import package_zip  # noqa: F401 (the built zip, shared and cached)
from tests.docs import costs, figures, views
from tests.docs.figures import ROOT, block_get, block_settle
from tests.infra.test_role_drift import exercise_runtime_services


def test_the_package_size(package_zip):  # noqa: F811
    block_settle("docs/deploy.md", "zip-size", figures.zip_size(package_zip))


def test_the_test_count(request):
    count = figures.tests_collected_in(request.session)
    if count is None:  # a run of some modules only: collect the whole suite apart
        count = figures.tests_collected()
    block_settle("README.md", "test-count", figures.test_count(count))


def test_the_make_targets():
    old = block_get("README.md", "make-targets")
    block_settle(
        "README.md", "make-targets", figures.make_targets((ROOT / "Makefile").read_text(), old)
    )


def test_the_configuration():
    old = block_get("README.md", "configuration")
    block_settle("README.md", "configuration", figures.configuration(old))


def test_every_make_command_the_docs_give_exists():
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))
    for doc in [
        "README.md",
        *(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md")),
    ]:
        named = set(re.findall(r"`make ([a-z][\w-]*)", (ROOT / doc).read_text()))
        assert named <= targets, f"{doc} names make targets the Makefile lacks: {named - targets}"


def _hash_names() -> dict[str, str]:
    """What each hash in the exercised keys stands for: the visitors' and clients' of
    exercise_runtime_services and of this test, on every day they may have counted, and the
    owner's sign-in failures."""
    from counter import services
    from owners import services as owners
    from tests.conftest import ALICE

    names: dict[str, str] = {"owner": "<username>"}
    today = dt.datetime.now(dt.UTC).date()
    days = [dt.date(2026, 11, 23), *(today + dt.timedelta(days=n) for n in range(-1, 4))]
    drift = type(ALICE)(ip="203.0.113.7", user_agent="drift-test")
    for visitor in (ALICE, drift):
        for day in days:
            names[services.visitor_digest(visitor=visitor, day=day)] = "<hash>"
            names[services.client_digest(network=visitor.network, day=day)] = "<client hash>"
        pair, _ = owners._attempt_keys("owner", visitor.network)
        user_hash, ip_hash = pair.split("#")[2:]
        names.update({user_hash: "<username hash>", ip_hash: "<ip hash>"})
    return names


@pytest.mark.dynamodb_local
def test_the_data_model(table_scan, settings):
    exercise_runtime_services(settings)
    settings.COUNTER_CLIENT_LIMIT = 0  # the visitor's own buckets
    from counter import services
    from tests.conftest import ALICE

    services.view_count(visitor=ALICE)
    services.click_count(visitor=ALICE, link="email")
    keys = [item["pk"]["S"] for item in table_scan()]
    old = block_get("docs/architecture.md", "data-model")
    block_settle("docs/architecture.md", "data-model", figures.data_model(keys, _hash_names(), old))


@pytest.mark.dynamodb_local
def test_a_posts_round_trips_and_write_units(
    proxy,  # noqa: F811 (the fixture imported above)
    settings,
    monkeypatch,
    dynamodb_endpoint,
    ddb_table,
):
    """Measured once (a few seconds), quoted by docs/architecture.md's table and by the
    write units docs/deploy.md's costs start from (test_the_costs, below)."""
    bench = views.Bench(proxy, settings, monkeypatch, dynamodb_endpoint, ddb_table)
    costs = views.measure_all(bench)
    old = block_get("docs/architecture.md", "round-trips")
    block_settle("docs/architecture.md", "round-trips", figures.round_trips(costs, old))
    new, settled = costs[views.COMMON].write_units, costs[views.SETTLED].write_units
    block_settle("docs/deploy.md", "view-writes", figures.view_writes(new, settled))


def test_the_costs(client):
    """Pure arithmetic on the page's prices and what the code and the template say. It reads the
    write units from the block the test above measures, so it runs after it (`make docs` writes
    that block first)."""
    page = costs.inputs(page_bytes=len(client.get("/").content))
    block_settle("docs/deploy.md", "costs", costs.cost_table(page))
    block_settle("docs/deploy.md", "throttle-month", costs.throttle_month(page))
    block_settle("docs/deploy.md", "ceiling", costs.ceiling(page))
    block_settle("docs/deploy.md", "page-flood", costs.page_flood(page))
    block_settle("README.md", "bill", costs.bill_quoted(page))
