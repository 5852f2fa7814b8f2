"""Hash the static files into the manifest the package ships; publish them to the stage's bucket.

Both steps run Django in a child process with the stage's production environment and a throwaway
SECRET_KEY (collectstatic signs nothing), so the real key is never read (docs/deploy.md).
"""

import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

MANIFEST_NAME = "staticfiles.json"
# Where settings.py reads the manifest unless STATIC_MANIFEST_DIR says otherwise (project-relative).
DEFAULT_MANIFEST_DIR = Path("resume_site") / "static_manifest"


class StaticDeployError(click.ClickException):
    """A static step failed; Zappa prints the message and stops with a non-zero status."""


def stage_environment(*, stage_config: dict[str, Any]) -> dict[str, str]:
    """The function's environment for this stage, as strings."""
    env: dict[str, str] = {}
    for key in ("aws_environment_variables", "environment_variables"):
        env.update({str(name): str(value) for name, value in (stage_config.get(key) or {}).items()})
    return env


def child_environment(*, stage_config: dict[str, Any], manifest_dir: Path) -> dict[str, str]:
    """The child Django process's environment: this stage's production settings."""
    env = {
        **os.environ,
        **stage_environment(stage_config=stage_config),
        "DJANGO_ENV": "production",
        "DJANGO_SETTINGS_MODULE": str(stage_config.get("django_settings")),
        "SECRET_KEY": secrets.token_urlsafe(64),  # dies with the child
        "STATIC_MANIFEST_DIR": str(manifest_dir),
    }
    if stage_config.get("aws_region"):
        env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = str(stage_config["aws_region"])
    return env


def shipped_manifest_dir(*, stage_config: dict[str, Any], project: Path) -> Path:
    """Where the package's manifest lives in the project tree (as settings.py reads it)."""
    configured = stage_environment(stage_config=stage_config).get("STATIC_MANIFEST_DIR", "")
    return Path(configured.strip()) if configured.strip() else project / DEFAULT_MANIFEST_DIR


def _run_django(*args: str, env: dict[str, str], step: str, project: Path) -> None:
    """Run Django in a child process in the project tree; its errors end the deploy."""
    sys.stdout.flush()
    result = subprocess.run(  # noqa: S603 (our own interpreter and manage.py, no shell)
        [sys.executable, *args], cwd=project, env=env, stderr=subprocess.PIPE, text=True
    )
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()[-12:]
        raise StaticDeployError(f"{step} failed:\n" + "\n".join(detail))


def manifest_paths(*, manifest_dir: Path) -> dict[str, str]:
    """The name -> hashed name map of a manifest directory's staticfiles.json."""
    path = manifest_dir / MANIFEST_NAME
    try:
        return dict(json.loads(path.read_text(encoding="utf-8"))["paths"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise StaticDeployError(f"The static manifest {path.name} is not usable: {error}") from None


def build_manifest(zappa_cli: Any, *, project: Path) -> None:
    """Hash the project tree's static files offline into the manifest the package ships."""
    manifest_dir = shipped_manifest_dir(stage_config=zappa_cli.stage_config, project=project)
    env = child_environment(stage_config=zappa_cli.stage_config, manifest_dir=manifest_dir)
    _run_django(
        "-m", "deploy.static_files", env=env, step="Hashing the static files", project=project
    )
    count = len(manifest_paths(manifest_dir=manifest_dir))
    click.echo(f"Static manifest written: {count} files.")


def publish_static(zappa_cli: Any, *, project: Path) -> None:
    """Collectstatic from the project tree into the stage's bucket, then check the uploaded
    names are the ones the package's manifest holds."""
    stage_config = zappa_cli.stage_config
    shipped = manifest_paths(
        manifest_dir=shipped_manifest_dir(stage_config=stage_config, project=project)
    )
    bucket = stage_environment(stage_config=stage_config).get("STATIC_BUCKET")
    click.echo(f"Publishing static files to s3://{bucket}/static/ ...")
    with tempfile.TemporaryDirectory(prefix="static-manifest-") as scratch:
        env = child_environment(stage_config=stage_config, manifest_dir=Path(scratch))
        collect = ("manage.py", "collectstatic", "--noinput", "--verbosity", "1")
        _run_django(*collect, env=env, step="collectstatic", project=project)
        uploaded = manifest_paths(manifest_dir=Path(scratch))
    changed = sorted(
        name for name in shipped.keys() | uploaded.keys() if shipped.get(name) != uploaded.get(name)
    )
    if changed:
        raise StaticDeployError(
            "The static files changed since the package was built; the deployed code would "
            f"render other names than were uploaded ({', '.join(changed[:5])}). Deploy again."
        )
    click.echo(f"Static files published: {len(uploaded)} hashed files match the package.")


def _write_manifest() -> None:
    """In the child: collectstatic into a scratch directory with Django's local manifest
    storage, the manifest going to STATIC_MANIFEST_DIR; the hashes depend on content only, so
    they are the names the S3 upload produces."""
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
            "OPTIONS": {"location": scratch, "manifest_storage": FileSystemStorage(manifest_dir)},
        }
        with override_settings(STORAGES={**settings.STORAGES, "staticfiles": local}):
            call_command("collectstatic", interactive=False, verbosity=0)


if __name__ == "__main__":
    _write_manifest()
