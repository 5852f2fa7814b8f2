"""Stage checks: refuse a stage whose settings are missing or unsafe, and a prebuilt zip that
does not match the stage. They only check; they raise click.ClickException (which Zappa prints
before exiting 1) and change nothing.

They run from the Zappa `settings` callback (deploy/zappa_callbacks.py), right after Zappa loads
zappa_settings.json and before it dispatches the command (zappa/cli.py `dispatch_command`:
`load_settings()` then `callback("settings")`), so a bad stage stops `zappa deploy`,
`zappa update` and `zappa package` before anything is built or uploaded. All problems are
reported at once, each naming the setting at fault.
"""

import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from deploy import api_throttling, edge_cache, secret_env, stages, static_files

PROJECT_NAME = "resume-site"
DJANGO_SETTINGS = "resume_site.settings"
# The project's WSGI module: it builds the app and then does the first request's lazy work
# (resume_site/warmup.py), which Zappa's own Django entry point would leave to the first visitor.
APP_FUNCTION = "resume_site.wsgi.application"
RUNTIME = "python3.13"
QUIET_LOG_LEVELS = frozenset({"WARNING", "ERROR", "CRITICAL"})
MAX_CONCURRENCY = 100
# Set on the function itself: Zappa's handler module builds the app when Lambda imports it.
INSTANTIATE_ON_IMPORT = "INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT"
REQUIRED_ENVIRONMENT = (
    "DYNAMODB_TABLE",
    "SITE_URL",
    "STATIC_BUCKET",
    "STATIC_DOMAIN",
)
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIAL", re.IGNORECASE)
HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
# A CloudFormation stack name (letters, digits, hyphens; a letter first; at most 128).
STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
S3_URL = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^\s]+$")
# Zappa's settings that make its handler fetch environment variables from S3 when it starts
# (`remote_env`, and the deprecated pair that spells the same URL in two halves).
REMOTE_ENV_SETTINGS = ("remote_env", "remote_env_bucket", "remote_env_file")
# Commands that only read or remove what exists: a broken stage must still be removable.
UNCHECKED_COMMANDS = frozenset({"status", "tail", "undeploy", "rollback", "unschedule"})


def role_name_for(*, stage: str) -> str:
    """The name of the Lambda execution role that infra/template.yaml creates for a stage."""
    return f"{PROJECT_NAME}-{stage}-lambda"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _core_problems(*, stage: str, config: Mapping[str, Any]) -> list[str]:
    problems = []
    if config.get("project_name") != PROJECT_NAME:
        problems.append(f"project_name must be {PROJECT_NAME!r} (it names the Lambda function)")
    if config.get("django_settings") != DJANGO_SETTINGS:
        problems.append(f"django_settings must be {DJANGO_SETTINGS!r}")
    if config.get("app_function") != APP_FUNCTION:
        problems.append(
            f"app_function must be {APP_FUNCTION!r} (it sets Django up and warms its caches "
            f"before the first request), got {config.get('app_function')!r}"
        )
    if config.get("runtime") != RUNTIME:
        problems.append(f"runtime must be {RUNTIME!r}, got {config.get('runtime')!r}")
    if not isinstance(config.get("aws_region"), str) or not config.get("aws_region"):
        problems.append("aws_region is missing")
    if not isinstance(config.get("s3_bucket"), str) or not config.get("s3_bucket"):
        problems.append("s3_bucket is missing (Zappa would invent a random upload bucket)")
    if config.get("manage_roles") is not False:
        problems.append("manage_roles must be false: the role comes from infra/template.yaml")
    expected_role = role_name_for(stage=stage)
    if config.get("role_arn"):
        if not str(config["role_arn"]).endswith(f":role/{expected_role}"):
            problems.append(f"role_arn must name the CloudFormation role {expected_role!r}")
    elif config.get("role_name") != expected_role:
        problems.append(
            f"role_name must be {expected_role!r} (the role infra/template.yaml creates), "
            f"got {config.get('role_name')!r}"
        )
    return problems


def _runtime_problems(*, config: Mapping[str, Any]) -> list[str]:
    problems = []
    if config.get("log_level") not in QUIET_LOG_LEVELS:
        problems.append(f"log_level must be WARNING (or quieter), got {config.get('log_level')!r}")
    if config.get("debug") is not False:
        problems.append("debug must be false (Zappa puts tracebacks in 500 responses otherwise)")
    concurrency = config.get("lambda_concurrency")
    if concurrency is None:
        hint = (
            " (Zappa reads 'lambda_concurrency', not 'concurrency')"
            if "concurrency" in config
            else ""
        )
        problems.append(
            f"lambda_concurrency is missing: the function needs a concurrency cap{hint}"
        )
    elif not _is_int(concurrency) or not 1 <= concurrency <= MAX_CONCURRENCY:
        problems.append(
            f"lambda_concurrency must be a whole number from 1 to {MAX_CONCURRENCY}, "
            f"got {concurrency!r}"
        )
    if config.get("touch") is not False:
        problems.append("touch must be false (the endpoint is not reachable at deploy time)")
    if config.get("slim_handler", False) is not False:
        problems.append("slim_handler must be false (the package is small enough to ship whole)")
    if config.get("use_precompiled_packages") is not False:
        problems.append("use_precompiled_packages must be false (the build is offline)")
    callbacks = config.get("callbacks")
    if not isinstance(callbacks, Mapping) or not callbacks.get("post"):
        problems.append("callbacks.post is missing: static files would not be published")
    if not isinstance(callbacks, Mapping) or not callbacks.get("zip"):
        problems.append(
            "callbacks.zip is missing: the package would ship without bytecode, and every cold "
            "start would compile it from source"
        )
    lambda_environment = config.get("aws_environment_variables")
    if (
        not isinstance(lambda_environment, Mapping)
        or lambda_environment.get(INSTANTIATE_ON_IMPORT) != "true"
    ):
        problems.append(
            f"aws_environment_variables.{INSTANTIATE_ON_IMPORT} must be 'true': without it Zappa "
            "sets Django up inside the first request instead of during Lambda's init"
        )
    return problems


def _environment_problems(*, stage: str, config: Mapping[str, Any]) -> list[str]:
    problems = []
    environment = config.get("environment_variables")
    if not isinstance(environment, Mapping):
        return ["environment_variables is missing"]
    for section in ("environment_variables", "aws_environment_variables"):
        values = config.get(section) or {}
        for name in sorted(values):
            if SECRET_NAME.search(name):
                problems.append(
                    f"{section}.{name} holds a secret in plain text: put it in the secret_env "
                    "S3 object instead"
                )
    if environment.get("DJANGO_ENV") != "production":
        problems.append("environment_variables.DJANGO_ENV must be 'production'")
    for name in REQUIRED_ENVIRONMENT:
        value = environment.get(name)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"environment_variables.{name} is missing")
    hosts = environment.get("ALLOWED_HOSTS")
    if isinstance(hosts, str) and "*" in hosts.split(","):
        problems.append("environment_variables.ALLOWED_HOSTS must not be '*'")
    domain = environment.get("STATIC_DOMAIN")
    if isinstance(domain, str) and domain.strip() and not HOSTNAME.match(domain):
        problems.append(
            "environment_variables.STATIC_DOMAIN must be a bare host name such as "
            f"d123.cloudfront.net (no scheme, no path), got {domain!r}"
        )
    site_url = environment.get("SITE_URL")
    if isinstance(domain, str) and HOSTNAME.match(domain) and isinstance(site_url, str):
        site_host = urlsplit(site_url.strip()).netloc
        if site_host and domain != site_host:
            problems.append(
                "environment_variables.STATIC_DOMAIN must be SITE_URL's host "
                f"({site_host!r}): one distribution serves the page and /static/*, got {domain!r}"
            )
    secret_url = config.get(secret_env.SETTING)
    if not isinstance(secret_url, str) or not S3_URL.match(secret_url):
        problems.append(
            f"{secret_env.SETTING} must be an s3://bucket/key URL of the private JSON object "
            f"holding SECRET_KEY, got {secret_url!r}"
        )
    stack = config.get(edge_cache.INFRA_STACK_SETTING)
    own_stack = f"{config.get('project_name')}-{stage}"
    if not isinstance(stack, str) or not STACK_NAME.match(stack):
        problems.append(
            f"{edge_cache.INFRA_STACK_SETTING} must name the stage's infra/template.yaml stack "
            f"(like {own_stack}-infra), whose distribution every deploy invalidates, got {stack!r}"
        )
    elif stack == own_stack:
        problems.append(
            f"{edge_cache.INFRA_STACK_SETTING} must not be {own_stack!r}: Zappa names its own API "
            "Gateway stack after the function and would replace that stack's resources"
        )
    for name in REMOTE_ENV_SETTINGS:
        if name in config:
            problems.append(
                f"{name} must not be set: Zappa's handler would read that S3 object in every cold "
                "start, a network call (a boto3 session and a GET) during Lambda's init; name "
                f"the object in {secret_env.SETTING} instead, which the deploy reads once and "
                "sets in the function's environment"
            )
    return problems


def stage_problems(*, stage: str, config: Mapping[str, Any]) -> list[str]:
    """Every problem with one stage's merged settings, each naming its setting; [] if none."""
    return [
        *_core_problems(stage=stage, config=config),
        *_runtime_problems(config=config),
        *_environment_problems(stage=stage, config=config),
        *api_throttling.throttling_problems(config=config),
    ]


def base_stage_problem(*, stage: str, settings: Mapping[str, Mapping[str, Any]]) -> str | None:
    """Why a stage cannot be used at all: it is the base other stages extend (it holds only
    what they share, so it has no function, bucket or role of its own); None otherwise."""
    extended_by = stages.base_stages(settings).get(stage)
    if not extended_by:
        return None
    return (
        f"zappa_settings.json stage {stage!r} holds the settings {', '.join(extended_by)} share "
        f"and is not deployable itself: name one of {', '.join(extended_by)}"
    )


def check_stage(zappa_cli: Any) -> None:
    """Raise a ClickException if the stage Zappa is about to use is a base stage (whatever the
    command), or listing every problem of its merged settings (commands that only read or
    remove what exists are let through, so a broken stage can still be removed)."""
    stage = zappa_cli.api_stage
    base = base_stage_problem(stage=stage, settings=zappa_cli.zappa_settings)
    if base:
        raise click.ClickException(base)
    if getattr(zappa_cli, "command", None) in UNCHECKED_COMMANDS:
        return
    problems = stage_problems(stage=stage, config=zappa_cli.stage_config)
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise click.ClickException(
            f"zappa_settings.json stage {stage!r} is not deployable:\n{listed}"
        )


def prebuilt_zip_problems(
    *, zip_path: Path, settings_module: str, manifest: Path | None, manifest_entry: str | None
) -> list[str]:
    """Problems with deploying a zip built earlier (--zip): it must hold the settings Zappa
    would write for this stage now, and the static manifest of the files it will publish."""
    name = zip_path.name
    if not zipfile.is_zipfile(zip_path):
        return [f"--zip {name} is not a zip file: build it with `make package`"]
    with zipfile.ZipFile(zip_path) as archive:
        entries = set(archive.namelist())
        shipped_settings = (
            archive.read("zappa_settings.py").decode() if "zappa_settings.py" in entries else ""
        )
        shipped_manifest = (
            archive.read(manifest_entry) if manifest_entry and manifest_entry in entries else None
        )
    problems = []
    if shipped_settings != settings_module:
        stage = re.search(r"^API_STAGE='([^']*)'$", shipped_settings, re.MULTILINE)
        built_for = f"stage {stage.group(1)!r}" if stage else "no Zappa stage"
        problems.append(
            f"--zip {name} was built for {built_for} with other settings than "
            "zappa_settings.json holds now: rebuild it with `make package`"
        )
    if manifest is not None and shipped_manifest != manifest.read_bytes():
        problems.append(
            f"--zip {name} was built from other static files than the ones about to be "
            "published: rebuild it with `make package`"
        )
    return problems


def check_prebuilt_zip(zappa_cli: Any, *, project: Path) -> None:
    """Refuse a --zip that does not match the stage's current settings, or the static manifest
    just written in `project` (the tree being deployed) from the files about to be published."""
    vargs = getattr(zappa_cli, "vargs", None) or {}
    if getattr(zappa_cli, "command", None) not in {"deploy", "update"} or not vargs.get("zip"):
        return
    stage_env = static_files.stage_environment(stage_config=zappa_cli.stage_config)
    manifest = static_files.shipped_manifest_dir(stage_env=stage_env, project=project)
    manifest_file = (manifest / static_files.MANIFEST_NAME).resolve()
    inside = manifest_file.is_relative_to(project.resolve())
    problems = prebuilt_zip_problems(
        zip_path=Path(vargs["zip"]),
        settings_module=zappa_cli.get_zappa_settings_string(),
        manifest=manifest_file if inside else None,
        manifest_entry=manifest_file.relative_to(project.resolve()).as_posix() if inside else None,
    )
    if problems:
        raise click.ClickException("\n".join(problems))
