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


# Hashing the static files reads none of the stack's values, but the production settings refuse
# to load without them: a build without AWS (`make package`) names a site that resolves nowhere.
OFFLINE_STAGE = {
    "DYNAMODB_TABLE": "resume-site-offline",
    "SITE_URL": "https://offline.invalid",
    "STATIC_BUCKET": "offline.invalid",
    "STATIC_DOMAIN": "offline.invalid",
}


def child_environment(*, stage_config: dict[str, Any], manifest_dir: Path) -> dict[str, str]:
    """The child Django process's environment: this stage's production settings (with the
    stack's values where the deploy read them, OFFLINE_STAGE's where it did not)."""
    return {
        **os.environ,
        **OFFLINE_STAGE,
        **{str(name): str(value) for name, value in stage_config["environment_variables"].items()},
        "AWS_REGION": str(stage_config["aws_region"]),
        "AWS_DEFAULT_REGION": str(stage_config["aws_region"]),
        "DJANGO_ENV": "production",
        "DJANGO_SETTINGS_MODULE": str(stage_config["django_settings"]),
        "SECRET_KEY": secrets.token_urlsafe(64),  # dies with the child
        "STATIC_MANIFEST_DIR": str(manifest_dir),
    }


def shipped_manifest_dir(*, stage_config: dict[str, Any], project: Path) -> Path:
    """Where the package's manifest lives in the project tree (as settings.py reads it)."""
    configured = str(stage_config["environment_variables"].get("STATIC_MANIFEST_DIR", "")).strip()
    return Path(configured) if configured else project / DEFAULT_MANIFEST_DIR


def _run_django(*args: str, env: dict[str, str], step: str, project: Path) -> None:
    """Run Django in a child process in the project tree; its errors end the deploy."""
    sys.stdout.flush()
    result = subprocess.run(  # noqa: S603 (our own interpreter and manage.py, no shell)
        [sys.executable, *args], cwd=project, env=env, stderr=subprocess.PIPE, text=True
    )
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()[-12:]
        raise StaticDeployError(f"{step} failed:\n" + "\n".join(detail))


def build_manifest(zappa_cli: Any, *, project: Path) -> None:
    """Hash the project tree's static files offline into the manifest the package ships."""
    manifest_dir = shipped_manifest_dir(stage_config=zappa_cli.stage_config, project=project)
    env = child_environment(stage_config=zappa_cli.stage_config, manifest_dir=manifest_dir)
    _run_django(
        "-m", "deploy.static_files", env=env, step="Hashing the static files", project=project
    )
    manifest = json.loads((manifest_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    click.echo(f"Static manifest written: {len(manifest['paths'])} files.")


def publish_static(zappa_cli: Any, *, project: Path) -> None:
    """Collectstatic from the project tree the package was built from into the stage's bucket."""
    stage_config = zappa_cli.stage_config
    bucket = stage_config["environment_variables"]["STATIC_BUCKET"]
    click.echo(f"Publishing static files to s3://{bucket}/static/ ...")
    with tempfile.TemporaryDirectory(prefix="static-manifest-") as scratch:
        env = child_environment(stage_config=stage_config, manifest_dir=Path(scratch))
        collect = ("manage.py", "collectstatic", "--noinput", "--verbosity", "1")
        _run_django(*collect, env=env, step="collectstatic", project=project)


def _write_manifest() -> None:
    """In the child: collectstatic with Django's local manifest storage, as S3's hashes them."""
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
