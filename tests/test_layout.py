"""The packages' dependencies run one way (docs/architecture.md, Layout): the project
(resume_site) imports the apps, the apps import core, and core imports none of them; the
development harness (harness/) is imported by the tests and the benchmarks, never the reverse,
and never by the site."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# package -> the first-party packages it must never import
FORBIDDEN = {
    "core": {"resume_site", "resume", "counter", "owners", "harness"},
    "resume": {"resume_site", "counter", "owners", "harness"},
    "counter": {"resume_site", "resume", "harness"},
    "owners": {"resume_site", "resume", "harness"},
    # What the tests and the benchmarks share owns itself: it imports neither of them.
    "harness": {"tests", "bench"},
}


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_runs_back_up(package):
    wrong = {
        str(path.relative_to(ROOT)): sorted(_imported(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
        if _imported(path) & FORBIDDEN[package]
    }
    assert wrong == {}
