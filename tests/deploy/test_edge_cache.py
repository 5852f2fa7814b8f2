"""deploy/edge_cache.py: every deploy makes the distribution drop the pages it caches, against
moto's CloudFormation and CloudFront."""

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from deploy import edge_cache
from tests.deploy.moto_harness import infra_stack_create, invalidated_paths

STACK = "resume-site-prod-infra"
REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimpleNamespace]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        yield SimpleNamespace(
            session=session,
            cloudformation=session.client("cloudformation"),
            cloudfront=session.client("cloudfront"),
        )


def zappa_cli(aws: SimpleNamespace, **stage: Any) -> SimpleNamespace:
    """What the post callback is handed: the stage's settings and Zappa's clients."""
    return SimpleNamespace(
        stage_config={edge_cache.INFRA_STACK_SETTING: STACK, **stage},
        lambda_name="resume-site-prod",
        zappa=SimpleNamespace(boto_client=aws.session.client),
    )


def test_a_deploy_invalidates_the_cached_pages_of_the_stacks_distribution(aws) -> None:
    distribution = infra_stack_create(
        cloudformation=aws.cloudformation, cloudfront=aws.cloudfront, stack=STACK
    )

    edge_cache.invalidate_after_deploy(zappa_cli(aws))

    assert invalidated_paths(cloudfront=aws.cloudfront, distribution_id=distribution) == [
        ["/", "/robots.txt", "/favicon.ico"]
    ]


def test_every_deploy_invalidates_again(aws) -> None:
    distribution = infra_stack_create(
        cloudformation=aws.cloudformation, cloudfront=aws.cloudfront, stack=STACK
    )

    first = edge_cache.invalidate_after_deploy(zappa_cli(aws))
    second = edge_cache.invalidate_after_deploy(zappa_cli(aws))

    assert first != second
    assert len(invalidated_paths(cloudfront=aws.cloudfront, distribution_id=distribution)) == 2


def test_the_distribution_is_the_stack_output(aws) -> None:
    distribution = infra_stack_create(
        cloudformation=aws.cloudformation, cloudfront=aws.cloudfront, stack=STACK
    )

    found = edge_cache.distribution_id_get(stack=STACK, cloudformation=aws.cloudformation)

    assert found == distribution


def test_a_missing_stack_stops_naming_it(aws) -> None:
    with pytest.raises(edge_cache.EdgeCacheError, match="Could not read the stack"):
        edge_cache.invalidate_after_deploy(zappa_cli(aws))


def test_a_stack_without_the_output_is_named(aws) -> None:
    aws.cloudformation.create_stack(
        StackName=STACK,
        TemplateBody='{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}',
    )

    with pytest.raises(edge_cache.EdgeCacheError, match="has no DistributionId output"):
        edge_cache.distribution_id_get(stack=STACK, cloudformation=aws.cloudformation)


def test_a_distribution_that_is_gone_stops_with_what_to_grant(aws) -> None:
    with pytest.raises(edge_cache.EdgeCacheError, match="cloudfront:CreateInvalidation"):
        edge_cache.cache_invalidate(
            distribution_id="E0000000000000", cloudfront=aws.cloudfront, reference="r"
        )
