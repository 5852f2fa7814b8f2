"""Makefile: `make run` installs only what serving the site needs (the runtime lock and DynamoDB
Local); `make test` and the other targets install everything; uv installs the locks with their
hashes, and uv itself comes from its own hashed lock (never from the runtime one, which Lambda
ships); no install hides its warnings. Read from `make -n` on a fresh copy (nothing installed),
so nothing is installed here."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOCKS = (
    "requirements.txt",
    "requirements-dev.txt",
    "requirements-uv.txt",
    "package.json",
    "package-lock.json",
)


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
    """The commands that install the locks (uv's own install aside)."""
    return [line for line in commands.splitlines() if "uv pip install" in line or "npm ci" in line]


def _uv_bootstrap(commands: str) -> list[str]:
    """The commands that install uv itself (with pip, from requirements-uv.txt)."""
    return [line for line in commands.splitlines() if "requirements-uv.txt" in line]


def test_make_run_installs_the_runtime_only(fresh_clone: Path):
    installs = _installs(_planned(fresh_clone, "run"))
    assert len(installs) == 2, installs
    uv, npm = installs
    assert uv.startswith(".venv/bin/uv pip install ")
    assert "-r requirements.txt" in uv and "requirements-dev.txt" not in uv
    assert "--require-hashes" in uv
    assert "npm ci --omit=dev" in npm


@pytest.mark.parametrize("target", ["test", "bench", "lighthouse"])
def test_the_other_targets_install_everything(fresh_clone: Path, target: str):
    installs = _installs(_planned(fresh_clone, target))
    assert len(installs) == 2, installs
    uv, npm = installs
    assert "-r requirements.txt -r requirements-dev.txt" in uv
    assert "--require-hashes" in uv
    assert "npm ci" in npm and "--omit" not in npm


@pytest.mark.parametrize("target", ["run", "test"])
def test_uv_comes_from_its_own_hashed_lock_into_a_venv_made_without_pip(
    fresh_clone: Path, target: str
):
    commands = _planned(fresh_clone, target)
    assert "-m venv --without-pip .venv" in commands
    # the Python's own pip, else the venv's from ensurepip: either installs requirements-uv.txt
    # alone, every file checked against its hashes
    bootstrap = _uv_bootstrap(commands)
    assert len(bootstrap) == 2, bootstrap
    for line in bootstrap:
        assert " install " in line and "--require-hashes -r requirements-uv.txt" in line
        assert "requirements.txt" not in line.replace("requirements-uv.txt", "")
    assert "ensurepip" in commands
    # uv is there before it installs anything
    lines = commands.splitlines()
    first_uv = next(i for i, line in enumerate(lines) if "uv pip install" in line)
    assert all(lines.index(line) < first_uv for line in bootstrap)


@pytest.mark.parametrize("target", ["run", "test"])
def test_each_install_is_checked_for_missing_dependencies(fresh_clone: Path, target: str):
    # The locks are installed as they are (--no-deps, nothing resolved), so uv pip check
    # confirms right after that each package has the packages it depends on.
    lines = _planned(fresh_clone, target).splitlines()
    install = next(i for i, line in enumerate(lines) if "uv pip install" in line)
    assert "--no-deps" in lines[install]
    assert lines[install + 1] == ".venv/bin/uv pip check --quiet --python .venv/bin/python"


def test_after_a_full_install_make_run_installs_nothing_more(fresh_clone: Path):
    # what `make test` leaves: both full stamps, each with the runtime's beside it, made in
    # make's order (uv first: a stamp older than it would be made again)
    (fresh_clone / ".venv").mkdir()
    (fresh_clone / "node_modules").mkdir()
    (fresh_clone / ".venv" / ".uv").touch()
    for stamp in (".installed", ".runtime"):
        (fresh_clone / ".venv" / stamp).touch()
        (fresh_clone / "node_modules" / stamp).touch()
    for target in ("run", "test"):
        commands = _planned(fresh_clone, target)
        assert _installs(commands) == [] and _uv_bootstrap(commands) == []


def test_after_make_run_the_full_targets_install_the_rest(fresh_clone: Path):
    (fresh_clone / ".venv").mkdir()
    (fresh_clone / "node_modules").mkdir()
    for stamp in (".venv/.uv", ".venv/.runtime", "node_modules/.runtime"):
        (fresh_clone / stamp).touch()
    commands = _planned(fresh_clone, "test")
    assert len(_installs(commands)) == 2
    assert _uv_bootstrap(commands) == []  # the uv make run installed does it


def test_make_lock_writes_uvs_lock_from_the_dev_locks_pin(fresh_clone: Path):
    (fresh_clone / ".venv").mkdir()
    for stamp in (".uv", ".installed", ".runtime"):
        (fresh_clone / ".venv" / stamp).touch()
    commands = _planned(fresh_clone, "lock")
    assert "-o requirements-uv.txt" in commands
    line = next(line for line in commands.splitlines() if "-o requirements-uv.txt" in line)
    assert "requirements-dev.txt" in line and "--generate-hashes" in line


def test_no_install_hides_its_warnings():
    makefile = (ROOT / "Makefile").read_text()
    assert "--loglevel" not in makefile
    assert "--silent" not in makefile and "-qq" not in makefile


def test_the_longest_modules_make_test_starts_first_exist():
    from tests.conftest import LONGEST_FIRST, TESTS

    assert [name for name in LONGEST_FIRST if not (TESTS / name).is_file()] == []
