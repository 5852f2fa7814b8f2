"""infra/template.yaml's kill switch: the inline code of KillSwitchFunction, taken from the
template and run in-process against moto's API Gateway with the SNS event a request alarm sends,
and the wiring around it (the alarms publish to its topic, the topic invokes it, its role may
patch that one stage and write its own logs, nothing else)."""

import json
import re
import types
from collections.abc import Iterator
from fnmatch import fnmatch
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from cfnlint.decode import cfn_yaml
from moto import mock_aws

from deploy import post_deploy
from tests.deploy.moto_harness import deployed_api, stage_throttling
from tests.infra.test_template import TEMPLATE

REGION = "us-east-1"
ACCOUNT = "123456789012"
STAGE = "prod"
LIMITS = {"rate_limit": 10, "burst_limit": 20}
REQUEST_ALARMS = ("ApiRequestsHourlyAlarm", "ApiRequestsSecondsAlarm", "ApiRequestsWritesAlarm")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return cfn_yaml.load(str(TEMPLATE))


def properties(template: dict[str, Any], name: str) -> dict[str, Any]:
    return template["Resources"][name]["Properties"]


def rendered(sub: Any, *, api_id: str = "a1b2c3d4e5") -> str:
    """An `Fn::Sub` string as CloudFormation renders it for the prod stack of `api_id`."""
    values = {
        "AWS::Partition": "aws",
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "ProjectName": "resume-site",
        "Stage": STAGE,
        "ApiId": api_id,
    }
    return re.sub(r"\$\{([^}]+)\}", lambda match: values[match.group(1)], sub["Fn::Sub"])


@pytest.fixture
def kill_switch(template: dict[str, Any]) -> types.ModuleType:
    """The function's `ZipFile` code as the module `index` Lambda imports (Handler:
    index.handler), with no environment yet."""
    code = properties(template, "KillSwitchFunction")["Code"]["ZipFile"]
    module = types.ModuleType("index")
    exec(compile(str(code), "index.py", "exec"), module.__dict__)  # noqa: S102 (the template's own code)
    return module


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimpleNamespace]:
    """A deployed prod stage, throttled as a deploy leaves it, and the environment the template
    gives the function (API_ID, STAGE)."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        apigateway = boto3.client("apigateway", region_name=REGION)
        api_id = deployed_api(apigateway=apigateway, stage=STAGE)
        post_deploy.set_throttling(apigateway=apigateway, api_id=api_id, stage=STAGE, limits=LIMITS)
        monkeypatch.setenv("API_ID", api_id)
        monkeypatch.setenv("STAGE", STAGE)
        yield SimpleNamespace(apigateway=apigateway, api_id=api_id)


def throttling(aws: SimpleNamespace) -> tuple[float, int] | None:
    return stage_throttling(apigateway=aws.apigateway, api_id=aws.api_id, stage=STAGE)


def alarm_event(*, new: str, old: str, alarm: str = "resume-site-prod-api-requests-hourly") -> dict:
    """What SNS hands a subscribed function when CloudWatch publishes an alarm's change of state:
    the shape of AWS's documented SNS event for Lambda, its Message the JSON CloudWatch sends."""
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:resume-site-prod-kill-switch"
    message = {
        "AlarmName": alarm,
        "AlarmDescription": "A flood: more requests reached the API in 5 minutes than allowed.",
        "AWSAccountId": ACCOUNT,
        "AlarmConfigurationUpdatedTimestamp": "2026-12-06T09:00:00.000+0000",
        "NewStateValue": new,
        "NewStateReason": "Threshold Crossed: 1 datapoint [3412.0] was >= the threshold (3000.0).",
        "StateChangeTime": "2026-12-06T10:15:00.000+0000",
        "Region": "US East (N. Virginia)",
        "AlarmArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{alarm}",
        "OldStateValue": old,
        "OKActions": [],
        "AlarmActions": [topic],
        "InsufficientDataActions": [],
        "Trigger": {
            "MetricName": "Count",
            "Namespace": "AWS/ApiGateway",
            "StatisticType": "Statistic",
            "Statistic": "SUM",
            "Unit": None,
            "Dimensions": [{"value": "resume-site-prod", "name": "ApiName"}],
            "Period": 300,
            "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "Threshold": 3000.0,
            "TreatMissingData": "notBreaching",
        },
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                    "TopicArn": topic,
                    "Subject": f'{new}: "{alarm}" in US East (N. Virginia)',
                    "Message": json.dumps(message),
                    "Timestamp": "2026-12-06T10:15:00.123Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "EXAMPLE",
                    "UnsubscribeUrl": "EXAMPLE",
                    "MessageAttributes": {},
                },
            }
        ]
    }


# --- The code ---------------------------------------------------------------------------------
def test_an_alarm_throttles_the_stage_to_zero(kill_switch, aws, capsys) -> None:
    assert throttling(aws) == (10.0, 20)

    answer = kill_switch.handler(alarm_event(new="ALARM", old="OK"), None)

    assert answer == "switched off"
    assert throttling(aws) == (0.0, 0)
    assert post_deploy.switched_off(apigateway=aws.apigateway, api_id=aws.api_id, stage=STAGE)
    printed = capsys.readouterr().out
    assert "resume-site-prod-api-requests-hourly: the API stage prod is throttled to 0." in printed


@pytest.mark.parametrize(
    ("new", "old"), [("OK", "ALARM"), ("INSUFFICIENT_DATA", "OK"), ("OK", "INSUFFICIENT_DATA")]
)
def test_any_other_state_changes_nothing(kill_switch, aws, new: str, old: str) -> None:
    answer = kill_switch.handler(alarm_event(new=new, old=old), None)

    assert answer == "nothing to do"
    assert throttling(aws) == (10.0, 20)


@pytest.mark.parametrize("event", [{}, {"Records": []}, {"Records": [{"Sns": {}}]}])
def test_an_event_without_an_alarm_changes_nothing(kill_switch, aws, event: dict) -> None:
    assert kill_switch.handler(event, None) == "nothing to do"
    assert throttling(aws) == (10.0, 20)


# --- The wiring -------------------------------------------------------------------------------
def test_both_request_alarms_publish_to_the_kill_switch_topic_and_the_owner(template) -> None:
    policy = properties(template, "KillSwitchTopicPolicy")["PolicyDocument"]
    (statement,) = policy["Statement"]
    allowed = rendered(statement["Condition"]["ArnLike"]["aws:SourceArn"])
    for name in REQUEST_ALARMS:
        alarm = properties(template, name)
        assert {"Ref": "KillSwitchTopic"} in alarm["AlarmActions"]
        assert {"Ref": "AlertTopic"} in alarm["AlarmActions"]
        arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{rendered(alarm['AlarmName'])}"
        assert fnmatch(arn, allowed), f"the topic's policy refuses {name}"
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"
    assert statement["Resource"] == {"Ref": "KillSwitchTopic"}


def test_the_topic_invokes_the_function(template) -> None:
    subscription = properties(template, "KillSwitchSubscription")
    assert subscription == {
        "TopicArn": {"Ref": "KillSwitchTopic"},
        "Protocol": "lambda",
        "Endpoint": {"Fn::GetAtt": ["KillSwitchFunction", "Arn"]},
    }
    permission = properties(template, "KillSwitchInvokePermission")
    assert permission == {
        "FunctionName": {"Ref": "KillSwitchFunction"},
        "Action": "lambda:InvokeFunction",
        "Principal": "sns.amazonaws.com",
        "SourceArn": {"Ref": "KillSwitchTopic"},
    }


def test_the_function_is_told_the_stacks_api_and_stage(template) -> None:
    function = properties(template, "KillSwitchFunction")
    assert function["Handler"] == "index.handler"
    assert function["Role"] == {"Fn::GetAtt": ["KillSwitchRole", "Arn"]}
    assert function["Environment"]["Variables"] == {
        "API_ID": {"Ref": "ApiId"},
        "STAGE": {"Ref": "Stage"},
    }


def test_the_role_allows_only_patching_that_one_stage_and_writing_its_own_logs(
    template, kill_switch, aws, monkeypatch
) -> None:
    role = properties(template, "KillSwitchRole")
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    (policy,) = role["Policies"]
    throttle, logs = policy["PolicyDocument"]["Statement"]
    assert {throttle["Effect"], logs["Effect"]} == {"Allow"}

    # The one call the code makes (UpdateStage is an HTTP PATCH of the stage) is on the one
    # resource the statement names: recorded from the default session its client is made from.
    called: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    boto3.setup_default_session(region_name=REGION)
    boto3.DEFAULT_SESSION.events.register(
        "provide-client-params.apigateway",
        lambda params, model, **_: called.append((model.name, params)),
    )
    kill_switch.handler(alarm_event(new="ALARM", old="OK"), None)
    ((operation, call),) = called
    assert operation == "UpdateStage"
    stage = f"/restapis/{call['restApiId']}/stages/{call['stageName']}"
    assert throttle["Action"] == "apigateway:PATCH"
    assert (
        rendered(throttle["Resource"], api_id=aws.api_id) == f"arn:aws:apigateway:{REGION}::{stage}"
    )

    assert sorted(logs["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert logs["Resource"] == {"Fn::GetAtt": ["KillSwitchLogGroup", "Arn"]}
    log_group = rendered(properties(template, "KillSwitchLogGroup")["LogGroupName"])
    function = rendered(properties(template, "KillSwitchFunction")["FunctionName"])
    assert log_group == f"/aws/lambda/{function}"
