"""Fixtures for driving the built Lambda package: the zip, unzipped; the boto3 the Lambda runtime
supplies; the environment Lambda gives the function (SECRET_KEY included, as the deploy sets
it); a warm `handler` process on DynamoDB Local, reached straight through API Gateway or through
the distribution (`site`); the owner's password hash; the limits' buckets of the stage's table."""

import fcntl
import hashlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from deploy import package
from harness import lambda_host
from harness.lambda_host import LambdaProcess, runtime_sdk_link
from tests.deploy import stage_configs

ROOT = Path(__file__).resolve().parent.parent.parent
STAGE = "prod"
PACKAGE = ROOT / "build" / f"resume-site-{STAGE}.zip"
SCRATCH_FREE_BYTES = 2**30
# Tracked paths that neither ship nor are read by the build: editing them keeps the built zip.
NOT_PACKAGE_INPUTS = (
    "tests/",
    "docs/",
    "bench/",
    "harness/",
    "infra/",
    ".ci/",
    ".github/",
    "README.md",
)
# A visitor's count within its client's bucket (counter/services/limits.py).
VISITOR_PREFIX = "visitor:"

# The two ways of reaching the function (`site`). A test whose rule depends on the way (who the
# client is, the headers and cookies each way carries, the sign-in, the edge's own rules) takes
# `site` and runs once each way. A rule that holds whichever way the request came (a route's
# smoke test, a rule proven at the layer where it lives) runs once, through the distribution, as
# visitors reach the site: `@through_the_distribution`. A rule of a stage that API Gateway alone
# serves (no origin secret; HTTP API events) runs once straight: `@straight_through_api_gateway`.
through_the_distribution = pytest.mark.parametrize("site", ["cloudfront"], indirect=True)
straight_through_api_gateway = pytest.mark.parametrize("site", ["api-gateway"], indirect=True)


def package_inputs_digest() -> str:
    """A hash of what goes into the package: the Python, and every tracked file (as the working
    tree has it) but NOT_PACKAGE_INPUTS: the code, requirements.txt, zappa_settings.json,
    deploy/, static/."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    hasher = hashlib.sha256(sys.version.encode())
    for path in sorted(path for path in listed if path and not path.startswith(NOT_PACKAGE_INPUTS)):
        if (ROOT / path).is_file():
            hasher.update(path.encode() + b"\0" + (ROOT / path).read_bytes() + b"\0")
    return hasher.hexdigest()


@contextmanager
def zappa_scratch() -> Iterator[dict[str, str]]:
    """The environment for a `zappa package` run: its TMPDIR on a RAM-backed file system where
    the machine has one. Zappa copies the build venv (10,000 files) into temporary directories
    twice before zipping them; on a disk that took 9 s of system time a package, in memory under
    one. Removed afterwards. The machine's own TMPDIR where there is no /dev/shm, or where it
    has less than SCRATCH_FREE_BYTES free (a container's is often 64 MiB; a build peaked near
    50 MiB here)."""
    shm = Path("/dev/shm")
    usable = shm.is_dir() and os.access(shm, os.W_OK)
    if not usable or shutil.disk_usage(shm).free < SCRATCH_FREE_BYTES:
        yield dict(os.environ)
        return
    scratch = tempfile.mkdtemp(prefix="zappa-build-", dir=shm)
    try:
        yield {**os.environ, "TMPDIR": scratch}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture(scope="session")
def stage_config() -> dict[str, Any]:
    """The prod stage of zappa_settings.json merged over its base as Zappa does, with what a
    deploy adds from an example owner's account and stack (its table, bucket, site URL)."""
    return stage_configs.deployed(STAGE)


@pytest.fixture(scope="session")
def package_zip() -> Path:
    """The prod package (package_built)."""
    return package_built()


def package_built() -> Path:
    """The prod package, built by deploy/package.py as `make package` builds it; reused while
    nothing that goes into it changed (the hash of its inputs is kept beside it), and built once
    when test processes run side by side. A parallel run starts it as it starts
    (tests/conftest.py, pytest_sessionstart)."""
    stamp = PACKAGE.with_name(PACKAGE.name + ".inputs.sha256")
    PACKAGE.parent.mkdir(exist_ok=True)
    with (PACKAGE.parent / ".package.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        digest = package_inputs_digest()
        if not (PACKAGE.exists() and stamp.exists() and stamp.read_text() == digest):
            stamp.unlink(missing_ok=True)
            with zappa_scratch() as environment, mock.patch.dict(os.environ, environment):
                package.build(stage=STAGE, output=PACKAGE)
            stamp.write_text(digest)
    return PACKAGE


@pytest.fixture(scope="session")
def task_dir(package_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package unzipped, as Lambda unpacks it into /var/task."""
    target = tmp_path_factory.mktemp("var-task")
    with zipfile.ZipFile(package_zip) as archive:
        archive.extractall(target)
    return target


@pytest.fixture(scope="session")
def runtime_sdk_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding only the boto3 the Lambda runtime supplies, linked from the dev venv."""
    return runtime_sdk_link(tmp_path_factory.mktemp("var-runtime"))


@pytest.fixture(scope="session")
def owner_password_hash() -> str:
    """The hash of tests/owners/conftest.py's PASSWORD with the hasher the package ships with
    (PBKDF2, a third of a second of CPU a hash, more on a busy machine): made once for every
    owner account of the session."""
    from django.contrib.auth.hashers import make_password

    from tests.owners.conftest import PASSWORD

    return make_password(PASSWORD)


@pytest.fixture(scope="session")
def secret_key() -> str:
    """A fresh SECRET_KEY, standing for what the deploy read from the stage's secret_env object
    (deploy/secret_env.py) and set in the function's configuration."""
    return secrets.token_urlsafe(64)


@pytest.fixture(scope="session")
def lambda_environment(
    task_dir: Path, secret_key: str, stage_config: dict[str, Any]
) -> Callable[[str], dict[str, str]]:
    """The function's environment, given the DynamoDB endpoint it should use.

    With patient DynamoDB budgets unless `shipped_budgets`: on a loaded test machine DynamoDB
    Local can take a few tenths of a second per call, and the three calls of a fresh process's
    first view would then spend the shipped second (DynamoDB answers in milliseconds). The fault
    matrix (test_package_faults.py), which proves the budgets, runs with the shipped ones."""

    def environment(dynamodb_endpoint: str, *, shipped_budgets: bool = False) -> dict[str, str]:
        env = lambda_host.lambda_environment(
            task=task_dir,
            secret_key=secret_key,
            dynamodb_endpoint=dynamodb_endpoint,
            config=stage_config,
        )
        if not shipped_budgets:
            env |= {"DYNAMODB_API_BUDGET": "10", "DYNAMODB_ADMIN_BUDGET": "10"}
        return env

    return environment


@pytest.fixture(scope="session")
def edge_secret() -> str:
    """A fresh origin secret, standing for the EDGE_ORIGIN_SECRET the deploy read from the
    stage's secret_env object, and the value the distribution adds to its requests."""
    return secrets.token_urlsafe(48)


@contextmanager
def stage_table(*, dynamodb_endpoint: str, stage_config: dict[str, Any]) -> Iterator[str]:
    """The stage's table, created empty in DynamoDB Local and dropped afterwards."""
    from django.test import override_settings

    from core import dynamodb
    from counter import services
    from counter.services.items import TotalItem

    table = stage_config["environment_variables"]["DYNAMODB_TABLE"]
    # Patient timeouts for the set-up only: a cold engine can take over a second to create a
    # table, and a client-side timeout plus retry would then hit "preexisting table".
    patient = {"DYNAMODB_CONNECT_TIMEOUT": 10.0, "DYNAMODB_READ_TIMEOUT": 30.0}
    with override_settings(
        DYNAMODB_ENDPOINT_URL=dynamodb_endpoint, DYNAMODB_TABLE=table, **patient
    ):
        dynamodb.table_ensure()
        services.total_get()  # the engine is warm before the package's 1-second timeouts apply
    try:
        yield table
    finally:
        with override_settings(
            DYNAMODB_ENDPOINT_URL=dynamodb_endpoint, DYNAMODB_TABLE=table, **patient
        ):
            TotalItem.delete_table()


@pytest.fixture(scope="module")
def lambda_process(
    task_dir: Path,
    runtime_sdk_dir: Path,
    lambda_environment: Callable[[str], dict[str, str]],
    dynamodb_endpoint: str,
    stage_config: dict[str, Any],
) -> Iterator[LambdaProcess]:
    """The unzipped package answering events in a fresh Python 3.13 process, on the stage's
    table (created empty in DynamoDB Local, dropped afterwards); no origin secret set, as a
    stage that API Gateway alone serves."""
    with stage_table(dynamodb_endpoint=dynamodb_endpoint, stage_config=stage_config):
        runtime = LambdaProcess(
            task=task_dir, sdk=runtime_sdk_dir, env=lambda_environment(dynamodb_endpoint)
        )
        try:
            yield runtime
        finally:
            runtime.close()


@pytest.fixture(scope="module", params=["api-gateway", "cloudfront"])
def site(
    request: pytest.FixtureRequest,
    task_dir: Path,
    runtime_sdk_dir: Path,
    lambda_environment: Callable[[str], dict[str, str]],
    dynamodb_endpoint: str,
    stage_config: dict[str, Any],
    edge_secret: str,
) -> Iterator[lambda_host.Site]:
    """A fresh process of the package on a fresh stage table, reached one of two ways (see
    lambda_host.Site): every test that takes it runs once straight through API Gateway and once
    through the distribution, the latter with EDGE_ORIGIN_SECRET in the function's environment
    as the deploy sets it, unless it names one way (`through_the_distribution`,
    `straight_through_api_gateway`). Pytest finishes one way (and drops its table) before the
    other, each way's tests together, so each module starts two processes at most."""
    environment = lambda_environment(dynamodb_endpoint)
    if request.param == "cloudfront":
        environment["EDGE_ORIGIN_SECRET"] = edge_secret
    with stage_table(dynamodb_endpoint=dynamodb_endpoint, stage_config=stage_config):
        runtime = LambdaProcess(task=task_dir, sdk=runtime_sdk_dir, env=environment)
        try:
            yield lambda_host.Site(
                process=runtime,
                via=request.param,
                secret=edge_secret,
                site_url=stage_config["environment_variables"]["SITE_URL"],
                stage=STAGE,
            )
        finally:
            runtime.close()


def limit_buckets(*, dynamodb_endpoint: str, table: str) -> dict[str, dict[str, int]]:
    """The limits' buckets of the table (`rate#<subject>#<minute>`, docs/architecture.md, Data
    model: Limits), read straight from the engine: each one's `attempts` (the client's) and its
    visitors' counts (`visitor:<hash>`)."""
    import boto3

    engine = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name="us-east-1")
    pages = engine.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    return {
        item["pk"]["S"]: {
            name: int(value["N"])
            for name, value in item.items()
            if name == "attempts" or name.startswith(VISITOR_PREFIX)
        }
        for page in pages
        for item in page["Items"]
        if item["pk"]["S"].startswith("rate#")
    }


def minutes_of_burst(
    before: Mapping[str, Mapping[str, int]], after: Mapping[str, Mapping[str, int]]
) -> list[dict[str, int]]:
    """What a burst of requests added to the limits' buckets: one entry per bucket it grew (one
    per client and minute; a burst of one client, one per minute it fell in), its counts' growth.

    A limit counts the attempts of a wall-clock minute, and a burst may straddle two: the tests
    of the limits derive what each answer must have been from the minutes the package itself
    recorded, so their every check holds exactly either way. An attempt refused (past ten
    times a limit) writes nothing, so a bucket holds the attempts up to that point."""
    grown = []
    for key, counts in after.items():
        old = before.get(key, {})
        added = {name: value - old.get(name, 0) for name, value in counts.items()}
        if any(added.values()):
            grown.append({name: value for name, value in added.items() if value})
    return grown


def visitor_attempts(minute: Mapping[str, int]) -> int:
    """The one visitor's attempts a bucket recorded (a burst of one visitor, one client)."""
    (count,) = [value for name, value in minute.items() if name.startswith(VISITOR_PREFIX)]
    return count


@pytest.fixture
def buckets_read(dynamodb_endpoint: str, stage_config: dict[str, Any]) -> Callable[[], dict]:
    """Reads the limits' buckets of the stage's table (limit_buckets)."""
    table = stage_config["environment_variables"]["DYNAMODB_TABLE"]
    return lambda: limit_buckets(dynamodb_endpoint=dynamodb_endpoint, table=table)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's AWS with the stage's deploy bucket, and clients of its own
    (tests/deploy/deployed_stage.py, `aws_mocked`): the operations' and rotations' account. A
    module that needs another account defines its own `aws`."""
    from tests.deploy.deployed_stage import aws_mocked

    with aws_mocked(monkeypatch) as clients:
        yield clients
