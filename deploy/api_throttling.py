"""API Gateway stage throttling: the REST API's stage answers 429 past a steady rate and a burst
(docs/deploy.md, "Throttling at API Gateway").

Zappa 0.63 has no setting for it: it creates the stage with CreateDeployment and only patches
the stage's logging, metrics and caching. So the stage's `stage_throttling` setting in
zappa_settings.json (`rate_limit`: requests a second, `burst_limit`: requests at once) is
applied by the `post` callback after every deploy and update, as the stage-wide default method
setting (`/*/*/throttling/...`). It is checked with the stage, before anything is uploaded.
"""

from collections.abc import Mapping
from typing import Any

import click

SETTING = "stage_throttling"
MAX_RATE = 10_000  # API Gateway's default account limit: a stage cannot be given more


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def throttling_problems(*, config: Mapping[str, Any]) -> list[str]:
    """What is wrong with a stage's `stage_throttling`; [] if nothing."""
    throttling = config.get(SETTING)
    if not isinstance(throttling, Mapping):
        return [
            f"{SETTING} is missing: API Gateway needs a rate and a burst limit "
            '(like {"rate_limit": 20, "burst_limit": 40})'
        ]
    problems = []
    rate, burst = throttling.get("rate_limit"), throttling.get("burst_limit")
    if not _is_number(rate) or not 0 < rate <= MAX_RATE:
        problems.append(
            f"{SETTING}.rate_limit must be requests a second, above 0 and at most {MAX_RATE}, "
            f"got {rate!r}"
        )
    if not isinstance(burst, int) or isinstance(burst, bool) or not 1 <= burst <= MAX_RATE:
        problems.append(
            f"{SETTING}.burst_limit must be a whole number of requests from 1 to {MAX_RATE}, "
            f"got {burst!r}"
        )
    unknown = sorted(set(throttling) - {"rate_limit", "burst_limit"})
    if unknown:
        problems.append(f"{SETTING} has unknown keys: {', '.join(unknown)}")
    return problems


def throttle_stage(zappa_cli: Any) -> None:
    """Set the deployed stage's default rate and burst limits from its `stage_throttling`."""
    throttling = zappa_cli.stage_config[SETTING]
    api_id = zappa_cli.zappa.get_api_id(zappa_cli.lambda_name)
    if not api_id:
        raise click.ClickException(
            f"No REST API found for {zappa_cli.lambda_name}: its stage cannot be throttled."
        )
    zappa_cli.zappa.apigateway_client.update_stage(
        restApiId=api_id,
        stageName=zappa_cli.api_stage,
        patchOperations=[
            {
                "op": "replace",
                "path": "/*/*/throttling/rateLimit",
                "value": str(float(throttling["rate_limit"])),
            },
            {
                "op": "replace",
                "path": "/*/*/throttling/burstLimit",
                "value": str(int(throttling["burst_limit"])),
            },
        ],
    )
    click.echo(
        f"Throttled stage {zappa_cli.api_stage}: {throttling['rate_limit']} requests a second, "
        f"bursts of {throttling['burst_limit']}."
    )
