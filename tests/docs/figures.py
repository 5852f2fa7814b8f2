"""The docs' figures that come from the code or the build, written by one generator.

Each figure lives in a marked block of a markdown file:

    <!-- generated: NAME -->...<!-- /generated -->

tests/test_docs.py computes every block (from the code, the built package, the suite's own
collection, DynamoDB Local) and fails, naming the block and the command, when the file holds
anything else; `make docs` runs the same tests with DOCS_REWRITE=1, which writes the blocks
instead. A figure is written in one block; other pages link to it rather than repeat it.

Tables whose rows come from the code (the environment variables, the data model's keys, the
make targets) keep their prose: the generator writes the cells the code decides and carries
each row's other cells over by the row's key, so a row for something new is written as
UNDESCRIBED, which the check refuses until someone describes it.
"""

import ast
import difflib
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pytest

from deploy.package import RUNTIME_PROJECT_PATHS

ROOT = Path(__file__).resolve().parent.parent.parent
REWRITE = "DOCS_REWRITE"
COMMAND = "make docs"
UNDESCRIBED = "**not described yet: describe it here**"
_BLOCK = re.compile(
    r"<!-- generated: (?P<name>[a-z0-9-]+) -->(?P<body>.*?)<!-- /generated -->", re.S
)
MIB = 2**20


# --- Blocks ----------------------------------------------------------------------------------


def block_get(doc: str, name: str) -> str:
    """What the block `name` of `doc` (a path from the repository's root) holds now."""
    bodies = [m["body"] for m in _BLOCK.finditer((ROOT / doc).read_text()) if m["name"] == name]
    assert len(bodies) == 1, f"{doc} must hold one block `{name}`, not {len(bodies)}"
    return bodies[0]


def block_settle(doc: str, name: str, body: str) -> None:
    """The block as the code gives it: checked, or written under `make docs`."""
    current = block_get(doc, name)
    if current != body:
        if not os.environ.get(REWRITE):
            diff = difflib.unified_diff(
                current.splitlines(), body.splitlines(), f"{doc} now", "generated", lineterm=""
            )
            pytest.fail(
                f"{doc}: the generated block `{name}` differs from what the code gives. "
                f"Run `{COMMAND}` and commit the result.\n" + "\n".join(diff),
                pytrace=False,
            )
        path = ROOT / doc
        old = f"<!-- generated: {name} -->{current}<!-- /generated -->"
        path.write_text(
            path.read_text().replace(old, f"<!-- generated: {name} -->{body}<!-- /generated -->")
        )
    assert UNDESCRIBED not in body, (
        f"{doc}: the block `{name}` has a row the code added: replace {UNDESCRIBED!r} with "
        "what it is (the generator keeps what you write there)"
    )


def table_parse(body: str) -> list[list[str]]:
    """The rows of the block's markdown table (header and rule left out), as cells."""
    lines = [line for line in body.splitlines() if line.startswith("|")]
    return [
        [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip()[1:-1])] for line in lines[2:]
    ]


def table_render(header: Iterable[str], rows: Iterable[Iterable[str]], *, align: str = "") -> str:
    header = list(header)
    rule = align or "|" + "|".join("---" for _ in header) + "|"
    lines = [re.sub(r"  +", " ", "| " + " | ".join(header) + " |"), rule]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n" + "\n".join(lines) + "\n"


def carried(old_rows: list[list[str]], key: str, width: int) -> list[str]:
    """The prose cells (all but the first `len(row) - width`) of the old row with this key."""
    for row in old_rows:
        if row[0] == key:
            return row[-width:]
    return [UNDESCRIBED] * width


# --- The package: docs/deploy.md, "Size" -------------------------------------------------------


def zip_size(package: Path) -> str:
    """The built zip's size and contents, in MiB (2**20 bytes) to two decimals."""
    with zipfile.ZipFile(package) as archive:
        files = [entry for entry in archive.infolist() if not entry.is_dir()]
    pyc = [entry for entry in files if entry.filename.endswith(".pyc")]
    zipped = package.stat().st_size / MIB
    compiled = sum(entry.compress_size for entry in pyc) / MIB
    unzipped = sum(entry.file_size for entry in files) / MIB
    rows = [
        [
            "zipped",
            f"**{zipped:.2f} MiB** (budget 8 MiB; Lambda's limit 50 MiB), {compiled:.2f} MiB of "
            "it bytecode",
        ],
        [
            "unzipped",
            f"{unzipped:.2f} MiB in {len(files):,} files, {len(pyc):,} of them `.pyc` "
            "(Lambda's limit 250 MiB)",
        ],
    ]
    return table_render(["", ""], rows)


# --- The suite: README.md ----------------------------------------------------------------------


def tests_collected_in(session: pytest.Session) -> int | None:
    """How many tests `make test` runs, from this session when it collected the whole suite
    (as `make test` and `make test-fast` do: every xdist worker collects all of it, and
    `-m "not slow"` only deselects), else None."""
    tests = ROOT / "tests"
    if [Path(arg).resolve() for arg in session.config.args] != [tests]:
        return None
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return None
    return len(session.items) + len(reporter.stats.get("deselected", []))


def tests_collected() -> int:
    """How many tests `make test` runs, by collecting the suite in a process of its own."""
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:xdist"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""},
        check=False,
    ).stdout
    (count,) = re.findall(r"^(\d+) tests? collected", listed, re.M)
    return int(count)


def test_count(count: int) -> str:
    return f"{count:,}"


# --- The make targets: README.md -------------------------------------------------------------

# Targets other targets use, never run on their own: the prerequisites' check and the STAGE check.
HELPER_TARGETS = frozenset({"prereqs", "prereqs-run", "stage"})


def make_targets(makefile: str, old: str) -> str:
    """Every phony target of the Makefile but the helpers, with the variables it requires (the
    `test -n "$(NAME)"` checks of its recipe and its prerequisites')."""
    joined = makefile.replace("\\\n", " ")
    (phony,) = re.findall(r"^\.PHONY:(.*)$", joined, re.M)
    targets = phony.split()
    missing = HELPER_TARGETS - set(targets)
    assert not missing, f"HELPER_TARGETS names targets the Makefile no longer has: {missing}"
    rules = {
        match["target"]: (match["needs"].split(), match["recipe"])
        for match in re.finditer(
            r"^(?P<target>[\w.-]+):(?P<needs>[^=\n]*)\n(?P<recipe>(?:\t.*\n?)*)", joined, re.M
        )
    }

    def required(target: str) -> list[str]:
        needs, recipe = rules[target]
        names = re.findall(r'test -n "\$\((\w+)\)"', recipe)
        return [*(name for need in needs if need in rules for name in required(need)), *names]

    old_rows = table_parse(old)
    rows = []
    for target in targets:
        if target in HELPER_TARGETS:
            continue
        variables = dict.fromkeys(required(target))
        usage = " ".join([f"make {target}", *(f"{v}=<{v.lower()}>" for v in variables)])
        rows.append([f"`{usage}`", *carried(old_rows, f"`{usage}`", 1)])
    return table_render(["target", "what it does"], rows)


# --- The configuration: README.md --------------------------------------------------------------


def _runtime_modules() -> list[Path]:
    paths = []
    for name in sorted(RUNTIME_PROJECT_PATHS):
        path = ROOT / name
        paths += [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))
    return [path for path in paths if "tests" not in path.parts]


def _is_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _constants(tree: ast.Module) -> dict[str, str]:
    """The module's top-level string constants (`PASSWORD_ENV = "ADMIN_PASSWORD"`)."""
    return {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name) and isinstance(node.value.value, str)
    }


class EnvironmentRead:
    """One variable as the runtime reads it: where, and the expression of its default (None:
    no default; the string "elsewhere": the code decides it apart from the read)."""

    def __init__(self, name: str, module: str) -> None:
        self.name = name
        self.modules = [module]
        self.defaults: list[ast.expr | str | None] = []


def environment_reads() -> dict[str, EnvironmentRead]:
    """Every environment variable the runtime's modules (what the package ships) read: through
    os.environ (get, [], in) or os.getenv, or through settings.py's `_env*` helpers. Any other
    use of os.environ but setting DJANGO_SETTINGS_MODULE's default stops the generator, so a
    new way of reading cannot go unlisted."""
    reads: dict[str, EnvironmentRead] = {}

    def add(name: str, module: str, default: ast.expr | str | None) -> None:
        read = reads.setdefault(name, EnvironmentRead(name, module))
        if module not in read.modules:
            read.modules.append(module)
        read.defaults.append(default)

    for path in _runtime_modules():
        module = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text())
        constants = _constants(tree)
        helpers = {
            node.name: node
            for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name.startswith("_env")
        }
        for function in [None, *helpers.values()]:
            body = tree if function is None else function
            parameters = set() if function is None else {a.arg for a in function.args.args}
            for node in ast.walk(body):
                if function is None and any(
                    node is h or _inside(node, h) for h in helpers.values()
                ):
                    continue
                _read(node, module, constants, parameters, helpers, add)
    return reads


def _inside(node: ast.AST, function: ast.FunctionDef) -> bool:
    return any(child is node for child in ast.walk(function))


def _name_of(node: ast.expr, constants: dict[str, str], parameters: set[str]) -> str | None:
    """The variable's name, or None for a helper's own parameter (its callers are read)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    if isinstance(node, ast.Name) and node.id in parameters:
        return None
    raise AssertionError(
        f"an environment variable read by a name the generator cannot resolve: {ast.unparse(node)}"
    )


def _read(node, module, constants, parameters, helpers, add) -> None:
    if isinstance(node, ast.Call):
        function = node.func
        getter = (
            isinstance(function, ast.Attribute)
            and function.attr == "get"
            and _is_environ(function.value)
        ) or ast.unparse(function) == "os.getenv"
        if getter:
            name = _name_of(node.args[0], constants, parameters)
            if name is not None:
                add(name, module, node.args[1] if len(node.args) > 1 else None)
        elif isinstance(function, ast.Name) and function.id in helpers:
            name = _name_of(node.args[0], constants, parameters)
            if name is not None:
                default = (
                    node.args[1] if len(node.args) > 1 else _helper_default(helpers[function.id])
                )
                add(name, module, default)
        elif isinstance(function, ast.Attribute) and _is_environ(function.value):
            assert function.attr == "setdefault" and ast.unparse(node.args[0]) == repr(
                "DJANGO_SETTINGS_MODULE"
            ), f"{module}: a use of os.environ the generator does not know: {ast.unparse(node)}"
    elif isinstance(node, ast.Subscript) and _is_environ(node.value):
        add(_name_of(node.slice, constants, parameters), module, None)
    elif isinstance(node, ast.Compare) and any(_is_environ(c) for c in node.comparators):
        add(_name_of(node.left, constants, parameters), module, "elsewhere")


def _helper_default(helper: ast.FunctionDef) -> ast.expr | None:
    """The default a helper without a default parameter gives its `_env` call."""
    for node in ast.walk(helper):
        if (
            isinstance(node, ast.Call)
            and ast.unparse(node.func).startswith("_env")
            and len(node.args) > 1
        ):
            return node.args[1]
    return None


def _default_text(node: ast.expr | None) -> str:
    if node is None or (isinstance(node, ast.Constant) and node.value == ""):
        return "unset"
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return f"`{node.value}`"
    if isinstance(node, ast.IfExp) and ast.unparse(node.test) == "PRODUCTION":
        local = _default_text(node.orelse)
        if isinstance(node.body, ast.Constant) and node.body.value is None:
            return f"{local}; *required* in production"
        return f"{local} ({_default_text(node.body)} in production)"
    if isinstance(node, ast.Call) and ast.unparse(node.func) == "str" and node.args:
        parts = ast.unparse(node.args[0]).split(" / ")
        if parts[0] == "BASE_DIR" and all(p.startswith("'") for p in parts[1:]):
            return "`" + "/".join(p.strip("'") for p in parts[1:]) + "`"
    raise AssertionError(f"a default the generator cannot write: {ast.unparse(node)}")


def configuration(old: str) -> str:
    """README.md's table of environment variables: which the runtime reads, where, and what an
    unset one means, from the code; each row's meaning carried over."""
    reads = environment_reads()
    old_rows = table_parse(old)
    listed = [re.findall(r"`([A-Z][A-Z0-9_]+)`", row[0]) for row in old_rows]
    groups = [[name for name in names if name in reads] for names in listed]
    groups = [names for names in groups if names]
    grouped = {name for names in groups for name in names}
    groups += [[name] for name in sorted(reads) if name not in grouped]
    rows = []
    for names in groups:
        defaults = []
        for name in names:
            kinds = {ast.dump(d) if isinstance(d, ast.AST) else d for d in reads[name].defaults}
            if "elsewhere" in kinds:
                defaults = None  # decided apart from the read: the row's own words say it
                break
            assert len(kinds) == 1, f"{name} is read with different defaults"
            defaults.append(_default_text(reads[name].defaults[0]))
        key = ", ".join(f"`{name}`" for name in names)
        prose = carried(old_rows, key, 2)
        default = prose[0] if defaults is None else ", ".join(dict.fromkeys(defaults))
        rows.append([key, default, prose[1]])
    settings = "resume_site/settings.py"
    others = sorted(
        (name, read.modules) for name, read in reads.items() if read.modules != [settings]
    )
    elsewhere = "; ".join(
        f"`{name}` in " + ", ".join(f"`{m}`" for m in modules) for name, modules in others
    )
    return (
        f"\nThe site's code reads these variables in `{settings}`, except {elsewhere}.\n"
        + table_render(["Variable", "When unset", "Meaning"], rows)
    )


# --- The data model: docs/architecture.md -----------------------------------------------------


def key_pattern(key: str, names: dict[str, str]) -> str:
    """A stored key as the data model writes it: each part the generator knows by value
    (`names`: hashes, usernames) as its placeholder, a date as <day>, a number as <minute>."""
    prefix, *rest = key.split("#")
    parts = [prefix]
    for part in rest:
        if part in names:
            parts.append(names[part])
        elif re.fullmatch(r"\d{4}-\d\d-\d\d", part):
            parts.append("<day>")
        elif part.isdigit():
            parts.append("<minute>")
        else:
            assert re.fullmatch(r"[a-z-]+", part), f"a part of {key!r} the generator cannot name"
            parts.append(part)
    return "#".join(parts)


def data_model(keys: Iterable[str], names: dict[str, str], old: str) -> str:
    """The data model's table: one row per kind of key the services write, its prose carried."""
    patterns = list(dict.fromkeys(key_pattern(key, names) for key in keys))
    old_rows = table_parse(old)
    ordered = [row[0].strip("`") for row in old_rows if row[0].strip("`") in patterns]
    ordered += sorted(set(patterns) - set(ordered))
    rows = [[f"`{p}`", *carried(old_rows, f"`{p}`", 3)] for p in ordered]
    return table_render(["`pk`", "attributes", "written by", "TTL"], rows)


# --- A view's requests, round trips and write units: docs/architecture.md, docs/deploy.md -----


def _number(value: float, delta: bool) -> str:
    text = f"{value:g}"
    return f"+ {text}" if delta else text


def round_trips(costs: dict, old: str) -> str:
    """docs/architecture.md's table of a POST's requests, round trips and write units, one row
    per case tests/docs/views.py measures (in its order), each row's account carried over."""
    old_rows = table_parse(old)
    rows = []
    for case, cost in costs.items():
        rows.append(
            [
                case,
                _number(cost.requests, cost.added),
                _number(cost.round_trips, cost.added),
                _number(cost.write_units, cost.added),
                *carried(old_rows, case, 1),
            ]
        )
    return table_render(
        ["case", "requests", "round trips", "write units", "what it waits on"],
        rows,
        align="|---|---:|---:|---:|---|",
    )


def view_writes(new: float, settled: float) -> str:
    return f"{new:g} write units for a new visitor's view, {settled:g} for a visitor's next views"
