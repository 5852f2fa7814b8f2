"""deploy/stage_checks.py: a missing or unsafe stage setting, a base stage, or a prebuilt zip
that does not match the stage stops Zappa, naming the setting, before anything is uploaded."""

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import pytest

from deploy import stack, stage_checks, stages
from tests.deploy.stage_configs import prod, prod_env


@dataclass
class Cli:
    """What Zappa hands its settings callback: the CLI object (stage, command, merged config)."""

    stage_config: dict[str, Any]
    api_stage: str = "prod"
    command: str | None = "update"
    vargs: dict[str, Any] = field(default_factory=dict)
    zappa_settings: dict[str, Any] = field(default_factory=stages.load_settings)
    settings_module: str = "DEBUG=False\nAPI_STAGE='prod'\n"

    def get_zappa_settings_string(self) -> str:
        return self.settings_module


def problems_of(config: dict[str, Any], stage: str = "prod") -> list[str]:
    return stage_checks.stage_problems(stage=stage, config=config)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_committed_stages_are_deployable(stage: str) -> None:
    assert problems_of(stages.stage_config(stage=stage), stage=stage) == []


@pytest.mark.parametrize(
    ("setting", "wrong"),
    [
        ("debug", True),  # Zappa would put tracebacks in 500 responses
        ("manage_roles", None),  # Zappa would make its own, far wider role
        ("runtime", "python3.12"),
        ("log_level", "DEBUG"),
        ("slim_handler", True),
        ("use_precompiled_packages", None),
        ("touch", None),
        ("app_function", "django.core.wsgi.application"),
        ("callbacks", {"settings": "deploy.zappa_callbacks.check_and_prepare"}),
        ("aws_environment_variables", {}),
        ("aws_environment_variables", {"INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT": "true", "K": "v"}),
        ("remote_env", "s3://resume-site-prod-deploys-123456789012/secrets/env.json"),
        ("remote_env_bucket", "resume-site-prod-deploys-123456789012"),
        ("endpoint_configuration", ["EDGE"]),
    ],
)
def test_a_fixed_setting_with_another_value_is_named_with_the_value_wanted(
    setting: str, wrong: Any
) -> None:
    wanted = stage_checks.FIXED[setting][0]
    (problem,) = problems_of(prod(**{setting: wrong}))
    assert problem.startswith(f"{setting} must be {json.dumps(wanted)} (")
    assert problem.endswith(f"got {json.dumps(wrong)}")


def test_a_false_setting_must_be_false_not_just_falsy() -> None:
    (problem,) = problems_of(prod(debug=0))
    assert problem.startswith("debug must be false")


@pytest.mark.parametrize("name", sorted(stack.OUTPUT_ENVIRONMENT))
def test_a_value_of_the_owners_stack_is_never_committed(name: str) -> None:
    """The table, bucket and site URL are read from the stack's outputs at deploy time."""
    output = stack.OUTPUT_ENVIRONMENT[name]
    assert problems_of(prod_env(**{name: "resume-site-prod"})) == [
        f"environment_variables.{name} must not be set: the deploy reads it from the stack's "
        f"{output} output (deploy/stack.py)"
    ]


@pytest.mark.parametrize("name", stage_checks.OWNER_SETTINGS)
def test_a_name_of_the_owners_account_is_never_committed(name: str) -> None:
    """S3 names are global: the deploy bucket is named from the account's id."""
    (problem,) = problems_of(prod(**{name: "resume-site-prod-deploys"}))
    assert problem == (
        f"{name} must not be set: the deploy names it from the account's id (deploy/stack.py)"
    )


def test_the_api_must_be_regional() -> None:
    """An edge-optimized API would put API Gateway's own CloudFront behind the site's."""
    (problem,) = problems_of(prod(endpoint_configuration=None))
    assert problem.startswith('endpoint_configuration must be ["REGIONAL"] (')


def test_django_env_must_be_production() -> None:
    assert problems_of(prod_env(DJANGO_ENV="local")) == [
        "environment_variables.DJANGO_ENV must be 'production'"
    ]


@pytest.mark.parametrize("value", [None, 0, 101, True, "10", 2.5])
def test_the_function_needs_a_sane_concurrency_cap(value: Any) -> None:
    (problem,) = problems_of(prod(lambda_concurrency=value))
    assert problem.startswith("lambda_concurrency must be a whole number from 1 to 100")


def test_a_missing_region_is_named() -> None:
    assert problems_of(prod(aws_region=None)) == ["aws_region is missing"]


def test_role_name_must_be_the_cloudformation_role_of_the_stage() -> None:
    assert problems_of(prod(role_name="resume-site-dev-lambda")) == [
        "role_name (or role_arn) must be the stack's role 'resume-site-prod-lambda'"
    ]


def test_role_arn_of_the_cloudformation_role_is_accepted_instead_of_a_name() -> None:
    arn = "arn:aws:iam::123456789012:role/resume-site-prod-lambda"
    assert problems_of(prod(role_name=None, role_arn=arn)) == []
    (problem,) = problems_of(prod(role_name=None, role_arn=arn.replace("prod", "dev")))
    assert problem.startswith("role_name (or role_arn) must be")


@pytest.mark.parametrize("name", ["SECRET_KEY", "DB_PASSWORD", "EDGE_ORIGIN_SECRET", "API_TOKEN"])
def test_a_secret_in_the_packaged_environment_is_refused(name: str) -> None:
    assert problems_of(prod_env(**{name: "x" * 60})) == [
        f"environment_variables.{name} holds a secret in plain text: put it in the stage's "
        "secrets object"
    ]


def test_remote_env_is_refused() -> None:
    url = "s3://resume-site-prod-deploys-123456789012/secrets/env.json"
    (problem,) = problems_of(prod(remote_env=url))
    assert problem.startswith("remote_env must be null (the deploy reads secrets)")


@pytest.mark.parametrize("value", [None, "", 7, "resume-site-prod"])
def test_the_infra_stack_must_be_named_and_not_be_zappas_own(value: Any) -> None:
    """Zappa creates and updates a CloudFormation stack named after the function
    (resume-site-prod) for API Gateway: an infra stack of that name would be replaced."""
    (problem,) = problems_of(prod(infra_stack=value))
    assert problem.startswith("infra_stack must name the stage's infra/template.yaml stack")


@pytest.mark.parametrize(
    "throttling",
    [
        None,
        {"rate_limit": 0, "burst_limit": 10},
        {"rate_limit": "20", "burst_limit": 10},
        {"rate_limit": True, "burst_limit": 10},
        {"rate_limit": 20, "burst_limit": 2.5},
        {"rate_limit": 20, "burst_limit": 0},
        {"rate_limit": 20, "burst_limit": 10_001},
        {"rate_limit": 20},
        {"rate_limit": 20, "burst_limit": 40, "burst": 5},
    ],
)
def test_the_stage_needs_a_sane_api_gateway_throttling(throttling: Any) -> None:
    (problem,) = problems_of(prod(stage_throttling=throttling))
    assert problem.startswith('stage_throttling must be {"rate_limit"')


def test_the_committed_stages_allow_bursts_above_their_rate() -> None:
    for name in ("dev", "prod"):
        throttling = stages.stage_config(stage=name)["stage_throttling"]
        assert throttling["burst_limit"] >= throttling["rate_limit"]


def test_every_problem_is_reported_at_once() -> None:
    config = prod(runtime="python3.9", lambda_concurrency=None, manage_roles=True)
    assert len(problems_of(config)) == 3


def test_check_stage_raises_a_click_error_naming_stage_and_settings() -> None:
    cli = Cli(stage_config=prod(runtime="python3.12", lambda_concurrency=None))
    with pytest.raises(click.ClickException) as raised:
        stage_checks.check_stage(cli)
    message = raised.value.format_message()
    assert message.startswith("zappa_settings.json stage 'prod' is not deployable:")
    assert '  - runtime must be "python3.13"' in message
    assert "  - lambda_concurrency must be" in message


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


MANIFEST_ENTRY = "resume_site/static_manifest/staticfiles.json"


def prebuilt_zip_check(tmp_path: Path, *, entries: dict[str, bytes], manifest: bytes) -> None:
    """check_prebuilt_zip of a --zip holding `entries`, in a project tree whose freshly hashed
    manifest is `manifest`."""
    project = tmp_path / "project"
    (project / MANIFEST_ENTRY).parent.mkdir(parents=True)
    (project / MANIFEST_ENTRY).write_bytes(manifest)
    path = tmp_path / "resume-site-prod.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    stage_checks.check_prebuilt_zip(Cli(stage_config=prod(), vargs={"zip": path}), project=project)


def test_a_prebuilt_zip_matching_settings_and_manifest_is_accepted(tmp_path: Path) -> None:
    entries = {"zappa_settings.py": Cli(prod()).settings_module.encode(), MANIFEST_ENTRY: b"{}"}
    prebuilt_zip_check(tmp_path, entries=entries, manifest=b"{}")


@pytest.mark.parametrize(
    ("entries", "differs"),
    [
        ({"zappa_settings.py": b"DEBUG=True\n", MANIFEST_ENTRY: b"{}"}, "zappa_settings.py"),
        ({"zappa_settings.py": b"DEBUG=False\nAPI_STAGE='prod'\n"}, MANIFEST_ENTRY),
        ({MANIFEST_ENTRY: b'{"a": "2"}'}, f"zappa_settings.py and another {MANIFEST_ENTRY}"),
    ],
)
def test_a_prebuilt_zip_with_other_settings_or_static_files_is_refused(
    tmp_path: Path, entries: dict[str, bytes], differs: str
) -> None:
    with pytest.raises(click.ClickException) as raised:
        prebuilt_zip_check(tmp_path, entries=entries, manifest=b"{}")
    message = raised.value.format_message()
    assert message.startswith(f"--zip resume-site-prod.zip holds another {differs} than")
    assert message.endswith("rebuild it with `make package`")


def test_a_prebuilt_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    not_zip = tmp_path / "resume-site-prod.zip"
    not_zip.write_text("not a zip")
    with pytest.raises(click.ClickException, match="is not a zip file: build it with"):
        stage_checks.check_prebuilt_zip(
            Cli(stage_config=prod(), vargs={"zip": not_zip}), project=tmp_path
        )
