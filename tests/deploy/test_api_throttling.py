"""deploy/api_throttling.py: the stage's throttling is checked with the stage and applied to
the deployed REST API's stage (moto's API Gateway)."""

from dataclasses import dataclass
from typing import Any

import boto3
import click
import pytest
from moto import mock_aws

from deploy import api_throttling, stage_checks, stages

REGION = "us-east-1"


def test_the_committed_stages_are_throttled() -> None:
    for name in ("dev", "prod"):
        config = stages.stage_config(stage=name)
        assert api_throttling.throttling_problems(config=config) == []
        throttling = config["stage_throttling"]
        assert throttling["burst_limit"] >= throttling["rate_limit"]


@pytest.mark.parametrize(
    ("throttling", "problem"),
    [
        (None, "stage_throttling is missing"),
        ({"rate_limit": 0, "burst_limit": 10}, "stage_throttling.rate_limit must be"),
        ({"rate_limit": "20", "burst_limit": 10}, "stage_throttling.rate_limit must be"),
        ({"rate_limit": 20, "burst_limit": 2.5}, "stage_throttling.burst_limit must be"),
        ({"rate_limit": 20, "burst_limit": 0}, "stage_throttling.burst_limit must be"),
        ({"rate_limit": 20, "burst_limit": 40, "burst": 5}, "unknown keys: burst"),
    ],
)
def test_a_missing_or_wrong_throttling_is_a_stage_problem(throttling, problem) -> None:
    config = dict(stages.stage_config(stage="prod"))
    config.pop("stage_throttling")
    if throttling is not None:
        config["stage_throttling"] = throttling
    problems = stage_checks.stage_problems(stage="prod", config=config)
    assert len(problems) == 1
    assert problem in problems[0]


@dataclass
class Zappa:
    """What throttle_stage uses of zappa.core.Zappa."""

    apigateway_client: Any
    api_id: str | None

    def get_api_id(self, lambda_name: str) -> str | None:
        return self.api_id


@dataclass
class Cli:
    zappa: Zappa
    stage_config: dict[str, Any]
    api_stage: str = "prod"
    lambda_name: str = "resume-site-prod"


def _deployed_api(client: Any) -> str:
    """A REST API with one method, deployed to the stage `prod`, as Zappa leaves it."""
    api_id = client.create_rest_api(name="resume-site-prod")["id"]
    root = client.get_resources(restApiId=api_id)["items"][0]["id"]
    client.put_method(restApiId=api_id, resourceId=root, httpMethod="ANY", authorizationType="NONE")
    client.put_integration(
        restApiId=api_id,
        resourceId=root,
        httpMethod="ANY",
        type="MOCK",
        integrationHttpMethod="ANY",
    )
    client.create_deployment(restApiId=api_id, stageName="prod")
    return api_id


def test_the_deployed_stage_gets_the_rate_and_burst_limits() -> None:
    with mock_aws():
        client = boto3.client("apigateway", region_name=REGION)
        api_id = _deployed_api(client)
        config = {"stage_throttling": {"rate_limit": 20, "burst_limit": 40}}
        api_throttling.throttle_stage(Cli(zappa=Zappa(client, api_id), stage_config=config))
        stage = client.get_stage(restApiId=api_id, stageName="prod")
    assert stage["methodSettings"]["*/*"]["throttlingRateLimit"] == 20.0
    assert stage["methodSettings"]["*/*"]["throttlingBurstLimit"] == 40


def test_without_a_deployed_api_the_callback_fails_naming_the_function() -> None:
    cli = Cli(zappa=Zappa(None, None), stage_config={"stage_throttling": {}})
    with pytest.raises(click.ClickException, match="resume-site-prod"):
        api_throttling.throttle_stage(cli)
