"""infra/template.yaml's DeployInvalidatePolicy grants exactly what the deploy's invalidation
step calls: deploy/post_deploy.py runs against moto while a hook on botocore records every
request, and the recorded IAM actions must equal the policy's, each on the one resource the
policy names (this stack, this distribution)."""

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.model import OperationModel
from cfnlint.decode import cfn_yaml
from moto import mock_aws

from deploy import post_deploy
from tests.deploy.moto_harness import infra_stack_create
from tests.infra.test_role_drift import TEMPLATE

STACK = "resume-site-prod-infra"
# botocore's service names as IAM spells their prefixes.
IAM_PREFIX = {"cloudformation": "cloudformation", "cloudfront": "cloudfront"}


@pytest.fixture
def recorded() -> Iterator[tuple[Any, list[tuple[str, dict]]]]:
    """A moto session whose clients record each request as (IAM action, parameters)."""
    # Fake credentials and us-east-1 are the whole suite's (tests/conftest.py).
    calls: list[tuple[str, dict]] = []
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")

        def client(service: str) -> Any:
            made = session.client(service)

            def record(params: dict[str, Any], model: OperationModel, **_: Any) -> None:
                calls.append((f"{IAM_PREFIX[service]}:{model.name}", params))

            made.meta.events.register(f"provide-client-params.{service}", record)
            return made

        yield client, calls


def policy_statements() -> list[dict[str, Any]]:
    template = cfn_yaml.load(str(TEMPLATE))
    policy = template["Resources"]["DeployInvalidatePolicy"]["Properties"]
    return policy["PolicyDocument"]["Statement"]


def test_the_policy_grants_exactly_the_actions_the_invalidation_step_calls(recorded) -> None:
    client, calls = recorded
    distribution = infra_stack_create(
        cloudformation=client("cloudformation"), cloudfront=client("cloudfront"), stack=STACK
    )
    calls.clear()  # the set-up above is the stack's job, not the deploy's
    zappa_cli = SimpleNamespace(
        stage_config={"infra_stack": STACK},
        lambda_name="resume-site-prod",
        zappa=SimpleNamespace(boto_client=client),
    )

    post_deploy.invalidate_cached_pages(zappa_cli)

    granted = {statement["Action"] for statement in policy_statements()}
    assert {action for action, _ in calls} == granted
    targets = {action: params for action, params in calls}
    assert targets["cloudformation:DescribeStacks"]["StackName"] == STACK
    assert targets["cloudfront:CreateInvalidation"]["DistributionId"] == distribution


def test_each_action_is_scoped_to_one_resource_without_wildcards() -> None:
    for statement in policy_statements():
        assert statement["Effect"] == "Allow"
        assert isinstance(statement["Action"], str) and "*" not in statement["Action"]
        assert isinstance(statement["Resource"], dict)  # a reference, never "*"
