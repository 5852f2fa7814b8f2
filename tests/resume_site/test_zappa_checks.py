"""resume_site/zappa_checks.py: a missing or unsafe stage setting stops Zappa, naming the setting,
before anything is built or uploaded."""

import copy
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import pytest

from resume_site import zappa_checks

ROOT = Path(__file__).resolve().parent.parent.parent
SETTINGS = json.loads((ROOT / "zappa_settings.json").read_text(encoding="utf-8"))
DEV_REQUIREMENTS = ROOT / "requirements-dev.txt"


@dataclass
class Cli:
    """What Zappa hands its settings callback: the CLI object (stage, command, merged config)."""

    stage_config: dict[str, Any]
    api_stage: str = "prod"
    command: str | None = "update"
    vargs: dict[str, Any] = field(default_factory=lambda: {"zip": "build/resume-site-prod.zip"})


def prod(**changes: Any) -> dict[str, Any]:
    """The committed prod stage with top-level settings changed (None removes one)."""
    config = copy.deepcopy(SETTINGS["prod"])
    for name, value in changes.items():
        if value is None:
            config.pop(name, None)
        else:
            config[name] = value
    return config


def prod_env(**changes: str | None) -> dict[str, Any]:
    """The committed prod stage with environment variables changed (None removes one)."""
    config = prod()
    for name, value in changes.items():
        if value is None:
            config["environment_variables"].pop(name, None)
        else:
            config["environment_variables"][name] = value
    return config


def problems_of(config: dict[str, Any], stage: str = "prod") -> list[str]:
    return zappa_checks.stage_problems(stage=stage, config=config)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_committed_stages_are_deployable(stage: str) -> None:
    assert problems_of(SETTINGS[stage], stage=stage) == []


@pytest.mark.parametrize("name", zappa_checks.REQUIRED_ENVIRONMENT)
def test_missing_environment_variable_is_named(name: str) -> None:
    assert problems_of(prod_env(**{name: None})) == [f"environment_variables.{name} is missing"]


def test_blank_environment_variable_counts_as_missing() -> None:
    assert problems_of(prod_env(DYNAMODB_TABLE="  ")) == [
        "environment_variables.DYNAMODB_TABLE is missing"
    ]


def test_django_env_must_be_production() -> None:
    assert problems_of(prod_env(DJANGO_ENV="local")) == [
        "environment_variables.DJANGO_ENV must be 'production'"
    ]


def test_wrong_runtime_is_named() -> None:
    assert problems_of(prod(runtime="python3.12")) == [
        "runtime must be 'python3.13', got 'python3.12'"
    ]


def test_missing_concurrency_cap_is_refused() -> None:
    assert problems_of(prod(lambda_concurrency=None)) == [
        "lambda_concurrency is missing: the function needs a concurrency cap"
    ]


def test_concurrency_under_the_wrong_key_gets_a_hint() -> None:
    (problem,) = problems_of(prod(lambda_concurrency=None, concurrency=10))
    assert "Zappa reads 'lambda_concurrency', not 'concurrency'" in problem


@pytest.mark.parametrize("value", [0, 101, True, "10", 2.5])
def test_concurrency_cap_must_be_a_sane_whole_number(value: Any) -> None:
    (problem,) = problems_of(prod(lambda_concurrency=value))
    assert problem.startswith("lambda_concurrency must be a whole number from 1 to 100")


@pytest.mark.parametrize("value", [True, None, "false"])
def test_manage_roles_must_be_false(value: Any) -> None:
    assert problems_of(prod(manage_roles=value)) == [
        "manage_roles must be false: the role comes from infra/template.yaml"
    ]


def test_role_name_must_be_the_cloudformation_role_of_the_stage() -> None:
    (problem,) = problems_of(prod(role_name="resume-site-dev-lambda"))
    assert "role_name must be 'resume-site-prod-lambda'" in problem


def test_role_arn_of_the_cloudformation_role_is_accepted_instead_of_a_name() -> None:
    arn = "arn:aws:iam::123456789012:role/resume-site-prod-lambda"
    assert problems_of(prod(role_name=None, role_arn=arn)) == []


def test_secret_key_in_plain_environment_is_refused() -> None:
    assert problems_of(prod_env(SECRET_KEY="x" * 60)) == [
        "environment_variables.SECRET_KEY holds a secret in plain text: put it in the "
        "remote_env S3 object instead"
    ]


def test_secret_in_lambda_environment_is_refused_too() -> None:
    (problem,) = problems_of(prod(aws_environment_variables={"DB_PASSWORD": "hunter2"}))
    assert problem.startswith("aws_environment_variables.DB_PASSWORD holds a secret")


@pytest.mark.parametrize("value", [None, "resume-site-prod-deploys/secrets/env.json", "s3://b"])
def test_remote_env_must_be_an_s3_object_url(value: str | None) -> None:
    (problem,) = problems_of(prod(remote_env=value))
    assert problem.startswith("remote_env must be an s3://bucket/key URL")


def test_debug_must_be_off() -> None:
    (problem,) = problems_of(prod(debug=True))
    assert problem.startswith("debug must be false")


def test_chatty_log_level_is_refused() -> None:
    assert problems_of(prod(log_level="DEBUG")) == [
        "log_level must be WARNING (or quieter), got 'DEBUG'"
    ]


def test_touch_left_to_zappas_default_is_refused() -> None:
    (problem,) = problems_of(prod(touch=None))
    assert problem.startswith("touch must be false")


@pytest.mark.parametrize("domain", ["https://d1.cloudfront.net", "d1.cloudfront.net/static"])
def test_static_domain_must_be_a_bare_host_name(domain: str) -> None:
    (problem,) = problems_of(prod_env(STATIC_DOMAIN=domain))
    assert problem.startswith("environment_variables.STATIC_DOMAIN must be a bare host name")


def test_wildcard_allowed_hosts_is_refused() -> None:
    assert problems_of(prod_env(ALLOWED_HOSTS="*")) == [
        "environment_variables.ALLOWED_HOSTS must not be '*'"
    ]


def test_missing_post_callback_is_refused() -> None:
    assert problems_of(prod(callbacks={"settings": "resume_site.zappa_checks.check_stage"})) == [
        "callbacks.post is missing: static files would not be published"
    ]


def test_every_problem_is_reported_at_once() -> None:
    config = prod(runtime="python3.9", lambda_concurrency=None, manage_roles=True)
    assert len(problems_of(config)) == 3


def test_validate_stage_raises_a_click_error_naming_stage_and_settings() -> None:
    cli = Cli(stage_config=prod(runtime="python3.12", lambda_concurrency=None))
    with pytest.raises(click.ClickException) as raised:
        zappa_checks.validate_stage(cli)
    message = raised.value.format_message()
    assert message.startswith("zappa_settings.json stage 'prod' is not deployable:")
    assert "  - runtime must be 'python3.13'" in message
    assert "  - lambda_concurrency is missing" in message


def test_undeploy_of_a_broken_stage_is_not_blocked() -> None:
    cli = Cli(stage_config=prod(runtime="python3.12"), command="undeploy")
    assert zappa_checks.validate_stage(cli) is None


def fake_venv(root: Path, *distributions: str) -> Path:
    """A virtualenv directory whose site-packages holds the given distributions' metadata."""
    site_packages = root / "lib" / "python3.13" / "site-packages"
    for distribution in distributions:
        (site_packages / f"{distribution}.dist-info").mkdir(parents=True)
    return root


def test_dev_only_packages_are_read_from_requirements_dev() -> None:
    names = zappa_checks.dev_only_packages(dev_requirements=DEV_REQUIREMENTS)
    assert {"pytest", "pytest-django", "moto", "ruff"} <= names
    assert "django" not in names


def test_a_venv_with_dev_packages_is_unfit_to_package(tmp_path: Path) -> None:
    venv = fake_venv(tmp_path / "dev", "Django-6.1.3", "pytest_django-4.14.0", "moto-5.2.5")
    assert zappa_checks.venv_problems(venv=venv, dev_requirements=DEV_REQUIREMENTS) == [
        "the virtualenv dev holds development packages (moto, pytest-django) that must not "
        "ship to Lambda"
    ]


def test_a_venv_with_runtime_packages_only_is_fit_to_package(tmp_path: Path) -> None:
    venv = fake_venv(tmp_path / "build", "django-6.1.3", "pynamodb-6.1.0", "zappa-0.63.0")
    assert zappa_checks.venv_problems(venv=venv, dev_requirements=DEV_REQUIREMENTS) == []


def test_a_clean_active_venv_is_packaged_as_it_is(tmp_path: Path) -> None:
    clean = fake_venv(tmp_path / "clean", "django-6.1.3")
    chosen = zappa_checks.packaging_venv(
        active=clean, dev_requirements=DEV_REQUIREMENTS, build=lambda: pytest.fail("built")
    )
    assert chosen == clean


@pytest.mark.parametrize("dev_venv", [True, False])
def test_the_build_venv_is_packaged_instead_of_a_dev_venv_or_none(
    tmp_path: Path, dev_venv: bool
) -> None:
    active = fake_venv(tmp_path / "dev", "pytest-9.2.0") if dev_venv else None
    clean = fake_venv(tmp_path / "build-venv", "django-6.1.3")
    chosen = zappa_checks.packaging_venv(
        active=active, dev_requirements=DEV_REQUIREMENTS, build=lambda: clean
    )
    assert chosen == clean


def test_a_build_venv_with_dev_packages_stops_the_deploy(tmp_path: Path) -> None:
    dirty = fake_venv(tmp_path / "dirty", "ruff-0.17.6")
    with pytest.raises(click.ClickException) as raised:
        zappa_checks.packaging_venv(
            active=None, dev_requirements=DEV_REQUIREMENTS, build=lambda: dirty
        )
    assert "development packages (ruff)" in raised.value.format_message()


def test_a_clean_virtual_env_stays_the_one_zappa_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean = fake_venv(tmp_path / "clean", "django-6.1.3")
    monkeypatch.setenv("VIRTUAL_ENV", str(clean))
    zappa_checks.use_clean_venv(Cli(stage_config=prod(), command="update", vargs={}))
    assert Path(os.environ["VIRTUAL_ENV"]) == clean


def test_a_prebuilt_zip_leaves_the_virtualenv_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev = fake_venv(tmp_path / "dev", "pytest-9.2.0")
    monkeypatch.setenv("VIRTUAL_ENV", str(dev))
    zappa_checks.use_clean_venv(Cli(stage_config=prod(), command="update"))
    assert Path(os.environ["VIRTUAL_ENV"]) == dev


def test_invalid_stage_stops_before_the_static_manifest_is_built(tmp_path: Path) -> None:
    config = prod_env(STATIC_MANIFEST_DIR=str(tmp_path), DYNAMODB_TABLE=None)
    with pytest.raises(click.ClickException):
        zappa_checks.check_stage(Cli(stage_config=config, command="package"))
    assert list(tmp_path.iterdir()) == []


def test_valid_stage_goes_on_to_build_the_static_manifest(tmp_path: Path) -> None:
    config = prod_env(STATIC_MANIFEST_DIR=str(tmp_path))
    zappa_checks.check_stage(Cli(stage_config=config, command="package"))
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())
    assert "css/resume.css" in manifest["paths"]


@pytest.mark.filterwarnings("ignore:the load_module:DeprecationWarning")  # Zappa's own loader
def test_zappa_cli_refuses_a_bad_stage_before_uploading_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through Zappa's own CLI: `zappa update prod` with a bad stage exits non-zero, and the
    (moto) account has no bucket and no function afterwards."""
    import boto3
    from moto import mock_aws
    from zappa.cli import ZappaCLI

    broken = {"prod": prod(lambda_concurrency=None)}
    settings_file = tmp_path / "zappa_settings.json"
    settings_file.write_text(json.dumps(broken))
    monkeypatch.chdir(ROOT)  # Zappa finds callbacks relative to the working directory
    with mock_aws():
        with pytest.raises(SystemExit) as exited:
            ZappaCLI().handle(["update", "prod", "-s", str(settings_file)])
        assert exited.value.code == 1
        assert "lambda_concurrency is missing" in capsys.readouterr().err
        assert boto3.client("s3").list_buckets()["Buckets"] == []
        assert boto3.client("lambda").list_functions()["Functions"] == []


SHIPPED_SETTINGS = "DEBUG=False\nAPI_STAGE='prod'\n"
MANIFEST_ENTRY = "resume_site/static_manifest/staticfiles.json"


def prebuilt(tmp_path: Path, *, settings: str, manifest: bytes) -> Path:
    path = tmp_path / "resume-site-prod.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("zappa_settings.py", settings)
        archive.writestr(MANIFEST_ENTRY, manifest)
    return path


def zip_problems(tmp_path: Path, *, zip_path: Path, manifest: bytes) -> list[str]:
    current = tmp_path / "staticfiles.json"
    current.write_bytes(manifest)
    return zappa_checks.prebuilt_zip_problems(
        zip_path=zip_path,
        settings_module=SHIPPED_SETTINGS,
        manifest=current,
        manifest_entry=MANIFEST_ENTRY,
    )


def test_a_prebuilt_zip_matching_settings_and_manifest_is_accepted(tmp_path: Path) -> None:
    package = prebuilt(tmp_path, settings=SHIPPED_SETTINGS, manifest=b'{"paths": {}}')
    assert zip_problems(tmp_path, zip_path=package, manifest=b'{"paths": {}}') == []


def test_a_prebuilt_zip_with_older_settings_is_refused(tmp_path: Path) -> None:
    package = prebuilt(tmp_path, settings="DEBUG=True\nAPI_STAGE='prod'\n", manifest=b"{}")
    assert zip_problems(tmp_path, zip_path=package, manifest=b"{}") == [
        "--zip resume-site-prod.zip was built for stage 'prod' with other settings than "
        "zappa_settings.json holds now: rebuild it with `make package`"
    ]


def test_a_prebuilt_zip_with_other_static_files_is_refused(tmp_path: Path) -> None:
    package = prebuilt(tmp_path, settings=SHIPPED_SETTINGS, manifest=b'{"paths": {"a": "1"}}')
    (problem,) = zip_problems(tmp_path, zip_path=package, manifest=b'{"paths": {"a": "2"}}')
    assert "built from other static files" in problem


def test_a_prebuilt_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    not_zip = tmp_path / "resume-site-prod.zip"
    not_zip.write_text("not a zip")
    assert zip_problems(tmp_path, zip_path=not_zip, manifest=b"{}") == [
        "--zip resume-site-prod.zip is not a zip file: build it with `make package`"
    ]
