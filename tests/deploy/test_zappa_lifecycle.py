"""`zappa deploy dev`, `zappa update dev`, `zappa status dev` and `zappa undeploy dev`, run end to
end by the real Zappa CLI against a moto server (AWS_ENDPOINT_URL), with the committed dev stage.

Settings: the lifecycle runs with zappa_settings.json exactly as committed, no override file.
Nothing has to be overridden: the test creates in moto what the stage names and what
infra/template.yaml and its README would create before a first deploy (the `s3_bucket` Zappa
uploads to, with the `secret_env` object holding a fresh SECRET_KEY; the `role_name` execution
role; the STATIC_BUCKET), so both callbacks run for real: `settings` validates the stage, reads
the secret into the function's environment and hashes the static manifest, `post` runs
collectstatic into moto's S3. Only the refused deploy uses a temporary settings file (`-s`): the
dev stage minus its concurrency cap, which the `settings` callback must reject before anything
reaches AWS.

Packages: the deploy uses a prebuilt zip (`-z`) made by `zappa package dev` (which reads no
secret), the update builds its own zip in the same Zappa process that holds the secret; both
package the build venv (deploy/package.py, as `make package` does), in a git checkout
holding a copy of the project's tracked files plus stray untracked files, which must not ship.
Between the two, one tracked file of that checkout changes, so the update ships new code, and
the secret is rotated in S3, so the update must set the new one.

Where moto lacks an API Zappa calls, tests/deploy/moto_harness.py adds it (and says which).
"""

import base64
import hashlib
import io
import json
import secrets
import shutil
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from deploy import package, secret_env, stages
from tests.deploy import moto_harness, stage_configs
from tests.deploy.conftest import zappa_scratch

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent.parent
STAGE = "dev"
ZAPPA = Path(sys.executable).with_name("zappa")  # the dev venv's Zappa CLI
CHANGED_FILE = Path("resume_site") / "__init__.py"
COMMAND_TIMEOUT_SECONDS = 180
# Untracked files a checkout collects (DynamoDB Local's metadata once reached the prod zip).
STRAY_FILES = ("dynamodb-local-metadata.json", "resume_site/scratch.py")


def dev_stage() -> dict[str, Any]:
    """The dev stage of zappa_settings.json merged over its base as Zappa does, with what the
    deploy reads from the example owner's account and stack (tests/deploy/stage_configs.py)."""
    return stage_configs.deployed(STAGE)


def code_sha256(*, package: Path) -> str:
    """A zip's hash as Lambda reports it in CodeSha256: base64 of the SHA-256 digest."""
    return base64.b64encode(hashlib.sha256(package.read_bytes()).digest()).decode()


def copy_project(*, destination: Path) -> Path:
    """A git checkout of the project's tracked files (the test changes one of them, which the
    real checkout must never see), with stray untracked files added."""
    listed = subprocess.run(
        [shutil.which("git"), "ls-files", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for path in (path for path in listed if path and (ROOT / path).is_file()):
        (destination / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, destination / path)
    for args in (("init", "-q"), ("add", "-A")):
        subprocess.run([shutil.which("git"), *args], cwd=destination, check=True)
    for stray in STRAY_FILES:
        (destination / stray).write_text("# not tracked: must not ship\n", encoding="utf-8")
    return destination


def zappa_package(*, project: Path, output: Path, env: dict[str, str]) -> Path:
    """`zappa package dev -o output` in `project`, packaging the build venv (never the dev
    venv), as deploy/package.py runs it."""
    result = subprocess.run(
        [str(ZAPPA), "package", STAGE, "-o", str(output)],
        cwd=project,
        env=build_environment(env),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0 and output.exists(), (
        f"`zappa package {STAGE}` failed ({result.returncode}):\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return output


def build_environment(base: dict[str, str]) -> dict[str, str]:
    """`base` (an environment whose TMPDIR Zappa copies into, tests/deploy/conftest.py), with
    the checkout's up-to-date build venv active: the callbacks of the copy's own deploy/ then
    package it (rather than make one in the copy)."""
    return {**base, "VIRTUAL_ENV": str(package.packaging_venv())}


def aws_environment(
    *, endpoint: str, home: Path, base: dict[str, str] | None = None
) -> dict[str, str]:
    return moto_harness.aws_environment(
        endpoint=endpoint, home=home, region=dev_stage()["aws_region"], base=base
    )


@dataclass(frozen=True)
class Run:
    """One Zappa CLI command and what it printed."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def output(self) -> str:
        return f"$ zappa {' '.join(self.args)} -> {self.returncode}\n{self.stdout}\n{self.stderr}"


def zappa(
    *args: str,
    project: Path,
    env: dict[str, str],
    must_succeed: bool = True,
) -> Run:
    """Run the Zappa CLI in `project`; fail with its output if it must succeed and did not."""
    result = subprocess.run(
        [str(ZAPPA), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
        check=False,
    )
    run = Run(args=args, returncode=result.returncode, stdout=result.stdout, stderr=result.stderr)
    assert run.returncode == 0 or not must_succeed, run.output()
    return run


class Aws:
    """boto3 clients on the moto server, for setting up and inspecting what Zappa did."""

    def __init__(self, *, endpoint: str, region: str) -> None:
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
        )
        self.s3 = session.client("s3", endpoint_url=endpoint)
        self.iam = session.client("iam", endpoint_url=endpoint)
        self.lambda_ = session.client("lambda", endpoint_url=endpoint)
        self.apigateway = session.client("apigateway", endpoint_url=endpoint)
        self.cloudformation = session.client("cloudformation", endpoint_url=endpoint)
        self.cloudfront = session.client("cloudfront", endpoint_url=endpoint)
        self.infra = moto_harness.InfraStack(session=session, endpoint=endpoint)
        self.distribution_id = ""

    def create_prerequisites(self, *, stage: dict[str, Any], secret_key: str) -> None:
        """What exists before `zappa deploy dev`: what `make deploy` makes first (the deploy
        bucket holding the secrets object) and the infra stack (through moto_harness's stand-in:
        the execution role, the table, the static bucket, the distribution and the outputs)."""
        self.infra.create_stack(
            StackName=stage["infra_stack"],
            TemplateBody="the template",
            Parameters=[
                {"ParameterKey": "Stage", "ParameterValue": STAGE},
                {"ParameterKey": "DomainName", "ParameterValue": "dev.alexrivera.example.com"},
            ],
        )
        self.distribution_id = self.infra.distributions[stage["infra_stack"]]
        self.s3.create_bucket(Bucket=stage["s3_bucket"])
        self.put_secret(stage=stage, secret_key=secret_key)

    def remove_all(self, *, name: str, stage: dict[str, Any]) -> None:
        """Delete what the test and Zappa created (also after a failed step): moto's state is
        shared by every moto server of the session, so nothing may be left for later tests."""
        if self.function(name=name) is not None:
            self.lambda_.delete_function(FunctionName=name)
        for api_id in self.rest_api_ids(name=name):
            self.apigateway.delete_rest_api(restApiId=api_id)
        self.cloudformation.delete_stack(StackName=name)
        self.infra.remove()
        moto_harness.empty_buckets(s3=self.s3, prefix=f"resume-site-{STAGE}-")

    def put_secret(self, *, stage: dict[str, Any], secret_key: str) -> None:
        """Write (or rotate) the stage's secret_env object, as infra/README.md does."""
        bucket, key = secret_env.parse_s3_url(stage[secret_env.SETTING])
        body = json.dumps({"SECRET_KEY": secret_key}).encode()
        self.s3.put_object(Bucket=bucket, Key=key, Body=body, ServerSideEncryption="AES256")

    def function(self, *, name: str) -> dict[str, Any] | None:
        """get_function's answer, or None when there is no such function."""
        try:
            return self.lambda_.get_function(FunctionName=name)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise

    def rest_api_ids(self, *, name: str) -> list[str]:
        return [
            api["id"] for api in self.apigateway.get_rest_apis()["items"] if api["name"] == name
        ]

    def stage_names(self, *, api_id: str) -> set[str]:
        return {
            stage["stageName"] for stage in self.apigateway.get_stages(restApiId=api_id)["item"]
        }

    def stage_throttling(self, *, api_id: str, stage: str) -> dict[str, Any]:
        """The stage's default method throttling (rate and burst), {} if none is set."""
        settings = self.apigateway.get_stage(restApiId=api_id, stageName=stage)
        defaults = settings.get("methodSettings", {}).get("*/*", {})
        return {key: value for key, value in defaults.items() if key.startswith("throttling")}

    def object_keys(self, *, bucket: str) -> set[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}


@dataclass(frozen=True)
class Snapshot:
    """What the moto account holds for the function at one point of the lifecycle."""

    function: dict[str, Any] | None
    api_ids: list[str]
    api_stages: set[str]
    upload_keys: set[str]
    static_keys: set[str]
    throttling: dict[str, Any]
    invalidations: list[list[str]]


def snapshot(*, aws: Aws, name: str, stage: dict[str, Any]) -> Snapshot:
    api_ids = aws.rest_api_ids(name=name)
    stages = aws.stage_names(api_id=api_ids[0]) if len(api_ids) == 1 else set()
    return Snapshot(
        function=aws.function(name=name),
        api_ids=api_ids,
        api_stages=stages,
        upload_keys=aws.object_keys(bucket=stage["s3_bucket"]),
        static_keys=aws.object_keys(bucket=stage["environment_variables"]["STATIC_BUCKET"]),
        throttling=(
            aws.stage_throttling(api_id=api_ids[0], stage=STAGE) if STAGE in stages else {}
        ),
        invalidations=moto_harness.invalidated_paths(
            cloudfront=aws.cloudfront, distribution_id=aws.distribution_id
        ),
    )


@dataclass(frozen=True)
class Lifecycle:
    """Everything one deploy -> status -> update -> undeploy run produced."""

    name: str
    stage: dict[str, Any]
    first_package: Path
    updated_code: bytes
    marker: str
    first_secret: str
    second_secret: str
    refused: Run
    after_refused: Snapshot
    status: Run
    after_deploy: Snapshot
    after_update: Snapshot
    after_undeploy: Snapshot


@pytest.fixture(scope="module")
def scratch() -> Iterator[dict[str, str]]:
    with zappa_scratch() as environment:
        yield environment


@pytest.fixture(scope="module")
def lifecycle(
    tmp_path_factory: pytest.TempPathFactory, scratch: dict[str, str]
) -> Iterator[Lifecycle]:
    """The whole lifecycle, run once for this module's tests to inspect."""
    assert ZAPPA.exists(), f"no Zappa CLI next to {sys.executable}: run the tests from the venv"
    stage = dev_stage()
    name = f"{stage['project_name']}-{STAGE}"
    work = tmp_path_factory.mktemp("zappa-lifecycle")
    project = copy_project(destination=work / "project")
    first = zappa_package(project=project, output=work / "first.zip", env=scratch)
    marker = f"# lifecycle test build {uuid.uuid4().hex}\n"
    first_secret, second_secret = secrets.token_urlsafe(64), secrets.token_urlsafe(64)

    with moto_harness.running() as endpoint:
        aws = Aws(endpoint=endpoint, region=stage["aws_region"])
        aws.create_prerequisites(stage=stage, secret_key=first_secret)
        env = aws_environment(endpoint=endpoint, home=work)
        build_env = aws_environment(endpoint=endpoint, home=work, base=build_environment(scratch))
        try:
            # A stage without its concurrency cap: the settings callback must stop the deploy.
            broken = stages.load_settings(settings_file=project / "zappa_settings.json")
            del broken[STAGE]["lambda_concurrency"]
            broken_settings = work / "broken_settings.json"
            broken_settings.write_text(json.dumps(broken), encoding="utf-8")
            refused = zappa(
                *("deploy", STAGE, "-s", str(broken_settings), "-z", str(first)),
                project=project,
                env=env,
                must_succeed=False,
            )
            after_refused = snapshot(aws=aws, name=name, stage=stage)
            zappa("deploy", STAGE, "-z", str(first), project=project, env=env)
            after_deploy = snapshot(aws=aws, name=name, stage=stage)
            status = zappa("status", STAGE, "--json", project=project, env=env)
            with (project / CHANGED_FILE).open("a", encoding="utf-8") as changed:
                changed.write(marker)
            aws.put_secret(stage=stage, secret_key=second_secret)
            zappa("update", STAGE, project=project, env=build_env)
            after_update = snapshot(aws=aws, name=name, stage=stage)
            updated_code = moto_harness.function_code(name=name, region=stage["aws_region"])
            zappa("undeploy", STAGE, "--yes", project=project, env=env)
            after_undeploy = snapshot(aws=aws, name=name, stage=stage)
        finally:
            aws.remove_all(name=name, stage=stage)

    yield Lifecycle(
        name=name,
        stage=stage,
        first_package=first,
        updated_code=updated_code,
        marker=marker,
        first_secret=first_secret,
        second_secret=second_secret,
        refused=refused,
        after_refused=after_refused,
        status=status,
        after_deploy=after_deploy,
        after_update=after_update,
        after_undeploy=after_undeploy,
    )


def test_deploy_of_an_invalid_stage_is_refused_before_anything_is_created(
    lifecycle: Lifecycle,
) -> None:
    assert lifecycle.refused.returncode != 0
    assert "lambda_concurrency must be a whole number" in lifecycle.refused.output()
    nothing = Snapshot(
        function=None,
        api_ids=[],
        api_stages=set(),
        upload_keys={secret_env.parse_s3_url(lifecycle.stage[secret_env.SETTING])[1]},
        static_keys=set(),
        throttling={},
        invalidations=[],
    )
    assert lifecycle.after_refused == nothing


def test_deploy_creates_the_function_from_the_package(lifecycle: Lifecycle) -> None:
    function = lifecycle.after_deploy.function
    assert function is not None
    assert function["Configuration"]["CodeSha256"] == code_sha256(package=lifecycle.first_package)


def test_deploy_configures_the_function_from_the_stage(lifecycle: Lifecycle) -> None:
    config = lifecycle.after_deploy.function["Configuration"]
    assert config["Runtime"] == lifecycle.stage["runtime"]
    assert config["Handler"] == "handler.lambda_handler"
    assert config["Role"].endswith(f":role/{lifecycle.stage['role_name']}")
    assert config["Timeout"] == lifecycle.stage["timeout_seconds"]
    assert config["MemorySize"] == lifecycle.stage["memory_size"]


def test_deploy_caps_the_function_concurrency(lifecycle: Lifecycle) -> None:
    function = lifecycle.after_deploy.function
    reserved = function["Concurrency"]["ReservedConcurrentExecutions"]
    assert reserved == lifecycle.stage["lambda_concurrency"]


def test_deploy_creates_one_rest_api_deployed_to_the_stage(lifecycle: Lifecycle) -> None:
    assert len(lifecycle.after_deploy.api_ids) == 1
    assert STAGE in lifecycle.after_deploy.api_stages


def test_deploy_and_update_throttle_the_stage(lifecycle: Lifecycle) -> None:
    wanted = lifecycle.stage["stage_throttling"]
    for state in (lifecycle.after_deploy, lifecycle.after_update):
        assert state.throttling == {
            "throttlingRateLimit": float(wanted["rate_limit"]),
            "throttlingBurstLimit": wanted["burst_limit"],
        }


def test_deploy_publishes_the_resumes_pdfs_at_their_fixed_addresses(lifecycle: Lifecycle) -> None:
    """Printed by the `settings` callback (deploy/pdf.py), at the bucket's root, where the
    distribution's `resume*.pdf` behaviour finds them."""
    assert {"resume.pdf", "resume-letter.pdf"} <= lifecycle.after_deploy.static_keys


def test_deploy_publishes_the_packaged_manifest_files_to_the_static_bucket(
    lifecycle: Lifecycle,
) -> None:
    with zipfile.ZipFile(lifecycle.first_package) as package:
        manifest = json.loads(package.read("resume_site/static_manifest/staticfiles.json"))
    hashed_keys = {f"static/{hashed}" for hashed in manifest["paths"].values()}
    assert hashed_keys
    assert hashed_keys <= lifecycle.after_deploy.static_keys


def test_deploy_and_update_each_invalidate_the_pages_the_distribution_caches(
    lifecycle: Lifecycle,
) -> None:
    cached = ["/", "/robots.txt", "/favicon.ico"]
    pdfs = ["/resume.pdf", "/resume-letter.pdf"]  # printed once: the update changed no input

    assert lifecycle.after_refused.invalidations == []
    assert sorted(lifecycle.after_deploy.invalidations) == sorted([cached, pdfs])
    assert sorted(lifecycle.after_update.invalidations) == sorted([cached, cached, pdfs])


def test_status_reports_the_function_and_its_api(lifecycle: Lifecycle) -> None:
    status = json.loads(lifecycle.status.stdout)
    assert status["Lambda Name"] == lifecycle.name
    assert status["Lambda ARN"] == lifecycle.after_deploy.function["Configuration"]["FunctionArn"]
    api_id = lifecycle.after_deploy.api_ids[0]
    assert status["API Gateway URL"].startswith(f"https://{api_id}.execute-api.")
    assert status["API Gateway URL"].endswith(f"/{STAGE}")


def zip_entries(package: Path | bytes) -> dict[str, bytes]:
    """Every entry of a zip (a file, or the bytes of one), uncompressed."""
    source = io.BytesIO(package) if isinstance(package, bytes) else package
    with zipfile.ZipFile(source) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_untracked_files_of_the_checkout_never_ship(lifecycle: Lifecycle) -> None:
    for built in (lifecycle.first_package, lifecycle.updated_code):
        names = set(zip_entries(built))
        assert not names & set(STRAY_FILES)
        assert "resume/views.py" in names


def test_update_ships_the_new_package(lifecycle: Lifecycle) -> None:
    """The zip `zappa update` built from the changed checkout is the code the function runs."""
    assert lifecycle.marker in zip_entries(lifecycle.updated_code)[CHANGED_FILE.as_posix()].decode()
    new = base64.b64encode(hashlib.sha256(lifecycle.updated_code).digest()).decode()
    assert new != code_sha256(package=lifecycle.first_package)
    assert lifecycle.after_update.function["Configuration"]["CodeSha256"] == new


def environment_of(state: Snapshot) -> dict[str, str]:
    return state.function["Configuration"].get("Environment", {}).get("Variables", {})


def test_deploy_sets_the_secret_in_the_functions_environment(lifecycle: Lifecycle) -> None:
    assert environment_of(lifecycle.after_deploy) == {
        **lifecycle.stage["aws_environment_variables"],
        "SECRET_KEY": lifecycle.first_secret,
    }


def test_update_sets_the_rotated_secret(lifecycle: Lifecycle) -> None:
    """The object was rotated between deploy and update: the update read it again."""
    assert environment_of(lifecycle.after_update)["SECRET_KEY"] == lifecycle.second_secret


def test_no_package_holds_the_secret_or_a_remote_env(lifecycle: Lifecycle) -> None:
    """Neither the prebuilt zip nor the one Zappa built while holding the secret in memory."""
    for built in (lifecycle.first_package, lifecycle.updated_code):
        entries = zip_entries(built)
        for secret in (lifecycle.first_secret, lifecycle.second_secret):
            assert not [name for name, data in entries.items() if secret.encode() in data]
        assert "REMOTE_ENV" not in entries["zappa_settings.py"].decode()
        assert "SECRET_KEY" not in entries["zappa_settings.py"].decode()


def test_update_keeps_the_same_rest_api(lifecycle: Lifecycle) -> None:
    assert lifecycle.after_update.api_ids == lifecycle.after_deploy.api_ids
    assert STAGE in lifecycle.after_update.api_stages


def test_undeploy_removes_the_function_and_the_api(lifecycle: Lifecycle) -> None:
    assert lifecycle.after_undeploy.function is None
    assert lifecycle.after_undeploy.api_ids == []
