"""Shared fixtures: a real DynamoDB Local engine for the session, its table emptied for each test,
moto for units."""

import datetime as dt
import functools
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import botocore.loaders
import botocore.session
import pytest

# Every boto3 or PynamoDB client starts a botocore session, which reads botocore's data files
# afresh (the endpoints, the DynamoDB model: about 10 ms of JSON each time). A process of the
# package makes one client in all; a test process makes hundreds (a table, an endpoint or a
# fault per test), so its sessions share one loader, which keeps what it has read.
botocore.session.create_loader = functools.cache(botocore.loaders.create_loader)

# Never reach real AWS from a test, whatever the machine's environment holds.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
)
# Nothing listens there: a connection is refused at once, as with a stopped engine.
CLOSED_ENDPOINT = "http://127.0.0.1:9"
# The tests' day: today, never a fixed date. DynamoDB Local deletes an item soon after its
# `expires` has passed, as DynamoDB does, so the salt, markers and limit buckets of a day long
# gone would vanish mid-test.
DAY = dt.datetime.now(dt.UTC).date()

from core.clients import Client  # noqa: E402

# Two visitors (or sign-in clients) for tests that need to tell clients apart.
ALICE = Client(ip="203.0.113.7", user_agent="Mozilla/5.0 (Alice)")
BOB = Client(ip="198.51.100.4", user_agent="Mozilla/5.0 (Bob)")

from scripts import dynamodb_local, local_server  # noqa: E402

# The modules that take longest, longest first. `make test` runs the suite on several workers
# (pytest-xdist, --dist loadfile), each module on one worker, handed out in collection order, so
# these start first and the short ones fill in around them: the workers finish together.
LONGEST_FIRST = (
    "deploy/test_zappa_lifecycle.py",
    # It makes the first deploys tests/deploy/test_live.py reads too (first_deploys there),
    # which meanwhile runs its other tests.
    "infra/test_deploy_role_drift.py",
    "browser/test_admin.py",
    "deploy/test_package_faults.py",
    "counter/services/test_days.py",
    "scripts/test_run_local.py",
    "browser/test_page.py",
    "deploy/test_live.py",
    "counter/test_faults.py",
    "deploy/test_package_signin.py",
    "counter/services/test_counting.py",
    "deploy/test_package_api.py",
    "owners/test_admin.py",
    "deploy/test_static_files.py",
    "deploy/test_package.py",
)
TESTS = Path(__file__).resolve().parent
# The tests that drive the built Lambda package (tests/deploy/conftest.py, package_built) or make
# the build venv it packages (Zappa's lifecycle, `make deploy` on moto).
PACKAGE_TESTS = (TESTS / "deploy", TESTS / "infra")
_prebuilt: list[subprocess.Popen] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    """In a parallel run (pytest-xdist) that holds tests of the package: build it, and the build
    venv it packages (tens of seconds in a fresh clone), in a process of its own from the start,
    while the workers start and collect, rather than in the first test module that needs it
    while the others that need it wait. It builds under the lock the workers take too
    (package_built), so they wait for it only if they need it before it is done; if it fails,
    the first of them to need the package builds it again and reports why."""
    config = session.config
    if os.environ.get("PYTEST_XDIST_WORKER") or not getattr(config.option, "numprocesses", 0):
        return
    given = [Path(arg.split("::")[0]).resolve() for arg in config.args] or [TESTS]
    if not any(
        path == wanted or wanted in path.parents or path in wanted.parents
        for path in given
        for wanted in PACKAGE_TESTS
    ):
        return
    build = "from tests.deploy.conftest import package_built; package_built()"
    log = TESTS.parent / "build" / "package-prebuild.log"  # what it printed, for a look
    log.parent.mkdir(exist_ok=True)
    with log.open("w") as output:
        _prebuilt.append(
            subprocess.Popen(
                [sys.executable, "-c", build],
                cwd=TESTS.parent,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        )


def pytest_sessionfinish(session: pytest.Session) -> None:
    for process in _prebuilt:
        process.wait()


@pytest.hookimpl(optionalhook=True)  # xdist's hook: a run without xdist (-p no:xdist) knows none
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker more than the cores. The fault matrices, `make run`'s stops and the
    browser tests spend much of their time waiting on timeouts, processes and pages; a third
    worker on two cores fills those waits (the suite in 144 s instead of 171 on a quiet 2-core
    machine; a fourth gained nothing and cost CPU)."""
    return (os.process_cpu_count() or 1) + 1


def _rank(item: pytest.Item) -> int:
    path = item.path.relative_to(TESTS).as_posix() if TESTS in item.path.parents else ""
    return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest modules first (a stable sort: each module's tests keep their order), and every
    test its own node id. Under pytest 9.2 the test schemathesis makes for each operation
    (`test_...[POST /api/count]`) gets the node id of the function it comes from, and
    pytest-xdist tells tests apart by node id, so it ran one of the four; each gets its name."""
    items.sort(key=_rank)
    for item in items:
        if item.parent is not None and item.nodeid.rpartition("::")[2] != item.name:
            item._id = item.parent.id.child(item.name)


def stored_views(endpoint: str, table: str) -> int:
    """Every view the table holds, read straight from the engine past any proxy or setting: the
    sum of the `day#` items' views (each counted view is on exactly one day)."""
    import boto3

    engine = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    pages = engine.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    return sum(
        int(item.get("views", {"N": "0"})["N"])
        for page in pages
        for item in page["Items"]
        if item["pk"]["S"].startswith("day#")
    )


@pytest.fixture(autouse=True)
def patient_budgets(settings) -> None:
    """Patient DynamoDB budgets for every test: on a loaded machine DynamoDB Local can take a
    few tenths of a second per call, and a view's three calls would spend the shipped second
    (DynamoDB itself answers in milliseconds). The tests that prove the budgets set the shipped
    values themselves (tests/counter/test_faults.py, tests/owners/test_admin.py,
    tests/deploy/test_package_faults.py)."""
    settings.DYNAMODB_API_BUDGET = 10.0
    settings.DYNAMODB_ADMIN_BUDGET = 10.0


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[str]:
    """One in-memory DynamoDB Local for the whole session, on a free port."""
    with dynamodb_local.running() as url:
        yield url


@pytest.fixture(scope="session")
def _engine_table(dynamodb_endpoint: str) -> str:
    """The session's one table in DynamoDB Local, made once (about 0.2 s a table): each test
    that takes `ddb_table` gets it emptied."""
    from django.test import override_settings

    from core import dynamodb

    name = f"test-{uuid.uuid4().hex[:12]}"
    # Patient timeouts for the set-up: a cold engine can take seconds to create a table, and a
    # request that timed out is never sent again (core/dynamodb.py).
    with override_settings(
        DYNAMODB_ENDPOINT_URL=dynamodb_endpoint,
        DYNAMODB_TABLE=name,
        DYNAMODB_CONNECT_TIMEOUT=10.0,
        DYNAMODB_READ_TIMEOUT=30.0,
    ):
        dynamodb.table_ensure()
    return name


def table_empty(endpoint: str, table: str) -> None:
    """Delete every item of the table, read and deleted straight through the engine."""
    import boto3

    engine = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    pages = engine.get_paginator("scan").paginate(
        TableName=table, ProjectionExpression="pk", ConsistentRead=True
    )
    for page in pages:
        for start in range(0, len(page["Items"]), 25):
            batch = [{"DeleteRequest": {"Key": key}} for key in page["Items"][start : start + 25]]
            requests = {table: batch}
            while requests:  # a batch may leave some deletes unprocessed: they are sent again
                requests = engine.batch_write_item(RequestItems=requests)["UnprocessedItems"]


@pytest.fixture
def ddb_table(dynamodb_endpoint: str, _engine_table: str, settings) -> str:
    """The session's table in DynamoDB Local, empty, for one test; its name is returned."""
    from counter.services import days

    days._full.clear()  # an empty table: no day's sources are full yet
    table_empty(dynamodb_endpoint, _engine_table)
    settings.DYNAMODB_ENDPOINT_URL = dynamodb_endpoint
    settings.DYNAMODB_TABLE = _engine_table
    return _engine_table


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A TCP server that accepts connections and never answers: a hung engine."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


class _InlineExecutor:
    """Runs each submitted call at once, on the submitting thread."""

    def submit(self, call: Callable[[], Any]) -> Any:
        from concurrent.futures import Future

        future: Future[Any] = Future()
        try:
            future.set_result(call())
        except Exception as error:
            future.set_exception(error)
        return future


@pytest.fixture
def moto_table(settings, monkeypatch) -> Iterator[str]:
    """A table in moto's in-process DynamoDB, for unit tests of single calls.

    moto serialises nothing (a cancelled transaction even restores a copy of the whole table,
    undoing what other threads wrote meanwhile), so here the calls the services send together
    (core.budget.call_submit) run one after another; DynamoDB Local proves them concurrent."""
    from moto import mock_aws

    from core import budget, dynamodb
    from counter.services import days

    days._full.clear()  # a fresh table: no day's sources are full yet
    monkeypatch.setattr(budget, "_executor", _InlineExecutor)
    with mock_aws():
        settings.DYNAMODB_ENDPOINT_URL = ""
        settings.DYNAMODB_TABLE = "moto-table"
        dynamodb.table_ensure()
        yield "moto-table"


@pytest.fixture
def table_scan(moto_table: str) -> Callable[[], list[dict[str, Any]]]:
    """Reads every item of the moto table as DynamoDB stores it: what the services wrote."""
    import boto3

    def scan() -> list[dict[str, Any]]:
        client = boto3.client("dynamodb", region_name="us-east-1")
        return client.scan(TableName=moto_table)["Items"]

    return scan


@pytest.fixture
def fast_passwords(settings) -> None:
    """A fast hasher for tests that make many accounts; the real PBKDF2 costs ~1 s a hash."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _isolated_table(settings) -> Iterator[None]:
    """DynamoDB at a closed port unless a table fixture says otherwise, so a test that forgets
    its fixture fails instead of touching a developer's `make run` data; nothing kept for the day
    (salt, the closed days' sum, the visitors seen)."""
    from counter.services import counting, totals, visitors

    def forget() -> None:  # what a process keeps in memory for the day
        visitors._salts.clear()
        totals._sums.clear()
        counting._seen.clear()

    settings.DYNAMODB_ENDPOINT_URL = CLOSED_ENDPOINT
    forget()
    yield
    forget()


@pytest.fixture
def live_site(dynamodb_endpoint: str, ddb_table: str) -> Iterator[str]:
    """The site served by Django's threaded server in its own process, on DynamoDB Local."""
    with _served(dynamodb_endpoint=dynamodb_endpoint, table=ddb_table) as url:
        yield url


@pytest.fixture(scope="module")
def module_live_site(dynamodb_endpoint: str, _engine_table: str) -> Iterator[str]:
    """live_site for all of a module's tests: one server (a second or so of CPU to start), on
    the session's table emptied once, as the module starts; its tests share what they store."""
    from counter.services import days

    days._full.clear()
    table_empty(dynamodb_endpoint, _engine_table)
    with _served(dynamodb_endpoint=dynamodb_endpoint, table=_engine_table) as url:
        yield url


@contextmanager
def _served(*, dynamodb_endpoint: str, table: str) -> Iterator[str]:
    env = {
        **os.environ,
        "DYNAMODB_ENDPOINT_URL": dynamodb_endpoint,
        "DYNAMODB_TABLE": table,
        "DJANGO_DEBUG": "false",
    }
    server, url = local_server.runserver_start(env=env, probe="/api/count")
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
