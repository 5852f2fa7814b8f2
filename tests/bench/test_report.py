"""bench/report.py: one way to quote a figure (median of at least three runs, spread, goals
judged by the median, the run's conditions), and a bench rewrites only its own section of
bench/README.md."""

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


def test_a_figure_is_the_median_of_its_runs_with_their_spread() -> None:
    assert report.figure([0.855, 0.767, 0.783], "s", 3) == "0.783 s (0.767-0.855)"
    assert report.figure([1.67, 1.10, 1.51, 1.49], "x") == "1.50x (1.10-1.67)"
    assert report.figure([12, 10, 14], "") == "12.00 (10.00-14.00)"


def test_a_figure_of_fewer_than_three_runs_is_refused() -> None:
    with pytest.raises(report.TooFewRuns, match="at least 3 runs, got 2"):
        report.figure([1.0, 2.0], "s")


def test_ratios_are_taken_run_by_run() -> None:
    assert report.ratios([2.0, 3.0, 8.0], [1.0, 2.0, 4.0]) == [2.0, 1.5, 2.0]
    with pytest.raises(ValueError, match="3 runs of ours against 2"):
        report.ratios([1.0, 1.0, 1.0], [1.0, 1.0])


def test_a_goal_is_judged_by_the_median_not_the_best_run() -> None:
    cold = report.Goal(2.0)
    best_run_under = [1.4, 2.1, 2.3]

    assert cold.cells(best_run_under) == ("≤ 2.0x", "**no**")
    assert cold.cells([1.9, 2.0, 2.6]) == ("≤ 2.0x", "yes")


def test_a_goal_under_a_limit_is_not_met_at_the_limit() -> None:
    page = report.Goal(2.0, unit="ms", under=True)

    assert page.text() == "< 2 ms"
    assert not page.met([1.0, 2.0, 3.0])
    assert page.met([1.0, 1.9, 3.0])
    assert report.Goal(8.0, unit="MiB").text() == "≤ 8 MiB"


def test_a_run_says_when_on_what_under_which_load_and_how_to_run_it_again() -> None:
    import datetime as dt

    run = report.run_start("bench/lambda_cold.py", ["--pairs", "9", "--zip", "a b.zip"])
    run.started = dt.datetime(2026, 12, 6, 14, 9, tzinfo=dt.UTC)
    run.load_before = (0.52, 0.8, 1.2)
    run.finish()
    run.finished = dt.datetime(2026, 12, 6, 14, 13, tzinfo=dt.UTC)
    run.load_after = (1.9, 1.1, 1.3)

    assert run.line("2 cores (AMD EPYC)") == (
        "Run 2026-12-06 14:09-14:13 UTC on 2 cores (AMD EPYC). Load average (1, 5, 15 min): "
        "0.52 / 0.80 / 1.20 before, 1.90 / 1.10 / 1.30 after. "
        "Reproduce: `.venv/bin/python bench/lambda_cold.py --pairs 9 --zip 'a b.zip'`."
    )


def test_an_unfinished_run_has_no_line() -> None:
    with pytest.raises(ValueError, match="not finished"):
        report.run_start("bench/x.py", []).line("2 cores")


def test_the_machine_is_named_by_its_cores() -> None:
    assert report.machine_summary().startswith(f"{report.cores()} cores (")


@pytest.mark.parametrize("readme", [False, True])
def test_results_are_printed_and_written_only_when_asked(
    readme: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "README.md"
    path.write_text(README)

    report.section_publish(name="lambda-cold", body="| new |\n", readme=readme, path=path)

    out, err = capsys.readouterr()
    assert out == "| new |\n\n"
    assert ("| new |" in path.read_text()) is readme
    assert ("old cold table" in path.read_text()) is not readme
    assert (err == "bench/README.md: lambda-cold section rewritten\n") is readme
    assert "Reading it, by hand." in path.read_text()
