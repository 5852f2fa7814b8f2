"""Static files at deploy time: hash them into the manifest the package ships with, and publish
them to the stage's bucket.

- `build_manifest` runs before Zappa builds the package (deploy, update, package; from the
  `settings` callback in deploy/zappa_callbacks.py): it hashes the static files offline and
  writes staticfiles.json into STATIC_MANIFEST_DIR of the tree being packaged, so the package
  carries the manifest its templates render with (see resume_site/storage.py for why).
- `publish_static` runs after the Lambda is updated (the `post` callback): collectstatic
  uploads the hashed files to the stage's STATIC_BUCKET, then checks they match the manifest
  the package shipped with.

Both run Django (`manage.py`-style) in a child process in the tree being deployed, with the
stage's environment and DJANGO_ENV=production, so the Zappa CLI process and its environment
stay untouched. Collectstatic signs nothing, so the child gets a random throwaway SECRET_KEY
made for that run: the real key stays in its secure store and the deploying machine never needs
to read it.
"""

import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Protocol

import boto3
import click
from botocore.exceptions import BotoCoreError, ClientError

MANIFEST_NAME = "staticfiles.json"
# Where settings.py reads the manifest unless STATIC_MANIFEST_DIR says otherwise, relative to
# the project root: inside the package, so every package renders the names it was built with.
DEFAULT_MANIFEST_DIR = Path("resume_site") / "static_manifest"


class ZappaCLI(Protocol):
    """What the callbacks use of zappa.cli.ZappaCLI."""

    @property
    def stage_config(self) -> dict[str, Any]: ...


class StaticDeployError(click.ClickException):
    """A deploy step failed; Zappa's CLI prints the message and stops with a non-zero status."""


def stage_environment(*, stage_config: dict[str, Any]) -> dict[str, str]:
    """The Lambda's environment for this stage, checked for what static publishing needs."""
    env: dict[str, str] = {}
    for key in ("aws_environment_variables", "environment_variables"):
        values = stage_config.get(key) or {}
        if not isinstance(values, dict):
            raise StaticDeployError(f"The stage's {key} must be an object, got {values!r}.")
        env.update({str(name): str(value) for name, value in values.items()})
    for name in ("STATIC_BUCKET", "STATIC_DOMAIN"):
        if not env.get(name, "").strip():
            raise StaticDeployError(
                f"The stage has no {name} in its environment_variables: set it to the "
                "CloudFormation stack's output (see infra/README.md)."
            )
    return env


def child_environment(
    *, stage_config: dict[str, Any], stage_env: dict[str, str], manifest_dir: Path
) -> dict[str, str]:
    """The environment of the child Django process: production settings of this stage."""
    env = {**os.environ, **stage_env}
    env.update(
        {
            "DJANGO_ENV": "production",
            "DJANGO_SETTINGS_MODULE": str(
                stage_config.get("django_settings") or "resume_site.settings"
            ),
            # Collectstatic signs nothing: a fresh random key satisfies the production check
            # without the real one ever leaving its store. It dies with the child process.
            "SECRET_KEY": secrets.token_urlsafe(64),
            "STATIC_MANIFEST_DIR": str(manifest_dir),
        }
    )
    region = stage_config.get("aws_region")
    if region:
        env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = str(region)
    profile = stage_config.get("profile_name")
    if profile:
        env["AWS_PROFILE"] = str(profile)
    return env


def shipped_manifest_dir(*, stage_env: dict[str, str], project: Path) -> Path:
    """Where the package's manifest lives in the project tree (STATIC_MANIFEST_DIR, as
    settings.py reads it)."""
    configured = stage_env.get("STATIC_MANIFEST_DIR", "").strip()
    return Path(configured) if configured else project / DEFAULT_MANIFEST_DIR


def _run_django(*, args: list[str], env: dict[str, str], step: str, project: Path) -> None:
    """Run Django in a child process in the project tree; its output streams through, its
    errors end the deploy."""
    sys.stdout.flush()
    result = subprocess.run(  # noqa: S603 (our own interpreter and manage.py, no shell)
        [sys.executable, *args],
        cwd=project,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()[-12:]
        raise StaticDeployError(f"{step} failed:\n" + "\n".join(detail))


def manifest_paths(*, manifest_dir: Path) -> dict[str, str]:
    """The name -> hashed name map of a manifest directory's staticfiles.json."""
    path = manifest_dir / MANIFEST_NAME
    try:
        return dict(json.loads(path.read_text(encoding="utf-8"))["paths"])
    except FileNotFoundError:
        raise StaticDeployError(f"The static manifest {path} does not exist.") from None
    except (ValueError, KeyError, TypeError) as error:
        raise StaticDeployError(f"The static manifest {path} is not valid: {error}") from None


def build_manifest(zappa_cli: ZappaCLI, *, project: Path) -> None:
    """Hash the static files of the project tree offline into the manifest the package ships
    with (STATIC_MANIFEST_DIR, by default inside that tree)."""
    stage_config = zappa_cli.stage_config
    stage_env = stage_environment(stage_config=stage_config)
    manifest_dir = shipped_manifest_dir(stage_env=stage_env, project=project)
    manifest = manifest_dir / MANIFEST_NAME
    shown = manifest.relative_to(project) if manifest.is_relative_to(project) else manifest
    click.echo(f"Hashing static files into {shown} ...")
    env = child_environment(
        stage_config=stage_config, stage_env=stage_env, manifest_dir=manifest_dir
    )
    _run_django(
        args=["-m", "deploy.static_files", "manifest"],
        env=env,
        step="Hashing the static files",
        project=project,
    )
    count = len(manifest_paths(manifest_dir=manifest_dir))
    click.echo(f"Static manifest written: {count} files.")


def bucket_check(*, stage_config: dict[str, Any], bucket: str) -> None:
    """Fail clearly unless the bucket exists and these credentials can reach it."""
    session = boto3.session.Session(
        profile_name=stage_config.get("profile_name") or None,
        region_name=stage_config.get("aws_region") or None,
    )
    try:
        session.client("s3").head_bucket(Bucket=bucket)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in {"404", "NoSuchBucket", "NotFound"}:
            raise StaticDeployError(
                f"The static bucket {bucket!r} does not exist: create the CloudFormation "
                "stack first (see infra/README.md) and use its StaticBucketName output."
            ) from None
        raise StaticDeployError(f"The static bucket {bucket!r} is not usable: {error}") from None
    except BotoCoreError as error:
        raise StaticDeployError(f"Could not reach the static bucket {bucket!r}: {error}") from None


def publish_static(zappa_cli: ZappaCLI, *, project: Path) -> None:
    """Collectstatic from the project tree into the stage's bucket, hashed, cached for a year;
    then check the uploaded names are the ones the package's manifest holds."""
    stage_config = zappa_cli.stage_config
    stage_env = stage_environment(stage_config=stage_config)
    bucket, domain = stage_env["STATIC_BUCKET"], stage_env["STATIC_DOMAIN"]
    bucket_check(stage_config=stage_config, bucket=bucket)
    shipped_dir = shipped_manifest_dir(stage_env=stage_env, project=project)
    shipped = manifest_paths(manifest_dir=shipped_dir)
    click.echo(f"Publishing static files to s3://{bucket}/static/ (https://{domain}/static/) ...")
    with tempfile.TemporaryDirectory(prefix="static-manifest-") as scratch:
        env = child_environment(
            stage_config=stage_config, stage_env=stage_env, manifest_dir=Path(scratch)
        )
        _run_django(
            args=["manage.py", "collectstatic", "--noinput", "--verbosity", "1"],
            env=env,
            step="collectstatic",
            project=project,
        )
        uploaded = manifest_paths(manifest_dir=Path(scratch))
    if uploaded != shipped:
        changed = sorted(
            name
            for name in shipped.keys() | uploaded.keys()
            if shipped.get(name) != uploaded.get(name)
        )
        raise StaticDeployError(
            "The static files changed since the package was built; the deployed code would "
            f"render other names than were uploaded ({', '.join(changed[:5])}). "
            "Run the deploy again."
        )
    click.echo(f"Static files published: {len(uploaded)} hashed files match the package.")


def _write_manifest() -> None:
    """In the child process: collectstatic to a scratch directory with Django's local manifest
    storage, the manifest going to STATIC_MANIFEST_DIR. The hashes depend only on the files'
    content, so they are the names the S3 upload produces."""
    import django
    from django.conf import settings
    from django.core.files.storage import FileSystemStorage
    from django.core.management import call_command
    from django.test.utils import override_settings

    django.setup()
    manifest_dir = Path(settings.STATIC_MANIFEST_DIR)
    manifest_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="static-hash-") as scratch:
        local = {
            "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
            "OPTIONS": {
                "location": scratch,
                "manifest_storage": FileSystemStorage(location=manifest_dir),
            },
        }
        with override_settings(STORAGES={**settings.STORAGES, "staticfiles": local}):
            call_command("collectstatic", interactive=False, verbosity=0)


if __name__ == "__main__":
    if sys.argv[1:] != ["manifest"]:
        sys.exit("usage: python -m deploy.static_files manifest")
    _write_manifest()
