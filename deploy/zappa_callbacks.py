"""The functions zappa_settings.json names as Zappa's callbacks.

- `settings` slot, `check_and_prepare`: runs right after Zappa loads the stage and before it
  packages or uploads anything. It checks the stage; for `deploy` and `update` it reads the
  stage's secrets into the Lambda environment Zappa will set (deploy/secret_env.py); then it
  prepares what Zappa will package: the clean build venv, a copy of only the files git tracks
  as Zappa's working directory, and the static manifest in that copy; then it checks a
  prebuilt zip (--zip) against them.
- `zip` slot, `add_bytecode`: runs right after Zappa writes the zip, before it uploads it (a
  prebuilt zip, --zip, is not rebuilt, so it skips this); adds the bytecode of every module
  (deploy/bytecode.py).
- `post` slot, `finish_deploy`: runs after the function is updated; throttles the API Gateway
  stage (deploy/api_throttling.py), publishes the static files and invalidates the pages the
  distribution caches (deploy/edge_cache.py).

Zappa loads this file by its path, as a top-level module named `zappa_callbacks`, from its
working directory (zappa/cli.py `callback`: `pkgutil.get_importer(<cwd>/deploy)`), with the
project not on sys.path. So this module puts the project root on sys.path, and the rest of
deploy/ is imported as the package it is.
"""

import atexit
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import click  # noqa: E402

from deploy import (  # noqa: E402
    api_throttling,
    build_venv,
    bytecode,
    edge_cache,
    secret_env,
    stage_checks,
    static_files,
    tracked_files,
)

# Commands that build a package or deploy one: they get the tracked copy and the manifest.
DEPLOY_COMMANDS = frozenset({"deploy", "update", "package"})
# Commands that set the function's configuration: they read the stage's secrets (with the
# deployer's credentials). `package` does not, so the package builds offline, without AWS.
SECRET_COMMANDS = frozenset({"deploy", "update"})


def work_in_tracked_copy(zappa_cli: Any) -> Path:
    """Copy the files git tracks into a scratch directory and make it Zappa's working directory;
    returns it. Zappa packages its working directory (zappa/core.py `create_lambda_zip` copies
    `Path.cwd()`), so nothing untracked in the checkout can reach the package, and the `post`
    callback publishes the tracked static files from the same copy.

    Paths given relative to the checkout (--zip, --output) are made absolute first; without
    --output, `zappa package` writes the zip into the checkout under Zappa's own default name
    (`<function name>-<unix time>.zip`). The copy is removed when the Zappa process exits."""
    checkout = Path.cwd()
    vargs = zappa_cli.vargs
    if vargs.get("zip") and not str(vargs["zip"]).startswith("s3://"):
        vargs["zip"] = str((checkout / vargs["zip"]).resolve())
    if zappa_cli.command == "package":
        output = vargs.get("output") or f"{zappa_cli.lambda_name}-{int(time.time())}.zip"
        vargs["output"] = str((checkout / output).resolve())
    scratch = Path(tempfile.mkdtemp(prefix=f"{zappa_cli.lambda_name}-tracked-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    try:
        copied = tracked_files.export(root=checkout, destination=scratch)
        left_out = tracked_files.untracked_files(root=checkout)
    except tracked_files.TrackedFilesError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Packaging the {len(copied)} files git tracks, from a copy of the checkout.")
    if left_out:
        shown = ", ".join(left_out[:5]) + (", ..." if len(left_out) > 5 else "")
        click.echo(f"Not packaged (untracked; `git add` what should ship): {shown}")
    os.chdir(scratch)
    return scratch


def check_and_prepare(zappa_cli: Any) -> None:
    """Zappa's `settings` callback: check the stage (stopping before anything is built or
    uploaded); for `deploy` and `update` (with or without --zip), add the stage's secret_env
    variables to the Lambda environment Zappa will set, stopping if they cannot be read; then,
    for a command that packages or deploys, make Zappa package the clean build venv and the
    tracked files only, write the static manifest into that copy, and check a prebuilt zip
    (--zip) against the stage's settings and that manifest."""
    stage_checks.check_stage(zappa_cli)
    if zappa_cli.command in SECRET_COMMANDS:
        secret_env.add_secrets(zappa_cli)
    if zappa_cli.command not in DEPLOY_COMMANDS:
        return
    build_venv.use_clean_venv(zappa_cli)
    project = work_in_tracked_copy(zappa_cli)
    static_files.build_manifest(zappa_cli, project=project)
    stage_checks.check_prebuilt_zip(zappa_cli, project=project)


def add_bytecode(zappa_cli: Any) -> None:
    """Zappa's `zip` callback: add an unchecked-hash .pyc for the stage's runtime beside every
    module of the zip Zappa just wrote (`zip_path`; the stage check keeps `slim_handler` off,
    so that one zip is the whole package). Stops Zappa if the bytecode cannot be made."""
    path = Path(zappa_cli.zip_path)
    python_version = bytecode.runtime_python(zappa_cli.stage_config["runtime"])
    try:
        added = bytecode.zip_add_bytecode(path, python_version=python_version)
    except bytecode.BytecodeError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Added bytecode for {added} modules (unchecked-hash .pyc) to {path.name}.")


def finish_deploy(zappa_cli: Any) -> None:
    """Zappa's `post` callback: throttle the stage Zappa deployed (Zappa has no setting for
    it), publish the static files of the tree it deployed (its working directory, the tracked
    copy made by `check_and_prepare`), then make the distribution drop its cached pages, which
    link those files (deploy/edge_cache.py)."""
    api_throttling.throttle_stage(zappa_cli)
    static_files.publish_static(zappa_cli, project=Path.cwd())
    edge_cache.invalidate_after_deploy(zappa_cli)
