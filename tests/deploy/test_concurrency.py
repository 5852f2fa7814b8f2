"""deploy/concurrency.py: the reserved concurrency sized to what the account's quota allows
(AWS keeps 100 unreserved), on moto, whose PutFunctionConcurrency enforces that rule under
MOTO_LAMBDA_CONCURRENCY_QUOTA; GetAccountSettings, which moto lacks, from moto_harness."""

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from deploy import concurrency, zappa_callbacks
from tests.deploy import moto_harness

FUNCTION = "resume-site-prod"


@pytest.fixture
def lambda_client() -> Iterator[Any]:
    # Fake credentials and us-east-1 are the whole suite's (tests/conftest.py).
    with mock_aws(), moto_harness.zappa_patches():
        client = boto3.client("lambda")
        role = boto3.client("iam").create_role(
            RoleName="resume-site-prod-lambda",
            AssumeRolePolicyDocument=json.dumps(moto_harness.TRUST_LAMBDA),
        )["Role"]["Arn"]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("handler.py", "def lambda_handler(event, context):\n    return 1\n")
        client.create_function(
            FunctionName=FUNCTION,
            Runtime="python3.13",
            Role=role,
            Handler="handler.lambda_handler",
            Code={"ZipFile": buffer.getvalue()},
        )
        yield client


@pytest.mark.parametrize(
    ("quota", "wanted", "reserved"),
    [(1000, 10, 10), (110, 10, 10), (105, 10, 5), (100, 10, None), (10, 10, None)],
)
def test_the_reservation_is_what_the_quota_leaves_and_aws_accepts_it(
    lambda_client: Any, monkeypatch: pytest.MonkeyPatch, quota: int, wanted: int, reserved: Any
) -> None:
    monkeypatch.setenv("MOTO_LAMBDA_CONCURRENCY_QUOTA", str(quota))
    sized = concurrency.sized(lambda_client=lambda_client, function=FUNCTION, wanted=wanted)

    assert sized.value == reserved
    if reserved is not None:
        lambda_client.put_function_concurrency(
            FunctionName=FUNCTION, ReservedConcurrentExecutions=reserved
        )


def test_a_quota_too_low_says_what_to_ask_aws_for(
    lambda_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_LAMBDA_CONCURRENCY_QUOTA", "10")
    sized = concurrency.sized(lambda_client=lambda_client, function=FUNCTION, wanted=10)

    assert sized.message.startswith("WARNING: no reserved concurrency: this account's quota is 10")
    assert "a Lambda concurrent-executions quota of at least 110" in sized.message
    assert concurrency.QUOTA_CODE in sized.message


def test_the_functions_own_reservation_counts_as_room(
    lambda_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redeploying a function that already reserves 10 under a quota of 110 keeps its 10."""
    monkeypatch.setenv("MOTO_LAMBDA_CONCURRENCY_QUOTA", "110")
    lambda_client.put_function_concurrency(FunctionName=FUNCTION, ReservedConcurrentExecutions=10)

    assert concurrency.sized(lambda_client=lambda_client, function=FUNCTION, wanted=10).value == 10


def test_a_function_not_yet_made_reserves_nothing_yet(lambda_client: Any) -> None:
    assert concurrency.current_reservation(lambda_client=lambda_client, function="absent") == 0


class Cli:
    """What the settings callback's `reserve` reads and sets."""

    def __init__(self, lambda_client: Any) -> None:
        self.zappa = type("Zappa", (), {"lambda_client": lambda_client})()
        self.lambda_name = FUNCTION
        self.stage_config = {"lambda_concurrency": 10}
        self.lambda_concurrency = 10


def test_the_settings_callback_gives_zappa_the_sized_reservation(
    lambda_client: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """So `zappa deploy` never fails at PutFunctionConcurrency after making the function."""
    monkeypatch.setenv("MOTO_LAMBDA_CONCURRENCY_QUOTA", "10")
    cli = Cli(lambda_client)

    zappa_callbacks.reserve(cli)

    assert cli.lambda_concurrency is None
    assert "WARNING: no reserved concurrency" in capsys.readouterr().out
