"""Fixtures for driving the built Lambda package: the zip, unzipped; the boto3 the Lambda runtime
supplies; the environment Lambda gives the function (SECRET_KEY included, as the deploy sets
it); a warm `handler` process on DynamoDB Local."""

import json
import os
import secrets
import select
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from deploy import package, stages

ROOT = Path(__file__).resolve().parent.parent.parent
STAGE = "prod"
# What the Lambda Python runtime ships besides the standard library (boto3 and its dependencies);
# zappa_settings.json excludes these from the package, so the tests supply them the same way.
RUNTIME_SDK = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
ANSWER_TIMEOUT_SECONDS = 60


@pytest.fixture(scope="session")
def stage_config() -> dict[str, Any]:
    """The prod stage of zappa_settings.json as committed, merged over its base as Zappa does."""
    return stages.stage_config(stage=STAGE)


@pytest.fixture(scope="session")
def package_zip() -> Path:
    """The prod package, built by deploy/package.py (reused when nothing changed)."""
    return package.build(stage=STAGE)


@pytest.fixture(scope="session")
def task_dir(package_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package unzipped, as Lambda unpacks it into /var/task."""
    target = tmp_path_factory.mktemp("var-task")
    with zipfile.ZipFile(package_zip) as archive:
        archive.extractall(target)
    return target


@pytest.fixture(scope="session")
def runtime_sdk_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding only the runtime's SDK modules, linked from the dev venv: putting the
    whole dev site-packages on the path would hide anything missing from the package."""
    import importlib

    target = tmp_path_factory.mktemp("var-runtime")
    for name in RUNTIME_SDK:
        module = importlib.import_module(name)
        source = Path(module.__file__)
        source = source.parent if source.name == "__init__.py" else source
        (target / source.name).symlink_to(source)
    return target


@pytest.fixture(scope="session")
def secret_key() -> str:
    """A fresh SECRET_KEY, standing for what the deploy read from the stage's secret_env object
    (deploy/secret_env.py) and set in the function's configuration."""
    return secrets.token_urlsafe(64)


class LambdaProcess:
    """One warm Lambda container: a process that answers events with handler.lambda_handler."""

    def __init__(self, *, process: subprocess.Popen[bytes]) -> None:
        self.process = process

    def _answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], ANSWER_TIMEOUT_SECONDS)
        line = self.process.stdout.readline() if ready else b""
        if not line:
            raise RuntimeError(f"the Lambda process did not answer (exit {self.process.poll()})")
        return json.loads(line)

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        """The handler's answer to one event: {"response": ...} or {"raised": traceback}."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(event).encode() + b"\n")
        self.process.stdin.flush()
        return self._answer()

    def alive(self) -> bool:
        return self.process.poll() is None


def _lambda_environment(
    *, task: Path, secret_key: str, dynamodb_endpoint: str, config: dict[str, Any]
) -> dict[str, str]:
    """The environment Lambda gives the function (the stage's `aws_environment_variables` and
    the SECRET_KEY the deploy adds to them), plus DynamoDB Local's endpoint: nothing else of
    this machine's environment leaks in. Like Lambda's read-only /var/task, the process writes
    no bytecode."""
    region = config["aws_region"]
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LAMBDA_TASK_ROOT": str(task),
        "AWS_LAMBDA_FUNCTION_NAME": f"resume-site-{STAGE}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config["memory_size"]),
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        **config.get("aws_environment_variables", {}),
        "SECRET_KEY": secret_key,
        # Test-only: the table is on DynamoDB Local.
        "DYNAMODB_ENDPOINT_URL": dynamodb_endpoint,
    }


@pytest.fixture(scope="session")
def lambda_environment(
    task_dir: Path, secret_key: str, stage_config: dict[str, Any]
) -> Callable[[str], dict[str, str]]:
    """The function's environment, given the DynamoDB endpoint it should use."""

    def environment(dynamodb_endpoint: str) -> dict[str, str]:
        return _lambda_environment(
            task=task_dir,
            secret_key=secret_key,
            dynamodb_endpoint=dynamodb_endpoint,
            config=stage_config,
        )

    return environment


@pytest.fixture(scope="module")
def lambda_process(
    task_dir: Path,
    runtime_sdk_dir: Path,
    lambda_environment: Callable[[str], dict[str, str]],
    dynamodb_endpoint: str,
    stage_config: dict[str, Any],
) -> Iterator[LambdaProcess]:
    """The unzipped package answering events in a fresh Python 3.13 process, on the stage's
    table (created empty in DynamoDB Local, dropped afterwards)."""
    from django.test import override_settings

    from counter import services
    from counter.services.items import TotalItem
    from resume_site import dynamodb

    table = stage_config["environment_variables"]["DYNAMODB_TABLE"]
    # Patient timeouts for the set-up only: a cold engine can take over a second to create a
    # table, and a client-side timeout plus retry would then hit "preexisting table".
    patient = {"DYNAMODB_CONNECT_TIMEOUT": 10.0, "DYNAMODB_READ_TIMEOUT": 30.0}
    with override_settings(
        DYNAMODB_ENDPOINT_URL=dynamodb_endpoint, DYNAMODB_TABLE=table, **patient
    ):
        dynamodb.table_ensure()
        services.count_get()  # the engine is warm before the package's 1-second timeouts apply
    env = lambda_environment(dynamodb_endpoint)
    runtime_script = Path(__file__).with_name("lambda_runtime.py")
    process = subprocess.Popen(
        [sys.executable, "-S", str(runtime_script), str(task_dir), str(runtime_sdk_dir)],
        cwd=task_dir,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    runtime = LambdaProcess(process=process)
    try:
        assert runtime._answer() == {"ready": True}
        yield runtime
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        with override_settings(
            DYNAMODB_ENDPOINT_URL=dynamodb_endpoint, DYNAMODB_TABLE=table, **patient
        ):
            TotalItem.delete_table()
