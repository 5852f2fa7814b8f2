"""`make deploy STAGE=prod`: from an empty AWS account to the site on its domain, checked live.

    python -m deploy.live STAGE [--zip PACKAGE]

In order, each step idempotent (a second run changes nothing and says so; a run stopped
half-way is carried on by the next): the deploy bucket; the secrets object (made once, never
overwritten); the certificate; the infra stack; `zappa deploy` or `zappa update`; the stack again
with the API's id; the wait for the distribution; the edge invalidation; the live checks.
With `--zip` (`make deploy PACKAGE=build/resume-site-prod.zip`) Zappa ships that zip, the one
`make package` built and the tests ran, instead of building another.
docs/deploy.md, "From zero", says what each step does and what to do when one fails.
"""

import hashlib
import json
import os
import secrets
import sys
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import click
from botocore.exceptions import ClientError

from deploy import (
    certificate,
    checks,
    concurrency,
    post_deploy,
    runs,
    secret_env,
    stack,
    stages,
)
from deploy.inputs import Inputs, read_inputs
from deploy.zappa_callbacks import DEFER_INVALIDATION, git_files

ROOT = Path(__file__).resolve().parent.parent
DEPLOYED_TAG = "resume-site:deployed"  # the function's tag: a digest of what it was built from
PROGRESS_SECONDS = 30.0
# The stack's parameters an input left unset keeps as they are (deploy/inputs.py, KEPT).
KEPT_PARAMETERS = ("GitHubRepository", "GitHubOidcProviderArn")
Echo = Callable[[str], None]


class DeployError(click.ClickException):
    """A step failed or an input is wrong; the message says what and what to do."""


@dataclass
class Account:
    """The AWS clients of one deploy, all from one session."""

    session: Any
    region: str

    def client(self, name: str, *, region: str | None = None) -> Any:
        return self.session.client(name, region_name=region or self.region)


def ensure_deploy_bucket(*, s3: Any, bucket: str, region: str, echo: Echo) -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
        echo(f"The deploy bucket {bucket} exists.")
        return False
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise DeployError(f"The deploy bucket {bucket} cannot be read: {error}") from None
    location = {} if region == "us-east-1" else {"LocationConstraint": region}
    s3.create_bucket(Bucket=bucket, **({"CreateBucketConfiguration": location} if location else {}))
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration=dict.fromkeys(
            ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"),
            True,
        ),
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    echo(f"Made the deploy bucket {bucket} (private, encrypted).")
    return True


def ensure_secrets(*, s3: Any, bucket: str, echo: Echo) -> tuple[dict[str, str], str]:
    """The secrets object's values and its ETag; made once with fresh random values, never
    overwritten (`make rotate-secret` changes it)."""
    url = stack.secret_url_of(bucket=bucket)
    try:
        answer = s3.get_object(Bucket=bucket, Key=stack.SECRETS_KEY)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
            raise DeployError(f"The secrets object {url} cannot be read: {error}") from None
    else:
        echo(f"The secrets object {url} exists (kept as it is).")
        return secret_env.parse_secrets(body=answer["Body"].read(), url=url), answer["ETag"]
    values = {
        "SECRET_KEY": secrets.token_urlsafe(64),
        "EDGE_ORIGIN_SECRET": secrets.token_urlsafe(48),
    }
    etag = secret_env.write_secrets(url=url, s3_client=s3, values=values)
    echo(f"Made the secrets object {url} (SECRET_KEY, origin secret).")
    return values, etag


def zappa_api_id(*, cloudformation: Any, stage: str) -> str:
    """The REST API of Zappa's own stack, or "" before the first deploy."""
    try:
        answer = cloudformation.describe_stack_resource(
            StackName=stack.zappa_stack_name(stage=stage), LogicalResourceId="Api"
        )
    except ClientError:
        return ""
    return answer["StackResourceDetail"].get("PhysicalResourceId") or ""


def function_state(*, lambda_client: Any, function: str) -> dict[str, str] | None:
    """The function's tags, or None where it does not exist."""
    try:
        arn = lambda_client.get_function(FunctionName=function)["Configuration"]["FunctionArn"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise
    return {"arn": arn, **lambda_client.list_tags(Resource=arn).get("Tags", {})}


def source_digest(
    *,
    stage: str,
    secrets_etag: str,
    environment: Mapping[str, str],
    package: Path | None = None,
) -> str:
    """What a deploy of the function is made from: the tracked files as they are, the secrets
    object's version, the stack's values for the stage, and the prebuilt zip if one is given."""
    hasher = hashlib.sha256(f"{stage}\n{secrets_etag}\n".encode())
    hasher.update(json.dumps(dict(environment), sort_keys=True).encode())
    if package is not None:
        hasher.update(b"zip\0" + hashlib.sha256(package.read_bytes()).digest())
    for path in sorted(git_files(ROOT, "--cached")):
        file = ROOT / path
        if file.is_file():
            hasher.update(path.encode() + b"\0" + file.read_bytes() + b"\0")
    return hasher.hexdigest()


def zappa_deferring(*, args: Sequence[str]) -> None:
    """The Zappa CLI as `make deploy` runs it: its `post` callback leaves the invalidation to the
    end of the run, after the stack points the distribution at the API."""
    runs.run_zappa(args=args, environment={DEFER_INVALIDATION: "1"})


@dataclass
class Run:
    """One `make deploy`: its stage, inputs, clients and what it learned so far."""

    stage: str
    inputs: Inputs
    account: Account
    echo: Echo
    sleep: float
    zappa: runs.Zappa = zappa_deferring
    package: Path | None = None  # a prebuilt zip for Zappa to ship (`--zip`)
    owner: str = ""
    certificate: str = ""
    origin_secret: str = ""
    room: int = 0
    kept: Mapping[str, str] = field(default_factory=dict)  # the stack's, for unset inputs

    @property
    def function(self) -> str:
        return f"{stack.PROJECT}-{self.stage}"

    def parameters(self, *, api_id: str) -> dict[str, str]:
        wanted = int(stages.stage_config(stage=self.stage)["lambda_concurrency"])
        return {
            "Stage": self.stage,
            **self.kept,
            **self.inputs.parameters(),
            "CertificateArn": self.certificate,
            "OriginSecret": self.origin_secret,
            "ApiId": api_id,
            # The kill switch's own reservation, only while the site's still fits beside it.
            "KillSwitchReservation": json.dumps(self.room > wanted),
        }

    def apply_stack(self, *, api_id: str) -> bool:
        return stack.apply(
            cloudformation=self.account.client("cloudformation"),
            stage=self.stage,
            parameters=self.parameters(api_id=api_id),
            secret_parameters=("OriginSecret",),
            echo=self.echo,
            sleep=self.sleep,
        )


def foundations(run: Run) -> str:
    """Steps 1 to 3: the deploy bucket, the secrets, the certificate. Returns the secrets'
    ETag (a new one means the function must be updated)."""
    run.echo("[1/9] The deploy bucket")
    bucket = stack.deploy_bucket(stage=run.stage, account=run.owner)
    s3 = run.account.client("s3")
    ensure_deploy_bucket(s3=s3, bucket=bucket, region=run.account.region, echo=run.echo)
    run.echo("[2/9] The secrets")
    values, etag = ensure_secrets(s3=s3, bucket=bucket, echo=run.echo)
    run.origin_secret = values["EDGE_ORIGIN_SECRET"].split(",")[0]
    run.echo("[3/9] The certificate")
    if run.inputs.domain:
        run.certificate = certificate.ensure(
            acm=run.account.client("acm", region=certificate.REGION),
            route53=run.account.client("route53"),
            inputs=run.inputs,
            echo=run.echo,
            sleep=run.sleep,
        )
    else:
        run.echo("No domain: the site is served at the distribution's cloudfront.net name.")
    return etag


def function_and_api(run: Run, *, digest: str, api_id: str) -> bool:
    """Step 5: `zappa deploy` where there is no function (or one a stopped deploy left without
    its API), `zappa update` where it runs other code or settings; True if Zappa ran."""
    lambda_client = run.account.client("lambda")
    state = function_state(lambda_client=lambda_client, function=run.function)
    if state is not None and not api_id:
        run.echo(f"The function {run.function} has no API: a deploy stopped half-way. Removing it.")
        lambda_client.delete_function(FunctionName=run.function)
        state = None
    if state is not None and state.get(DEPLOYED_TAG) == digest:
        run.echo(f"The function {run.function} runs this code and configuration already.")
        return False
    try:
        command = ["deploy" if state is None else "update", run.stage]
        run.zappa(args=[*command, "--zip", str(run.package)] if run.package else command)
    except runs.StepFailed as error:
        raise DeployError(
            f"{error.message} Run `make deploy` again once it is fixed: it carries on from here."
        ) from None
    return True


def deploy(
    *,
    stage: str,
    inputs: Inputs,
    account: Account,
    echo: Echo = click.echo,
    zappa: runs.Zappa = zappa_deferring,
    fetch: checks.Fetch = checks.fetch,
    sleep: float = 10.0,
    package: Path | None = None,
) -> checks.Report:
    """Every step, in order; returns the live checks' report. The function's tag records what
    it was deployed from only once the edge is invalidated, so a run stopped anywhere before
    leaves the next run to do it all again. (Over 60 lines: the nine steps read best in one
    place, each a few lines calling the function that does it.)"""
    run = Run(
        stage=stage,
        inputs=inputs,
        account=account,
        echo=echo,
        sleep=sleep,
        zappa=zappa,
        package=package,
    )
    run.owner = account.client("sts").get_caller_identity()["Account"]
    echo(f"Deploying stage {stage} to account {run.owner} in {account.region}.")
    etag = foundations(run)
    cloudformation, lambda_client = account.client("cloudformation"), account.client("lambda")
    wanted = int(stages.stage_config(stage=stage)["lambda_concurrency"])
    run.room = concurrency.sized(
        lambda_client=lambda_client, function=run.function, wanted=wanted
    ).room

    echo("[4/9] The infra stack")
    current = stack.parameters_of(stack.described(cloudformation=cloudformation, stage=stage) or {})
    run.kept = {name: current[name] for name in KEPT_PARAMETERS if name in current}
    api_id = zappa_api_id(cloudformation=cloudformation, stage=stage)
    changed = run.apply_stack(api_id=api_id)
    outputs = stack.deployed_outputs(cloudformation=cloudformation, stage=stage)
    environment = stack.stage_environment(outputs=outputs, stack=stack.stack_name(stage=stage))

    echo("[5/9] The function and its API (Zappa)")
    digest = source_digest(stage=stage, secrets_etag=etag, environment=environment, package=package)
    changed |= function_and_api(run, digest=digest, api_id=api_id)

    echo("[6/9] The infra stack, pointed at the API")
    current_api = zappa_api_id(cloudformation=cloudformation, stage=stage)
    if not current_api:
        raise DeployError(f"Zappa made no API for {run.function}: run `make deploy` again.")
    if api_id and current_api != api_id:
        echo(f"The stack names the API {api_id}, but Zappa's is {current_api}: mending.")
    changed |= run.apply_stack(api_id=current_api)

    echo("[7/9] The distribution")
    cloudfront, distribution = account.client("cloudfront"), outputs["DistributionId"]
    runs.wait_for_distribution(
        cloudfront=cloudfront, distribution_id=distribution, echo=echo, sleep=sleep
    )

    echo("[8/9] The edge's cached pages")
    apigateway = account.client("apigateway")
    if post_deploy.switched_off(apigateway=apigateway, api_id=current_api, stage=stage):
        echo(
            f"The kill switch has the API off: the edge keeps its pages, the one copy visitors "
            f"get until `make api-on STAGE={stage}` (which invalidates them)."
        )
    elif changed:
        post_deploy.create_invalidation(
            cloudfront=cloudfront, distribution_id=distribution, caller=run.function
        )
        echo(f"Invalidated {', '.join(post_deploy.CACHED_PATHS)}.")
    else:
        echo("Nothing changed: the deploy made no change, and the edge keeps its copies.")
    if changed:  # only now: a run stopped before leaves the next one to do it all again
        arn = lambda_client.get_function(FunctionName=run.function)["Configuration"]["FunctionArn"]
        lambda_client.tag_resource(Resource=arn, Tags={DEPLOYED_TAG: digest})

    echo("[9/9] The live checks")
    api_url = f"https://{current_api}.execute-api.{account.region}.amazonaws.com/{stage}"
    report = checks.run(site_url=environment["SITE_URL"], api_url=api_url, fetch=fetch)
    for result in report.results:
        echo(f"  {'ok  ' if result.ok else 'FAIL'} {result.name}: {result.detail}")
    return report


def prebuilt(path: str) -> Path:
    """The zip `--zip` names, checked before any AWS call: a file that is a zip archive.
    Whether it is this stage's and this checkout's, Zappa's `settings` callback checks."""
    package = Path(path).expanduser().resolve()
    if not package.is_file():
        raise DeployError(f"PACKAGE={path}: no such file. Build it with `make package`.")
    if not zipfile.is_zipfile(package):
        raise DeployError(f"PACKAGE={path} is not a zip. Build it with `make package`.")
    return package


def main(argv: Sequence[str]) -> int:
    stage, *rest = [*argv] or [""]
    if rest and (len(rest) != 2 or rest[0] != "--zip"):
        raise DeployError("Usage: python -m deploy.live STAGE [--zip PACKAGE]")
    try:
        stages.stage_config(stage=stage)
    except stages.UnknownStage as error:
        raise DeployError(str(error)) from None
    package = prebuilt(rest[1]) if rest else None
    interactive = sys.stdin.isatty() and sys.stdout.isatty()

    def ask(name: str, help_text: str) -> str:
        return click.prompt(f"{name} ({help_text})")

    inputs = read_inputs(
        stage=stage, environ=os.environ, ask=ask if interactive else None, echo=click.echo
    )
    region = str(stages.stage_config(stage=stage)["aws_region"])
    account = Account(session=boto3.Session(region_name=region), region=region)
    report = deploy(stage=stage, inputs=inputs, account=account, package=package)
    if report.failed:
        names = "; ".join(result.name for result in report.failed)
        click.echo(f"The site is deployed, but these checks failed: {names}", err=True)
        click.echo("docs/deploy.md, 'The checks after a deploy', says what to do.", err=True)
        return 1
    click.echo(f"Live and checked: {inputs.domain or 'the distribution'} ({stage}).")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except click.ClickException as error:
        error.show()
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit("\nStopped. Run `make deploy` again: it carries on from where it stopped.")
