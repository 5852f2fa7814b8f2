"""The tables the docs keep of the code, checked against it: README.md's configuration table
against the variables resume_site/settings.py reads, and docs/architecture.md's data model
against the items the services write."""

import re
from pathlib import Path

from tests.infra.test_role_drift import exercise_runtime_services

ROOT = Path(__file__).resolve().parent.parent
# How settings.py reads a variable: _env("NAME", ...), _env_int("NAME", ...), os.environ.get(...)
READ = re.compile(r'(?:_env\w*|environ\.get|getenv)\(\s*"([A-Z][A-Z0-9_]+)"')
NAME = re.compile(r"`([A-Z][A-Z0-9_]+)`")


def _table_rows(text: str, header: str) -> list[str]:
    """The rows of the markdown table whose header row starts with `header`."""
    lines = text[text.index(header) :].splitlines()[2:]  # past the header and its rule
    return [line for line in lines[: next(i for i, x in enumerate(lines) if not x.strip())]]


def _first_cells(text: str, header: str) -> list[str]:
    return [row.split(" | ")[0].removeprefix("| ") for row in _table_rows(text, header)]


def test_the_readme_lists_exactly_the_variables_the_settings_read():
    read = set(READ.findall((ROOT / "resume_site" / "settings.py").read_text()))
    readme = (ROOT / "README.md").read_text()
    listed = {name for cell in _first_cells(readme, "| Variable |") for name in NAME.findall(cell)}
    assert read, "no variable found: has settings.py's way of reading them changed?"
    assert listed == read


def _key_pattern(cell: str) -> re.Pattern[str]:
    """`day#<day>` as a regular expression: each <placeholder> is one part between #s."""
    (code,) = re.findall(r"`([^`]+)`", cell)[:1]
    parts = re.split(r"(<[^>]+>)", code)
    return re.compile("".join("[^#]+" if p.startswith("<") else re.escape(p) for p in parts))


def test_the_data_model_lists_exactly_the_items_the_services_write(table_scan, settings):
    exercise_runtime_services(settings)
    settings.COUNTER_CLIENT_LIMIT = 0  # the visitor's own bucket
    from counter import services
    from tests.conftest import ALICE

    services.view_count(visitor=ALICE)
    services.click_count(visitor=ALICE, link="email")  # the visitor's own bucket of clicks
    architecture = (ROOT / "docs" / "architecture.md").read_text()
    patterns = [_key_pattern(cell) for cell in _first_cells(architecture, "| `pk` |")]
    keys = [item["pk"]["S"] for item in table_scan()]
    for key in keys:
        assert [p.pattern for p in patterns if p.fullmatch(key)], f"{key} is not in the table"
    unused = [p.pattern for p in patterns if not any(p.fullmatch(key) for key in keys)]
    assert unused == []
