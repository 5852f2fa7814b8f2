"""Makefile: `make run` installs only what serving the site needs (the runtime lock and DynamoDB
Local); `make test` and the other targets install everything; no install hides its warnings.
Read from `make -n` on a fresh copy (nothing installed), so nothing is installed here."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ("requirements.txt", "requirements-dev.txt", "package.json", "package-lock.json")


@pytest.fixture
def fresh_clone(tmp_path: Path) -> Path:
    for name in ("Makefile", *LOCKS):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def _planned(folder: Path, target: str) -> str:
    """The commands `make TARGET` would run there."""
    result = subprocess.run(
        ["make", "-n", target], cwd=folder, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _installs(commands: str) -> list[str]:
    return [line for line in commands.splitlines() if "pip install" in line or "npm ci" in line]


def test_make_run_installs_the_runtime_only(fresh_clone: Path):
    installs = _installs(_planned(fresh_clone, "run"))
    assert len(installs) == 2, installs
    pip, npm = installs
    assert "-r requirements.txt" in pip and "requirements-dev.txt" not in pip
    assert "--require-hashes" in pip
    assert "npm ci --omit=dev" in npm


@pytest.mark.parametrize("target", ["test", "bench", "lighthouse"])
def test_the_other_targets_install_everything(fresh_clone: Path, target: str):
    installs = _installs(_planned(fresh_clone, target))
    assert len(installs) == 2, installs
    pip, npm = installs
    assert "-r requirements.txt -r requirements-dev.txt" in pip
    assert "npm ci" in npm and "--omit" not in npm


def test_after_a_full_install_make_run_installs_nothing_more(fresh_clone: Path):
    # what `make test` leaves: both full stamps, each with the runtime's beside it
    (fresh_clone / ".venv").mkdir()
    (fresh_clone / "node_modules").mkdir()
    for stamp in (".installed", ".runtime"):
        (fresh_clone / ".venv" / stamp).touch()
        (fresh_clone / "node_modules" / stamp).touch()
    assert _installs(_planned(fresh_clone, "run")) == []
    assert _installs(_planned(fresh_clone, "test")) == []


def test_after_make_run_the_full_targets_install_the_rest(fresh_clone: Path):
    (fresh_clone / ".venv").mkdir()
    (fresh_clone / "node_modules").mkdir()
    for stamp in (".venv/.runtime", "node_modules/.runtime"):
        (fresh_clone / stamp).touch()
    assert len(_installs(_planned(fresh_clone, "test"))) == 2


def test_no_install_hides_its_warnings():
    makefile = (ROOT / "Makefile").read_text()
    assert "--loglevel" not in makefile
    assert "--silent" not in makefile and "-qq" not in makefile
