"""requirements*.in and their locks: what the code imports is declared, and the locks agree.

requirements.txt locks the runtime packages; requirements-dev.txt locks what development adds,
resolved against requirements.txt, and is installed together with it. requirements-uv.txt locks
uv alone, at the dev lock's pin: `make` installs it first, and uv installs the other two.
"""

import ast
import json
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Code that runs in the Lambda package: it may import only runtime dependencies.
RUNTIME_CODE = ("resume_site", "core", "resume", "counter", "owners")
# Code that runs in the dev venv only (tests, benchmarks, local tooling, deploy steps).
DEV_CODE = ("tests", "bench", "scripts", "deploy")
# `handler` is Zappa's Lambda entry point, imported from inside an unzipped package.
NOT_DISTRIBUTIONS = {"handler"}
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)")


def _name(raw: str) -> str:
    """A distribution name in its normalised form (PEP 503)."""
    return re.sub(r"[-_.]+", "-", raw).lower()


def pins(path: Path) -> dict[str, str]:
    """Name -> version of every `name==version` line of a requirements file."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            found[_name(match.group(1))] = match.group(3)
    return found


def project_modules() -> set[str]:
    return {
        path.stem if path.is_file() else path.name
        for path in ROOT.iterdir()
        if path.suffix == ".py" or (path / "__init__.py").exists() or path.name == "tests"
    }


def zappa_callbacks() -> set[Path]:
    """Modules Zappa's callbacks name: they run in the Zappa command's process, not in Lambda."""
    stages = json.loads((ROOT / "zappa_settings.json").read_text(encoding="utf-8")).values()
    targets = {target for stage in stages for target in stage.get("callbacks", {}).values()}
    modules = {ROOT / (target.rsplit(".", 1)[0].replace(".", "/") + ".py") for target in targets}
    return {path for path in modules if path.exists()}


def python_files(folders: tuple[str, ...]) -> list[Path]:
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py"))


def imported_modules(paths: list[Path]) -> dict[str, Path]:
    """Top-level name of every absolute import in the files -> one file that imports it."""
    found: dict[str, Path] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], path.relative_to(ROOT))
    return found


def undeclared(paths: list[Path], declared: set[str]) -> list[str]:
    local = project_modules() | set(sys.stdlib_module_names) | NOT_DISTRIBUTIONS
    providers = packages_distributions()
    problems = []
    for module, importer in sorted(imported_modules(paths).items()):
        if module in local:
            continue
        distributions = {_name(name) for name in providers.get(module, [])}
        if not distributions & declared:
            problems.append(f"{importer} imports {module} ({', '.join(distributions) or '?'})")
    return problems


RUNTIME_IN = pins(ROOT / "requirements.in")
DEV_IN = pins(ROOT / "requirements-dev.in")
RUNTIME_LOCK = pins(ROOT / "requirements.txt")
DEV_LOCK = pins(ROOT / "requirements-dev.txt")
UV_LOCK = pins(ROOT / "requirements-uv.txt")


def hashes(path: Path) -> dict[str, set[str]]:
    """Name -> the sha256 hashes a requirements file lists for it."""
    found = {}
    for entry in re.split(r"\n(?=\S)", path.read_text(encoding="utf-8")):
        match = _PIN.match(entry)
        if match:
            found[_name(match.group(1))] = set(re.findall(r"--hash=sha256:([0-9a-f]{64})", entry))
    return found


def test_runtime_code_imports_only_runtime_dependencies() -> None:
    runtime = [path for path in python_files(RUNTIME_CODE) if path not in zappa_callbacks()]

    assert undeclared(runtime, set(RUNTIME_IN)) == []


def test_tests_bench_scripts_and_deploy_steps_import_only_declared_dependencies() -> None:
    dev = python_files(DEV_CODE) + sorted(zappa_callbacks())

    assert undeclared(dev, set(RUNTIME_IN) | set(DEV_IN)) == []


def test_runtime_lock_pins_each_runtime_dependency_at_its_declared_version() -> None:
    assert {name: RUNTIME_LOCK.get(name) for name in RUNTIME_IN} == RUNTIME_IN


def test_the_two_locks_pin_each_dev_dependency_at_its_declared_version() -> None:
    locked = {**RUNTIME_LOCK, **DEV_LOCK}

    assert {name: locked.get(name) for name in DEV_IN} == DEV_IN


def test_dev_lock_leaves_what_the_runtime_lock_pins_to_it() -> None:
    assert set(DEV_LOCK) & set(RUNTIME_LOCK) == set()


def test_uvs_lock_is_uv_alone_at_the_dev_locks_pin_and_hashes() -> None:
    assert list(UV_LOCK) == ["uv"] and UV_LOCK["uv"] == DEV_LOCK["uv"]
    uv_hashes = hashes(ROOT / "requirements-uv.txt")["uv"]
    assert uv_hashes and uv_hashes == hashes(ROOT / "requirements-dev.txt")["uv"]


def test_lambda_never_ships_uv() -> None:
    assert "uv" not in RUNTIME_LOCK and "uv" not in RUNTIME_IN


def test_every_locked_package_has_a_hash() -> None:
    for lock in ("requirements.txt", "requirements-dev.txt", "requirements-uv.txt"):
        entries = re.split(r"\n(?=\S)", (ROOT / lock).read_text(encoding="utf-8"))
        unhashed = [e.split()[0] for e in entries if _PIN.match(e) and "--hash=sha256:" not in e]
        assert unhashed == [], lock
