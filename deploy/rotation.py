"""Rotating a deployed stage's secrets, refusing no request at any moment: Django's SECRET_KEY,
and the origin secret the distribution sends and the function accepts (`make rotate-secret`,
through deploy/operations.py's command line).

docs/operations.md says what each rotation does, step by step, and what to do when a step
fails. Each prints its steps and never a secret's value.
"""

import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError

from deploy import secret_env, stack
from deploy.deployed import Echo, OperationError, distribution_of, stage_stack
from deploy.runs import POLL_SECONDS, Zappa, wait_for_distribution

DJANGO_KEY = "SECRET_KEY"
ORIGIN_KEY = "EDGE_ORIGIN_SECRET"
ORIGIN_PARAMETER = "OriginSecret"  # infra/template.yaml
ORIGIN_HEADER = "X-Origin-Verify"  # core/edge.py, ORIGIN_HEADER
CAPABILITIES = ["CAPABILITY_NAMED_IAM"]


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


def rotatable(
    *, held: list[str], sent: str | None, url: str, distribution_id: str, stage: str
) -> str:
    """The object's values (`held`) and what the distribution sends agree as a rotation needs:
    one value, sent; or two, new,old, during a rotation, one of them sent. Returns what the
    distribution sends; OperationError, with what to do, otherwise (nothing was changed)."""
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
    return sent


def both_accepted(
    *,
    s3: Any,
    bucket: str,
    values: Mapping[str, str],
    sent: str,
    stage: str,
    zappa: Zappa,
    echo: Echo,
) -> str:
    """The rotation's first step: the object holds <new>,<old> and the function accepts both
    (a rotation that stopped resumes here, and skips what it did). Returns the new value."""
    url = stack.secret_url_of(bucket=bucket)
    held = accepted(values)
    if len(held) == 1:
        new, old = secrets.token_urlsafe(48), held[0]
        echo(f"[1/3] {url}: {ORIGIN_KEY} = <new>,<old>; the function will accept both.")
        write_secrets(s3=s3, bucket=bucket, values={**values, ORIGIN_KEY: f"{new},{old}"})
        with resumable(stage=stage):
            zappa(args=["update", stage])
        return new
    new, old = held
    echo(f"{url} already holds two {ORIGIN_KEY} values (new,old): resuming that rotation.")
    if sent == old:
        echo(f"[1/3] Already written; `zappa update {stage}` again, in case it did not finish.")
        with resumable(stage=stage):
            zappa(args=["update", stage])
    else:
        echo("[1/3] Done before: the distribution already sends the new value.")
    return new


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
    sent = rotatable(
        held=held,
        sent=sent_secret(cloudfront=cloudfront, distribution_id=distribution_id),
        url=url,
        distribution_id=distribution_id,
        stage=stage,
    )

    new = both_accepted(
        s3=s3, bucket=bucket, values=values, sent=sent, stage=stage, zappa=zappa, echo=echo
    )
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
