"""Operating a deployed stage: rotate a secret, roll the function back, turn the API back on
after the kill switch.

    python -m deploy.operations rotate-secret STAGE --which django|origin
    python -m deploy.operations rollback STAGE
    python -m deploy.operations api-on STAGE

The rotations are deploy/rotation.py's; the rollback, turning the API on and the command line
are here. docs/operations.md says what each command does, step by step, and what to do when a
step fails. Each prints its steps and never a secret's value. Every `zappa` run goes through one
function (`run_zappa` unless the caller gives another), so the tests record them.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import click
from botocore.exceptions import BotoCoreError, ClientError

from deploy import post_deploy, stack, stages
from deploy.deployed import Echo, OperationError, distribution_of, stage_stack
from deploy.rotation import rotate_django_key, rotate_origin_secret
from deploy.runs import POLL_SECONDS, Zappa, run_zappa

ROOT = Path(__file__).resolve().parent.parent
# infra/template.yaml's alarms that throw the kill switch
KILL_SWITCH_ALARMS = ("api-requests-hourly", "api-requests-seconds", "api-requests-writes")


# --- rollback ---------------------------------------------------------------------------------
def rollback(*, cloudformation: Any, cloudfront: Any, stage: str, zappa: Zappa, echo: Echo) -> str:
    """`zappa rollback <stage> -n 1`, then invalidate the edge's cached pages, which Zappa's
    rollback does not (it runs no `post` callback). Returns the invalidation's id."""
    distribution_id = distribution_of(cloudformation=cloudformation, stage=stage)
    echo(f"[1/2] `zappa rollback {stage} -n 1`: the function runs the code of the deploy before.")
    zappa(args=["rollback", stage, "-n", "1"])
    echo(f"[2/2] Invalidating {', '.join(post_deploy.CACHED_PATHS)} on {distribution_id}.")
    try:
        invalidation = post_deploy.create_invalidation(
            cloudfront=cloudfront,
            distribution_id=distribution_id,
            caller=f"{stack.zappa_stack_name(stage=stage)}-rollback",
        )
    except (ClientError, BotoCoreError) as error:
        raise OperationError(
            f"The function is rolled back, but the cached pages were not invalidated ({error}): "
            "the edge serves the newer page for up to a day. Do not roll back again (a second "
            "rollback returns to the code you left); invalidate them alone: aws cloudfront "
            f"create-invalidation --distribution-id {distribution_id} --paths "
            f"{' '.join(post_deploy.CACHED_PATHS)}"
        ) from None
    echo(
        f"Done: stage {stage} runs the code of the deploy before, and the edge asks it again for "
        f"the page (invalidation {invalidation})."
    )
    return invalidation


# --- api-on -----------------------------------------------------------------------------------
def kill_switch_alarms(*, stage: str) -> list[str]:
    return [f"{stack.zappa_stack_name(stage=stage)}-{alarm}" for alarm in KILL_SWITCH_ALARMS]


def api_of(*, cloudformation: Any, stage: str) -> str:
    """The stack's ApiId parameter: the REST API the kill switch throttles."""
    found = stage_stack(cloudformation=cloudformation, stage=stage)
    api_id = stack.parameters_of(found).get("ApiId")
    if not api_id:
        raise OperationError(
            f"The stack {stack.stack_name(stage=stage)} has no ApiId: there is no API, and no "
            "kill switch, to turn back on."
        )
    return api_id


def api_on(
    *,
    cloudformation: Any,
    apigateway: Any,
    cloudwatch: Any,
    cloudfront: Any,
    stage: str,
    limits: Mapping[str, float],
    echo: Echo,
) -> None:
    """Undo the kill switch: both request alarms to OK (an alarm acts only on a change of state,
    so a flood that goes on trips it again), then the stage's `stage_throttling` back."""
    api_id = api_of(cloudformation=cloudformation, stage=stage)
    alarms = kill_switch_alarms(stage=stage)
    off = post_deploy.switched_off(apigateway=apigateway, api_id=api_id, stage=stage)
    echo(f"The API of stage {stage} is {'switched off' if off else 'not switched off'}.")
    echo(f"[1/2] The alarms {' and '.join(alarms)} to OK, so that a new flood trips them again.")
    for alarm in alarms:
        cloudwatch.set_alarm_state(
            AlarmName=alarm,
            StateValue="OK",
            StateReason=f"make api-on STAGE={stage}: the API was turned back on.",
        )
    echo(
        f"[2/2] Stage {stage}'s throttling back to {limits['rate_limit']} requests a second, "
        f"bursts of {limits['burst_limit']} (zappa_settings.json, stage_throttling)."
    )
    post_deploy.set_throttling(apigateway=apigateway, api_id=api_id, stage=stage, limits=limits)
    tripped = [
        alarm["AlarmName"]
        for alarm in cloudwatch.describe_alarms(AlarmNames=alarms)["MetricAlarms"]
        if alarm["StateValue"] == "ALARM"
    ]
    if tripped:
        off_again = {"rate_limit": 0, "burst_limit": 0}
        post_deploy.set_throttling(
            apigateway=apigateway, api_id=api_id, stage=stage, limits=off_again
        )
        raise OperationError(
            f"{', '.join(tripped)} went back to ALARM at once: the flood goes on, so the API is "
            "switched off again. See docs/operations.md, 'The kill switch'."
        )
    distribution = distribution_of(cloudformation=cloudformation, stage=stage)
    post_deploy.create_invalidation(
        cloudfront=cloudfront, distribution_id=distribution, caller=f"resume-site-{stage}-api-on"
    )
    echo(f"Invalidated {', '.join(post_deploy.CACHED_PATHS)}: a deploy while off kept the old.")
    echo(f"Done: the API of stage {stage} answers again.")


# --- The command line -------------------------------------------------------------------------
@dataclass(frozen=True)
class Runner:
    """What the commands run with; the tests give their own."""

    zappa: Zappa = run_zappa
    sleep: float = POLL_SECONDS


def checked_stage(context: click.Context, parameter: click.Parameter, value: str) -> str:
    deployable = stages.deployable_stages(stages.load_settings())
    if value not in deployable:
        raise click.BadParameter(f"{value!r} is not one of {', '.join(deployable)}.")
    return value


def session_of(*, stage: str) -> Any:
    config = stages.stage_config(stage=stage)
    return boto3.session.Session(
        region_name=config["aws_region"], profile_name=config.get("profile_name")
    )


def deploy_bucket_of(*, session: Any, stage: str) -> str:
    account = session.client("sts").get_caller_identity()["Account"]
    return stack.deploy_bucket(stage=stage, account=account)


@click.group()
@click.pass_context
def main(context: click.Context) -> None:
    """Operate a deployed stage (docs/operations.md)."""
    context.ensure_object(Runner)


stage_argument = click.argument("stage", callback=checked_stage)


@main.command("rotate-secret")
@stage_argument
@click.option(
    "--which",
    type=click.Choice(["django", "origin"]),
    required=True,
    help="django: SECRET_KEY. origin: the distribution's X-Origin-Verify (EDGE_ORIGIN_SECRET).",
)
@click.pass_obj
def rotate_secret_command(runner: Runner, stage: str, which: str) -> None:
    """Put a new secret in the stage's secrets object and deploy it."""
    session = session_of(stage=stage)
    bucket = deploy_bucket_of(session=session, stage=stage)
    if which == "django":
        rotate_django_key(
            s3=session.client("s3"), bucket=bucket, stage=stage, zappa=runner.zappa, echo=click.echo
        )
        return
    rotate_origin_secret(
        s3=session.client("s3"),
        cloudformation=session.client("cloudformation"),
        cloudfront=session.client("cloudfront"),
        bucket=bucket,
        stage=stage,
        zappa=runner.zappa,
        echo=click.echo,
        sleep=runner.sleep,
    )


@main.command("rollback")
@stage_argument
@click.pass_obj
def rollback_command(runner: Runner, stage: str) -> None:
    """Run the code of the deploy before, and drop the pages the edge cached from the newer."""
    session = session_of(stage=stage)
    rollback(
        cloudformation=session.client("cloudformation"),
        cloudfront=session.client("cloudfront"),
        stage=stage,
        zappa=runner.zappa,
        echo=click.echo,
    )


@main.command("api-on")
@stage_argument
def api_on_command(stage: str) -> None:
    """Turn the API back on after the kill switch switched it off."""
    session = session_of(stage=stage)
    api_on(
        cloudformation=session.client("cloudformation"),
        apigateway=session.client("apigateway"),
        cloudwatch=session.client("cloudwatch"),
        cloudfront=session.client("cloudfront"),
        stage=stage,
        limits=stages.stage_config(stage=stage)["stage_throttling"],
        echo=click.echo,
    )


if __name__ == "__main__":
    main()
