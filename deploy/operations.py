"""Operating a deployed stage: rotate a secret, roll the function back, turn the API back on
after the kill switch.

    python -m deploy.operations rotate-secret STAGE --which django|origin
    python -m deploy.operations rollback STAGE
    python -m deploy.operations api-on STAGE

docs/operations.md says what each command does, step by step, and what to do when a step fails.
Each prints its steps and never a secret's value. Every `zappa` run goes through one function
(`run_zappa` unless the caller gives another), so the tests record them.
"""

import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import click
from botocore.exceptions import BotoCoreError, ClientError

from deploy import post_deploy, secret_env, stack, stages
from deploy.runs import POLL_SECONDS, StepFailed, Zappa, run_zappa, wait_for_distribution

ROOT = Path(__file__).resolve().parent.parent
DJANGO_KEY = "SECRET_KEY"
ORIGIN_KEY = "EDGE_ORIGIN_SECRET"
ORIGIN_PARAMETER = "OriginSecret"  # infra/template.yaml
ORIGIN_HEADER = "X-Origin-Verify"  # core/edge.py, ORIGIN_HEADER
CAPABILITIES = ["CAPABILITY_NAMED_IAM"]
# infra/template.yaml's alarms that throw the kill switch
KILL_SWITCH_ALARMS = ("api-requests-hourly", "api-requests-seconds", "api-requests-writes")
Echo = Callable[[str], None]


class OperationError(StepFailed):
    """A step failed; the message says what was done and what to do next."""


# --- The stage's secrets object ---------------------------------------------------------------
def read_secrets(*, s3: Any, bucket: str) -> dict[str, str]:
    return secret_env.read_secrets(url=stack.secret_url_of(bucket=bucket), s3_client=s3)


def write_secrets(*, s3: Any, bucket: str, values: Mapping[str, str]) -> None:
    url = stack.secret_url_of(bucket=bucket)
    secret_env.write_secrets(url=url, s3_client=s3, values=dict(values))


def accepted(values: Mapping[str, str]) -> list[str]:
    """EDGE_ORIGIN_SECRET's values, split as resume_site/settings.py splits them: the function
    accepts each; the first is what the distribution sends."""
    return [part.strip() for part in values.get(ORIGIN_KEY, "").split(",") if part.strip()]


# --- The stage's stack and distribution -------------------------------------------------------
def stage_stack(*, cloudformation: Any, stage: str) -> dict[str, Any]:
    """The infra stack whatever its status (a step may find it mid-update); OperationError if
    there is none."""
    found = stack.described(cloudformation=cloudformation, stage=stage)
    if found is None:
        raise OperationError(
            f"There is no stack {stack.stack_name(stage=stage)} in this account and region: "
            f"nothing is deployed to operate on (`make deploy STAGE={stage}`)."
        )
    return found


def distribution_of(*, cloudformation: Any, stage: str) -> str:
    outputs = stack.outputs_of(stage_stack(cloudformation=cloudformation, stage=stage))
    if not outputs.get("DistributionId"):
        raise OperationError(
            f"The stack {stack.stack_name(stage=stage)} has no DistributionId output: run "
            f"`make deploy STAGE={stage}`."
        )
    return outputs["DistributionId"]


def sent_secret(*, cloudfront: Any, distribution_id: str) -> str | None:
    """The value the distribution's configuration sends in X-Origin-Verify, None without one."""
    config = cloudfront.get_distribution(Id=distribution_id)["Distribution"]["DistributionConfig"]
    for origin in config["Origins"].get("Items") or []:
        for header in (origin.get("CustomHeaders") or {}).get("Items") or []:
            if header["HeaderName"].lower() == ORIGIN_HEADER.lower():
                return header["HeaderValue"]
    return None


# --- rotate-secret --which django -------------------------------------------------------------
def rotate_django_key(*, s3: Any, bucket: str, stage: str, zappa: Zappa, echo: Echo) -> None:
    """A new SECRET_KEY in the object (its other keys kept), then `zappa update` sets it."""
    values = read_secrets(s3=s3, bucket=bucket)
    url = stack.secret_url_of(bucket=bucket)
    echo(f"[1/2] A new {DJANGO_KEY} in {url} (its other keys unchanged).")
    write_secrets(s3=s3, bucket=bucket, values={**values, DJANGO_KEY: secrets.token_urlsafe(64)})
    echo(f"[2/2] `zappa update {stage}` sets it in the function's environment.")
    try:
        zappa(args=["update", stage])
    except click.ClickException as error:
        raise OperationError(
            f"{error.format_message()}\nThe object holds the new {DJANGO_KEY}; the function keeps "
            f"the old one until `zappa update {stage}` (or `make deploy STAGE={stage}`) succeeds: "
            "run it once the cause is fixed (rotating again also works)."
        ) from None
    echo(
        f"Done: stage {stage} runs with the new {DJANGO_KEY}. Signed-in owners sign in again, "
        "and today's visitors may each count once more (docs/operations.md)."
    )


# --- rotate-secret --which origin -------------------------------------------------------------
@contextmanager
def resumable(*, stage: str) -> Iterator[None]:
    """A step after the object holds both values failed: say that nothing is refused meanwhile
    and that the same command resumes."""
    again = f"`make rotate-secret STAGE={stage} WHICH=origin`"
    try:
        yield
    except click.ClickException as error:
        raise OperationError(
            f"{error.format_message()}\nThe rotation stopped half-way, safely: the function "
            f"accepts both values. Fix the cause, then run {again} again: it resumes (see "
            "docs/operations.md)."
        ) from None
    except (ClientError, BotoCoreError) as error:
        raise OperationError(
            f"{error}\nThe rotation stopped half-way, safely: the function accepts both values. "
            f"Fix the cause, then run {again} again: it resumes (see docs/operations.md)."
        ) from None


def point_stack_at(
    *,
    cloudformation: Any,
    cloudfront: Any,
    stage: str,
    secret: str,
    distribution_id: str,
    echo: Echo,
    sleep: float,
) -> None:
    """Update the infra stack's OriginSecret alone (its template and every other parameter as
    they are), wait until the stack settles and the distribution is Deployed."""
    name = stack.stack_name(stage=stage)
    current = stage_stack(cloudformation=cloudformation, stage=stage)
    if current["StackStatus"] not in stack.DONE:
        echo(f"  The stack {name} is {current['StackStatus']}: waiting for it to settle first.")
        try:
            stack.wait_until_done(
                cloudformation=cloudformation, stage=stage, echo=echo, sleep=sleep
            )
        except stack.StackError:
            current = stage_stack(cloudformation=cloudformation, stage=stage)
            if current["StackStatus"] not in stack.DONE:  # not UPDATE_ROLLBACK_COMPLETE either
                raise
        current = stage_stack(cloudformation=cloudformation, stage=stage)
    parameters: list[dict[str, Any]] = [
        {"ParameterKey": key, "UsePreviousValue": True}
        for key in stack.parameters_of(current)
        if key != ORIGIN_PARAMETER
    ]
    parameters.append({"ParameterKey": ORIGIN_PARAMETER, "ParameterValue": secret})
    try:
        cloudformation.update_stack(
            StackName=name,
            UsePreviousTemplate=True,
            Parameters=parameters,
            Capabilities=CAPABILITIES,
            # What `make deploy` compares, so its next run sees this value as the stack's own.
            Tags=stack.secrets_tags(secret),
        )
    except ClientError as error:
        if stack.NO_UPDATES not in str(error):
            raise
        echo(f"  The stack {name} already has it.")
    else:
        stack.wait_until_done(cloudformation=cloudformation, stage=stage, echo=echo, sleep=sleep)
        echo(f"  The stack {name} is updated.")
    wait_for_distribution(
        cloudfront=cloudfront, distribution_id=distribution_id, echo=echo, sleep=sleep
    )


def rotate_origin_secret(
    *,
    s3: Any,
    cloudformation: Any,
    cloudfront: Any,
    bucket: str,
    stage: str,
    zappa: Zappa,
    echo: Echo,
    sleep: float = POLL_SECONDS,
) -> None:
    """Rotate the value the distribution sends and the function accepts, refusing no request
    at any moment: (a) the function accepts new and old, (b) the distribution sends new,
    (c) the function accepts new alone. Resumes a rotation that stopped (the object holds two
    values) at the step it reached."""
    url = stack.secret_url_of(bucket=bucket)
    values = read_secrets(s3=s3, bucket=bucket)
    held = accepted(values)
    distribution_id = distribution_of(cloudformation=cloudformation, stage=stage)
    sent = sent_secret(cloudfront=cloudfront, distribution_id=distribution_id)
    if sent is None:
        raise OperationError(
            f"The distribution {distribution_id} sends no {ORIGIN_HEADER} (the stack has no "
            f"ApiId yet): nothing uses the origin secret. Run `make deploy STAGE={stage}` first."
        )
    if not held or len(held) > 2:
        raise OperationError(
            f"{url} holds {len(held)} {ORIGIN_KEY} values: it must hold one (or two, new,old, "
            "during a rotation). Nothing was changed."
        )
    if len(held) == 1 and sent != held[0]:
        raise OperationError(
            f"The distribution {distribution_id} sends a value other than {url}'s "
            f"{ORIGIN_KEY}, so the function refuses what comes through it now: run "
            f"`make deploy STAGE={stage}` to make them agree before rotating. Nothing was changed."
        )
    if len(held) == 2 and sent not in held:
        raise OperationError(
            f"The distribution {distribution_id} sends neither of {url}'s two {ORIGIN_KEY} "
            "values: something else changed them. See docs/operations.md, 'When the values "
            "disagree'. Nothing was changed."
        )

    if len(held) == 1:
        new, old = secrets.token_urlsafe(48), held[0]
        echo(f"[1/3] {url}: {ORIGIN_KEY} = <new>,<old>; the function will accept both.")
        write_secrets(s3=s3, bucket=bucket, values={**values, ORIGIN_KEY: f"{new},{old}"})
        with resumable(stage=stage):
            zappa(args=["update", stage])
    else:
        new, old = held
        echo(f"{url} already holds two {ORIGIN_KEY} values (new,old): resuming that rotation.")
        if sent == old:
            echo(f"[1/3] Already written; `zappa update {stage}` again, in case it did not finish.")
            with resumable(stage=stage):
                zappa(args=["update", stage])
        else:
            echo("[1/3] Done before: the distribution already sends the new value.")

    with resumable(stage=stage):
        echo(
            f"[2/3] The stack {stack.stack_name(stage=stage)}: {ORIGIN_PARAMETER} = <new> (its "
            "template and every other parameter as they are); then the distribution sends it."
        )
        point_stack_at(
            cloudformation=cloudformation,
            cloudfront=cloudfront,
            stage=stage,
            secret=new,
            distribution_id=distribution_id,
            echo=echo,
            sleep=sleep,
        )
        echo(f"[3/3] {url}: {ORIGIN_KEY} = <new>; the function will accept it alone.")
        write_secrets(s3=s3, bucket=bucket, values={**values, ORIGIN_KEY: new})
    try:
        zappa(args=["update", stage])
    except click.ClickException as error:
        raise OperationError(
            f"{error.format_message()}\nThe distribution sends the new value and the object "
            f"holds it alone; the function still accepts the old one too until `zappa update "
            f"{stage}` (or `make deploy STAGE={stage}`) succeeds: run it once the cause is fixed."
        ) from None
    echo(f"Done: the distribution sends the new origin secret and stage {stage} accepts it alone.")


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
