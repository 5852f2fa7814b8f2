"""Build the Lambda package offline: `zappa package <stage>` with the clean build venv.

    python -m deploy.package [--stage prod] [--output build/resume-site-prod.zip] [--force]

Steps:
1. the build venv, build/venv, with only requirements.txt installed (deploy/build_venv.py);
2. `zappa package <stage>`, run from the checkout inside that venv. Its settings callback
   (deploy/zappa_callbacks.py) checks the stage and makes Zappa package a copy of only the
   files git tracks, with the static manifest written into it; Zappa adds the venv's
   site-packages, trimmed by the stage's `exclude` and `exclude_glob`; its zip callback then
   adds bytecode beside every module (deploy/bytecode.py: Lambda cannot write it, so a zip
   without it compiles every module from source on every cold start);
3. the zip check: at most 8 MiB, holding the handler's entries, and nothing outside the
   allow-list: the project's runtime files git tracks (RUNTIME_PROJECT_PATHS), the static
   manifest, Zappa's handler files, and the top-level names the runtime requirements install.

A build is reused when nothing that goes into it changed: the hash of the build venv's inputs
and of every tracked file that can affect the package is stored next to the zip, so tests can
call `build()` cheaply.
"""

import argparse
import hashlib
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from deploy import build_venv, stages, static_files, tracked_files

ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = ROOT / "build"
MAX_ZIP_BYTES = 8 * 1024 * 1024
# Entries the handler needs; a package without them would fail on its first request.
REQUIRED_ENTRIES = ("handler.py", "zappa_settings.py", "django_zappa_app.py", "manage.py")
# The project's own code and data that run on Lambda. Every other top-level path of the
# repository is tooling (deploy/, tests/, bench/, docs/, infra/, scripts/, static/ served from
# S3, ...) that zappa_settings.json leaves out and the zip check refuses.
RUNTIME_PROJECT_PATHS = ("manage.py", "resume_site", "counter", "owners", "templates")
# What Zappa writes into every package: its handler, the settings module generated from the
# stage, its Django entry point, a build id, and an empty __init__.py at the root.
ZAPPA_ENTRIES = frozenset(
    {"handler.py", "zappa_settings.py", "django_zappa_app.py", "package_info.json", "__init__.py"}
)
# Tracked files under RUNTIME_PROJECT_PATHS that the site never reads.
NEVER_SHIPPED = frozenset({".gitignore"})
# Tracked paths that neither ship nor are read while building, so editing them never makes
# the next build start over.
NOT_BUILD_INPUTS = ("tests/", "docs/", "bench/", "infra/", ".ci/", "README.md")


class BuildError(Exception):
    """The package could not be built, or the built package breaks a limit."""


def _shown(path: Path) -> str:
    """A path relative to the repo when it is inside it (messages never show machine paths)."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def _step(number: int, total: int, message: str) -> None:
    print(f"[{number}/{total}] {message}", flush=True)


def build_inputs(*, root: Path) -> list[str]:
    """The tracked files that can change the package: those it ships and those the build
    reads (zappa_settings.json, requirements.txt, deploy/, static/ for the manifest)."""
    return [
        path
        for path in tracked_files.tracked_files(root=root)
        if not path.startswith(NOT_BUILD_INPUTS)
    ]


def inputs_digest(*, root: Path = ROOT) -> str:
    """The hash that decides whether a previous build can be reused: the build venv's inputs
    (requirements.txt, pip options, Python version) and every build input's path and content."""
    hasher = hashlib.sha256(build_venv.build_venv_digest().encode())
    for path in build_inputs(root=root):
        hasher.update(path.encode() + b"\0" + (root / path).read_bytes() + b"\0")
    return hasher.hexdigest()


def runtime_project_files(*, root: Path) -> set[str]:
    """The project files a package may hold: the tracked files under RUNTIME_PROJECT_PATHS
    and the static manifest the settings callback writes."""
    manifest = (static_files.DEFAULT_MANIFEST_DIR / static_files.MANIFEST_NAME).as_posix()
    tracked = tracked_files.tracked_files(root=root)
    return {path for path in tracked if path.split("/")[0] in RUNTIME_PROJECT_PATHS} | {manifest}


def _bytecode_source(entry: str) -> str | None:
    """The source a `__pycache__/<name>.<tag>.pyc` entry was compiled from; None otherwise."""
    path = PurePosixPath(entry)
    if path.parent.name != "__pycache__" or path.suffix != ".pyc":
        return None
    return (path.parent.parent / f"{path.name.split('.', 1)[0]}.py").as_posix()


def _allowed(name: str, *, project_files: set[str], runtime_names: set[str]) -> bool:
    source = _bytecode_source(name)
    if source is not None:
        return _allowed(source, project_files=project_files, runtime_names=runtime_names)
    top = name.split("/", 1)[0]
    if top in RUNTIME_PROJECT_PATHS:
        return name in project_files
    return name in ZAPPA_ENTRIES or top in runtime_names


def unexpected_entries(
    *, names: Iterable[str], project_files: set[str], runtime_names: set[str]
) -> list[str]:
    """The zip entries outside the allow-list, sorted. Allowed: Zappa's entries at the root;
    under RUNTIME_PROJECT_PATHS only the given project files; anything under a top-level name
    the runtime requirements install; and bytecode (`__pycache__/*.pyc`) of an allowed source."""
    return sorted(
        name
        for name in names
        if not name.endswith("/")
        and not _allowed(name, project_files=project_files, runtime_names=runtime_names)
    )


def check_package(*, path: Path) -> int:
    """The zip's size in bytes, after checking it is within the size budget and holds the
    entries the handler needs."""
    size = path.stat().st_size
    if size > MAX_ZIP_BYTES:
        raise BuildError(
            f"{path.name} is {size / 2**20:.2f} MiB zipped; the budget is "
            f"{MAX_ZIP_BYTES / 2**20:.0f} MiB: trim it with exclude/exclude_glob"
        )
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
    missing = [entry for entry in REQUIRED_ENTRIES if entry not in names]
    if missing:
        raise BuildError(f"{path.name} lacks {', '.join(missing)}")
    return size


def missing_entries(*, names: Iterable[str], project_files: set[str]) -> list[str]:
    """The project's runtime files the zip lacks, sorted: an `exclude` pattern meant for
    installed packages (say `*.txt`) must never drop a file the site reads (templates/robots.txt).
    Only git's own `.gitignore` files stay out."""
    present = set(names)
    return sorted(
        name
        for name in project_files
        if name not in present and PurePosixPath(name).name not in NEVER_SHIPPED
    )


def check_contents(*, path: Path, project_files: set[str], runtime_names: set[str]) -> None:
    """Refuse a zip that lacks one of the project's runtime files, or holds anything outside
    the allow-list (see `missing_entries` and `unexpected_entries`)."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    missing = missing_entries(names=names, project_files=project_files)
    if missing:
        raise BuildError(
            f"{path.name} lacks {len(missing)} of the project's runtime files, left out by the "
            f"stage's exclude or exclude_glob: {', '.join(missing[:10])}"
        )
    unexpected = unexpected_entries(
        names=names, project_files=project_files, runtime_names=runtime_names
    )
    if unexpected:
        shown = ", ".join(unexpected[:10]) + (", ..." if len(unexpected) > 10 else "")
        raise BuildError(
            f"{path.name} holds {len(unexpected)} entries that are neither the project's "
            f"tracked runtime files nor installed by requirements.txt: {shown}"
        )


def _run_zappa(*, stage: str, output: Path) -> None:
    """`zappa package` from the checkout inside the build venv (see the module's step 2)."""
    result = subprocess.run(  # noqa: S603 (the build venv's Zappa, fixed arguments, no shell)
        [str(build_venv.VENV_DIR / "bin" / "zappa"), "package", stage, "-o", str(output)],
        cwd=ROOT,
        env=build_venv.build_venv_environment(),
        check=False,
    )
    if result.returncode != 0 or not output.exists():
        raise BuildError(f"`zappa package {stage}` failed with exit code {result.returncode}")


def build(*, stage: str = "prod", output: Path | None = None, force: bool = False) -> Path:
    """Build (or reuse) the stage's package and return its path."""
    started = time.monotonic()
    output = (output or BUILD_DIR / f"resume-site-{stage}.zip").resolve()
    stamp = output.with_name(output.name + ".inputs.sha256")
    try:
        stages.stage_config(stage=stage)
    except stages.UnknownStage as error:
        raise BuildError(str(error)) from None
    output.parent.mkdir(parents=True, exist_ok=True)

    _step(1, 3, f"Build venv {_shown(build_venv.VENV_DIR)} (requirements.txt only)")
    if build_venv.ensure_build_venv():
        print("      created and installed requirements.txt", flush=True)
    else:
        print("      up to date", flush=True)

    _step(2, 3, f"zappa package {stage} -> {_shown(output)} (the files git tracks, bytecode)")
    digest = inputs_digest()
    if not force and output.exists() and stamp.exists() and stamp.read_text() == digest:
        print("      nothing changed since the last build: reusing it", flush=True)
    else:
        stamp.unlink(missing_ok=True)
        output.unlink(missing_ok=True)
        _run_zappa(stage=stage, output=output)
        stamp.write_text(digest)

    _step(3, 3, "Zip check: size, handler, every runtime file, allow-list")
    size = check_package(path=output)
    check_contents(
        path=output,
        project_files=runtime_project_files(root=ROOT),
        runtime_names=build_venv.runtime_top_level_names(
            venv=build_venv.VENV_DIR, requirements=build_venv.REQUIREMENTS
        ),
    )
    print(
        f"      {output.name}: {size / 2**20:.2f} MiB zipped (budget "
        f"{MAX_ZIP_BYTES / 2**20:.0f} MiB), built in {time.monotonic() - started:.1f} s",
        flush=True,
    )
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="prod", help="zappa_settings.json stage (default prod)")
    parser.add_argument("--output", type=Path, help="zip (default build/resume-site-STAGE.zip)")
    parser.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    args = parser.parse_args(argv)
    try:
        build(stage=args.stage, output=args.output, force=args.force)
    except (BuildError, tracked_files.TrackedFilesError, subprocess.CalledProcessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
