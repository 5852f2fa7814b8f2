"""The stage's infra stack (infra/template.yaml) and the names an owner's account gives it.

Nothing here is committed per owner: the deploy bucket is named from the account's id, the other
resources' names and the domain come from the stack's outputs, read at deploy time
(docs/deploy.md, "What the stage reads from the stack").
"""

import hashlib
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click
from botocore.exceptions import ClientError

PROJECT = "resume-site"
TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "template.yaml"
SECRETS_KEY = "secrets/env.json"
# The stack's outputs the function's environment takes, by the variable's name.
OUTPUT_ENVIRONMENT = {
    "DYNAMODB_TABLE": "TableName",
    "SITE_URL": "SiteUrl",
    "STATIC_BUCKET": "StaticBucketName",
    "STATIC_DOMAIN": "StaticDomain",
}
DONE = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"})
FAILED_ENDINGS = ("_FAILED", "ROLLBACK_COMPLETE")
PROGRESS_SECONDS = 30.0
NO_UPDATES = "No updates are to be performed"
# A digest of the NoEcho parameters, which DescribeStacks never shows.
SECRETS_TAG = "resume-site:secrets-sha256"
DENIED = frozenset({"AccessDenied", "AccessDeniedException"})


class StackError(click.ClickException):
    """The infra stack is missing, failed, or lacks what the deploy needs."""


def stack_name(*, stage: str) -> str:
    """Never Zappa's own `resume-site-<stage>` (Zappa keeps its API's stack under that name)."""
    return f"{PROJECT}-{stage}-infra"


def zappa_stack_name(*, stage: str) -> str:
    return f"{PROJECT}-{stage}"


def deploy_bucket(*, stage: str, account: str) -> str:
    """The bucket Zappa uploads to and the secrets object lives in: S3 names are global, so the
    account's id makes it this owner's (`resume-site-prod-deploys-123456789012`)."""
    return f"{PROJECT}-{stage}-deploys-{account}"


def secret_url_of(*, bucket: str) -> str:
    return f"s3://{bucket}/{SECRETS_KEY}"


def secret_url(*, stage: str, account: str) -> str:
    return secret_url_of(bucket=deploy_bucket(stage=stage, account=account))


def described(*, cloudformation: Any, stage: str) -> dict[str, Any] | None:
    """The stack as DescribeStacks gives it, or None where there is none."""
    try:
        (stack,) = cloudformation.describe_stacks(StackName=stack_name(stage=stage))["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    return stack


def outputs_of(stack: Mapping[str, Any]) -> dict[str, str]:
    return {item["OutputKey"]: item["OutputValue"] for item in stack.get("Outputs") or []}


def parameters_of(stack: Mapping[str, Any]) -> dict[str, str]:
    return {item["ParameterKey"]: item["ParameterValue"] for item in stack.get("Parameters") or []}


def stage_environment(*, outputs: Mapping[str, str], stack: str) -> dict[str, str]:
    """The function's variables that come from the stack (its table, bucket and site URL)."""
    missing = sorted(output for output in OUTPUT_ENVIRONMENT.values() if not outputs.get(output))
    if missing:
        raise StackError(
            f"The stack {stack} has no {', '.join(missing)} output: create it with "
            "`make deploy` (docs/deploy.md, 'From zero')."
        )
    return {name: outputs[output] for name, output in OUTPUT_ENVIRONMENT.items()}


def deployed_outputs(*, cloudformation: Any, stage: str) -> dict[str, str]:
    """The outputs of a finished stack; StackError naming the way out otherwise."""
    name = stack_name(stage=stage)
    stack = described(cloudformation=cloudformation, stage=stage)
    if stack is None:
        raise StackError(
            f"There is no stack {name} in this account and region: run `make deploy "
            f"STAGE={stage}` first (docs/deploy.md, 'From zero')."
        )
    if stack["StackStatus"] not in DONE:
        raise StackError(
            f"The stack {name} is {stack['StackStatus']}: wait for it, or run `make deploy "
            f"STAGE={stage}` again."
        )
    return outputs_of(stack)


def wait_until_done(
    *, cloudformation: Any, stage: str, echo: Callable[[str], None], sleep: float = 5.0
) -> dict[str, Any]:
    """Poll the stack until it settles, with a progress line every PROGRESS_SECONDS."""
    name, started, said = stack_name(stage=stage), time.monotonic(), 0.0
    while True:
        stack = described(cloudformation=cloudformation, stage=stage)
        status = stack["StackStatus"] if stack else "DELETED"
        if status in DONE and not status.endswith("ROLLBACK_COMPLETE"):
            return stack or {}
        if status.endswith(FAILED_ENDINGS) or status == "DELETED":
            reason = (stack or {}).get("StackStatusReason") or "see its events in the console"
            raise StackError(f"The stack {name} ended {status}: {reason}")
        waited = time.monotonic() - started
        if waited - said >= PROGRESS_SECONDS:
            said = waited
            echo(f"  ... the stack {name} is {status} ({waited:.0f} s)")
        time.sleep(sleep)


def secrets_tags(*values: str) -> list[dict[str, str]]:
    """The stack's tag holding a digest of its NoEcho parameters' values, in order: how a later
    `apply` tells whether they changed (DescribeStacks shows asterisks)."""
    digest = hashlib.sha256("\n".join(values).encode()).hexdigest()[:32]
    return [{"Key": SECRETS_TAG, "Value": digest}]


def apply(
    *,
    cloudformation: Any,
    stage: str,
    parameters: Mapping[str, str],
    echo: Callable[[str], None],
    secret_parameters: tuple[str, ...] = (),
    sleep: float = 5.0,
) -> bool:
    """Create the stack, or update it where its template or parameters differ; True if it
    changed. An unchanged stack gets no changing call. DescribeStacks shows a NoEcho parameter
    as asterisks, so `secret_parameters` are compared by a digest kept in a stack tag."""
    name, body = stack_name(stage=stage), TEMPLATE.read_text(encoding="utf-8")
    given = [{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()]
    tags = secrets_tags(*(parameters[key] for key in secret_parameters))
    stack = described(cloudformation=cloudformation, stage=stage)
    if stack is not None and stack["StackStatus"] == "ROLLBACK_COMPLETE":
        echo(f"The stack {name} failed to create before: removing it to create it again.")
        cloudformation.delete_stack(StackName=name)
        cloudformation.get_waiter("stack_delete_complete").wait(StackName=name)
        stack = None
    arguments = {
        "StackName": name,
        "TemplateBody": body,
        "Parameters": given,
        "Capabilities": ["CAPABILITY_NAMED_IAM"],
        "Tags": tags,
    }
    if stack is None:
        echo(f"Creating the stack {name} (the distribution takes several minutes) ...")
        try:
            cloudformation.create_stack(**arguments)
        except ClientError as error:
            raise _refused(error, name=name, stage=stage, change="made") from None
    else:
        if stack["StackStatus"] not in DONE:
            wait_until_done(cloudformation=cloudformation, stage=stage, echo=echo, sleep=sleep)
            stack = described(cloudformation=cloudformation, stage=stage) or {}
        current = cloudformation.get_template(StackName=name)["TemplateBody"]
        public = {key: value for key, value in parameters.items() if key not in secret_parameters}
        shown = {key: value for key, value in parameters_of(stack).items() if key in public}
        same_tags = {tag["Key"]: tag["Value"] for tag in stack.get("Tags") or []}.get(
            SECRETS_TAG
        ) == tags[0]["Value"]
        if current == body and shown == public and same_tags:
            echo(f"The stack {name} is up to date.")
            return False
        echo(f"Updating the stack {name} ...")
        try:
            cloudformation.update_stack(**arguments)
        except ClientError as error:
            if NO_UPDATES in str(error):
                echo(f"The stack {name} is up to date.")
                return False
            raise _refused(error, name=name, stage=stage, change="updated") from None
    wait_until_done(cloudformation=cloudformation, stage=stage, echo=echo, sleep=sleep)
    echo(f"The stack {name} is ready.")
    return True


def _refused(error: ClientError, *, name: str, stage: str, change: str) -> Exception:
    """The error to raise for a refused CreateStack or UpdateStack: a StackError saying what to
    do where the identity may not change stacks (GitHub Actions' role), else `error` itself."""
    if error.response.get("Error", {}).get("Code") not in DENIED:
        return error
    return StackError(
        f"The stack {name} must be {change} (its template or parameters are not what it "
        "runs), and these credentials may not change it: the role GitHub Actions deploys with "
        f"changes no stack. Run `make deploy STAGE={stage}` once as an administrator "
        "(docs/deploy.md, 'Deploy on push'); the workflow's next runs carry on."
    )


def as_deployed(
    config: Mapping[str, Any], *, stage: str, account: str, environment: Mapping[str, str]
) -> dict[str, Any]:
    """The stage's settings as a deploy gives them to Zappa: the deploy bucket and secrets
    object of this account, and the stack's values (`environment`) added to the variables the
    children see and to the function's own configuration (never the package's)."""
    return {
        **config,
        "s3_bucket": deploy_bucket(stage=stage, account=account),
        "secret_env": secret_url(stage=stage, account=account),
        "environment_variables": {**config.get("environment_variables", {}), **environment},
        "aws_environment_variables": {
            **config.get("aws_environment_variables", {}),
            **environment,
        },
    }


def prepare_zappa(zappa_cli: Any) -> dict[str, str]:
    """Give a `zappa deploy`/`update` what this owner's account holds (`as_deployed`), read from
    the account's id and the stack's outputs. Returns the stack's outputs."""
    stage = zappa_cli.api_stage
    account = zappa_cli.zappa.boto_client("sts").get_caller_identity()["Account"]
    outputs = deployed_outputs(
        cloudformation=zappa_cli.zappa.boto_client("cloudformation"), stage=stage
    )
    environment = stage_environment(outputs=outputs, stack=stack_name(stage=stage))
    deployed = as_deployed(
        zappa_cli.stage_config, stage=stage, account=account, environment=environment
    )
    for setting in ("s3_bucket", "secret_env", "environment_variables"):
        zappa_cli.override_stage_config_setting(setting, deployed[setting])
    zappa_cli.s3_bucket_name = deployed["s3_bucket"]
    zappa_cli.aws_environment_variables = {
        **(zappa_cli.aws_environment_variables or {}),
        **environment,
    }
    click.echo(
        f"Read {', '.join(sorted(environment))} from the stack {stack_name(stage=stage)}: set in "
        "the function's environment, not in the package."
    )
    return outputs
