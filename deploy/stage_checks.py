"""Refuse an unsafe stage, or a prebuilt zip that does not match it, before Zappa uploads anything.

Run by the `settings` callback; each problem names its setting (docs/deploy.md, "Stage checks").
"""

import json
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from deploy import stack, stages, static_files

PROJECT_NAME = "resume-site"
CALLBACKS = {
    "settings": "deploy.zappa_callbacks.check_and_prepare",
    "zip": "deploy.zappa_callbacks.add_bytecode",
    "post": "deploy.zappa_callbacks.finish_deploy",
}
# Settings that must have exactly this value, and why.
FIXED = {
    "project_name": (PROJECT_NAME, "it names the function and the log group the stack owns"),
    "django_settings": ("resume_site.settings", "the one settings module"),
    "app_function": ("resume_site.wsgi.application", "it sets Django up and warms it at init"),
    "runtime": ("python3.13", "the Python the bytecode is compiled by"),
    "debug": (False, "Zappa puts tracebacks in 500 responses otherwise"),
    "log_level": ("WARNING", "chattier levels log whole events, cookies included"),
    "manage_roles": (False, "the least-privilege role comes from infra/template.yaml"),
    "touch": (False, "the endpoint is behind the distribution at deploy time"),
    "slim_handler": (False, "the zip callback checks and compiles one whole zip"),
    "use_precompiled_packages": (False, "the package is the pinned requirements, built offline"),
    "callbacks": (CALLBACKS, "they check, prepare and finish every deploy"),
    "aws_environment_variables": (
        {"INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT": "true"},
        "Django is set up in Lambda's init; secrets come from secret_env",
    ),
    "endpoint_configuration": (
        ["REGIONAL"],
        "the site's own distribution is the one CloudFront hop (an edge-optimized API adds one)",
    ),
    # Zappa's handler would fetch that S3 object in every cold start: the deploy reads the
    # stage's secrets object itself (deploy/secret_env.py).
    **dict.fromkeys(
        ("remote_env", "remote_env_bucket", "remote_env_file"), (None, "the deploy reads secrets")
    ),
}
MAX_CONCURRENCY = 100
MAX_RATE = 10_000  # API Gateway's default account limit
# What belongs to one owner's account is never committed: the deploy reads it from the account
# (the deploy bucket, from its id) and from the stack's outputs (deploy/stack.py).
OWNER_SETTINGS = ("s3_bucket", "secret_env")
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIAL", re.IGNORECASE)
# Commands that only read or remove what exists: a broken stage must still be removable.
UNCHECKED_COMMANDS = frozenset({"status", "tail", "undeploy", "rollback", "unschedule"})


def _whole(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def stage_problems(*, stage: str, config: Mapping[str, Any]) -> list[str]:
    """Every problem with one stage's merged settings, each naming its setting; [] if none."""
    problems = [  # compared as JSON, so 0 is not false
        f"{name} must be {json.dumps(value)} ({why}), got {json.dumps(config.get(name))}"
        for name, (value, why) in FIXED.items()
        if json.dumps(config.get(name), sort_keys=True) != json.dumps(value, sort_keys=True)
    ]
    problems += [f"{name} is missing" for name in ("aws_region",) if not config.get(name)]
    problems += [
        f"{name} must not be set: the deploy names it from the account's id (deploy/stack.py)"
        for name in OWNER_SETTINGS
        if name in config
    ]
    role = f"{PROJECT_NAME}-{stage}-lambda"  # the role infra/template.yaml creates
    given = config.get("role_arn") or f":role/{config.get('role_name')}"
    if not str(given).endswith(f":role/{role}"):
        problems.append(f"role_name (or role_arn) must be the stack's role {role!r}")
    if not _whole(config.get("lambda_concurrency"), 1, MAX_CONCURRENCY):
        problems.append(
            f"lambda_concurrency must be a whole number from 1 to {MAX_CONCURRENCY} (the "
            f"function's reserved concurrency), got {config.get('lambda_concurrency')!r}"
        )
    throttling = config.get("stage_throttling")
    limits = dict(throttling) if isinstance(throttling, Mapping) else {}
    rate = limits.get("rate_limit")
    if (
        set(limits) != {"rate_limit", "burst_limit"}
        or isinstance(rate, bool)
        or not isinstance(rate, int | float)
        or not 0 < rate <= MAX_RATE
        or not _whole(limits["burst_limit"], 1, MAX_RATE)
    ):
        problems.append(
            'stage_throttling must be {"rate_limit": <requests a second, above 0>, "burst_limit": '
            f"<a whole number of requests>}}, each at most {MAX_RATE}, got {throttling!r}"
        )
    infra_stack = config.get("infra_stack")
    if infra_stack != stack.stack_name(stage=stage):
        problems.append(
            f"infra_stack must name the stage's infra/template.yaml stack ({PROJECT_NAME}-{stage}"
            f"-infra), never Zappa's own {PROJECT_NAME}-{stage}, got {infra_stack!r}"
        )
    environment = config.get("environment_variables") or {}
    problems += [
        f"environment_variables.{name} holds a secret in plain text: put it in the stage's "
        "secrets object"
        for name in sorted(environment)
        if SECRET_NAME.search(name)
    ]
    if environment.get("DJANGO_ENV") != "production":
        problems.append("environment_variables.DJANGO_ENV must be 'production'")
    problems += [
        f"environment_variables.{name} must not be set: the deploy reads it from the stack's "
        f"{output} output (deploy/stack.py)"
        for name, output in stack.OUTPUT_ENVIRONMENT.items()
        if name in environment
    ]
    return problems


def check_stage(zappa_cli: Any) -> None:
    """Refuse a base stage whatever the command, and a stage with problems unless unchecked."""
    stage = zappa_cli.api_stage
    extended_by = stages.base_stages(zappa_cli.zappa_settings).get(stage)
    if extended_by:
        names = ", ".join(extended_by)
        raise click.ClickException(
            f"zappa_settings.json stage {stage!r} holds the settings {names} share and is not "
            f"deployable itself: name one of {names}"
        )
    if getattr(zappa_cli, "command", None) in UNCHECKED_COMMANDS:
        return
    problems = stage_problems(stage=stage, config=zappa_cli.stage_config)
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise click.ClickException(
            f"zappa_settings.json stage {stage!r} is not deployable:\n{listed}"
        )


def check_prebuilt_zip(zappa_cli: Any, *, project: Path) -> None:
    """Refuse a --zip without today's settings module, or the manifest just hashed in `project`."""
    name = Path(zappa_cli.vargs["zip"]).name
    if not zipfile.is_zipfile(zappa_cli.vargs["zip"]):
        raise click.ClickException(f"--zip {name} is not a zip file: build it with `make package`")
    manifest_dir = static_files.shipped_manifest_dir(
        stage_config=zappa_cli.stage_config, project=project
    )
    manifest = (manifest_dir / static_files.MANIFEST_NAME).resolve()
    wanted = {
        "zappa_settings.py": zappa_cli.get_zappa_settings_string().encode(),
        manifest.relative_to(project.resolve(), walk_up=True).as_posix(): manifest.read_bytes(),
    }
    with zipfile.ZipFile(zappa_cli.vargs["zip"]) as archive:
        names = set(archive.namelist())
        differ = [
            entry
            for entry, data in wanted.items()
            if entry not in names or archive.read(entry) != data
        ]
    if differ:
        raise click.ClickException(
            f"--zip {name} holds another {' and another '.join(differ)} than a package built for "
            f"stage {zappa_cli.api_stage!r} now would (built for another stage, or before a "
            "change to the settings or the static files): rebuild it with `make package`"
        )
