"""What the bench scripts share: one way to quote a figure, the run's conditions, and their
sections of bench/README.md.

A figure (a time or a ratio) is quoted as the median of at least MIN_RUNS runs with its spread,
`0.783 s (0.767-0.855)`, and a goal is judged by that median, never by the best run (`Goal`).
Every report says when it ran, on how many cores, the load average before and after, and the
command that reproduces it (`Run`).

Each script owns one section of the README, between two marker comments
(`<!-- bench:NAME:begin -->` and `<!-- bench:NAME:end -->`), and rewrites only that section with
`--readme`; the prose around the sections (method, reading the figures) is written by hand.
"""

import datetime as dt
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "bench" / "README.md"
MIN_RUNS = 3  # a figure is the median of at least this many runs
PYTHON = ".venv/bin/python"  # how a reproducing command names the interpreter


class TooFewRuns(ValueError):
    """A figure asked of fewer than MIN_RUNS runs: one run's figure is not quoted."""


def median(values: Sequence[float]) -> float:
    if len(values) < MIN_RUNS:
        raise TooFewRuns(f"a figure needs at least {MIN_RUNS} runs, got {len(values)}")
    return statistics.median(values)


def _unit(unit: str) -> str:
    """How a unit follows a number: `1.51x`, `0.78 s`, `12` (none)."""
    return unit if unit in {"", "x"} else f" {unit}"


def figure(values: Sequence[float], unit: str, digits: int = 2) -> str:
    """The median of `values` and their spread: `0.783 s (0.767-0.855)`, `1.51x (1.10-1.67)`."""
    mid = median(values)
    low, high = min(values), max(values)
    return f"{mid:.{digits}f}{_unit(unit)} ({low:.{digits}f}-{high:.{digits}f})"


def ratios(ours: Sequence[float], bare: Sequence[float]) -> list[float]:
    """Run by run, ours / bare: runs side by side in the same conditions, so their ratios are
    steadier than the ratio of two medians."""
    if len(ours) != len(bare):
        raise ValueError(f"{len(ours)} runs of ours against {len(bare)} of the other")
    return [mine / theirs for mine, theirs in zip(ours, bare, strict=True)]


def row(*cells: str) -> str:
    """One row of a markdown table."""
    return f"| {' | '.join(cells)} |"


def verdict(ok: bool) -> str:
    return "yes" if ok else "**no**"


@dataclass(frozen=True)
class Goal:
    """A goal on a figure, judged by the figure's median: `≤ 2.0x`, `< 2 ms`."""

    limit: float
    unit: str = "x"
    under: bool = False  # True: the median must stay under the limit; False: at most the limit

    def text(self) -> str:
        limit = f"{self.limit:.1f}" if self.unit == "x" else f"{self.limit:g}"
        return f"{'<' if self.under else '≤'} {limit}{_unit(self.unit)}"

    def met(self, values: Sequence[float]) -> bool:
        mid = median(values)
        return mid < self.limit if self.under else mid <= self.limit

    def cells(self, values: Sequence[float]) -> tuple[str, str]:
        """The goal and whether the median meets it, as two table cells."""
        return self.text(), verdict(self.met(values))


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def load_text(load: Sequence[float]) -> str:
    return " / ".join(f"{value:.2f}" for value in load)


@dataclass
class Run:
    """When a bench ran, the load average (1, 5 and 15 minutes) before and after it, and the
    command that runs it again."""

    command: str
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    load_before: tuple[float, float, float] = field(default_factory=load_average)
    finished: dt.datetime | None = None
    load_after: tuple[float, float, float] | None = None

    def finish(self) -> None:
        self.finished = dt.datetime.now(dt.UTC)
        self.load_after = load_average()

    def line(self, machine: str) -> str:
        """`Run 2026-12-06 14:09-14:13 UTC on 2 cores (...); load average ... Reproduce: ...`"""
        if self.finished is None or self.load_after is None:
            raise ValueError("the run is not finished: call finish() first")
        same_day = self.finished.date() == self.started.date()
        end = f"{self.finished:%H:%M}" if same_day else f"{self.finished:%Y-%m-%d %H:%M}"
        return (
            f"Run {self.started:%Y-%m-%d %H:%M}-{end} UTC on {machine}. Load average (1, 5, "
            f"15 min): {load_text(self.load_before)} before, {load_text(self.load_after)} after. "
            f"Reproduce: `{self.command}`."
        )


def run_start(script: str, argv: Sequence[str]) -> Run:
    """A run of `script` (its path from the repository's root) with `argv`, starting now."""
    return Run(command=shlex.join([PYTHON, script, *argv]))


class ReadmeError(Exception):
    """bench/README.md lacks the markers of a section, or has them out of order."""


def markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name}:begin -->", f"<!-- bench:{name}:end -->"


def section_replace(*, text: str, name: str, body: str) -> str:
    """`text` with the section `name` holding `body` (everything else unchanged)."""
    begin, end = markers(name)
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        raise ReadmeError(f"bench/README.md has no section {name!r} (markers {begin} ... {end})")
    return f"{text[: start + len(begin)]}\n{body.strip()}\n{text[stop:]}"


def section_write(*, name: str, body: str, readme: Path = README) -> None:
    """Rewrite one section of bench/README.md."""
    text = readme.read_text(encoding="utf-8")
    readme.write_text(section_replace(text=text, name=name, body=body), encoding="utf-8")


def progress(message: str) -> None:
    """A bench's progress line, on stderr: stdout holds only its results."""
    print(message, file=sys.stderr, flush=True)


def section_publish(*, name: str, body: str, readme: bool, path: Path = README) -> None:
    """A bench's results: printed, and with `readme` (`--readme`) written into their section
    of bench/README.md (`path`), saying so."""
    print(body)
    if readme:
        section_write(name=name, body=body, readme=path)
        progress(f"bench/README.md: {name} section rewritten")


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown CPU"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else platform.processor() or "unknown CPU"


def java_version() -> str:
    java = shutil.which("java")
    if java is None:
        return "unknown"
    result = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "([^"]+)"', result.stderr)
    return match.group(1) if match else "unknown"


def cores() -> int:
    return os.process_cpu_count() or os.cpu_count() or 0


def machine_summary() -> str:
    """E.g. `2 cores (AMD EPYC 7B13), Linux x86_64, Python 3.13.0, Java 17.0.15`."""
    return (
        f"{cores()} cores ({cpu_model()}), {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}, Java {java_version()}"
    )
