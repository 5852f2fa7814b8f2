"""The callbacks zappa_settings.json names: check and prepare; check and compile the zip; finish.

Zappa loads this file by path, as a top-level module, with the project not on sys.path; so it
puts the project root there and imports the rest of deploy/ as a package (docs/deploy.md).
"""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import click  # noqa: E402

from deploy import (  # noqa: E402
    concurrency,
    package,
    pdf,
    post_deploy,
    secret_env,
    stack,
    stage_checks,
    static_files,
)

# Commands that build a package or deploy one; those that set the function's configuration read
# the stage's secrets (`package` does not, so the package builds offline).
DEPLOY_COMMANDS = frozenset({"deploy", "update", "package"})
SECRET_COMMANDS = frozenset({"deploy", "update"})
# Set by `make deploy` (deploy/live.py), which invalidates once at its end, after the stack
# points the distribution at the API.
DEFER_INVALIDATION = "RESUME_SITE_DEFER_INVALIDATION"


def git_files(checkout: Path, *args: str) -> list[str]:
    git = shutil.which("git")
    listed = subprocess.run(  # noqa: S603 (git from PATH, fixed arguments, no shell)
        [git or "git", "-C", str(checkout), "ls-files", "-z", *args], capture_output=True, text=True
    )
    if git is None or listed.returncode != 0:
        raise click.ClickException(
            f"{checkout.name} is not a git checkout ({listed.stderr.strip()}): only the files git "
            "tracks are packaged, so deploy from the project's checkout"
        )
    return [path for path in listed.stdout.split("\0") if path]


def work_in_tracked_copy(zappa_cli: Any) -> Path:
    """Make a copy of the files git tracks (as edited) the working directory Zappa packages."""
    checkout, vargs = Path.cwd(), zappa_cli.vargs
    if vargs.get("zip") and not str(vargs["zip"]).startswith("s3://"):
        vargs["zip"] = str((checkout / vargs["zip"]).resolve())
    if zappa_cli.command == "package":
        output = vargs.get("output") or f"{zappa_cli.lambda_name}-{int(time.time())}.zip"
        vargs["output"] = str((checkout / output).resolve())
    tracked = [path for path in git_files(checkout, "--cached") if (checkout / path).is_file()]
    scratch = Path(tempfile.mkdtemp(prefix=f"{zappa_cli.lambda_name}-tracked-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    for path in tracked:
        (scratch / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(checkout / path, scratch / path, follow_symlinks=False)
    click.echo(f"Packaging the {len(tracked)} files git tracks, from a copy of the checkout.")
    untracked = git_files(checkout, "--others", "--exclude-standard")
    if untracked:
        shown = ", ".join(untracked[:5]) + (", ..." if len(untracked) > 5 else "")
        click.echo(f"Not packaged (untracked; `git add` what should ship): {shown}")
    os.chdir(scratch)
    return scratch


def check_and_prepare(zappa_cli: Any) -> None:
    """`settings` callback, before Zappa builds or uploads anything."""
    stage_checks.check_stage(zappa_cli)
    deploying = zappa_cli.command in SECRET_COMMANDS
    outputs: dict[str, str] = {}
    if deploying:
        outputs = stack.prepare_zappa(zappa_cli)
        secret_env.add_secrets(zappa_cli)
        reserve(zappa_cli)
    if zappa_cli.command not in DEPLOY_COMMANDS:
        return
    if not (zappa_cli.vargs.get("zip") or zappa_cli.vargs.get("docker_image_uri")):
        os.environ["VIRTUAL_ENV"] = str(package.packaging_venv())
        click.echo("Packaging the build venv (requirements.txt only), never a dev venv.")
    project = work_in_tracked_copy(zappa_cli)
    static_files.build_manifest(zappa_cli, project=project)
    if deploying and zappa_cli.vargs.get("zip"):
        stage_checks.check_prebuilt_zip(zappa_cli, project=project)
    if deploying:  # before the function that names the hashed files is updated
        built = pdf.build(echo=click.echo, root=project)  # stops here without Chromium
        static_files.publish_static(zappa_cli, project=project)
        publish_pdf(zappa_cli, built=built, outputs=outputs)


def publish_pdf(zappa_cli: Any, *, built: pdf.Built, outputs: dict[str, str]) -> None:
    """The resume's PDFs to the static bucket where they changed, and those addresses
    invalidated at the edge (the page's links to them never change)."""
    uploaded = pdf.publish(
        s3=zappa_cli.zappa.s3_client,
        bucket=outputs["StaticBucketName"],
        built=built,
        echo=click.echo,
    )
    if uploaded:
        post_deploy.create_invalidation(
            cloudfront=zappa_cli.zappa.boto_client("cloudfront"),
            distribution_id=outputs["DistributionId"],
            caller=f"{zappa_cli.lambda_name}-pdf",
            paths=[f"/{key}" for key in uploaded],
        )


def reserve(zappa_cli: Any) -> None:
    """Reserve the stage's `lambda_concurrency`, or what the account's quota allows."""
    reservation = concurrency.sized(
        lambda_client=zappa_cli.zappa.lambda_client,
        function=zappa_cli.lambda_name,
        wanted=int(zappa_cli.stage_config["lambda_concurrency"]),
    )
    zappa_cli.lambda_concurrency = reservation.value
    click.echo(reservation.message)


def add_bytecode(zappa_cli: Any) -> None:
    """`zip` callback, before Zappa uploads the zip it just wrote: check it, add bytecode."""
    path = Path(zappa_cli.zip_path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    venv = Path(os.environ.get("VIRTUAL_ENV") or sys.prefix)
    unexpected = package.unexpected_entries(names=names, project=Path.cwd(), venv=venv)
    if unexpected:
        raise package.PackageError(
            f"{path.name} holds what must not ship (tooling, or packages outside the build "
            f"venv): {', '.join(unexpected)}"
        )
    added = package.add_bytecode(path, runtime=zappa_cli.stage_config["runtime"])
    click.echo(f"Added bytecode for {added} modules (unchecked-hash .pyc) to {path.name}.")


def finish_deploy(zappa_cli: Any) -> None:
    """`post` callback, after the function is updated."""
    if not post_deploy.throttle_stage(zappa_cli):
        # While the API is off the edge's copy is the page every visitor gets: keep it.
        click.echo("The edge keeps its cached pages; `make api-on` invalidates them.")
    elif os.environ.get(DEFER_INVALIDATION) != "1":
        post_deploy.invalidate_cached_pages(zappa_cli)
