"""The packages' dependencies run one way (docs/architecture.md, Layout): the project
(resume_site) imports the apps, the apps import core, and core imports none of them; the
development harness (harness/) is imported by the tests and the benchmarks, never the reverse,
and never by the site. And the project's own modules and functions stay short enough to read:
no module over 400 lines, no function over 60 unless it says why at its top."""

import ast
import sys
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


# --- Sizes: every module and function short enough to read in one go ----------------------------

# The project's own code (tests/ excepted): the site, its deploy code, the scripts, the
# development harness and the benchmarks.
SIZED = (
    "core",
    "counter",
    "owners",
    "resume",
    "resume_site",
    "deploy",
    "scripts",
    "harness",
    "bench",
)
MODULE_LINES = 400
FUNCTION_LINES = 60
# A longer function says why at its top, in its docstring or in the comment right above it:
# "(Over 60 lines: the nine steps read best in one place, ...)".
LONG_FUNCTION_MARKER = "Over 60 lines"
# A longer module says why in its docstring: "Over 400 lines because ...".
LONG_MODULE_MARKER = "Over 400 lines"


def _modules(package: str) -> list[Path]:
    return sorted(
        path for path in (ROOT / package).rglob("*.py") if "__pycache__" not in path.parts
    )


def _reason_above(lines: list[str], first: int) -> str:
    """The comment lines right above line number `first` (1-based), nearest last."""
    above = []
    for line in reversed(lines[: first - 1]):
        if not line.strip().startswith("#"):
            break
        above.append(line)
    return "\n".join(reversed(above))


def _long_functions(path: Path) -> list[str]:
    """The functions over FUNCTION_LINES (decorators included) that do not say why."""
    text = path.read_text()
    lines = text.splitlines()
    found = []
    for node in ast.walk(ast.parse(text, filename=str(path))):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
        length = node.end_lineno - first + 1
        reason = (ast.get_docstring(node) or "") + _reason_above(lines, first)
        if length > FUNCTION_LINES and LONG_FUNCTION_MARKER not in reason:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    return found


def _long_module(path: Path) -> bool:
    """Over MODULE_LINES without saying why in its docstring."""
    text = path.read_text()
    reason = ast.get_docstring(ast.parse(text, filename=str(path))) or ""
    return len(text.splitlines()) > MODULE_LINES and LONG_MODULE_MARKER not in reason


@pytest.mark.parametrize("package", SIZED)
def test_no_module_is_over_400_lines_without_saying_why(package):
    assert [str(path.relative_to(ROOT)) for path in _modules(package) if _long_module(path)] == []


@pytest.mark.parametrize("package", SIZED)
def test_no_function_is_over_60_lines_without_saying_why(package):
    assert [entry for path in _modules(package) for entry in _long_functions(path)] == []


def test_the_size_rules_see_a_long_function_and_its_reason(tmp_path, monkeypatch):
    body = "\n".join(f"    x = {number}" for number in range(FUNCTION_LINES))
    (tmp_path / "example.py").write_text(
        f"def silent():\n{body}\n\n\n"
        f"# {LONG_FUNCTION_MARKER}: a reason above.\n@decorated\ndef above():\n{body}\n\n\n"
        f'def inside():\n    """{LONG_FUNCTION_MARKER}: a reason in the docstring."""\n{body}\n'
    )
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert _long_functions(tmp_path / "example.py") == ["example.py:1 silent (61 lines)"]


def test_the_size_rules_see_a_long_module_and_its_reason(tmp_path):
    body = "x = 0\n" * MODULE_LINES
    (tmp_path / "silent.py").write_text(f'"""A module."""\n{body}')
    (tmp_path / "said.py").write_text(
        f'"""A module.\n\n{LONG_MODULE_MARKER} because ..."""\n{body}'
    )
    (tmp_path / "short.py").write_text(f'"""A module."""\n{body[: -len("x = 0\n")]}')
    assert [p.name for p in sorted(tmp_path.iterdir()) if _long_module(p)] == ["silent.py"]
