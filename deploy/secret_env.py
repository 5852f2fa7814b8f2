"""The stage's secrets (SECRET_KEY, and EDGE_ORIGIN_SECRET once the distribution is in front),
read at deploy time and set on the Lambda function's
environment, so the function makes no network call in its init to fetch them.

The stage's `secret_env` (a key of our own in zappa_settings.json, which Zappa ignores) names a
private S3 object holding a flat JSON object of strings, such as {"SECRET_KEY": "..."}. The
`settings` callback of `zappa deploy` and `zappa update` reads it with the deploying identity's
credentials (Zappa's own boto3 session) and merges its keys into the `aws_environment_variables`
that Zappa is about to send to Lambda (zappa/cli.py: `load_settings` copies the stage's
`aws_environment_variables` into the attribute before the callback runs; `deploy` passes the
attribute to `create_lambda_function`, `update` to `update_lambda_configuration`). Lambda stores
them encrypted at rest (KMS) and puts them in the process environment before the init.

The secrets exist only in the Zappa process's memory: never in the package (Zappa's generated
`zappa_settings.py` is built from `environment_variables`, not `aws_environment_variables`), never
in a file. `zappa package` never reads them, so the package builds offline. docs/deploy.md,
"SECRET_KEY", says why this replaced Zappa's `remote_env` and what it costs.
"""

import json
import re
from collections.abc import Mapping
from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError

SETTING = "secret_env"
REQUIRED_KEY = "SECRET_KEY"
# Lambda's rule for environment variable names; names it reserves for itself are refused too.
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
RESERVED_PREFIXES = ("AWS_", "LAMBDA_")
MISSING_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "404", "NotFound"})
DENIED_CODES = frozenset({"AccessDenied", "403", "Forbidden", "AllAccessDisabled"})


class SecretEnvError(click.ClickException):
    """The secrets could not be read or are not usable; Zappa prints this and exits 1."""


def parse_s3_url(url: str) -> tuple[str, str]:
    """The bucket and key of an s3://bucket/key URL (the stage check has vetted its shape)."""
    bucket, _, key = url.removeprefix("s3://").partition("/")
    if not url.startswith("s3://") or not bucket or not key:
        raise SecretEnvError(f"{SETTING} must be an s3://bucket/key URL, got {url!r}.")
    return bucket, key


def _fetch(*, url: str, s3_client: Any) -> bytes:
    bucket, key = parse_s3_url(url)
    try:
        return s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in MISSING_CODES:
            raise SecretEnvError(
                f"The {SETTING} object {url} does not exist ({code}): upload it first "
                "(infra/README.md, 'Create the stack'). Nothing was deployed."
            ) from None
        if code in DENIED_CODES:
            raise SecretEnvError(
                f"These AWS credentials may not read the {SETTING} object {url} ({code}): the "
                "identity that deploys needs s3:GetObject on it (infra/README.md). Nothing was "
                "deployed."
            ) from None
        raise SecretEnvError(
            f"Could not read the {SETTING} object {url}: {error}. Nothing was deployed."
        ) from None
    except BotoCoreError as error:
        raise SecretEnvError(
            f"Could not reach S3 to read the {SETTING} object {url}: {error}. Nothing was deployed."
        ) from None


def parse_secrets(*, body: bytes, url: str) -> dict[str, str]:
    """The object's variables, checked: a flat JSON object of non-empty strings under valid,
    unreserved names, holding SECRET_KEY. Messages name keys and types, never a value."""
    try:
        values = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise SecretEnvError(
            f"The {SETTING} object {url} is not UTF-8 JSON: it must be a flat JSON object "
            'such as {"SECRET_KEY": "..."}. Nothing was deployed.'
        ) from None
    if not isinstance(values, dict):
        raise SecretEnvError(
            f"The {SETTING} object {url} holds a JSON {type(values).__name__}, not an object: "
            'it must be a flat JSON object such as {"SECRET_KEY": "..."}. Nothing was deployed.'
        )
    problems = []
    for name, value in sorted(values.items()):
        if not NAME.match(name) or name.startswith(RESERVED_PREFIXES):
            problems.append(f"{name!r} is not a name Lambda accepts for an environment variable")
        elif not isinstance(value, str):
            problems.append(f"{name} is a JSON {type(value).__name__}, not a string")
        elif not value.strip():
            problems.append(f"{name} is empty")
    if REQUIRED_KEY not in values:
        problems.append(f"it has no {REQUIRED_KEY}")
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise SecretEnvError(
            f"The {SETTING} object {url} is not a flat JSON object of strings holding "
            f"{REQUIRED_KEY}:\n{listed}\nNothing was deployed."
        )
    return values


def read_secrets(*, url: str, s3_client: Any) -> dict[str, str]:
    """The checked variables of the secret_env object at `url`, read with `s3_client`."""
    return parse_secrets(body=_fetch(url=url, s3_client=s3_client), url=url)


def add_secrets(zappa_cli: Any) -> None:
    """Read the stage's secret_env object and merge its variables into the Lambda environment
    Zappa is about to set (`zappa_cli.aws_environment_variables`, a new dict: the loaded one is
    shared with the raw settings of the base stage). Refuses a name the stage already sets in
    `aws_environment_variables` or `environment_variables` (the latter would override it when
    Zappa's handler starts)."""
    stage_config: Mapping[str, Any] = zappa_cli.stage_config
    url = str(stage_config.get(SETTING) or "")
    secrets = read_secrets(url=url, s3_client=zappa_cli.zappa.s3_client)
    current = dict(zappa_cli.aws_environment_variables or {})
    already = sorted(
        (set(current) | set(stage_config.get("environment_variables") or {})) & set(secrets)
    )
    if already:
        raise SecretEnvError(
            f"The {SETTING} object {url} sets {', '.join(already)}, which the stage also sets "
            "in aws_environment_variables or environment_variables: keep each name in one "
            "place. Nothing was deployed."
        )
    zappa_cli.aws_environment_variables = {**current, **secrets}
    click.echo(
        f"Read {', '.join(sorted(secrets))} from {url}: set in the function's environment "
        "(Lambda encrypts it at rest), not in the package."
    )
