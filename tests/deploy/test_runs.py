"""deploy/runs.py: the Zappa CLI run from the project root, failing loudly; the environment a
caller adds reaches it."""

import json
import stat
import sys
from pathlib import Path

import click
import pytest

from deploy import runs

STAGE = "prod"


@pytest.fixture
def stand_in_zappa(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `zappa` beside a stand-in Python: it writes its arguments and working directory, and
    exits with the status its last argument names."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "record.json"
    script = bin_dir / "zappa"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"open({str(record)!r}, 'w').write(json.dumps([sys.argv[1:], os.getcwd()]))\n"
        "sys.exit(int(sys.argv[-1]) if sys.argv[-1].isdigit() else 0)\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(runs.sys, "executable", str(bin_dir / "python"))
    return record


def test_run_zappa_runs_the_venvs_zappa_from_the_project_root(stand_in_zappa: Path) -> None:
    runs.run_zappa(args=["update", STAGE])

    args, cwd = json.loads(stand_in_zappa.read_text())
    assert args == ["update", STAGE]
    assert Path(cwd) == runs.ROOT


def test_run_zappa_fails_loudly_on_a_non_zero_exit(stand_in_zappa: Path) -> None:
    with pytest.raises(click.ClickException, match=r"`zappa rollback prod -n 3` failed .*3\)"):
        runs.run_zappa(args=["rollback", STAGE, "-n", "3"])


def test_run_zappa_adds_the_callers_environment(
    stand_in_zappa: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`make deploy` leaves the invalidation to its end through a variable the callback reads."""
    script = Path(sys.executable).parent / "zappa"
    seen = tmp_path / "seen"
    shebang = script.read_text().splitlines()[0]  # the real interpreter, not the stand-in's
    script.write_text(
        f"{shebang}\n"
        "import os\n"
        f"open({str(seen)!r}, 'w').write(os.environ.get('RESUME_SITE_DEFER_INVALIDATION', ''))\n"
    )
    runs.run_zappa(args=["update", STAGE], environment={"RESUME_SITE_DEFER_INVALIDATION": "1"})
    assert seen.read_text() == "1"
