"""Counter contention: the atomic ADD of counter.services against the naive read-then-write.

Starts its own in-memory DynamoDB Local on a free port, makes a throwaway table, and for each
thread count lets N threads of this process share a fixed number of increments, once through
`days.day_view_add()` (the one ADD update of the day's item a counted view sends) and once
through the classic Cloud Resume Challenge code (get the item, add 1, save it back) on another
item of the same PynamoDB model (bench/contention_paths.py); all of it `--runs` times. It prints
a markdown table (stdout) of what was attempted, what was stored, the updates lost and the
throughput, each the median of the runs with their spread, and one line per cell as it finishes
(stderr).

    .venv/bin/python bench/counter_contention.py [--ops 2000] [--threads 1,16,64] [--runs 3]
                                                 [--readme]

The results and the method are in bench/README.md; `--readme` rewrites its section there.
"""

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import report  # noqa: E402
from bench.contention_paths import (  # noqa: E402
    NAIVE,
    OURS,
    Cell,
    hammer,
    naive,
    ours,
    run_naive,
    run_ours,
    setup_django,
)
from bench.report import progress  # noqa: E402
from scripts import dynamodb_local  # noqa: E402

DEFAULT_OPS = 2000
DEFAULT_THREADS = (1, 16, 64)
DEFAULT_WARMUP = 1000
DEFAULT_RUNS = 3


def parse_threads(raw: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 1,16,64, got {raw!r}") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("thread counts must be whole numbers of at least 1")
    return counts


def at_least(minimum: int):
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {raw!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        return value

    return parse


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Lost updates and throughput: atomic ADD vs read-then-write on DynamoDB Local."
    )
    parser.add_argument(
        "--ops",
        type=at_least(1),
        default=DEFAULT_OPS,
        help=f"increments per cell, shared by its threads (default {DEFAULT_OPS})",
    )
    parser.add_argument(
        "--threads",
        type=parse_threads,
        default=DEFAULT_THREADS,
        help="comma-separated thread counts (default 1,16,64)",
    )
    parser.add_argument(
        "--runs",
        type=at_least(report.MIN_RUNS),
        default=DEFAULT_RUNS,
        help=f"runs of every cell, at least {report.MIN_RUNS} (default {DEFAULT_RUNS})",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=DEFAULT_WARMUP,
        help=f"untimed increments per path before measuring, to warm the JVM (default "
        f"{DEFAULT_WARMUP}; 0 skips)",
    )
    parser.add_argument(
        "--readme",
        action="store_true",
        help="also rewrite this bench's section of bench/README.md with the results",
    )
    return parser.parse_args(argv)


def describe(cell: Cell) -> str:
    text = (
        f"{cell.threads:>3} threads {cell.path:<17} {cell.attempted} increments in "
        f"{cell.seconds:.2f} s ({cell.rate:.0f}/s): stored {cell.stored}, lost {cell.lost}, "
        f"failed {cell.failed}"
    )
    if cell.errors:
        text += " (" + ", ".join(f"{name} x{n}" for name, n in cell.errors.most_common()) + ")"
    return text


def table(runs: list[list[Cell]]) -> str:
    """One row per thread count and path: every measured figure the median of the runs
    (min-max); the ratio is ours over naive within each run, whose two cells ran back to back."""
    lines = [
        "| threads | path | attempted | failed | stored | lost | lost % | wall s | incr/s "
        "| ours/naive incr/s |",
        "|---:|:---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for index, first in enumerate(runs[0]):
        cells = [run[index] for run in runs]
        ratio = ""
        if first.path == OURS:
            naive_cells = [run[index + 1] for run in runs]
            rates = report.ratios([c.rate for c in cells], [c.rate for c in naive_cells])
            ratio = report.figure(rates, "x")

        def spread(values: list[float], digits: int = 0) -> str:
            return report.figure(values, "", digits)

        lines.append(
            report.row(
                str(first.threads),
                first.path,
                str(first.attempted),  # set by --ops, not measured
                spread([c.failed for c in cells]),
                spread([c.stored for c in cells]),
                spread([c.lost for c in cells]),
                spread([c.lost_share for c in cells], 1),
                spread([c.seconds for c in cells], 2),
                spread([c.rate for c in cells]),
                ratio,
            )
        )
    return "\n".join(lines)


def conditions(run: report.Run) -> str:
    from django.conf import settings

    engine = dynamodb_local.find_jar().parent.name
    return (
        f"{run.line(report.machine_summary())} DynamoDB Local {engine} (in memory). Client: "
        f"PynamoDB, connect timeout {settings.DYNAMODB_CONNECT_TIMEOUT:g} s, read timeout "
        f"{settings.DYNAMODB_READ_TIMEOUT:g} s, {settings.DYNAMODB_MAX_RETRIES} resend of a "
        "request not applied. Every figure is the median of the runs (min-max)."
    )


def warm_up(ops: int, threads: int) -> None:
    if ops < 1:
        return
    progress(f"warming up: {ops} untimed increments per path on {threads} threads ...")
    hammer(Cell(threads=threads, path=OURS), ours(), ops)
    hammer(Cell(threads=threads, path=NAIVE), naive("naive#warmup"), ops)


def bench(args: argparse.Namespace) -> list[list[Cell]]:
    """Every run: for each thread count, ours then naive, back to back."""
    from core import dynamodb
    from core.failures import TableUnavailable

    try:
        dynamodb.table_ensure()
    except TableUnavailable as error:
        raise dynamodb_local.EngineError(
            f"Could not create the bench table in DynamoDB Local: {error.__cause__}"
        ) from error
    warm_up(args.warmup, min(4, max(args.threads)))
    runs: list[list[Cell]] = []
    total = 2 * len(args.threads) * args.runs
    for number in range(args.runs):
        cells: list[Cell] = []
        for threads in args.threads:
            cells.append(run_ours(threads, args.ops))
            cells.append(run_naive(threads, args.ops, f"naive#{number}#{threads}"))
            done = 2 * (number * len(args.threads) + len(cells) // 2)
            progress(f"[{done - 1}/{total}] {describe(cells[-2])}")
            progress(f"[{done}/{total}] {describe(cells[-1])}")
        runs.append(cells)
    return runs


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    run = report.run_start("bench/counter_contention.py", argv)
    started = time.monotonic()
    try:
        progress("starting DynamoDB Local (in memory) ...")
        with dynamodb_local.running() as endpoint:
            setup_django(endpoint)
            runs = bench(args)
    except KeyboardInterrupt:
        progress("interrupted: DynamoDB Local stopped, no results.")
        return 130
    except dynamodb_local.EngineError as error:
        progress(str(error))
        return 1
    run.finish()
    progress(f"done in {time.monotonic() - started:.0f} s")
    results = f"{conditions(run)}\n\n{table(runs)}"
    report.section_publish(name="counter-contention", body=results, readme=args.readme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
