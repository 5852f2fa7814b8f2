"""deploy/operations.py against moto: the rollback's invalidation (CloudFront), turning the API
back on (API Gateway, CloudWatch), and the command line, the rotations' included
(deploy/rotation.py has their own tests). Every `zappa` run is recorded instead of run;
`run_zappa` itself runs a stand-in `zappa` script."""

import json
import os
import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import click
import pytest
from click.testing import CliRunner

from deploy import operations, post_deploy, stages
from deploy.rotation import ORIGIN_KEY
from tests.deploy.deployed_stage import (
    DJANGO,
    LIMITS,
    OLD,
    STACK,
    STAGE,
    TEMPLATE,
    held_secrets,
    origin_stack,
    put_secrets,
    stack_parameters,
)
from tests.deploy.moto_harness import (
    deployed_api,
    infra_stack_create,
    invalidated_paths,
    stage_throttling,
)


# --- rollback ---------------------------------------------------------------------------------
def test_a_rollback_runs_zappas_then_invalidates_the_cached_pages(aws) -> None:
    distribution = infra_stack_create(
        cloudformation=aws.cloudformation, cloudfront=aws.cloudfront, stack=STACK
    )
    log: list[tuple[Any, ...]] = []

    def zappa(*, args: list[str]) -> None:
        invalidations = invalidated_paths(cloudfront=aws.cloudfront, distribution_id=distribution)
        log.append(("zappa", *args, len(invalidations)))

    lines: list[str] = []
    made = operations.rollback(
        cloudformation=aws.cloudformation,
        cloudfront=aws.cloudfront,
        stage=STAGE,
        zappa=zappa,
        echo=lines.append,
    )

    assert log == [("zappa", "rollback", STAGE, "-n", "1", 0)]
    assert invalidated_paths(cloudfront=aws.cloudfront, distribution_id=distribution) == [
        list(post_deploy.CACHED_PATHS)
    ]
    assert made in lines[-1] and lines[-1].startswith("Done:")
    assert [line[:5] for line in lines if line.startswith("[")] == ["[1/2]", "[2/2]"]


def test_without_the_stack_nothing_is_rolled_back(aws) -> None:
    recorded: list[list[str]] = []
    with pytest.raises(click.ClickException, match=f"There is no stack {STACK}"):
        operations.rollback(
            cloudformation=aws.cloudformation,
            cloudfront=aws.cloudfront,
            stage=STAGE,
            zappa=lambda *, args: recorded.append(args),
            echo=lambda line: None,
        )
    assert recorded == []


def test_a_failed_invalidation_after_the_rollback_says_not_to_roll_back_again(aws) -> None:
    template = {
        "Resources": {"Alarms": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"DistributionId": {"Value": "E0000000000000"}},  # gone
    }
    aws.cloudformation.create_stack(StackName=STACK, TemplateBody=json.dumps(template))
    recorded: list[list[str]] = []

    with pytest.raises(click.ClickException) as stopped:
        operations.rollback(
            cloudformation=aws.cloudformation,
            cloudfront=aws.cloudfront,
            stage=STAGE,
            zappa=lambda *, args: recorded.append(args),
            echo=lambda line: None,
        )

    assert recorded == [["rollback", STAGE, "-n", "1"]]
    message = stopped.value.format_message()
    assert "Do not roll back again" in message
    assert "create-invalidation --distribution-id E0000000000000" in message


# --- api-on -----------------------------------------------------------------------------------
def switched_off_stage(aws: SimpleNamespace) -> str:
    """A stage the kill switch switched off: throttled to 0, both request alarms in ALARM."""
    api_id = deployed_api(apigateway=aws.apigateway, stage=STAGE)
    origin_stack(aws, origin_secret=OLD, api_id=api_id)
    post_deploy.set_throttling(
        apigateway=aws.apigateway,
        api_id=api_id,
        stage=STAGE,
        limits={"rate_limit": 0, "burst_limit": 0},
    )
    for alarm in operations.kill_switch_alarms(stage=STAGE):
        aws.cloudwatch.put_metric_alarm(
            AlarmName=alarm,
            Namespace="AWS/ApiGateway",
            MetricName="Count",
            Dimensions=[{"Name": "ApiName", "Value": f"resume-site-{STAGE}"}],
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=3000,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )
        aws.cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="flood")
    return api_id


def alarm_states(aws: SimpleNamespace) -> dict[str, str]:
    alarms = operations.kill_switch_alarms(stage=STAGE)
    described = aws.cloudwatch.describe_alarms(AlarmNames=alarms)["MetricAlarms"]
    return {alarm["AlarmName"]: alarm["StateValue"] for alarm in described}


def api_on(aws: SimpleNamespace, *, apigateway: Any = None, lines: list[str] | None = None) -> None:
    operations.api_on(
        cloudformation=aws.cloudformation,
        apigateway=apigateway or aws.apigateway,
        cloudwatch=aws.cloudwatch,
        cloudfront=aws.cloudfront,
        stage=STAGE,
        limits=LIMITS,
        echo=(lines if lines is not None else []).append,
    )


def test_api_on_sets_the_alarms_to_ok_and_the_stage_throttling_back(aws) -> None:
    api_id = switched_off_stage(aws)
    assert post_deploy.switched_off(apigateway=aws.apigateway, api_id=api_id, stage=STAGE)
    lines: list[str] = []

    api_on(aws, lines=lines)

    assert stage_throttling(apigateway=aws.apigateway, api_id=api_id, stage=STAGE) == (10.0, 20)
    assert alarm_states(aws) == {
        "resume-site-prod-api-requests-hourly": "OK",
        "resume-site-prod-api-requests-seconds": "OK",
        "resume-site-prod-api-requests-writes": "OK",
    }
    assert lines[0] == "The API of stage prod is switched off."
    assert lines[-1] == "Done: the API of stage prod answers again."


def test_api_on_invalidates_the_pages_a_deploy_kept_while_off(aws) -> None:
    """A deploy while the API was off left the edge's copy (the page visitors got) in place."""
    switched_off_stage(aws)
    distribution = operations.distribution_of(cloudformation=aws.cloudformation, stage=STAGE)

    api_on(aws)

    paths = invalidated_paths(cloudfront=aws.cloudfront, distribution_id=distribution)
    assert paths == [list(post_deploy.CACHED_PATHS)]


def test_api_on_turns_the_alarms_to_ok_before_the_api_on(aws) -> None:
    """So that the API is never on while an alarm stays in ALARM, which no flood could trip."""
    api_id = switched_off_stage(aws)
    seen: list[dict[str, str]] = []
    apigateway = aws.session.client("apigateway")
    apigateway.meta.events.register(
        "provide-client-params.apigateway.UpdateStage", lambda **_: seen.append(alarm_states(aws))
    )

    api_on(aws, apigateway=apigateway)

    assert seen == [dict.fromkeys(operations.kill_switch_alarms(stage=STAGE), "OK")]
    assert stage_throttling(apigateway=aws.apigateway, api_id=api_id, stage=STAGE) == (10.0, 20)


def test_an_alarm_that_trips_again_at_once_leaves_the_api_off(aws) -> None:
    api_id = switched_off_stage(aws)
    apigateway = aws.session.client("apigateway")
    hourly = operations.kill_switch_alarms(stage=STAGE)[0]

    def flood_goes_on(**_: Any) -> None:  # CloudWatch evaluates the alarm again meanwhile
        aws.cloudwatch.set_alarm_state(
            AlarmName=hourly, StateValue="ALARM", StateReason="the flood goes on"
        )

    apigateway.meta.events.register("provide-client-params.apigateway.UpdateStage", flood_goes_on)

    with pytest.raises(click.ClickException, match=f"{hourly} went back to ALARM"):
        api_on(aws, apigateway=apigateway)

    assert post_deploy.switched_off(apigateway=aws.apigateway, api_id=api_id, stage=STAGE)


def test_a_stack_without_an_api_has_nothing_to_turn_on(aws) -> None:
    origin_stack(aws, origin_secret=OLD, api_id="")
    with pytest.raises(click.ClickException, match="has no ApiId"):
        api_on(aws)


def test_the_alarm_names_are_the_templates() -> None:
    names = {
        resource["Properties"]["AlarmName"]["Fn::Sub"]
        for resource in TEMPLATE["Resources"].values()
        if {"Ref": "KillSwitchTopic"} in resource["Properties"].get("AlarmActions", [])
    }
    expected = {
        name.replace("${ProjectName}", "resume-site").replace("${Stage}", STAGE) for name in names
    }
    assert set(operations.kill_switch_alarms(stage=STAGE)) == expected


# --- The command line -------------------------------------------------------------------------
def invoke(*args: str, zappa: Any = None) -> Any:
    runner = operations.Runner(zappa=zappa or (lambda *, args: None), sleep=0)
    return CliRunner().invoke(operations.main, list(args), obj=runner)


def test_the_command_line_finds_the_deploy_bucket_by_the_account(aws) -> None:
    put_secrets(aws, {"SECRET_KEY": DJANGO})
    recorded: list[list[str]] = []

    result = invoke(
        "rotate-secret", STAGE, "--which", "django", zappa=lambda *, args: recorded.append(args)
    )

    assert result.exit_code == 0, result.output
    assert recorded == [["update", STAGE]]
    assert held_secrets(aws)["SECRET_KEY"] != DJANGO


def test_the_command_line_rotates_the_origin_secret(aws) -> None:
    distribution = origin_stack(aws, origin_secret=OLD)
    put_secrets(aws, {"SECRET_KEY": DJANGO, ORIGIN_KEY: OLD})

    result = invoke("rotate-secret", STAGE, "--which", "origin")

    assert result.exit_code == 0, result.output
    assert held_secrets(aws)[ORIGIN_KEY] == stack_parameters(aws)["OriginSecret"]
    assert held_secrets(aws)[ORIGIN_KEY] != OLD
    assert "[3/3]" in result.output and OLD not in result.output
    assert distribution in result.output


def test_the_command_line_rolls_back(aws) -> None:
    distribution = infra_stack_create(
        cloudformation=aws.cloudformation, cloudfront=aws.cloudfront, stack=STACK
    )
    recorded: list[list[str]] = []

    result = invoke("rollback", STAGE, zappa=lambda *, args: recorded.append(args))

    assert result.exit_code == 0, result.output
    assert recorded == [["rollback", STAGE, "-n", "1"]]
    assert len(invalidated_paths(cloudfront=aws.cloudfront, distribution_id=distribution)) == 1


def test_the_command_line_turns_the_api_on_with_the_stages_own_limits(aws) -> None:
    api_id = switched_off_stage(aws)
    limits = stages.stage_config(stage=STAGE)["stage_throttling"]

    result = invoke("api-on", STAGE)

    assert result.exit_code == 0, result.output
    throttled = stage_throttling(apigateway=aws.apigateway, api_id=api_id, stage=STAGE)
    assert throttled == (float(limits["rate_limit"]), int(limits["burst_limit"]))


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["api-on", "base"], "'base' is not one of dev, prod"),
        (["rollback", "staging"], "'staging' is not one of dev, prod"),
        (["rotate-secret", STAGE], "Missing option '--which'"),
        (["rotate-secret", STAGE, "--which", "both"], "'both' is not one of 'django', 'origin'"),
    ],
)
def test_the_command_line_refuses_what_it_cannot_do(args: list[str], problem: str) -> None:
    result = invoke(*args)

    assert result.exit_code == 2
    assert problem in result.output


def test_the_module_runs_as_a_script() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "deploy.operations", "--help"],
        cwd=operations.ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        check=True,
    ).stdout
    assert {"rotate-secret", "rollback", "api-on"} <= set(listed.split())
