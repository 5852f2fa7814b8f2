"""deploy/operations.py against moto: the secret rotations (S3, CloudFormation, CloudFront), the
rollback's invalidation (CloudFront), turning the API back on (API Gateway, CloudWatch), and the
command line. Every `zappa` run is recorded instead of run; `run_zappa` itself runs a stand-in
`zappa` script."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import click
import pytest
from cfnlint.decode import cfn_yaml
from click.testing import CliRunner
from moto import mock_aws

from core import edge
from deploy import operations, post_deploy, stack, stages
from deploy.operations import ORIGIN_KEY
from tests.deploy.moto_harness import (
    deployed_api,
    infra_stack_create,
    invalidated_paths,
    stage_throttling,
)

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's
STAGE = "prod"
BUCKET = f"resume-site-{STAGE}-deploys-{ACCOUNT}"
STACK = f"resume-site-{STAGE}-infra"
API_ID = "a1b2c3d4e5"
DJANGO = "d" * 60
OLD = "o" * 40
NEW_BEFORE = "n" * 40  # the new value of a rotation that stopped half-way
STRANGER = "s" * 40
LIMITS = {"rate_limit": 10, "burst_limit": 20}
TEMPLATE = cfn_yaml.load(str(stack.TEMPLATE))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimpleNamespace]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        session.client("s3").create_bucket(Bucket=BUCKET)
        # The tests' own clients: no hook of a test is on them.
        yield SimpleNamespace(
            session=session,
            s3=session.client("s3"),
            cloudformation=session.client("cloudformation"),
            cloudfront=session.client("cloudfront"),
            apigateway=session.client("apigateway"),
            cloudwatch=session.client("cloudwatch"),
        )


def put_secrets(aws: SimpleNamespace, values: dict[str, str]) -> None:
    aws.s3.put_object(Bucket=BUCKET, Key=stack.SECRETS_KEY, Body=json.dumps(values).encode())


def held_secrets(aws: SimpleNamespace) -> dict[str, str]:
    return json.loads(aws.s3.get_object(Bucket=BUCKET, Key=stack.SECRETS_KEY)["Body"].read())


def sent(aws: SimpleNamespace, distribution_id: str) -> str | None:
    return operations.sent_secret(cloudfront=aws.cloudfront, distribution_id=distribution_id)


def origin_stack(aws: SimpleNamespace, *, origin_secret: str, api_id: str = API_ID) -> str:
    """The stage's infra stack as the rotation sees it: a distribution whose API origin sends
    `origin_secret` in X-Origin-Verify (moto's CreateDistribution: moto cannot build the
    template's), and a stack with infra/template.yaml's parameters, OriginSecret among them, and
    the DistributionId output. Every parameter is given: moto resolves UsePreviousValue only for
    parameters given when the stack was made (AWS also for those left at their default)."""
    distribution = aws.cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": STACK,
            "Comment": STACK,
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "api-gateway",
                        "DomainName": f"{api_id}.execute-api.{REGION}.amazonaws.com",
                        "OriginPath": f"/{STAGE}",
                        "CustomHeaders": {
                            "Quantity": 1,
                            "Items": [
                                {"HeaderName": edge.ORIGIN_HEADER, "HeaderValue": origin_secret}
                            ],
                        },
                        "CustomOriginConfig": {
                            "HTTPPort": 80,
                            "HTTPSPort": 443,
                            "OriginProtocolPolicy": "https-only",
                        },
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "api-gateway",
                "ViewerProtocolPolicy": "redirect-to-https",
                "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
            },
        }
    )["Distribution"]["Id"]
    parameters = json.loads(json.dumps(TEMPLATE["Parameters"]))
    given = {name: str(parameter.get("Default", "")) for name, parameter in parameters.items()}
    given |= {
        "Stage": STAGE,
        "ApiId": api_id,
        "OriginSecret": origin_secret,
        "AlertEmail": "owner@example.com",
    }
    template = {
        "Parameters": parameters,
        "Resources": {"Alarms": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"DistributionId": {"Value": distribution}},
    }
    aws.cloudformation.create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in given.items()],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    return distribution


def stack_parameters(aws: SimpleNamespace) -> dict[str, str]:
    """The stack's parameters as moto holds them (moto shows NoEcho values; AWS shows ****)."""
    (described,) = aws.cloudformation.describe_stacks(StackName=STACK)["Stacks"]
    return stack.parameters_of(described)


class Stage:
    """The stage as the rotation changes it, recorded in one log, in order: each S3 put (what
    the object then held), each `zappa update` (what the function then accepts, and what the
    distribution sends), the stack update, and each read of the distribution.

    It also does what moto does not: CloudFormation applies the stack's new OriginSecret to the
    distribution's origin header, and CloudFront then reports the distribution InProgress for
    `propagating` reads before Deployed. And it keeps what the function accepts (the object's
    values at the last `zappa update`), asserting at every change that no request the
    distribution sends, new or old while it propagates, would be refused."""

    def __init__(self, aws: SimpleNamespace, *, distribution_id: str, propagating: int = 2):
        self.aws, self.distribution_id, self.propagating = aws, distribution_id, propagating
        self.log: list[tuple[Any, ...]] = []
        self.lines: list[str] = []
        self.accepts = set(operations.accepted(held_secrets(aws)))
        self.previous_sent: str | None = None  # still sent by some edge locations
        self.reads_in_progress = 0
        self._update: dict[str, Any] = {}
        self.s3 = aws.session.client("s3")
        self.cloudformation = aws.session.client("cloudformation")
        self.cloudfront = aws.session.client("cloudfront")
        self.s3.meta.events.register("provide-client-params.s3.PutObject", self._put)
        events = self.cloudformation.meta.events
        events.register("provide-client-params.cloudformation.UpdateStack", self._updating)
        events.register("after-call.cloudformation.UpdateStack", self._updated)
        self.cloudfront.meta.events.register(
            "after-call.cloudfront.GetDistribution", self._distribution_read
        )

    def sent_now(self) -> set[str]:
        now = {sent(self.aws, self.distribution_id)}
        return now | ({self.previous_sent} if self.previous_sent else set())

    def zappa(self, *, args: list[str]) -> None:
        assert args == ["update", STAGE]
        self.accepts = set(operations.accepted(held_secrets(self.aws)))
        self.log.append(("zappa", *args))
        assert self.sent_now() <= self.accepts, "a request through the distribution is refused"

    def _put(self, params: dict[str, Any], **_: Any) -> None:
        assert params["ServerSideEncryption"] == "AES256"
        self.log.append(("put", json.loads(params["Body"])))

    def _updating(self, params: dict[str, Any], **_: Any) -> None:
        self._update = params
        self.log.append(("update_stack", params))

    def _updated(self, http_response: Any, **_: Any) -> None:
        if http_response.status_code != 200:
            return
        (secret,) = [
            parameter["ParameterValue"]
            for parameter in self._update["Parameters"]
            if parameter["ParameterKey"] == "OriginSecret"
        ]
        config = self.aws.cloudfront.get_distribution_config(Id=self.distribution_id)
        origin = config["DistributionConfig"]["Origins"]["Items"][0]
        self.previous_sent = origin["CustomHeaders"]["Items"][0]["HeaderValue"]
        origin["CustomHeaders"]["Items"][0]["HeaderValue"] = secret
        self.aws.cloudfront.update_distribution(
            Id=self.distribution_id,
            IfMatch=config["ETag"],
            DistributionConfig=config["DistributionConfig"],
        )
        self.reads_in_progress = self.propagating
        assert self.sent_now() <= self.accepts, "a request through the distribution is refused"

    def _distribution_read(self, parsed: dict[str, Any], **_: Any) -> None:
        if self.reads_in_progress:
            self.reads_in_progress -= 1
            parsed["Distribution"]["Status"] = "InProgress"
        elif self.previous_sent:
            self.previous_sent = None  # Deployed: every edge location sends the new value
        self.log.append(("get_distribution", parsed["Distribution"]["Status"]))

    def rotate(self, **overrides: Any) -> None:
        arguments = {
            "s3": self.s3,
            "cloudformation": self.cloudformation,
            "cloudfront": self.cloudfront,
            "bucket": BUCKET,
            "stage": STAGE,
            "zappa": self.zappa,
            "echo": self.lines.append,
            "sleep": 0,
        }
        operations.rotate_origin_secret(**(arguments | overrides))


def expected_update(new: str) -> tuple[str, dict[str, Any]]:
    """The stack update the rotation makes: OriginSecret alone, the rest as it was."""
    parameters = [
        {"ParameterKey": name, "UsePreviousValue": True}
        for name in TEMPLATE["Parameters"]
        if name != "OriginSecret"
    ] + [{"ParameterKey": "OriginSecret", "ParameterValue": new}]
    return (
        "update_stack",
        {
            "StackName": STACK,
            "UsePreviousTemplate": True,
            "Parameters": parameters,
            "Capabilities": ["CAPABILITY_NAMED_IAM"],
            "Tags": stack.secrets_tags(new),  # as make deploy will compare it
        },
    )


# --- rotate-secret --which origin -------------------------------------------------------------
def test_the_origin_secret_rotates_in_three_steps_refusing_no_request(aws) -> None:
    distribution = origin_stack(aws, origin_secret=OLD)
    put_secrets(aws, {"SECRET_KEY": DJANGO, ORIGIN_KEY: OLD, "OTHER": "kept"})
    stage = Stage(aws, distribution_id=distribution)

    stage.rotate()

    new = held_secrets(aws)[ORIGIN_KEY]
    assert stage.log == [
        ("get_distribution", "Deployed"),  # what it sends before anything changes
        ("put", {"SECRET_KEY": DJANGO, ORIGIN_KEY: f"{new},{OLD}", "OTHER": "kept"}),
        ("zappa", "update", STAGE),
        expected_update(new),
        ("get_distribution", "InProgress"),
        ("get_distribution", "InProgress"),
        ("get_distribution", "Deployed"),
        ("put", {"SECRET_KEY": DJANGO, ORIGIN_KEY: new, "OTHER": "kept"}),
        ("zappa", "update", STAGE),
    ]
    assert len(new) >= 32 and new not in {OLD, DJANGO}
    assert sent(aws, distribution) == new
    assert stage.accepts == {new}
    assert stack_parameters(aws)["OriginSecret"] == new
    assert aws.s3.head_object(Bucket=BUCKET, Key=stack.SECRETS_KEY)["ServerSideEncryption"] == (
        "AES256"
    )


def test_the_rotation_prints_each_step_and_its_waits_but_no_value(aws) -> None:
    distribution = origin_stack(aws, origin_secret=OLD)
    put_secrets(aws, {"SECRET_KEY": DJANGO, ORIGIN_KEY: OLD})
    stage = Stage(aws, distribution_id=distribution)

    stage.rotate()

    printed = "\n".join(stage.lines)
    steps = [line.split(" ")[0] for line in stage.lines if line.startswith("[")]
    assert steps == ["[1/3]", "[2/3]", "[3/3]"]
    assert printed.count(f"the distribution {distribution} is InProgress") == 2
    assert f"The distribution {distribution} is Deployed" in printed
    assert stage.lines[-1].startswith("Done:")
    for value in (OLD, DJANGO, held_secrets(aws)[ORIGIN_KEY]):
        assert value not in printed


def test_an_interrupted_rotation_before_the_stack_resumes_with_its_new_value(aws) -> None:
    """The object holds new,old and the distribution still sends the old value: the update that
    makes the function accept both runs again (it may not have finished), then the rest."""
    distribution = origin_stack(aws, origin_secret=OLD)
    put_secrets(aws, {"SECRET_KEY": DJANGO, ORIGIN_KEY: f"{NEW_BEFORE},{OLD}"})
    stage = Stage(aws, distribution_id=distribution)
    stage.accepts = {OLD}  # the interrupted `zappa update` did not finish

    stage.rotate()

    assert stage.log == [
        ("get_distribution", "Deployed"),
        ("zappa", "update", STAGE),
        expected_update(NEW_BEFORE),
        ("get_distribution", "InProgress"),
        ("get_distribution", "InProgress"),
        ("get_distribution", "Deployed"),
        ("put", {"SECRET_KEY": DJANGO, ORIGIN_KEY: NEW_BEFORE}),
        ("zappa", "update", STAGE),
    ]
    assert stage.accepts == {NEW_BEFORE}
    assert any("resuming" in line for line in stage.lines)


def test_an_interrupted_rotation_after_the_stack_finishes_without_a_third_value(aws) -> None:
    """The distribution already sends the new value: the stack has it ("No updates"), the
    distribution is waited for, and the old value is dropped."""
    distribution = origin_stack(aws, origin_secret=NEW_BEFORE)
    put_secrets(aws, {"SECRET_KEY": DJANGO, ORIGIN_KEY: f"{NEW_BEFORE},{OLD}"})
    stage = Stage(aws, distribution_id=distribution)

    stage.rotate()

    assert stage.log == [
        ("get_distribution", "Deployed"),
        expected_update(NEW_BEFORE),  # refused by CloudFormation: nothing to update
        ("get_distribution", "Deployed"),
        ("put", {"SECRET_KEY": DJANGO, ORIGIN_KEY: NEW_BEFORE}),
        ("zappa", "update", STAGE),
    ]
    assert stage.accepts == {NEW_BEFORE}
    assert any("already has it" in line for line in stage.lines)


def test_a_failed_update_stops_safely_and_the_same_command_finishes_the_rotation(aws) -> None:
    distribution = origin_stack(aws, origin_secret=OLD)
    put_secrets(aws, {"SECRET_KEY": DJANGO, ORIGIN_KEY: OLD})
    stage = Stage(aws, distribution_id=distribution)

    def failing(*, args: list[str]) -> None:
        raise operations.OperationError("`zappa update prod` failed (exit status 1)")

    with pytest.raises(click.ClickException) as stopped:
        stage.rotate(zappa=failing)

    message = stopped.value.format_message()
    assert "the function accepts both values" in message
    assert "`make rotate-secret STAGE=prod WHICH=origin` again" in message
    new, old = operations.accepted(held_secrets(aws))
    assert (old, sent(aws, distribution)) == (OLD, OLD)

    stage.rotate()

    assert held_secrets(aws)[ORIGIN_KEY] == new
    assert sent(aws, distribution) == new
    assert stage.accepts == {new}


def test_a_failed_last_update_says_to_update_not_to_rotate_again(aws) -> None:
    distribution = origin_stack(aws, origin_secret=OLD)
    put_secrets(aws, {"SECRET_KEY": DJANGO, ORIGIN_KEY: OLD})
    stage = Stage(aws, distribution_id=distribution)
    updates: list[list[str]] = []

    def second_fails(*, args: list[str]) -> None:
        updates.append(args)
        if len(updates) == 2:
            raise operations.OperationError("`zappa update prod` failed (exit status 1)")
        stage.zappa(args=args)

    with pytest.raises(click.ClickException, match="until `zappa update prod`"):
        stage.rotate(zappa=second_fails)

    assert operations.accepted(held_secrets(aws)) == [sent(aws, distribution)]


@pytest.mark.parametrize(
    ("object_holds", "distribution_sends", "problem"),
    [
        (OLD, STRANGER, "sends a value other than"),
        (f"{NEW_BEFORE},{OLD}", STRANGER, "sends neither of"),
        (f"{NEW_BEFORE},{OLD},{STRANGER}", OLD, "holds 3 EDGE_ORIGIN_SECRET values"),
        (None, OLD, "holds 0 EDGE_ORIGIN_SECRET values"),
    ],
)
def test_values_that_disagree_stop_the_rotation_before_anything_changes(
    aws, object_holds: str | None, distribution_sends: str, problem: str
) -> None:
    distribution = origin_stack(aws, origin_secret=distribution_sends)
    values = {"SECRET_KEY": DJANGO} | ({ORIGIN_KEY: object_holds} if object_holds else {})
    put_secrets(aws, values)
    stage = Stage(aws, distribution_id=distribution)

    with pytest.raises(click.ClickException, match=problem) as stopped:
        stage.rotate()

    assert "Nothing was changed." in stopped.value.format_message()
    assert [entry[0] for entry in stage.log] == ["get_distribution"]
    assert held_secrets(aws) == values
    assert sent(aws, distribution) == distribution_sends


def test_a_distribution_that_sends_no_origin_secret_has_none_to_rotate(aws) -> None:
    distribution = infra_stack_create(
        cloudformation=aws.cloudformation, cloudfront=aws.cloudfront, stack=STACK
    )
    put_secrets(aws, {"SECRET_KEY": DJANGO, ORIGIN_KEY: OLD})
    stage = Stage(aws, distribution_id=distribution)

    with pytest.raises(click.ClickException, match="sends no X-Origin-Verify"):
        stage.rotate()
    assert stage.log == [("get_distribution", "Deployed")]


def test_without_the_stack_nothing_is_rotated(aws) -> None:
    put_secrets(aws, {"SECRET_KEY": DJANGO, ORIGIN_KEY: OLD})
    recorded: list[list[str]] = []

    with pytest.raises(click.ClickException, match=f"There is no stack {STACK}"):
        operations.rotate_origin_secret(
            s3=aws.s3,
            cloudformation=aws.cloudformation,
            cloudfront=aws.cloudfront,
            bucket=BUCKET,
            stage=STAGE,
            zappa=lambda *, args: recorded.append(args),
            echo=lambda line: None,
            sleep=0,
        )
    assert recorded == []
    assert held_secrets(aws)[ORIGIN_KEY] == OLD


def test_waiting_for_the_distribution_gives_up_past_its_patience(aws) -> None:
    distribution = origin_stack(aws, origin_secret=OLD)
    put_secrets(aws, {"SECRET_KEY": DJANGO, ORIGIN_KEY: OLD})
    stage = Stage(aws, distribution_id=distribution)
    stage.reads_in_progress = 100  # a change that never reaches every edge location

    with pytest.raises(click.ClickException, match="is still InProgress"):
        operations.wait_for_distribution(
            cloudfront=stage.cloudfront,
            distribution_id=distribution,
            echo=lambda line: None,
            sleep=0,
            patience=0,
        )


# --- rotate-secret --which django -------------------------------------------------------------
def test_the_django_key_is_replaced_keeping_the_other_keys_then_deployed(aws) -> None:
    put_secrets(aws, {"SECRET_KEY": DJANGO, ORIGIN_KEY: f"{NEW_BEFORE},{OLD}"})
    log: list[tuple[Any, ...]] = []
    s3 = aws.session.client("s3")
    s3.meta.events.register(
        "provide-client-params.s3.PutObject",
        lambda params, **_: log.append(("put", params["ServerSideEncryption"])),
    )
    lines: list[str] = []

    operations.rotate_django_key(
        s3=s3,
        bucket=BUCKET,
        stage=STAGE,
        zappa=lambda *, args: log.append(("zappa", *args, held_secrets(aws))),
        echo=lines.append,
    )

    held = held_secrets(aws)
    assert log == [("put", "AES256"), ("zappa", "update", STAGE, held)]
    assert held[ORIGIN_KEY] == f"{NEW_BEFORE},{OLD}"
    assert held["SECRET_KEY"] != DJANGO and len(held["SECRET_KEY"]) >= 50
    assert operations.read_secrets(s3=aws.s3, bucket=BUCKET) == held  # what a deploy reads
    printed = "\n".join(lines)
    assert [line[:5] for line in lines if line.startswith("[")] == ["[1/2]", "[2/2]"]
    assert DJANGO not in printed and held["SECRET_KEY"] not in printed


def test_a_failed_update_after_a_new_django_key_says_what_to_run(aws) -> None:
    put_secrets(aws, {"SECRET_KEY": DJANGO})

    def failing(*, args: list[str]) -> None:
        raise operations.OperationError("`zappa update prod` failed (exit status 1)")

    with pytest.raises(click.ClickException, match="until `zappa update prod`"):
        operations.rotate_django_key(
            s3=aws.s3, bucket=BUCKET, stage=STAGE, zappa=failing, echo=lambda line: None
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


def test_the_names_shared_with_the_template_and_the_site_agree() -> None:
    parameter = TEMPLATE["Parameters"][operations.ORIGIN_PARAMETER]
    assert parameter["NoEcho"] is True
    assert operations.ORIGIN_HEADER == edge.ORIGIN_HEADER
    assert operations.ORIGIN_KEY == "EDGE_ORIGIN_SECRET"


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
