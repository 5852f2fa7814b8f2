"""After every deploy, the distribution forgets the answers it caches, so the new page is live.

The distribution keeps the page, `/robots.txt` and `/favicon.ico` for a day (their
`Cache-Control: s-maxage`, resume_site/views.py), so an edited resume would otherwise wait up to a
day. The `post` callback of `zappa deploy` and `zappa update` calls `cache_invalidate` once the
function is updated and the static files are published: CloudFront then fetches those paths from
the new function on the next request, usually within a minute or two of the deploy.

The distribution is the one the stage's stack made (`infra/template.yaml`, its `DistributionId`
output); the stage names that stack in `infra_stack`, a key of this project (Zappa ignores it).
The deploying identity needs `cloudformation:DescribeStacks` on that stack and
`cloudfront:CreateInvalidation` on that distribution, and nothing wider (the stack's
`DeployInvalidatePolicy`). Hashed static files never need invalidating: a changed file has a new
name. Each invalidation lists three paths; CloudFront's first 1,000 paths a month are free.
"""

import time
from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError

INFRA_STACK_SETTING = "infra_stack"
DISTRIBUTION_OUTPUT = "DistributionId"
# What the distribution caches from the function (its default behaviour's cached answers).
CACHED_PATHS = ("/", "/robots.txt", "/favicon.ico")


class EdgeCacheError(click.ClickException):
    """The distribution could not be found or told to forget; Zappa prints this and exits 1."""


def distribution_id_get(*, stack: str, cloudformation: Any) -> str:
    """The `DistributionId` output of the stage's infra stack."""
    try:
        (described,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except (ClientError, BotoCoreError) as error:
        raise EdgeCacheError(
            f"Could not read the stack {stack!r} ({INFRA_STACK_SETTING} of the stage) to find its "
            f"distribution: {error}. The function is updated, but the distribution still serves "
            "the previous page until its cache expires; fix this and run the update again."
        ) from None
    outputs = {item["OutputKey"]: item["OutputValue"] for item in described.get("Outputs", [])}
    if not outputs.get(DISTRIBUTION_OUTPUT):
        raise EdgeCacheError(
            f"The stack {stack!r} has no {DISTRIBUTION_OUTPUT} output: is it the stage's "
            "infra/template.yaml stack?"
        )
    return outputs[DISTRIBUTION_OUTPUT]


def cache_invalidate(*, distribution_id: str, cloudfront: Any, reference: str) -> str:
    """Ask the distribution to drop its copies of CACHED_PATHS; returns the invalidation's id.
    `reference` makes the request idempotent (CloudFront's CallerReference)."""
    try:
        answer = cloudfront.create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": len(CACHED_PATHS), "Items": list(CACHED_PATHS)},
                "CallerReference": reference,
            },
        )
    except (ClientError, BotoCoreError) as error:
        raise EdgeCacheError(
            f"Could not invalidate the distribution {distribution_id}'s cached pages: {error}. "
            "The function is updated, but the distribution serves the previous page until its "
            "cache expires (a day); the deploying identity needs cloudfront:CreateInvalidation "
            "on it (infra/README.md)."
        ) from None
    return answer["Invalidation"]["Id"]


def invalidate_after_deploy(zappa_cli: Any) -> str:
    """The `post` callback's last step: invalidate the stage's distribution's cached pages."""
    stack = zappa_cli.stage_config[INFRA_STACK_SETTING]
    distribution_id = distribution_id_get(
        stack=stack, cloudformation=zappa_cli.zappa.boto_client("cloudformation")
    )
    invalidation = cache_invalidate(
        distribution_id=distribution_id,
        cloudfront=zappa_cli.zappa.boto_client("cloudfront"),
        reference=f"{zappa_cli.lambda_name}-{time.time_ns()}",
    )
    click.echo(
        f"Invalidated {', '.join(CACHED_PATHS)} on distribution {distribution_id} "
        f"({invalidation}): the new page is served within a minute or two."
    )
    return invalidation
