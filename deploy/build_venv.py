"""The build venv: build/venv with only requirements.txt installed, the virtualenv every package
is made from.

Zappa packages the site-packages of the virtualenv VIRTUAL_ENV names. The dev venv also holds
the test tools (pytest, moto, ruff, ...), which must never reach Lambda, so `make package` runs
Zappa inside build/venv, and the settings callback points a hand-run `zappa update` there
(`use_clean_venv`) when the active virtualenv holds development packages.
"""

import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_DIR = ROOT / "build" / "venv"
REQUIREMENTS = ROOT / "requirements.txt"
DEV_REQUIREMENTS = ROOT / "requirements-dev.txt"
# `pip install` options of the build venv, followed by `-r requirements.txt`.
PIP_INSTALL = ("install", "--quiet", "--disable-pip-version-check", "--require-hashes")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def normalized(name: str) -> str:
    """A distribution name as PyPI compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(*, requirements: Path) -> set[str]:
    """The normalized names a requirements file pins itself: comments, options (`-r`,
    `--hash`, ...) and line continuations are skipped, as pip reads them."""
    text = requirements.read_text(encoding="utf-8").replace("\\\n", " ")
    names = set()
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        match = _NAME.match(line)
        if match and not line.startswith("-"):
            names.add(normalized(match.group(0)))
    return names


def dev_only_packages(*, dev_requirements: Path, requirements: Path) -> set[str]:
    """The packages the dev requirements pin and the runtime ones do not: what Lambda must
    never ship."""
    return requirement_names(requirements=dev_requirements) - requirement_names(
        requirements=requirements
    )


def site_packages(venv: Path) -> Path:
    """A virtualenv's site-packages for this Python (the runtime's, python3.13)."""
    return venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"


def venv_problems(*, venv: Path | None, dev_requirements: Path, requirements: Path) -> list[str]:
    """Problems with a virtualenv as the source of the package: none, or what it lacks/holds."""
    if venv is None:
        return ["no virtualenv to package: run `make package` (it builds in build/venv)"]
    installed = {
        normalized(info.name.split("-", 1)[0]) for info in site_packages(venv).glob("*.dist-info")
    }
    dev_only = dev_only_packages(dev_requirements=dev_requirements, requirements=requirements)
    found = sorted(installed & dev_only)
    if not found:
        return []
    return [
        f"the virtualenv {venv.name} holds development packages ({', '.join(found)}) "
        "that must not ship to Lambda"
    ]


def packaging_venv(
    *, active: Path | None, dev_requirements: Path, requirements: Path, build: Callable[[], Path]
) -> Path:
    """The virtualenv Zappa should package: the active one if it holds only runtime packages,
    else the clean build venv that `build` makes (requirements.txt only)."""
    files = {"dev_requirements": dev_requirements, "requirements": requirements}
    if active is not None and not venv_problems(venv=active, **files):
        return active
    clean = build()
    problems = venv_problems(venv=clean, **files)
    if problems:
        import click

        raise click.ClickException(f"cannot package: {problems[0]}")
    return clean


def _venv_python() -> Path:
    return VENV_DIR / "bin" / "python"


def ensure_build_venv() -> bool:
    """Create build/venv with only requirements.txt installed; True if it was (re)built.

    It is rebuilt when requirements.txt, the pip options or the Python version change (a hash
    stamp in the venv)."""
    stamp = VENV_DIR / ".requirements.sha256"
    wanted = build_venv_digest()
    if _venv_python().exists() and stamp.exists() and stamp.read_text() == wanted:
        return False
    shutil.rmtree(VENV_DIR, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV_DIR)], check=True)  # noqa: S603
    subprocess.run(  # noqa: S603 (the venv's own pip, fixed arguments, no shell)
        [str(_venv_python()), "-m", "pip", *PIP_INSTALL, "-r", str(REQUIREMENTS)],
        check=True,
    )
    stamp.write_text(wanted)
    return True


def build_venv_digest() -> str:
    """The hash of what the build venv is made from: requirements.txt, the pip options and
    the Python version."""
    hasher = hashlib.sha256(REQUIREMENTS.read_bytes())
    hasher.update(" ".join(PIP_INSTALL).encode() + sys.version.encode())
    return hasher.hexdigest()


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


def _active_venv() -> Path | None:
    """The virtualenv Zappa packages: VIRTUAL_ENV, else the running one (as Zappa finds it)."""
    if os.environ.get("VIRTUAL_ENV"):
        return Path(os.environ["VIRTUAL_ENV"])
    return Path(sys.prefix) if sys.prefix != sys.base_prefix else None


def _built_venv() -> Path:
    print("Preparing the clean build venv build/venv (requirements.txt only) ...", flush=True)
    ensure_build_venv()
    return VENV_DIR


def use_clean_venv(zappa_cli: Any) -> None:
    """For a command that packages (deploy, update, package): make Zappa package a virtualenv
    without dev packages; when the active one holds any, build (or reuse) build/venv and set
    VIRTUAL_ENV to it.

    Zappa packages the virtualenv named by VIRTUAL_ENV when it builds the zip, after the
    settings callback, so `zappa update prod` run from the dev venv packages build/venv. A
    prebuilt zip (--zip) or a docker image packages nothing, so it is left alone."""
    vargs = getattr(zappa_cli, "vargs", None) or {}
    if vargs.get("zip") or vargs.get("docker_image_uri"):
        return
    active = _active_venv()
    venv = packaging_venv(
        active=active,
        dev_requirements=DEV_REQUIREMENTS,
        requirements=REQUIREMENTS,
        build=_built_venv,
    )
    if venv != active:
        print(f"Packaging {venv.name} (requirements.txt only), not the active virtualenv.")
    os.environ["VIRTUAL_ENV"] = str(venv)


def _top_level_names(distribution: importlib.metadata.Distribution) -> set[str]:
    """The names a distribution installs at the top of site-packages (packages, modules,
    .pth files), from its RECORD; its metadata and scripts outside site-packages excluded."""
    names = set()
    for path in distribution.files or []:
        first = path.parts[0]
        if first in {"..", "__pycache__"} or first.endswith((".dist-info", ".data")):
            continue
        names.add(first)
    return names


def runtime_top_level_names(*, venv: Path, requirements: Path) -> set[str]:
    """The top-level names the runtime requirements install in a venv: the distributions
    requirements.txt pins and, through their metadata, everything they depend on (extras not
    asked for and dependencies whose environment marker is false are left out)."""
    from packaging.requirements import Requirement

    installed = {
        normalized(distribution.metadata["Name"]): distribution
        for distribution in importlib.metadata.distributions(path=[str(site_packages(venv))])
    }
    needed: set[str] = set()
    queue = sorted(requirement_names(requirements=requirements))
    while queue:
        name = queue.pop()
        if name in needed or name not in installed:
            continue
        needed.add(name)
        for spec in installed[name].requires or []:
            requirement = Requirement(spec)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                queue.append(normalized(requirement.name))
    return {top for name in needed for top in _top_level_names(installed[name])}
