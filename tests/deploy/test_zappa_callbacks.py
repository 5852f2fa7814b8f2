"""deploy/zappa_callbacks.py: the settings callback stops a bad stage before anything is built,
reads the stage's secret for `deploy` and `update` only (never for `package`), and otherwise
makes Zappa work in a copy of only the files git tracks, with the static manifest written into
that copy; the zip callback refuses what must not ship, and adds the bytecode."""

import json
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import pytest

from deploy import stages, zappa_callbacks
from tests.deploy import moto_harness
from tests.deploy.stage_configs import prod_env

ROOT = Path(__file__).resolve().parent.parent.parent


class NoAws:
    """Zappa's core object for a command that must not call AWS: any use fails the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"this command must not call AWS (it used zappa.{name})")


@dataclass
class Cli:
    """What Zappa hands its callbacks: the CLI object (stage, command, arguments, settings)."""

    stage_config: dict[str, Any]
    command: str = "package"
    vargs: dict[str, Any] = field(default_factory=lambda: {"zip": "build/resume-site-prod.zip"})
    api_stage: str = "prod"
    lambda_name: str = "resume-site-prod"
    zappa_settings: dict[str, Any] = field(default_factory=stages.load_settings)
    zappa: Any = field(default_factory=NoAws)
    aws_environment_variables: dict[str, str] = field(default_factory=dict)


def git(*args: str, cwd: Path) -> None:
    subprocess.run([shutil.which("git"), *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git checkout as the working directory: two tracked files, an ignored one and stray
    untracked ones."""
    root = tmp_path / "checkout"
    (root / "app").mkdir(parents=True)
    (root / "app" / "views.py").write_text("VIEWS = 1\n")
    (root / "manage.py").write_text("")
    (root / ".gitignore").write_text("build/\n")
    git("init", "-q", cwd=root)
    git("add", "app/views.py", "manage.py", ".gitignore", cwd=root)
    (root / "build").mkdir()
    (root / "build" / "out.zip").write_bytes(b"zip")
    (root / "dynamodb-local-metadata.json").write_text("{}")
    (root / "app" / "new_module.py").write_text("")
    monkeypatch.chdir(root)
    return root


def copied_files(copy_dir: Path) -> list[str]:
    return sorted(p.relative_to(copy_dir).as_posix() for p in copy_dir.rglob("*") if p.is_file())


def test_zappa_works_in_a_copy_holding_only_the_tracked_files(
    checkout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As the working tree has them; the untracked files that git does not ignore are named."""
    (checkout / "app" / "views.py").write_text("VIEWS = 2\n")
    copy_dir = zappa_callbacks.work_in_tracked_copy(Cli(stage_config={}, vargs={}))

    assert Path.cwd() == copy_dir != checkout
    assert copied_files(copy_dir) == [".gitignore", "app/views.py", "manage.py"]
    assert (copy_dir / "app" / "views.py").read_text() == "VIEWS = 2\n"
    assert capsys.readouterr().out.endswith(
        "Not packaged (untracked; `git add` what should ship): app/new_module.py, "
        "dynamodb-local-metadata.json\n"
    )


def test_a_tracked_file_deleted_from_the_working_tree_is_left_out(checkout: Path) -> None:
    (checkout / "manage.py").unlink()
    copy_dir = zappa_callbacks.work_in_tracked_copy(Cli(stage_config={}, vargs={}))
    assert copied_files(copy_dir) == [".gitignore", "app/views.py"]


def test_a_prebuilt_zip_given_relative_to_the_checkout_is_still_found(checkout: Path) -> None:
    cli = Cli(stage_config={}, command="update", vargs={"zip": "build/prod.zip"})
    zappa_callbacks.work_in_tracked_copy(cli)
    assert cli.vargs["zip"] == str(checkout / "build" / "prod.zip")


@pytest.mark.parametrize(
    ("output", "written"), [(None, r"resume-site-prod-\d+\.zip"), ("prod.zip", r"prod\.zip")]
)
def test_zappa_package_writes_its_zip_into_the_checkout(
    checkout: Path, output: str | None, written: str
) -> None:
    """With -o, where it says; without, under Zappa's default name."""
    cli = Cli(stage_config={}, command="package", vargs={"output": output})
    zappa_callbacks.work_in_tracked_copy(cli)
    assert Path(cli.vargs["output"]).parent == checkout
    assert re.fullmatch(written, Path(cli.vargs["output"]).name)


def test_outside_a_git_checkout_the_deploy_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "not-a-checkout").mkdir()
    monkeypatch.chdir(tmp_path / "not-a-checkout")
    with pytest.raises(click.ClickException, match="not-a-checkout is not a git checkout"):
        zappa_callbacks.work_in_tracked_copy(Cli(stage_config={}, vargs={}))


def test_invalid_stage_stops_before_the_static_manifest_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    config = prod_env(STATIC_MANIFEST_DIR=str(tmp_path), DYNAMODB_TABLE="resume-site-prod")
    with pytest.raises(click.ClickException):
        zappa_callbacks.check_and_prepare(Cli(stage_config=config))
    assert list(tmp_path.iterdir()) == []
    assert Path.cwd() == ROOT


def test_a_command_that_does_not_package_builds_no_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    config = prod_env(STATIC_MANIFEST_DIR=str(tmp_path))
    zappa_callbacks.check_and_prepare(Cli(stage_config=config, command="status"))
    assert list(tmp_path.iterdir()) == []
    assert Path.cwd() == ROOT


def test_valid_stage_goes_on_to_build_the_manifest_in_the_tracked_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`zappa package` does all of it without AWS (the Cli's Zappa refuses any call), and
    reads no secret."""
    monkeypatch.chdir(ROOT)
    cli = Cli(stage_config=prod_env())
    zappa_callbacks.check_and_prepare(cli)

    assert Path.cwd() != ROOT
    manifest = json.loads((Path.cwd() / "resume_site/static_manifest/staticfiles.json").read_text())
    assert "css/resume.css" in manifest["paths"]
    assert cli.aws_environment_variables == {}


@dataclass
class MotoZappa:
    """Zappa's core object with its clients on a moto account."""

    session: Any

    def boto_client(self, name: str) -> Any:
        return self.session.client(name)

    @property
    def s3_client(self) -> Any:
        return self.boto_client("s3")

    @property
    def lambda_client(self) -> Any:
        return self.boto_client("lambda")


@dataclass
class DeployCli(Cli):
    """The CLI of a `zappa deploy`/`update`, whose settings the callback overrides."""

    s3_bucket_name: str = ""
    lambda_concurrency: int | None = None

    def override_stage_config_setting(self, key: str, value: Any) -> None:
        self.stage_config[key] = value


def moto_deploy_cli(*, command: str, config: dict[str, Any], with_stack: bool) -> DeployCli:
    """A deploy's CLI on the moto account (mock_aws open), with the infra stack or without."""
    import boto3

    session = boto3.Session(region_name="us-east-1")
    if with_stack:
        moto_harness.InfraStack(session=session, endpoint=None).create_stack(
            StackName="resume-site-prod-infra",
            TemplateBody="the template",
            Parameters=[{"ParameterKey": "Stage", "ParameterValue": "prod"}],
        )
    return DeployCli(
        stage_config=config,
        command=command,
        zappa=MotoZappa(session=session),
        aws_environment_variables=dict(config["aws_environment_variables"]),
    )


@pytest.mark.parametrize("command", ["deploy", "update"])
def test_deploy_and_update_read_the_stack_before_building_anything(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the stage's infra stack nothing is built, no copy is made, and the Lambda
    environment is not changed; the message says to run `make deploy`."""
    from moto import mock_aws

    monkeypatch.chdir(ROOT)
    config = prod_env(STATIC_MANIFEST_DIR=str(tmp_path))
    with mock_aws():
        cli = moto_deploy_cli(command=command, config=config, with_stack=False)
        with pytest.raises(
            click.ClickException,
            match=r"no stack resume-site-prod-infra .*`make deploy STAGE=prod`",
        ):
            zappa_callbacks.check_and_prepare(cli)
    assert list(tmp_path.iterdir()) == []
    assert Path.cwd() == ROOT
    assert cli.aws_environment_variables == config["aws_environment_variables"]


@pytest.mark.parametrize("command", ["deploy", "update"])
def test_deploy_and_update_read_the_secret_before_building_anything(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The secrets object is read before anything is built: when it is missing nothing is
    built, no copy is made, and no secret reaches the Lambda environment."""
    from moto import mock_aws

    monkeypatch.chdir(ROOT)
    config = prod_env(STATIC_MANIFEST_DIR=str(tmp_path))
    with mock_aws():
        cli = moto_deploy_cli(command=command, config=config, with_stack=True)
        with pytest.raises(click.ClickException, match=r"secret_env object .* does not exist"):
            zappa_callbacks.check_and_prepare(cli)
    assert list(tmp_path.iterdir()) == []
    assert Path.cwd() == ROOT
    assert "SECRET_KEY" not in cli.aws_environment_variables


@dataclass
class ZipCli:
    """What Zappa hands its `zip` callback: the zip it just wrote, and the stage."""

    zip_path: str
    stage_config: dict[str, Any]


def zip_callback(tmp_path: Path, entries: dict[str, str]) -> list[str]:
    """The zip callback on a zip holding `entries`, Zappa working in the project (as in its
    tracked copy) with the dev venv active; the zip's entries afterwards."""
    package = tmp_path / "resume-site-prod.zip"
    with zipfile.ZipFile(package, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    zappa_callbacks.add_bytecode(ZipCli(zip_path=str(package), stage_config=prod_env()))
    with zipfile.ZipFile(package) as archive:
        return archive.namelist()


def test_the_zip_callback_adds_bytecode_for_the_stages_runtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    names = zip_callback(tmp_path, {"handler.py": "x = 1\n", "django/__init__.py": ""})
    assert {
        "__pycache__/handler.cpython-313.pyc",
        "django/__pycache__/__init__.cpython-313.pyc",
    } < set(names)


def test_the_zip_callback_stops_zappa_when_a_module_does_not_compile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    with pytest.raises(click.ClickException, match=r"do not compile: resume_site/broken\.py"):
        zip_callback(tmp_path, {"resume_site/broken.py": "def (:\n"})


def test_the_zip_callback_stops_zappa_when_the_zip_holds_tooling_or_strays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The project's every other top-level path (deploy code, tests, the harness, ...) and anything
    neither the project's runtime code, Zappa's nor installed: refused before the upload."""
    monkeypatch.chdir(ROOT)
    entries = dict.fromkeys(
        ["handler.py", "resume/views.py", "deploy/secret_env.py", "tests/conftest.py"], ""
    ) | {"harness/lambda_host.py": "", ".env": "SECRET_KEY=x", "dynamodb-local-metadata.json": ""}
    with pytest.raises(click.ClickException) as raised:
        zip_callback(tmp_path, entries)
    assert raised.value.format_message().endswith(
        ": .env, deploy, dynamodb-local-metadata.json, harness, tests"
    )


def zappa_cli_exit(
    args: list[str], *, settings: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture
) -> tuple[int, str, list, list]:
    """Zappa's own CLI run from the checkout on a moto account: its exit code, its error
    output, and the account's buckets and functions afterwards."""
    import boto3
    from moto import mock_aws
    from zappa.cli import ZappaCLI

    settings_file = tmp_path / "zappa_settings.json"
    settings_file.write_text(json.dumps(settings))
    with mock_aws():
        with pytest.raises(SystemExit) as exited:
            ZappaCLI().handle([*args, "-s", str(settings_file)])
        buckets = boto3.client("s3").list_buckets()["Buckets"]
        functions = boto3.client("lambda").list_functions()["Functions"]
    return exited.value.code, capsys.readouterr().err, buckets, functions


@pytest.mark.filterwarnings("ignore:the load_module:DeprecationWarning")  # Zappa's own loader
def test_zappa_cli_refuses_a_bad_stage_before_uploading_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`zappa update prod` with a bad stage exits 1, and the account has nothing."""
    settings = stages.load_settings()
    del settings["prod"]["lambda_concurrency"]
    monkeypatch.chdir(ROOT)  # Zappa finds callbacks relative to the working directory

    code, errors, buckets, functions = zappa_cli_exit(
        ["update", "prod"], settings=settings, tmp_path=tmp_path, capsys=capsys
    )

    assert code == 1
    assert "lambda_concurrency must be a whole number" in errors
    assert buckets == functions == []


@pytest.mark.filterwarnings("ignore:the load_module:DeprecationWarning")  # Zappa's own loader
@pytest.mark.parametrize("args", [["deploy", "base"], ["update", "--all"]])
def test_zappa_cli_never_deploys_the_base_stage(
    args: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`zappa deploy base`, or `--all` (which starts with the base), exits 1 before anything
    is created."""
    monkeypatch.chdir(ROOT)

    code, errors, buckets, functions = zappa_cli_exit(
        args, settings=stages.load_settings(), tmp_path=tmp_path, capsys=capsys
    )

    assert code == 1
    assert "stage 'base' holds the settings dev, prod share and is not deployable" in errors
    assert buckets == functions == []


@pytest.mark.filterwarnings("ignore:the load_module:DeprecationWarning")  # Zappa's own loader
def test_zappa_cli_deploys_nothing_without_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`zappa deploy prod` with a valid stage and its stack, but no secrets object, exits 1
    before Zappa uploads or creates anything."""
    import boto3
    from moto import mock_aws
    from zappa.cli import ZappaCLI

    monkeypatch.chdir(ROOT)
    settings_file = tmp_path / "zappa_settings.json"
    settings_file.write_text(json.dumps(stages.load_settings()))
    with mock_aws():
        moto_deploy_cli(command="deploy", config=prod_env(), with_stack=True)
        with pytest.raises(SystemExit) as exited:
            ZappaCLI().handle(["deploy", "prod", "-s", str(settings_file)])
        buckets = {bucket["Name"] for bucket in boto3.client("s3").list_buckets()["Buckets"]}
        functions = boto3.client("lambda").list_functions()["Functions"]

    url = "s3://resume-site-prod-deploys-123456789012/secrets/env.json"
    assert exited.value.code == 1
    assert f"The secret_env object {url} does not exist" in capsys.readouterr().err
    assert buckets == {"resume-site-prod-static-123456789012"}  # the stack's, nothing more
    assert functions == []
