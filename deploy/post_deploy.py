"""After the function is updated: throttle its API Gateway stage, drop the edge's cached pages.

Zappa has no setting for either (docs/deploy.md, "Throttling at API Gateway" and "The edge").
`set_throttling` and `create_invalidation` are also what deploy/operations.py calls (`make
api-on`, `make rollback`).
"""

import time
from collections.abc import Mapping, Sequence
from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError

# What the distribution caches from the function (infra/template.yaml's default behaviour).
CACHED_PATHS = ("/", "/robots.txt", "/favicon.ico")
LATE = "The function is updated, but the distribution serves the previous page for up to a day"
# The stage-wide default method setting, which `stage_throttling` and the kill switch both set.
ALL_METHODS = "*/*"


def switched_off(*, apigateway: Any, api_id: str, stage: str) -> bool:
    """True if the kill switch has throttled the stage to 0 (infra/template.yaml, KillSwitch*):
    its `*/*` method setting allows 0 requests a second and bursts of 0."""
    described = apigateway.get_stage(restApiId=api_id, stageName=stage)
    default = (described.get("methodSettings") or {}).get(ALL_METHODS) or {}
    return default.get("throttlingRateLimit") == 0 and default.get("throttlingBurstLimit") == 0


def set_throttling(
    *, apigateway: Any, api_id: str, stage: str, limits: Mapping[str, float]
) -> None:
    """Set the stage-wide default rate and burst limits (`stage_throttling`'s two keys)."""
    apigateway.update_stage(
        restApiId=api_id,
        stageName=stage,
        patchOperations=[
            {"op": "replace", "path": f"/{ALL_METHODS}/throttling/{name}", "value": value}
            for name, value in (
                ("rateLimit", str(float(limits["rate_limit"]))),
                ("burstLimit", str(int(limits["burst_limit"]))),
            )
        ],
    )


def throttle_stage(zappa_cli: Any) -> bool:
    """Set the stage's limits from `stage_throttling`, unless the kill switch has switched the
    API off: a deploy keeps it off, and says so. True if the API is on."""
    limits = zappa_cli.stage_config["stage_throttling"]
    api_id = zappa_cli.zappa.get_api_id(zappa_cli.lambda_name)
    if not api_id:
        raise click.ClickException(f"No REST API found for {zappa_cli.lambda_name} to throttle.")
    apigateway, stage = zappa_cli.zappa.apigateway_client, zappa_cli.api_stage
    if switched_off(apigateway=apigateway, api_id=api_id, stage=stage):
        click.secho(
            f"THE API OF STAGE {stage} IS SWITCHED OFF: the kill switch throttled it to 0 "
            "requests a second after a flood, and this deploy keeps it off. "
            f"`make api-on STAGE={stage}` turns it back on (docs/operations.md).",
            fg="red",
            bold=True,
        )
        return False
    set_throttling(apigateway=apigateway, api_id=api_id, stage=stage, limits=limits)
    click.echo(
        f"Throttled stage {stage}: {limits['rate_limit']} requests a second, "
        f"bursts of {limits['burst_limit']}."
    )
    return True


def create_invalidation(
    *, cloudfront: Any, distribution_id: str, caller: str, paths: Sequence[str] = CACHED_PATHS
) -> str:
    """Invalidate `paths` (the page's, CACHED_PATHS, unless told) on the distribution; returns
    the invalidation's id. `caller` starts its CallerReference (made unique with the time)."""
    answer = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": len(paths), "Items": list(paths)},
            "CallerReference": f"{caller}-{time.time_ns()}",
        },
    )
    return answer["Invalidation"]["Id"]


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
        invalidation = create_invalidation(
            cloudfront=zappa_cli.zappa.boto_client("cloudfront"),
            distribution_id=distribution,
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
