"""Read the stage's secrets (its `secret_env` S3 object) into the Lambda environment Zappa sets.

Never into the package or a file (docs/deploy.md, "SECRET_KEY"); messages name keys, never values.
"""

import json
import re
from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError

SETTING = "secret_env"
REQUIRED_KEY = "SECRET_KEY"
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")  # Lambda's rule for a variable's name
RESERVED_PREFIXES = ("AWS_", "LAMBDA_")
MISSING = frozenset({"NoSuchKey", "NoSuchBucket", "404", "NotFound"})


class SecretEnvError(click.ClickException):
    """The secrets could not be read or are not usable; Zappa prints this and exits 1."""

    def __init__(self, message: str) -> None:
        super().__init__(f"{message} Nothing was deployed.")


def parse_s3_url(url: str) -> tuple[str, str]:
    """The bucket and key of an s3://bucket/key URL (the stage check has vetted its shape)."""
    bucket, _, key = url.removeprefix("s3://").partition("/")
    return bucket, key


def _fetch(*, url: str, s3_client: Any) -> bytes:
    bucket, key = parse_s3_url(url)
    try:
        return s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except (ClientError, BotoCoreError) as error:
        code = str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))
        if code in MISSING:
            raise SecretEnvError(
                f"The {SETTING} object {url} does not exist ({code}): upload it first "
                "(infra/README.md, 'Create the stack')."
            ) from None
        raise SecretEnvError(
            f"Could not read the {SETTING} object {url} ({error}): the identity that deploys "
            "needs s3:GetObject on it (infra/README.md)."
        ) from None


def parse_secrets(*, body: bytes, url: str) -> dict[str, str]:
    """The object's variables: a flat JSON object of strings, holding SECRET_KEY."""
    shape = f'it must be a flat JSON object such as {{"{REQUIRED_KEY}": "..."}}.'
    try:
        values = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise SecretEnvError(f"The {SETTING} object {url} is not UTF-8 JSON: {shape}") from None
    if not isinstance(values, dict):
        kind = type(values).__name__
        raise SecretEnvError(
            f"The {SETTING} object {url} holds a JSON {kind}, not an object: {shape}"
        )
    problems = [] if REQUIRED_KEY in values else [f"it has no {REQUIRED_KEY}"]
    for name, value in sorted(values.items()):
        if not NAME.match(name) or name.startswith(RESERVED_PREFIXES):
            problems.append(f"{name!r} is not a name Lambda accepts for an environment variable")
        elif not isinstance(value, str):
            problems.append(f"{name} is a JSON {type(value).__name__}, not a string")
        elif not value.strip():
            problems.append(f"{name} is empty")
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise SecretEnvError(f"The {SETTING} object {url} is not usable:\n{listed}\n{shape}")
    return values


def read_secrets(*, url: str, s3_client: Any) -> dict[str, str]:
    return parse_secrets(body=_fetch(url=url, s3_client=s3_client), url=url)


def write_secrets(*, url: str, s3_client: Any, values: dict[str, str]) -> str:
    """Replace the object with `values`, the flat JSON object of strings `parse_secrets` reads,
    encrypted with SSE-S3; returns its ETag (`make deploy` makes it once, `make rotate-secret`
    changes it)."""
    bucket, key = parse_s3_url(url)
    answer = s3_client.put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(values, indent=2).encode(),
        ContentType="application/json",
        ServerSideEncryption="AES256",
    )
    return answer["ETag"]


def add_secrets(zappa_cli: Any) -> None:
    """Merge the stage's secrets into (a new) `zappa_cli.aws_environment_variables`."""
    config = zappa_cli.stage_config
    url = str(config.get(SETTING) or "")
    secrets = read_secrets(url=url, s3_client=zappa_cli.zappa.s3_client)
    current = dict(zappa_cli.aws_environment_variables or {})
    already = sorted((set(current) | set(config.get("environment_variables") or {})) & set(secrets))
    if already:
        raise SecretEnvError(
            f"The {SETTING} object {url} sets {', '.join(already)}, which the stage also sets in "
            "aws_environment_variables or environment_variables: keep each name in one place."
        )
    zappa_cli.aws_environment_variables = {**current, **secrets}
    click.echo(
        f"Read {', '.join(sorted(secrets))} from {url}: set in the function's environment "
        "(Lambda encrypts it at rest), not in the package."
    )
