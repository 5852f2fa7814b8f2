"""The Lambda zip: the build venv it packages, its contents check, its bytecode; `make package`.

    python -m deploy.package [STAGE]    # build/resume-site-STAGE.zip (prod by default)

docs/deploy.md, "The package", says what is in the zip and why.
"""

import compileall
import fcntl
import hashlib
import importlib.util
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

import click

from deploy import stages

ROOT = Path(__file__).resolve().parent.parent
VENV_DIR = ROOT / "build" / "venv"
STAMP = ".requirements.sha256"
PIP_INSTALL = ("install", "--quiet", "--disable-pip-version-check", "--require-hashes")
# The project's code and data that run on Lambda; every other top-level path is tooling.
RUNTIME_PROJECT_PATHS = frozenset(
    {"manage.py", "resume_site", "core", "resume", "counter", "owners", "templates"}
)
# What Zappa writes into every package: its handler, the generated settings, its Django entry
# point, a build id, and an empty __init__.py.
ZAPPA_ENTRIES = frozenset(
    {"handler.py", "zappa_settings.py", "django_zappa_app.py", "package_info.json", "__init__.py"}
)
LAMBDA_TASK_ROOT = "/var/task"  # compiled into the .pyc as the sources' directory


class PackageError(click.ClickException):
    """The package could not be built, or holds what it must not (Zappa prints it, exits 1)."""


def _venv_digest() -> str:
    """What the build venv is made from: requirements.txt, the pip options, the Python."""
    hasher = hashlib.sha256((ROOT / "requirements.txt").read_bytes())
    hasher.update(" ".join(PIP_INSTALL).encode() + sys.version.encode())
    return hasher.hexdigest()


def packaging_venv() -> Path:
    """The active venv if it is an up-to-date build venv (its stamp), else build/venv, (re)made;
    under a lock, so that builds running at once (the test workers) make it once."""
    active = Path(os.environ.get("VIRTUAL_ENV") or sys.prefix)
    VENV_DIR.parent.mkdir(exist_ok=True)
    with (VENV_DIR.parent / ".venv.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for venv in (active, VENV_DIR):
            stamp = venv / STAMP
            if stamp.is_file() and stamp.read_text() == _venv_digest():
                return venv
        print(f"Making the build venv {VENV_DIR.name} (requirements.txt only) ...", flush=True)
        shutil.rmtree(VENV_DIR, ignore_errors=True)
        python = str(VENV_DIR / "bin" / "python")
        subprocess.run([sys.executable, "-m", "venv", str(VENV_DIR)], check=True)  # noqa: S603
        requirements = str(ROOT / "requirements.txt")
        subprocess.run([python, "-m", "pip", *PIP_INSTALL, "-r", requirements], check=True)  # noqa: S603
        (VENV_DIR / STAMP).write_text(_venv_digest())
    return VENV_DIR


def site_packages(venv: Path) -> Path:
    return venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"


def unexpected_entries(*, names: Iterable[str], project: Path, venv: Path) -> list[str]:
    """The zip's top-level names that are not runtime code, Zappa's or the venv's; never tooling."""
    tooling = {path.name for path in project.iterdir()} - RUNTIME_PROJECT_PATHS
    installed = {path.name for path in site_packages(venv).iterdir()}
    allowed = (RUNTIME_PROJECT_PATHS | ZAPPA_ENTRIES | installed) - tooling
    return sorted({name.split("/", 1)[0] for name in names} - allowed)


def add_bytecode(path: Path, *, runtime: str) -> int:
    """Append an unchecked-hash .pyc of every .py to the zip; returns how many."""
    running = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    if running != runtime:
        raise PackageError(
            f"bytecode for a {runtime} runtime must be compiled by it, not {running}"
        )
    with tempfile.TemporaryDirectory(prefix="package-bytecode-") as scratch:
        with zipfile.ZipFile(path) as archive:
            sources = [name for name in archive.namelist() if name.endswith(".py")]
            archive.extractall(scratch, members=sources)
        compileall.compile_dir(
            scratch,
            ddir=LAMBDA_TASK_ROOT,
            force=True,
            quiet=2,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        compiled = {
            name: importlib.util.cache_from_source(name, optimization="") for name in sources
        }
        failed = [name for name, pyc in compiled.items() if not Path(scratch, pyc).exists()]
        if failed:
            raise PackageError(f"these files of the package do not compile: {', '.join(failed)}")
        with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
            for pyc in compiled.values():
                archive.write(Path(scratch, pyc), pyc)
    return len(sources)


def build(*, stage: str = "prod", output: Path | None = None) -> Path:
    """`zappa package <stage>`: its callbacks package the build venv, check and compile the zip."""
    try:
        stages.stage_config(stage=stage)
    except stages.UnknownStage as error:
        raise PackageError(str(error)) from None
    output = (output or ROOT / "build" / f"resume-site-{stage}.zip").resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.unlink(missing_ok=True)
    zappa = [str(Path(sys.executable).with_name("zappa")), "package", stage, "-o", str(output)]
    result = subprocess.run(zappa, cwd=ROOT, check=False)  # noqa: S603 (our Zappa, no shell)
    if result.returncode != 0 or not output.exists():
        raise PackageError(f"`zappa package {stage}` failed with exit code {result.returncode}")
    return output


if __name__ == "__main__":
    try:
        built = build(stage=(sys.argv[1:] or ["prod"])[0])
    except PackageError as error:
        sys.exit(f"error: {error.format_message()}")
    print(f"{built.name}: {built.stat().st_size / 2**20:.2f} MiB zipped (Lambda's limit 50 MiB)")
