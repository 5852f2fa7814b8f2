"""deploy/secret_env.py: the stage's secret_env object, read at deploy time with the deployer's
credentials (moto S3), checked, and merged into the Lambda environment Zappa is about to set;
anything unusable stops the deploy with a message that names the problem, never a value."""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber
from moto import mock_aws

from deploy import secret_env
from tests.deploy.stage_configs import deployed

URL = deployed()["secret_env"]
BUCKET, KEY = "resume-site-prod-deploys-123456789012", "secrets/env.json"
SECRET = "k" * 64


@dataclass
class Zappa:
    """Zappa's core object as the callback sees it: its S3 client."""

    s3_client: Any


@dataclass
class Cli:
    """What Zappa hands its settings callback, with the attribute `load_settings` copied from
    the stage's `aws_environment_variables` (the very dict of the raw base stage)."""

    stage_config: dict[str, Any]
    zappa: Zappa
    aws_environment_variables: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def s3() -> Iterator[Any]:
    """A moto S3 account holding the stage's deploy bucket, empty."""
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def put(s3: Any, body: bytes | str | dict[str, Any] | list[Any]) -> None:
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=data)


def cli_for(s3: Any, **config_changes: Any) -> Cli:
    config = {**deployed(), **config_changes}
    return Cli(
        stage_config=config,
        zappa=Zappa(s3_client=s3),
        aws_environment_variables=config["aws_environment_variables"],
    )


def failure(s3: Any, cli: Cli | None = None) -> str:
    cli = cli or cli_for(s3)
    before = dict(cli.aws_environment_variables)
    with pytest.raises(secret_env.SecretEnvError) as raised:
        secret_env.add_secrets(cli)
    assert cli.aws_environment_variables == before  # nothing added when it stops
    return raised.value.format_message()


def test_each_stage_reads_the_object_in_its_accounts_own_deploy_bucket() -> None:
    for stage in ("dev", "prod"):
        config = deployed(stage)
        assert config["s3_bucket"] == f"resume-site-{stage}-deploys-123456789012"
        assert config[secret_env.SETTING] == f"s3://{config['s3_bucket']}/secrets/env.json"


def test_the_secrets_join_the_lambda_environment_zappa_will_set(s3: Any) -> None:
    put(s3, {"SECRET_KEY": SECRET})
    cli = cli_for(s3)

    secret_env.add_secrets(cli)

    assert cli.aws_environment_variables == {
        **deployed()["aws_environment_variables"],
        "SECRET_KEY": SECRET,
    }


def test_the_stage_settings_are_left_as_they_were(s3: Any) -> None:
    """The loaded dict is the raw base stage's: the secret goes into a new one."""
    put(s3, {"SECRET_KEY": SECRET})
    cli = cli_for(s3)
    loaded = cli.aws_environment_variables

    secret_env.add_secrets(cli)

    assert loaded == deployed()["aws_environment_variables"]
    assert "SECRET_KEY" not in cli.stage_config["aws_environment_variables"]


def test_other_flat_string_variables_come_along(s3: Any) -> None:
    put(s3, {"SECRET_KEY": SECRET, "MAIL_PASSWORD": "p"})
    cli = cli_for(s3)
    secret_env.add_secrets(cli)
    assert cli.aws_environment_variables["MAIL_PASSWORD"] == "p"


def test_the_output_names_the_variables_never_their_values(
    s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    put(s3, {"SECRET_KEY": SECRET})
    secret_env.add_secrets(cli_for(s3))
    printed = capsys.readouterr().out
    assert f"Read SECRET_KEY from {URL}" in printed
    assert SECRET not in printed


def test_a_missing_object_stops_the_deploy(s3: Any) -> None:
    message = failure(s3)
    assert message.startswith(f"The secret_env object {URL} does not exist (NoSuchKey)")
    assert message.endswith("Nothing was deployed.")


def test_a_missing_bucket_stops_the_deploy(s3: Any) -> None:
    message = failure(s3, cli_for(s3, secret_env="s3://no-such-bucket/secrets/env.json"))
    assert "s3://no-such-bucket/secrets/env.json does not exist (NoSuchBucket)" in message


def test_an_object_the_deployer_may_not_read_stops_the_deploy(s3: Any) -> None:
    client = boto3.client("s3", region_name="us-east-1")
    with Stubber(client) as stubbed:
        stubbed.add_client_error("get_object", "AccessDenied", "Access Denied", 403)
        message = failure(client, cli_for(client))
    assert message.startswith(f"Could not read the secret_env object {URL} (")
    assert "AccessDenied" in message
    assert "needs s3:GetObject on it" in message


def test_unreachable_s3_stops_the_deploy() -> None:
    """Nothing listens on the discard port: the connection is refused, once (no retries)."""
    client = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        config=Config(retries={"total_max_attempts": 1}),
    )
    message = failure(client, cli_for(client))
    assert message.startswith(f"Could not read the secret_env object {URL} (")
    assert message.endswith("Nothing was deployed.")


@pytest.mark.parametrize("body", [b"SECRET_KEY=abc", b"\xff\xfe{}", b""])
def test_an_object_that_is_not_json_stops_the_deploy(s3: Any, body: bytes) -> None:
    put(s3, body)
    assert failure(s3).startswith(f"The secret_env object {URL} is not UTF-8 JSON")


@pytest.mark.parametrize(("body", "kind"), [(["SECRET_KEY"], "list"), ('"k"', "str")])
def test_json_that_is_not_an_object_stops_the_deploy(s3: Any, body: Any, kind: str) -> None:
    put(s3, body)
    assert f"holds a JSON {kind}, not an object" in failure(s3)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"DJANGO": "x"}, "it has no SECRET_KEY"),
        ({"SECRET_KEY": {"value": SECRET}}, "SECRET_KEY is a JSON dict, not a string"),
        ({"SECRET_KEY": 12345}, "SECRET_KEY is a JSON int, not a string"),
        ({"SECRET_KEY": "  "}, "SECRET_KEY is empty"),
        ({"SECRET_KEY": SECRET, "bad-name": "x"}, "'bad-name' is not a name Lambda accepts"),
        ({"SECRET_KEY": SECRET, "AWS_REGION": "x"}, "'AWS_REGION' is not a name Lambda accepts"),
    ],
)
def test_an_object_that_is_not_a_flat_object_of_strings_with_the_key_stops_the_deploy(
    s3: Any, body: dict[str, Any], problem: str
) -> None:
    put(s3, body)
    message = failure(s3)
    assert f"  - {problem}" in message
    assert SECRET not in message


def test_a_name_the_stage_already_sets_is_refused(s3: Any) -> None:
    put(s3, {"SECRET_KEY": SECRET, "SITE_URL": "https://elsewhere.example.com"})
    cli = cli_for(s3)
    assert "sets SITE_URL, which the stage also sets" in failure(s3, cli)
