"""A deployed stage on moto, as the operations on it find it (tests/deploy/test_operations.py,
tests/deploy/test_rotation.py): its account's clients, its secrets object, and an infra stack
with infra/template.yaml's parameters and a distribution whose API origin sends the origin
secret."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import boto3
import pytest
from cfnlint.decode import cfn_yaml
from moto import mock_aws

from core import edge
from deploy import stack

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


@contextmanager
def aws_mocked(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimpleNamespace]:
    """moto's AWS with the stage's deploy bucket, and the tests' own clients (no hook of a test
    is on them)."""
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
