"""deploy/stage_checks.py: a missing or unsafe stage setting, a base stage, or a prebuilt zip
that does not match the stage stops Zappa, naming the setting, before anything is built or
uploaded."""

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import pytest

from deploy import stage_checks, stages
from tests.deploy.stage_configs import prod, prod_env


@dataclass
class Cli:
    """What Zappa hands its settings callback: the CLI object (stage, command, merged config)."""

    stage_config: dict[str, Any]
    api_stage: str = "prod"
    command: str | None = "update"
    vargs: dict[str, Any] = field(default_factory=lambda: {"zip": "build/resume-site-prod.zip"})
    zappa_settings: dict[str, Any] = field(default_factory=stages.load_settings)


def problems_of(config: dict[str, Any], stage: str = "prod") -> list[str]:
    return stage_checks.stage_problems(stage=stage, config=config)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_committed_stages_are_deployable(stage: str) -> None:
    assert problems_of(stages.stage_config(stage=stage), stage=stage) == []


@pytest.mark.parametrize("name", stage_checks.REQUIRED_ENVIRONMENT)
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
        "secret_env S3 object instead"
    ]


def test_secret_in_lambda_environment_is_refused_too() -> None:
    lambda_environment = {**prod()["aws_environment_variables"], "DB_PASSWORD": "hunter2"}
    (problem,) = problems_of(prod(aws_environment_variables=lambda_environment))
    assert problem.startswith("aws_environment_variables.DB_PASSWORD holds a secret")


@pytest.mark.parametrize("value", [None, {}, {"INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT": "false"}])
def test_django_must_be_set_up_during_lambdas_init(value: dict[str, str] | None) -> None:
    (problem,) = problems_of(prod(aws_environment_variables=value))
    assert problem.startswith(
        "aws_environment_variables.INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT must be 'true'"
    )


@pytest.mark.parametrize("value", [None, "django.core.wsgi.application"])
def test_app_function_must_be_the_projects_wsgi_module(value: str | None) -> None:
    (problem,) = problems_of(prod(app_function=value))
    assert problem.startswith("app_function must be 'resume_site.wsgi.application'")


def test_a_stage_without_the_bytecode_callback_is_refused() -> None:
    callbacks = {**prod()["callbacks"]}
    del callbacks["zip"]
    assert problems_of(prod(callbacks=callbacks)) == [
        "callbacks.zip is missing: the package would ship without bytecode, and every cold "
        "start would compile it from source"
    ]


@pytest.mark.parametrize("value", [None, "resume-site-prod-deploys/secrets/env.json", "s3://b"])
def test_secret_env_must_be_an_s3_object_url(value: str | None) -> None:
    (problem,) = problems_of(prod(secret_env=value))
    assert problem.startswith("secret_env must be an s3://bucket/key URL")


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("remote_env", "s3://resume-site-prod-deploys/secrets/env.json"),
        ("remote_env_bucket", "resume-site-prod-deploys"),
        ("remote_env_file", "secrets/env.json"),
    ],
)
def test_zappas_remote_env_is_refused_for_its_network_call_in_every_cold_start(
    setting: str, value: str
) -> None:
    (problem,) = problems_of(prod(**{setting: value}))
    assert problem.startswith(f"{setting} must not be set: Zappa's handler would read that S3")
    assert "in every cold start, a network call" in problem
    assert "name the object in secret_env instead" in problem


def test_remote_env_in_place_of_secret_env_gets_both_problems() -> None:
    url = "s3://resume-site-prod-deploys/secrets/env.json"
    problems = problems_of(prod(secret_env=None, remote_env=url))
    assert [problem.split(" ")[0] for problem in problems] == ["secret_env", "remote_env"]


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


def test_static_files_come_from_the_sites_own_distribution() -> None:
    (problem,) = problems_of(prod_env(STATIC_DOMAIN="static.alexrivera.example.com"))
    assert problem.startswith("environment_variables.STATIC_DOMAIN must be SITE_URL's host")


def test_allowed_hosts_is_no_longer_needed_siteurl_gives_the_host() -> None:
    assert problems_of(prod_env(ALLOWED_HOSTS=None)) == []


@pytest.mark.parametrize("value", [None, "", "bad name", "1-starts-with-a-digit", 7])
def test_the_infra_stack_must_be_named(value: Any) -> None:
    (problem,) = problems_of(prod(infra_stack=value))
    assert problem.startswith("infra_stack must name the stage's infra/template.yaml stack")


def test_the_infra_stack_must_not_be_zappas_own_stack() -> None:
    """Zappa creates and updates a CloudFormation stack named after the function
    (resume-site-prod) for API Gateway: an infra stack of that name would be replaced."""
    (problem,) = problems_of(prod(infra_stack="resume-site-prod"))
    assert problem.startswith("infra_stack must not be 'resume-site-prod'")


def test_wildcard_allowed_hosts_is_refused() -> None:
    assert problems_of(prod_env(ALLOWED_HOSTS="*")) == [
        "environment_variables.ALLOWED_HOSTS must not be '*'"
    ]


def test_missing_post_callback_is_refused() -> None:
    callbacks = {**prod()["callbacks"]}
    del callbacks["post"]
    assert problems_of(prod(callbacks=callbacks)) == [
        "callbacks.post is missing: static files would not be published"
    ]


def test_every_problem_is_reported_at_once() -> None:
    config = prod(runtime="python3.9", lambda_concurrency=None, manage_roles=True)
    assert len(problems_of(config)) == 3


def test_check_stage_raises_a_click_error_naming_stage_and_settings() -> None:
    cli = Cli(stage_config=prod(runtime="python3.12", lambda_concurrency=None))
    with pytest.raises(click.ClickException) as raised:
        stage_checks.check_stage(cli)
    message = raised.value.format_message()
    assert message.startswith("zappa_settings.json stage 'prod' is not deployable:")
    assert "  - runtime must be 'python3.13'" in message
    assert "  - lambda_concurrency is missing" in message


def test_undeploy_of_a_broken_stage_is_not_blocked() -> None:
    cli = Cli(stage_config=prod(runtime="python3.12"), command="undeploy")
    stage_checks.check_stage(cli)  # returns: nothing to refuse


@pytest.mark.parametrize("command", ["deploy", "package", "status", "undeploy"])
def test_the_base_stage_is_refused_whatever_the_command(command: str) -> None:
    cli = Cli(stage_config=stages.load_settings()["base"], api_stage="base", command=command)
    with pytest.raises(click.ClickException) as raised:
        stage_checks.check_stage(cli)
    assert raised.value.format_message() == (
        "zappa_settings.json stage 'base' holds the settings dev, prod share and is not "
        "deployable itself: name one of dev, prod"
    )


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
    return stage_checks.prebuilt_zip_problems(
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
