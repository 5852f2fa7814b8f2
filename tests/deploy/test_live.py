"""deploy/live.py (`make deploy STAGE=prod`) from an empty moto account to a checked site.

The first deploy runs the real Zappa CLI (`make deploy PACKAGE=...`: `zappa deploy prod --zip`
with the session's prod package, the one the package tests run, its callbacks checking that zip
and reading the stack, the secrets and the account's concurrency quota) against a moto server;
the routine deploy that tests/infra/test_deploy_role_drift.py records builds its own zip.
Where moto lacks something the deploy uses, tests/deploy/moto_harness.py stands in and says how:
`InfraStack` for CloudFormation building infra/template.yaml (moto cannot: it skips CloudFront,
alarm and budget resources), and Lambda's GetAccountSettings. moto models ACM's
validation (pending, then issued after MOTO's ACM_VALIDATION_WAIT) and the distribution's
deployment (InProgress, then Deployed), so no Stubber is needed for those waits. The live checks
meet a fake site (tests/deploy/fake_site.py); deploy/checks.py's own tests cover them.

The first deploy, and the run after it that changes nothing, are made once a session and shared
with tests/infra/test_deploy_role_drift.py, whose routine deploy (a new SECRET_KEY, so `zappa
update` runs) follows them, recorded: the first test process that asks makes all three runs, and
the others read what they left (`first_deploys`). The first deploy is an administrator's, with
a GitHub repository for the deploy role, as the routine one needs.

The failure matrix then injects a failure at each step and checks that the next run completes;
it drives a stand-in for the Zappa CLI (`FakeZappa`: what `zappa deploy`/`update` leave in the
account), since the real CLI is proven by the first deploy here and by test_zappa_lifecycle.py.
"""

import contextlib
import datetime as dt
import fcntl
import io
import json
import os
import pickle
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import moto.settings
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from deploy import live, package, post_deploy, runs, stack
from deploy.inputs import Inputs
from tests.deploy import moto_harness
from tests.deploy.conftest import package_built, zappa_scratch
from tests.deploy.fake_site import FakeSite
from tests.infra.aws_calls import sitecustomize as recorder

pytestmark = pytest.mark.slow

STAGE = "prod"
REGION = "us-east-1"
FUNCTION = f"resume-site-{STAGE}"
DOMAIN = "resume.example.com"
REPOSITORY = "octo-owner/resume-site"  # the first deploys' GitHub repository (the deploy role)
# Calls that only read; every other call a second run makes would be a change.
READING = ("Get", "List", "Describe", "Head")


@dataclass
class MotoAccount(live.Account):
    """The deploy's clients on the moto server, its CloudFormation behind the InfraStack
    stand-in; every call any of them makes is recorded as (service, operation)."""

    endpoint: str = ""
    calls: list[tuple[str, str]] = field(default_factory=list)
    _infra: Any = None

    @property
    def infra(self) -> moto_harness.InfraStack:
        """Made on first use, so that its clients see the hooks registered before."""
        if self._infra is None:
            self._infra = moto_harness.InfraStack(session=self.session, endpoint=self.endpoint)
        return self._infra

    def client(self, name: str, *, region: str | None = None) -> Any:
        if name == "cloudformation":
            return self.infra
        return self.session.client(name, region_name=region or self.region)

    def record(self, **kwargs: Any) -> None:
        model = kwargs["model"]
        self.calls.append((model.service_model.service_name, model.name))

    def changing(self) -> list[tuple[str, str]]:
        return [call for call in self.calls if not call[1].startswith(READING)]


def moto_account(*, endpoint: str) -> MotoAccount:
    """An empty account: what earlier tests of this process left in moto's shared state (an
    in-process mock_aws does not always clear the server's) is removed first."""
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    account = MotoAccount(session=session, region=REGION, endpoint=endpoint)
    remove_everything(account)
    account.calls.clear()
    session.events.register("before-call", account.record)
    return account


def remove_everything(account: MotoAccount) -> None:
    """Delete what a deploy made: moto's state is shared by every moto server of the session."""
    lambda_client = account.client("lambda")
    for function in lambda_client.list_functions()["Functions"]:
        lambda_client.delete_function(FunctionName=function["FunctionName"])
    apigateway = account.client("apigateway")
    for api in apigateway.get_rest_apis()["items"]:
        apigateway.delete_rest_api(restApiId=api["id"])
    # A stand-in of its own: the account's is made only once the test's hooks are registered.
    infra = moto_harness.InfraStack(session=account.session, endpoint=account.endpoint)
    for name in (FUNCTION, stack.stack_name(stage=STAGE)):
        infra.delete_stack(StackName=name)
    infra.remove()
    acm = account.client("acm")
    for item in acm.list_certificates()["CertificateSummaryList"]:
        acm.delete_certificate(CertificateArn=item["CertificateArn"])
    moto_harness.empty_buckets(s3=account.client("s3"), prefix="resume-site-")


def hosted_zone(account: MotoAccount) -> str:
    route53 = account.client("route53")
    zones = route53.list_hosted_zones_by_name(DNSName="example.com.")["HostedZones"]
    if zones and zones[0]["Name"] == "example.com.":
        return zones[0]["Id"].split("/")[-1]
    answer = route53.create_hosted_zone(Name="example.com", CallerReference="resume-tests")
    return answer["HostedZone"]["Id"].split("/")[-1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server for this module's tests (moto_server)."""
    with moto_server(home=tmp_path_factory.mktemp("live")) as endpoint:
        yield endpoint


@contextlib.contextmanager
def moto_server(*, home: Path) -> Iterator[str]:
    """A moto server, with this process's environment pointing every AWS client (and the Zappa
    CLI the deploy starts) at it, the build venv active, ACM's validation quick."""
    with moto_harness.running() as endpoint, zappa_scratch() as scratch:
        environment = moto_harness.aws_environment(
            endpoint=endpoint,
            home=home,
            region=REGION,
            base={**os.environ, **scratch, "VIRTUAL_ENV": str(package.packaging_venv())},
        )
        with (
            mock.patch.dict(os.environ, environment, clear=True),
            mock.patch.object(moto.settings, "ACM_VALIDATION_WAIT", 1),
        ):
            yield endpoint


def inputs(zone: str, *, domain: str = DOMAIN) -> Inputs:
    return Inputs(
        domain=domain, alert_email="owner@example.com", certificate="request", hosted_zone=zone
    )


def first_inputs(zone: str, *, certificate: str = "request") -> Inputs:
    """The first deploys' inputs: an administrator's, with the repository whose workflow the
    deploy role trusts (a provider made for it); the routine run names the certificate by its
    ARN, as the workflow's variables name it."""
    return Inputs(
        domain=DOMAIN,
        alert_email="owner@example.com",
        certificate=certificate,
        hosted_zone=zone,
        github_repository=REPOSITORY,
        github_oidc_provider="",
    )


@dataclass
class Deployed:
    first: Any
    first_lines: list[str]
    zappa_runs: list[list[str]]
    after_first: dict[str, Any]
    second: Any
    second_lines: list[str]
    second_changes: list[tuple[str, str]]
    zappa_runs_second: list[list[str]]
    site: FakeSite
    infra_applied: list[dict[str, str]]


def state(account: MotoAccount) -> dict[str, Any]:
    """What the account holds that the deploy is responsible for."""
    lambda_client, s3 = account.client("lambda"), account.client("s3")
    function = lambda_client.get_function(FunctionName=FUNCTION)
    described = stack.described(cloudformation=account.infra, stage=STAGE) or {}
    owner = account.client("sts").get_caller_identity()["Account"]
    bucket = stack.deploy_bucket(stage=STAGE, account=owner)
    outputs = stack.outputs_of(described)
    return {
        "function": function,
        "tags": lambda_client.list_tags(Resource=function["Configuration"]["FunctionArn"])["Tags"],
        "parameters": stack.parameters_of(described),
        "outputs": outputs,
        "api_id": live.zappa_api_id(cloudformation=account.infra, stage=STAGE),
        "deploy_bucket": bucket,
        "secrets": json.loads(s3.get_object(Bucket=bucket, Key=stack.SECRETS_KEY)["Body"].read()),
        "static_objects": s3.list_objects_v2(Bucket=outputs["StaticBucketName"]).get(
            "Contents", []
        ),
        "invalidations": moto_harness.invalidated_paths(
            cloudfront=account.client("cloudfront"), distribution_id=outputs["DistributionId"]
        ),
        "certificates": account.client("acm").list_certificates()["CertificateSummaryList"],
    }


@dataclass
class RoutineRun:
    """The routine `make deploy` after the first two, for tests/infra/test_deploy_role_drift.py:
    every AWS call it made, in this process and in those it started (as
    tests/infra/aws_calls/sitecustomize.py records them), and what the account held before and
    after."""

    calls: list[dict[str, Any]]  # {"service", "operation", "params"}, in order
    zappa_runs: list[list[str]]
    report: Any
    lines: list[str]
    first: dict[str, Any]  # state() after the first deploys
    after: dict[str, Any]  # state() after the routine one
    stacks: dict[str, str]  # the infra stack's and Zappa's: name -> StackId
    zappa_template_before: Any
    zappa_template_after: Any


@dataclass
class FirstDeploys:
    deployed: Deployed
    routine: RoutineRun


_made: list[FirstDeploys] = []  # this process's copy


def first_deploys(tmp_path_factory: pytest.TempPathFactory) -> FirstDeploys:
    """`make deploy` three times from an empty account, with the real Zappa CLI: the first
    deploy, the same run again (which changes nothing), and a routine one after a new
    SECRET_KEY, recorded. Made once a session: the first test process that asks makes them
    (under a lock, in the session's temporary folder, which pytest-xdist's processes share) and
    leaves them in a file, which the others read."""
    if _made:
        return _made[0]
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    made = shared / "first-deploys.pickle"
    with (shared / "first-deploys.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not made.exists():
            home = tmp_path_factory.mktemp("first-deploys")
            with moto_server(home=home) as endpoint:
                account = moto_account(endpoint=endpoint)
                try:
                    deploys = FirstDeploys(
                        deployed=deploy_twice(account),
                        routine=routine_recorded(account, folder=home / "aws-calls"),
                    )
                finally:
                    remove_everything(account)
            made.write_bytes(pickle.dumps(deploys))
        # Written just now, or by a process of this session, in pytest's own folder (0700).
        _made.append(pickle.loads(made.read_bytes()))  # noqa: S301
    return _made[0]


def first_zappa(runs: list[list[str]]) -> Callable[..., None]:
    def zappa(*, args: list[str]) -> None:
        runs.append(args)
        live.zappa_deferring(args=args)

    return zappa


def deploy_twice(account: MotoAccount) -> Deployed:
    """`make deploy PACKAGE=...` from an empty account with the real Zappa CLI, shipping the
    session's prod package (the one the package tests run), then again unchanged. The routine
    deploy after them (routine_recorded) builds its own, as `make deploy` does by default."""
    runs: list[list[str]] = []
    zone = hosted_zone(account)
    site = FakeSite(DOMAIN)
    package = package_built()

    def make_deploy(lines: list[str]) -> Any:
        return live.deploy(
            stage=STAGE,
            inputs=first_inputs(zone),
            account=account,
            echo=lines.append,
            zappa=first_zappa(runs),
            fetch=site,
            sleep=0.2,
            package=package,
        )

    first_lines: list[str] = []
    first = make_deploy(first_lines)
    after_first = state(account)
    template = account.infra.cloudformation.get_template(StackName=FUNCTION)
    after_first["zappa_template"] = template["TemplateBody"]
    first_runs = list(runs)
    account.calls.clear()
    second_lines: list[str] = []
    second = make_deploy(second_lines)
    return Deployed(
        first=first,
        first_lines=first_lines,
        zappa_runs=first_runs,
        after_first=after_first,
        second=second,
        second_lines=second_lines,
        second_changes=account.changing(),
        zappa_runs_second=runs[len(first_runs) :],
        site=site,
        infra_applied=list(account.infra.applied),
    )


def record_get_template(infra: Any, folder: Path) -> Any:
    """The stand-in answers GetTemplate of the infra stack itself; recorded here as
    CloudFormation's, as the calls it passes on to moto are."""
    get_template = infra.get_template

    def recorded(**kwargs: Any) -> dict[str, Any]:
        call = {"service": "cloudformation", "operation": "GetTemplate", "params": kwargs}
        with (folder / f"{os.getpid()}.jsonl").open("a", encoding="utf-8") as file:
            file.write(json.dumps(call) + "\n")
        return get_template(**kwargs)

    return recorded


def routine_recorded(account: MotoAccount, *, folder: Path) -> RoutineRun:
    """After the first deploys, a new SECRET_KEY in the secrets object (so the function must be
    updated), then a routine `make deploy`, recorded: in this process through botocore, and in
    the processes it starts (the Zappa CLI, the collectstatic child of its callback) through
    tests/infra/aws_calls/sitecustomize.py, which PYTHONPATH makes them import."""
    folder.mkdir()
    first = state(account)
    (certificate,) = first["certificates"]
    rotated = {**first["secrets"], "SECRET_KEY": "rotated-" * 10}
    account.client("s3").put_object(
        Bucket=first["deploy_bucket"],
        Key=stack.SECRETS_KEY,
        Body=json.dumps(rotated).encode(),
        ServerSideEncryption="AES256",
    )
    zappa_stack = stack.zappa_stack_name(stage=STAGE)
    before = account.infra.cloudformation.get_template(StackName=zappa_stack)
    routine = first_inputs(hosted_zone(account), certificate=certificate["CertificateArn"])
    runs: list[list[str]] = []
    lines: list[str] = []
    with (
        mock.patch.object(
            BaseClient, "_make_api_call", recorder.recording(BaseClient._make_api_call, folder)
        ),
        mock.patch.object(
            account.infra, "get_template", record_get_template(account.infra, folder)
        ),
        mock.patch.dict(os.environ, recorder.child_environment(str(folder))),
    ):
        report = live.deploy(
            stage=STAGE,
            inputs=routine,
            account=account,
            echo=lines.append,
            zappa=first_zappa(runs),
            fetch=FakeSite(DOMAIN),
            sleep=0.2,
        )
    stacks = {
        name: account.infra.cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackId"]
        for name in (stack.stack_name(stage=STAGE), zappa_stack)
    }
    return RoutineRun(
        calls=recorder.recorded(str(folder)),
        zappa_runs=runs,
        report=report,
        lines=lines,
        first=first,
        after=state(account),
        stacks=stacks,
        zappa_template_before=before["TemplateBody"],
        zappa_template_after=account.infra.cloudformation.get_template(StackName=zappa_stack)[
            "TemplateBody"
        ],
    )


def small_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def lambda_handler(event, context):\n    return {}\n")
    return buffer.getvalue()


@dataclass
class FakeZappa:
    """What `zappa deploy` and `zappa update` leave in the account (the function; Zappa's own
    stack with its REST API), for the failure matrix; `stop_after_function` is a deploy that
    made the function and then stopped (as at a refused PutFunctionConcurrency)."""

    account: MotoAccount
    stop_after_function: bool = False
    runs: list[list[str]] = field(default_factory=list)

    def __call__(self, *, args: list[str]) -> None:
        self.runs.append(args)
        lambda_client = self.account.client("lambda")
        if args[0] == "update":
            lambda_client.update_function_code(FunctionName=FUNCTION, ZipFile=small_zip())
            return
        lambda_client.create_function(
            FunctionName=FUNCTION,
            Runtime="python3.13",
            Role=f"arn:aws:iam::123456789012:role/{FUNCTION}-lambda",
            Handler="handler.lambda_handler",
            Code={"ZipFile": small_zip()},
        )
        if self.stop_after_function:
            self.stop_after_function = False
            raise runs.StepFailed("`zappa deploy prod` failed (exit status 1)")
        template = {
            "Resources": {
                "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": FUNCTION}}
            }
        }
        self.account.infra.cloudformation.create_stack(
            StackName=FUNCTION, TemplateBody=json.dumps(template)
        )
        api_id = live.zappa_api_id(cloudformation=self.account.infra, stage=STAGE)
        moto_harness.deploy_api(
            apigateway=self.account.client("apigateway"), api_id=api_id, stage=STAGE
        )


def fake_deploys(
    account: MotoAccount,
    *,
    domain: str,
    echo: Callable[[str], None],
    zappa: FakeZappa | None = None,
) -> Callable[[], Any]:
    """`make deploy` of its own domain (moto remembers a deleted certificate's idempotency
    token) with the Zappa stand-in, as often as called."""
    zone = hosted_zone(account)
    zappa = zappa or FakeZappa(account)

    def run() -> Any:
        return live.deploy(
            stage=STAGE,
            inputs=inputs(zone, domain=domain),
            account=account,
            echo=echo,
            zappa=zappa,
            fetch=FakeSite(domain),
            sleep=0.05,
        )

    return run


def fail_once(account: MotoAccount, *, service: str, operation: str) -> None:
    """The first `service` `operation` call the deploy makes fails, as AWS's 500 would."""
    done: list[bool] = []

    def hook(**kwargs: Any) -> None:
        model = kwargs["model"]
        if not done and (model.service_model.service_name, model.name) == (service, operation):
            done.append(True)
            raise ClientError(
                {"Error": {"Code": "InternalFailure", "Message": "injected"}}, operation
            )

    account.session.events.register("before-call", hook)


# Each step's failure: (service, operation) failing once, or the Zappa deploy stopping after it
# made the function.
FAILURES = {
    "the secrets object": ("s3", "PutObject"),
    "the validation record": ("route53", "ChangeResourceRecordSets"),
    "the stack's creation": ("cloudformation", "CreateStack"),
    "zappa deploy, after the function": ("zappa", "deploy"),
    "the stack pointed at the API": ("cloudformation", "UpdateStack"),
    "the distribution's wait": ("cloudfront", "GetDistribution"),
    "the invalidation": ("cloudfront", "CreateInvalidation"),
    "the function's tag": ("lambda", "TagResource"),
}


@dataclass
class Resumed:
    first_error: Exception
    second: Any
    zappa: FakeZappa
    after: dict[str, Any]
    requested: int
    domain: str


def certificates_wait(seconds: int) -> Any:
    """moto's ACM issues a requested certificate once it is this many seconds old (the server
    fixture's: 1). The first deploys and the failure of the validation record's step wait for
    it; the rest of the failure matrix, whose steps are not the certificate's, has it at once
    (a second saved a run)."""
    return mock.patch.object(moto.settings, "ACM_VALIDATION_WAIT", seconds)


@pytest.fixture
def certificates_at_once() -> Iterator[None]:
    with certificates_wait(0):
        yield


@pytest.fixture(scope="module", params=sorted(FAILURES))
def resumed(request: pytest.FixtureRequest, server: str) -> Iterator[Resumed]:
    """A deploy that fails at one step, then the next run."""
    service, operation = FAILURES[request.param]
    account = moto_account(endpoint=server)
    zappa = FakeZappa(account, stop_after_function=service == "zappa")
    if service != "zappa":
        fail_once(account, service=service, operation=operation)
    domain = f"case{sorted(FAILURES).index(request.param)}.example.com"
    run = fake_deploys(account, domain=domain, echo=lambda line: None, zappa=zappa)
    pending = service == "route53"  # the validation record is made for a pending certificate
    try:
        with certificates_wait(1 if pending else 0):
            with pytest.raises((ClientError, live.DeployError)) as failed:
                run()
            second = run()
        requested = sum(1 for call in account.calls if call == ("acm", "RequestCertificate"))
        yield Resumed(failed.value, second, zappa, state(account), requested, domain)
    finally:
        remove_everything(account)


def test_a_run_stopped_at_any_step_is_completed_by_the_next(resumed: Resumed) -> None:
    assert resumed.second.failed == []
    after = resumed.after
    assert after["api_id"] and after["parameters"]["ApiId"] == after["api_id"]
    assert after["tags"][live.DEPLOYED_TAG]
    assert after["invalidations"]  # the edge was invalidated once the run got that far
    assert [item["DomainName"] for item in after["certificates"]].count(resumed.domain) == 1
    assert resumed.requested == 1  # the next run found the certificate, requested none


def test_the_next_run_deploys_or_updates_never_refused_as_already_deployed(
    resumed: Resumed,
) -> None:
    commands = [arguments[0] for arguments in resumed.zappa.runs]
    assert commands[-1] in ("deploy", "update")
    assert commands.count("deploy") <= 2
    if "injected" not in str(resumed.first_error):  # the deploy stopped after the function
        assert commands == ["deploy", "deploy"]


def test_a_deploy_while_the_kill_switch_has_the_api_off_keeps_the_edges_pages(
    server: str, certificates_at_once: None
) -> None:
    """The edge's copy is all visitors get while the API is off; `make api-on` invalidates."""
    account = moto_account(endpoint=server)
    lines: list[str] = []
    run = fake_deploys(account, domain="switched-off.example.com", echo=lines.append)

    try:
        run()
        after_first = state(account)
        api_id = after_first["api_id"]
        apigateway = account.client("apigateway")
        post_deploy.set_throttling(
            apigateway=apigateway,
            api_id=api_id,
            stage=STAGE,
            limits={"rate_limit": 0, "burst_limit": 0},
        )
        s3 = account.client("s3")
        values = {**after_first["secrets"], "SECRET_KEY": "rotated" * 10}
        s3.put_object(
            Bucket=after_first["deploy_bucket"], Key=stack.SECRETS_KEY, Body=json.dumps(values)
        )
        lines.clear()
        run()
        after_second = state(account)
    finally:
        remove_everything(account)

    assert len(after_first["invalidations"]) == 1
    assert after_second["invalidations"] == after_first["invalidations"]
    assert any("`make api-on STAGE=prod`" in line for line in lines)
    # The function is recorded as updated: the next run does not update it again.
    assert after_second["tags"][live.DEPLOYED_TAG] != after_first["tags"][live.DEPLOYED_TAG]


def test_a_stack_naming_an_api_zappa_no_longer_has_is_mended(
    server: str, certificates_at_once: None
) -> None:
    """After an undeploy and a redeploy Zappa's API has a new id: the stack follows it."""
    account = moto_account(endpoint=server)
    lines: list[str] = []
    run = fake_deploys(account, domain="mended.example.com", echo=lines.append)

    try:
        run()
        old_api = state(account)["api_id"]
        # `zappa undeploy prod`: the function, Zappa's stack and its API are gone.
        account.client("lambda").delete_function(FunctionName=FUNCTION)
        account.client("apigateway").delete_rest_api(restApiId=old_api)
        account.infra.delete_stack(StackName=FUNCTION)
        lines.clear()
        run()
        after = state(account)
    finally:
        remove_everything(account)

    assert after["api_id"] != old_api
    assert after["parameters"]["ApiId"] == after["api_id"]
    assert not any("mending" in line for line in lines)  # the stack was pointed at it anew
    assert len(after["invalidations"]) == 2


# --- The first deploys (first_deploys): last, so that this module's other tests run while the
# test process that makes them (this one or tests/infra/test_deploy_role_drift.py's) does.


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Deployed:
    """`make deploy` twice from an empty account: with the real Zappa CLI, then unchanged."""
    return first_deploys(tmp_path_factory).deployed


def test_the_first_deploy_goes_from_an_empty_account_to_a_checked_site(
    deployed: Deployed,
) -> None:
    assert deployed.zappa_runs == [["deploy", STAGE, "--zip", str(package_built())]]
    assert deployed.first.failed == []
    assert len(deployed.first.results) == 6
    assert [line for line in deployed.first_lines if line.startswith("[")] == [
        f"[{step}/9] {name}"
        for step, name in enumerate(
            (
                "The deploy bucket",
                "The secrets",
                "The certificate",
                "The infra stack",
                "The function and its API (Zappa)",
                "The infra stack, pointed at the API",
                "The distribution",
                "The edge's cached pages",
                "The live checks",
            ),
            start=1,
        )
    ]


def test_the_stack_ends_pointed_at_zappas_api_with_the_issued_certificate(
    deployed: Deployed,
) -> None:
    after = deployed.after_first
    assert after["api_id"]
    assert after["parameters"]["ApiId"] == after["api_id"]
    (certificate,) = after["certificates"]
    assert certificate["DomainName"] == DOMAIN
    assert after["parameters"]["CertificateArn"] == certificate["CertificateArn"]
    assert after["parameters"]["DomainName"] == DOMAIN


def test_the_api_is_regional_so_the_distribution_is_the_one_cloudfront_hop(
    deployed: Deployed,
) -> None:
    """Checked in the template Zappa gave CloudFormation: moto keeps the RestApi's
    EndpointConfiguration in CloudFormation's spelling, which its GetRestApi answer drops."""
    api = json.loads(json.dumps(deployed.after_first["zappa_template"]))["Resources"]["Api"]
    assert api["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}


def test_the_secrets_object_is_made_and_the_distribution_sends_its_origin_secret(
    deployed: Deployed,
) -> None:
    after = deployed.after_first
    assert set(after["secrets"]) == {"SECRET_KEY", "EDGE_ORIGIN_SECRET"}
    assert after["deploy_bucket"] == "resume-site-prod-deploys-123456789012"
    # What the stand-in was given (DescribeStacks shows a NoEcho parameter masked).
    assert deployed.infra_applied[-1]["OriginSecret"] == after["secrets"]["EDGE_ORIGIN_SECRET"]
    assert len(deployed.infra_applied) == 2  # created, then pointed at the API; not again


def test_the_function_gets_the_stacks_values_and_secrets_in_its_configuration(
    deployed: Deployed,
) -> None:
    after = deployed.after_first
    variables = after["function"]["Configuration"]["Environment"]["Variables"]
    outputs = after["outputs"]
    assert variables["DYNAMODB_TABLE"] == outputs["TableName"] == "resume-site-prod"
    assert variables["SITE_URL"] == f"https://{DOMAIN}"
    assert variables["STATIC_BUCKET"] == outputs["StaticBucketName"]
    assert variables["STATIC_BUCKET"] == "resume-site-prod-static-123456789012"
    assert variables["STATIC_DOMAIN"] == DOMAIN
    assert variables["SECRET_KEY"] == after["secrets"]["SECRET_KEY"]
    assert variables["EDGE_ORIGIN_SECRET"] == after["secrets"]["EDGE_ORIGIN_SECRET"]
    assert after["function"]["Concurrency"]["ReservedConcurrentExecutions"] == 10


def test_static_files_are_published_before_the_function_that_names_them(
    deployed: Deployed,
) -> None:
    """A new container never names a hashed file the bucket does not hold yet."""
    after = deployed.after_first
    published = [item for item in after["static_objects"] if item["Key"].startswith("static/")]
    assert any(item["Key"].startswith("static/css/") for item in published)
    made = dt.datetime.fromisoformat(after["function"]["Configuration"]["LastModified"])
    assert max(item["LastModified"] for item in published) <= made


def test_the_edge_is_invalidated_once_and_the_pdfs_once(deployed: Deployed) -> None:
    """The page's paths at the end of the run; the resume's PDFs when Zappa's callback
    published them (deploy/pdf.py)."""
    assert sorted(deployed.after_first["invalidations"]) == sorted(
        [["/", "/robots.txt", "/favicon.ico"], ["/resume.pdf", "/resume-letter.pdf"]]
    )


def test_the_function_records_what_it_was_deployed_from(deployed: Deployed) -> None:
    assert len(deployed.after_first["tags"][live.DEPLOYED_TAG]) == 64


def test_a_second_run_changes_nothing_and_says_so(deployed: Deployed) -> None:
    assert deployed.zappa_runs_second == []
    assert deployed.second_changes == []
    assert deployed.second.failed == []
    assert any("Nothing changed" in line for line in deployed.second_lines)
    assert any("is up to date" in line for line in deployed.second_lines)


def test_a_prebuilt_zip_is_part_of_what_the_function_was_deployed_from(tmp_path: Path) -> None:
    """Another zip is another deploy, even from the same files, secrets and stack."""
    first, second = tmp_path / "first.zip", tmp_path / "second.zip"
    for path, text in ((first, "one"), (second, "two")):
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("handler.py", text)
    digests = {
        live.source_digest(stage=STAGE, secrets_etag="e", environment={}, package=package)
        for package in (None, first, second, first)
    }
    assert len(digests) == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([STAGE, "--zip", "build/no-such.zip"], "PACKAGE=build/no-such.zip: no such file"),
        ([STAGE, "--zip", "README.md"], "PACKAGE=README.md is not a zip"),
        ([STAGE, "--zip"], "Usage: python -m deploy.live STAGE [--zip PACKAGE]"),
        ([STAGE, "--zap", "x.zip"], "Usage: python -m deploy.live STAGE [--zip PACKAGE]"),
    ],
)
def test_a_package_that_is_no_zip_is_refused_before_any_aws_call(
    argv: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(live.ROOT)
    monkeypatch.setattr(live, "read_inputs", mock.Mock(side_effect=AssertionError("read")))
    monkeypatch.setattr(live.boto3, "Session", mock.Mock(side_effect=AssertionError("AWS")))

    with pytest.raises(live.DeployError, match=re.escape(message)):
        live.main(argv)
