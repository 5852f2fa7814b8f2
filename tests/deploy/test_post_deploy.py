"""deploy/post_deploy.py: after every deploy the API Gateway stage is throttled (moto's API
Gateway) and the distribution drops the pages it caches (moto's CloudFormation and CloudFront)."""

import json
from collections.abc import Iterator
from types import SimpleNamespace

import boto3
import click
import pytest
from moto import mock_aws

from deploy import post_deploy
from tests.deploy.moto_harness import (
    deployed_api,
    infra_stack_create,
    invalidated_paths,
    stage_throttling,
)

STACK = "resume-site-prod-infra"
REGION = "us-east-1"
CACHED = ["/", "/robots.txt", "/favicon.ico"]


@pytest.fixture
def aws() -> Iterator[SimpleNamespace]:
    # Fake credentials and us-east-1 are the whole suite's (tests/conftest.py).
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        yield SimpleNamespace(
            session=session,
            cloudformation=session.client("cloudformation"),
            cloudfront=session.client("cloudfront"),
            apigateway=session.client("apigateway"),
        )


def zappa_cli(aws: SimpleNamespace, *, api_id: str | None = None) -> SimpleNamespace:
    """What the post callback is handed: the stage's settings and Zappa's clients."""
    return SimpleNamespace(
        stage_config={
            "infra_stack": STACK,
            "stage_throttling": {"rate_limit": 20, "burst_limit": 40},
        },
        api_stage="prod",
        lambda_name="resume-site-prod",
        zappa=SimpleNamespace(
            boto_client=aws.session.client,
            apigateway_client=aws.apigateway,
            get_api_id=lambda lambda_name: api_id,
        ),
    )


def test_the_deployed_stage_gets_the_rate_and_burst_limits(aws, capsys) -> None:
    api_id = deployed_api(apigateway=aws.apigateway, stage="prod")
    post_deploy.throttle_stage(zappa_cli(aws, api_id=api_id))

    assert throttling(aws, api_id) == (20.0, 40)
    assert "Throttled stage prod: 20 requests a second, bursts of 40." in capsys.readouterr().out


def switch_off(aws: SimpleNamespace, api_id: str) -> None:
    """What the kill switch's function does (infra/template.yaml, KillSwitchFunction)."""
    aws.apigateway.update_stage(
        restApiId=api_id,
        stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "0"},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "0"},
        ],
    )


def test_a_stage_the_kill_switch_switched_off_stays_off_and_the_deploy_says_so(aws, capsys) -> None:
    api_id = deployed_api(apigateway=aws.apigateway, stage="prod")
    switch_off(aws, api_id)

    post_deploy.throttle_stage(zappa_cli(aws, api_id=api_id))

    assert throttling(aws, api_id) == (0.0, 0)
    out = capsys.readouterr().out
    assert "THE API OF STAGE prod IS SWITCHED OFF" in out
    assert "`make api-on STAGE=prod` turns it back on" in out
    assert "Throttled stage" not in out


def test_a_stage_throttled_low_but_not_to_zero_is_not_taken_for_switched_off(aws) -> None:
    api_id = deployed_api(apigateway=aws.apigateway, stage="prod")
    post_deploy.set_throttling(
        apigateway=aws.apigateway,
        api_id=api_id,
        stage="prod",
        limits={"rate_limit": 0.5, "burst_limit": 0},
    )

    assert not post_deploy.switched_off(apigateway=aws.apigateway, api_id=api_id, stage="prod")
    post_deploy.throttle_stage(zappa_cli(aws, api_id=api_id))
    assert throttling(aws, api_id) == (20.0, 40)


def test_a_stage_never_throttled_is_not_switched_off(aws) -> None:
    api_id = deployed_api(apigateway=aws.apigateway, stage="prod")

    assert throttling(aws, api_id) is None
    assert not post_deploy.switched_off(apigateway=aws.apigateway, api_id=api_id, stage="prod")


def throttling(aws: SimpleNamespace, api_id: str) -> tuple[float, int] | None:
    return stage_throttling(apigateway=aws.apigateway, api_id=api_id, stage="prod")


def test_without_a_deployed_api_the_callback_fails_naming_the_function(aws) -> None:
    with pytest.raises(click.ClickException, match="resume-site-prod"):
        post_deploy.throttle_stage(zappa_cli(aws))


def test_every_deploy_invalidates_the_cached_pages_of_the_stacks_distribution(aws) -> None:
    distribution = infra_stack_create(
        cloudformation=aws.cloudformation, cloudfront=aws.cloudfront, stack=STACK
    )
    first = post_deploy.invalidate_cached_pages(zappa_cli(aws))
    second = post_deploy.invalidate_cached_pages(zappa_cli(aws))

    assert first != second
    paths = invalidated_paths(cloudfront=aws.cloudfront, distribution_id=distribution)
    assert paths == [CACHED, CACHED]


def test_an_invalidation_is_made_from_a_client_and_a_distribution_id(aws) -> None:
    distribution = infra_stack_create(
        cloudformation=aws.cloudformation, cloudfront=aws.cloudfront, stack=STACK
    )
    made = post_deploy.create_invalidation(
        cloudfront=aws.cloudfront, distribution_id=distribution, caller="resume-site-prod-rollback"
    )

    (listed,) = aws.cloudfront.list_invalidations(DistributionId=distribution)["InvalidationList"][
        "Items"
    ]
    assert listed["Id"] == made
    batch = aws.cloudfront.get_invalidation(DistributionId=distribution, Id=made)["Invalidation"][
        "InvalidationBatch"
    ]
    assert batch["Paths"]["Items"] == CACHED
    assert batch["CallerReference"].startswith("resume-site-prod-rollback-")


def test_a_missing_stack_stops_naming_it(aws) -> None:
    with pytest.raises(click.ClickException, match=f"the stack '{STACK}'"):
        post_deploy.invalidate_cached_pages(zappa_cli(aws))


def stack_with_outputs(aws: SimpleNamespace, outputs: dict[str, str]) -> None:
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {name: {"Value": value} for name, value in outputs.items()},
    }
    aws.cloudformation.create_stack(StackName=STACK, TemplateBody=json.dumps(template))


def test_a_stack_without_the_output_is_named(aws) -> None:
    stack_with_outputs(aws, {"Other": "x"})
    with pytest.raises(click.ClickException, match="has no DistributionId output"):
        post_deploy.invalidate_cached_pages(zappa_cli(aws))


def test_a_distribution_that_is_gone_stops_with_what_to_grant(aws) -> None:
    stack_with_outputs(aws, {"DistributionId": "E0000000000000"})
    with pytest.raises(click.ClickException, match="DeployInvalidatePolicy"):
        post_deploy.invalidate_cached_pages(zappa_cli(aws))


@pytest.mark.parametrize(("off", "deferred"), [(False, False), (True, False), (False, True)])
def test_the_post_callback_invalidates_unless_the_api_is_off_or_make_deploy_does_it(
    aws, monkeypatch: pytest.MonkeyPatch, off: bool, deferred: bool
) -> None:
    """While the kill switch has the API off, the edge's copy is the page every visitor gets:
    a deploy keeps it (`make api-on` invalidates). `make deploy` invalidates once, at its end."""
    from deploy import zappa_callbacks

    api_id = deployed_api(apigateway=aws.apigateway, stage="prod")
    distribution = infra_stack_create(
        cloudformation=aws.cloudformation, cloudfront=aws.cloudfront, stack=STACK
    )
    if off:
        switch_off(aws, api_id)
    if deferred:
        monkeypatch.setenv(zappa_callbacks.DEFER_INVALIDATION, "1")

    zappa_callbacks.finish_deploy(zappa_cli(aws, api_id=api_id))

    paths = invalidated_paths(cloudfront=aws.cloudfront, distribution_id=distribution)
    assert paths == ([] if off or deferred else [CACHED])
