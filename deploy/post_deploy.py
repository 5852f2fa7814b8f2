"""After the function is updated: throttle its API Gateway stage, drop the edge's cached pages.

Zappa has no setting for either (docs/deploy.md, "Throttling at API Gateway" and "The edge").
"""

import time
from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError

# What the distribution caches from the function (infra/template.yaml's default behaviour).
CACHED_PATHS = ("/", "/robots.txt", "/favicon.ico")
LATE = "The function is updated, but the distribution serves the previous page for up to a day"


def throttle_stage(zappa_cli: Any) -> None:
    """Set the stage-wide default rate and burst limits from `stage_throttling`."""
    limits = zappa_cli.stage_config["stage_throttling"]
    api_id = zappa_cli.zappa.get_api_id(zappa_cli.lambda_name)
    if not api_id:
        raise click.ClickException(f"No REST API found for {zappa_cli.lambda_name} to throttle.")
    zappa_cli.zappa.apigateway_client.update_stage(
        restApiId=api_id,
        stageName=zappa_cli.api_stage,
        patchOperations=[
            {"op": "replace", "path": f"/*/*/throttling/{name}", "value": value}
            for name, value in (
                ("rateLimit", str(float(limits["rate_limit"]))),
                ("burstLimit", str(int(limits["burst_limit"]))),
            )
        ],
    )
    click.echo(
        f"Throttled stage {zappa_cli.api_stage}: {limits['rate_limit']} requests a second, "
        f"bursts of {limits['burst_limit']}."
    )


def invalidate_cached_pages(zappa_cli: Any) -> str:
    """Invalidate CACHED_PATHS on the `infra_stack`'s DistributionId; returns its id."""
    stack = zappa_cli.stage_config["infra_stack"]
    try:
        cloudformation = zappa_cli.zappa.boto_client("cloudformation")
        (described,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
        outputs = {item["OutputKey"]: item["OutputValue"] for item in described.get("Outputs", [])}
        distribution = outputs.get("DistributionId")
        if not distribution:
            raise click.ClickException(f"The stack {stack!r} has no DistributionId output. {LATE}.")
        invalidation = invalidate(
            cloudfront=zappa_cli.zappa.boto_client("cloudfront"),
            distribution=distribution,
            caller=zappa_cli.lambda_name,
        )
    except (ClientError, BotoCoreError) as error:
        raise click.ClickException(
            f"Could not invalidate the cached pages of the distribution of the stack {stack!r}: "
            f"{error}. {LATE}; the deploying identity needs the stack's DeployInvalidatePolicy "
            "(infra/README.md)."
        ) from None
    click.echo(f"Invalidated {', '.join(CACHED_PATHS)} on distribution {distribution}.")
    return invalidation


def invalidate(*, cloudfront: Any, distribution: str, caller: str) -> str:
    """Invalidate CACHED_PATHS on the distribution; returns the invalidation's id."""
    answer = cloudfront.create_invalidation(
        DistributionId=distribution,
        InvalidationBatch={
            "Paths": {"Quantity": len(CACHED_PATHS), "Items": list(CACHED_PATHS)},
            "CallerReference": f"{caller}-{time.time_ns()}",
        },
    )
    return answer["Invalidation"]["Id"]
