"""Build the Lambda package offline: `zappa package <stage>` in a clean build environment.

    python scripts/build_package.py [--stage prod] [--output build/resume-site-prod.zip]

Steps: (1) a build venv at build/venv with only requirements.txt installed (never the dev
venv; rebuilt when requirements.txt or the Python version changes), (2) `zappa package` run
inside it (Zappa packages the venv named by VIRTUAL_ENV, trimmed by the stage's `exclude` and
`exclude_glob`), (3) a size check: the zip must stay at or under 8 MiB.

A build is reused when nothing that goes into it changed: the inputs' hash (requirements.txt,
zappa_settings.json, this script and every project file Zappa would copy) is stored next to the
zip, so tests can call `build()` cheaply.
"""

import argparse
import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = ROOT / "build"
VENV_DIR = BUILD_DIR / "venv"
REQUIREMENTS = ROOT / "requirements.txt"
SETTINGS = ROOT / "zappa_settings.json"
MAX_ZIP_BYTES = 8 * 1024 * 1024
# Entries the handler needs; a package without them would fail on its first request.
REQUIRED_ENTRIES = ("handler.py", "zappa_settings.py", "django_zappa_app.py", "manage.py")
# Never part of the package's inputs: bytecode, git, and collectstatic's local output.
SKIPPED_NAMES = ("__pycache__", "*.pyc", ".git", "staticfiles")


class BuildError(Exception):
    """The package could not be built, or the built package breaks a limit."""


def _shown(path: Path) -> str:
    """A path relative to the repo when it is inside it (messages never show machine paths)."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def _step(number: int, total: int, message: str) -> None:
    print(f"[{number}/{total}] {message}", flush=True)


def _digest(*, paths: list[Path]) -> str:
    """A hash of the given files' paths (relative to the repo) and contents."""
    hasher = hashlib.sha256()
    for path in paths:
        hasher.update(path.relative_to(ROOT).as_posix().encode())
        hasher.update(b"\0")
        hasher.update(path.read_bytes())
        hasher.update(b"\0")
    return hasher.hexdigest()


def _stage_config(*, stage: str) -> dict:
    settings = json.loads(SETTINGS.read_text(encoding="utf-8"))
    if stage not in settings:
        raise BuildError(f"zappa_settings.json has no stage {stage!r} (stages: {sorted(settings)})")
    return settings[stage]


def _excluded(*, name: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


def project_files(*, stage: str) -> Iterator[Path]:
    """Every file of the project that Zappa copies into the package, in a stable order."""
    patterns = [*_stage_config(stage=stage).get("exclude", []), *SKIPPED_NAMES, "*.zip"]
    for directory, subdirs, files in os.walk(ROOT):
        subdirs[:] = sorted(d for d in subdirs if not _excluded(name=d, patterns=patterns))
        for name in sorted(files):
            if not _excluded(name=name, patterns=patterns):
                yield Path(directory) / name


def inputs_digest(*, stage: str) -> str:
    """The hash that decides whether a previous build can be reused."""
    fixed = [REQUIREMENTS, SETTINGS, Path(__file__).resolve()]
    return _digest(paths=[*fixed, *project_files(stage=stage)])


def _venv_python() -> Path:
    return VENV_DIR / "bin" / "python"


def ensure_build_venv() -> bool:
    """Create build/venv with only requirements.txt installed; True if it was (re)built."""
    stamp = VENV_DIR / ".requirements.sha256"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes() + sys.version.encode()).hexdigest()
    if _venv_python().exists() and stamp.exists() and stamp.read_text() == wanted:
        return False
    shutil.rmtree(VENV_DIR, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV_DIR)], check=True)
    subprocess.run(
        [
            str(_venv_python()),
            *("-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
            *("-r", str(REQUIREMENTS)),
        ],
        check=True,
    )
    stamp.write_text(wanted)
    return True


def build_venv_environment() -> dict[str, str]:
    """This process's environment, activated into the build venv: Zappa packages the
    site-packages of the virtualenv VIRTUAL_ENV names, and nothing else may leak in."""
    env = {
        **os.environ,
        "VIRTUAL_ENV": str(VENV_DIR),
        "PATH": f"{VENV_DIR / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    return env


def _run_zappa(*, stage: str, output: Path) -> None:
    env = build_venv_environment()
    result = subprocess.run(
        [str(VENV_DIR / "bin" / "zappa"), "package", stage, "-o", str(output)],
        cwd=ROOT,
        env=env,
        check=False,
    )
    if result.returncode != 0 or not output.exists():
        raise BuildError(f"`zappa package {stage}` failed with exit code {result.returncode}")


def check_package(*, path: Path) -> int:
    """The zip's size in bytes, after checking it is whole and within the size budget."""
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


def build(*, stage: str = "prod", output: Path | None = None, force: bool = False) -> Path:
    """Build (or reuse) the stage's package and return its path."""
    started = time.monotonic()
    output = (output or BUILD_DIR / f"resume-site-{stage}.zip").resolve()
    stamp = output.with_name(output.name + ".inputs.sha256")
    BUILD_DIR.mkdir(exist_ok=True)
    _stage_config(stage=stage)

    _step(1, 3, f"Build venv {_shown(VENV_DIR)} (requirements.txt only)")
    if ensure_build_venv():
        print("      created and installed requirements.txt", flush=True)
    else:
        print("      up to date", flush=True)

    _step(2, 3, f"zappa package {stage} -> {_shown(output)}")
    fresh = output.exists() and stamp.exists()
    if not force and fresh and stamp.read_text() == inputs_digest(stage=stage):
        print("      nothing changed since the last build: reusing it", flush=True)
    else:
        stamp.unlink(missing_ok=True)
        output.unlink(missing_ok=True)
        _run_zappa(stage=stage, output=output)
        # Hashed after the build: the settings callback writes the static manifest it ships.
        stamp.write_text(inputs_digest(stage=stage))

    _step(3, 3, "Size check")
    size = check_package(path=output)
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
    except (BuildError, subprocess.CalledProcessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
