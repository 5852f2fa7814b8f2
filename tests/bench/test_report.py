"""bench/report.py: a bench rewrites only its own section of bench/README.md."""

from pathlib import Path

import pytest

from bench import report

README = """# Benchmarks
Hand-written intro.
<!-- bench:lambda-cold:begin -->
old cold table
<!-- bench:lambda-cold:end -->
Reading it, by hand.
<!-- bench:counter-contention:begin -->
old contention table
<!-- bench:counter-contention:end -->
"""


def test_a_section_is_replaced_and_everything_around_it_kept() -> None:
    text = report.section_replace(text=README, name="lambda-cold", body="| new |\n")

    assert text == README.replace("old cold table", "| new |")


def test_a_missing_section_is_an_error_naming_it() -> None:
    with pytest.raises(report.ReadmeError, match="no section 'lighthouse'"):
        report.section_replace(text=README, name="lighthouse", body="x")


def test_markers_out_of_order_are_an_error() -> None:
    begin, end = report.markers("lambda-cold")
    swapped = README.replace(begin, "@@").replace(end, begin).replace("@@", end)

    with pytest.raises(report.ReadmeError):
        report.section_replace(text=swapped, name="lambda-cold", body="x")


def test_the_committed_readme_has_both_sections() -> None:
    text = Path(report.README).read_text(encoding="utf-8")

    for name in ("lambda-cold", "counter-contention"):
        begin, end = report.markers(name)
        assert f"{begin}\nNEW\n{end}" in report.section_replace(text=text, name=name, body="NEW")
