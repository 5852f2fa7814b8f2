"""Counter contention: the atomic ADD of counter.services against the naive read-then-write.

Starts its own in-memory DynamoDB Local on a free port, makes a throwaway table, and for each
thread count lets N threads of this process share a fixed number of increments, once through
`counter.services.view_add()` (one ADD update of the day's item per view) and once
through the classic Cloud Resume Challenge code (get the item, add 1, save it back) on another
item of the same PynamoDB model. It prints a markdown table (stdout) of what was attempted, what
was stored, the updates lost and the throughput, and one line per cell as it finishes (stderr).

    .venv/bin/python bench/counter_contention.py [--ops 2000] [--threads 1,16,64] [--readme]

The results and the method are in bench/README.md; `--readme` rewrites its section there.
"""

import argparse
import datetime as dt
import os
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import report  # noqa: E402
from scripts import dynamodb_local  # noqa: E402

DEFAULT_OPS = 2000
DEFAULT_THREADS = (1, 16, 64)
DEFAULT_WARMUP = 1000
# The site's 1 s read timeout suits a page, which must never wait on the counter, but not
# a benchmark: under 64 threads DynamoDB Local can take longer than that, and a timed-out ADD is
# never sent again (it may have been applied), so it would count as a failed increment.
# Overridable by env.
BENCH_READ_TIMEOUT = "5"

OURS = "ours (ADD)"
NAIVE = "naive (get+save)"

Increment = Callable[[], None]


@dataclass
class Cell:
    """One measurement: `threads` threads sharing `attempted` increments along one path."""

    threads: int
    path: str
    attempted: int = 0
    failed: int = 0
    stored: int = 0
    seconds: float = 0.0
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def acknowledged(self) -> int:
        """Increments whose call returned without an error."""
        return self.attempted - self.failed

    @property
    def lost(self) -> int:
        """Acknowledged increments missing from the stored value (negative: counted twice)."""
        return self.acknowledged - self.stored

    @property
    def rate(self) -> float:
        return self.acknowledged / self.seconds if self.seconds else 0.0


def parse_threads(raw: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 1,16,64, got {raw!r}") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("thread counts must be whole numbers of at least 1")
    return counts


def positive(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {raw!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Lost updates and throughput: atomic ADD vs read-then-write on DynamoDB Local."
    )
    parser.add_argument(
        "--ops",
        type=positive,
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


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def setup_django(endpoint: str) -> None:
    """Point the project's settings at the bench engine and a throwaway table, then set up."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "resume_site.settings"
    os.environ["DJANGO_ENV"] = "local"
    os.environ["RESUME_VALIDATE_ON_STARTUP"] = "false"
    os.environ["DYNAMODB_ENDPOINT_URL"] = endpoint
    os.environ["DYNAMODB_TABLE"] = f"bench-{uuid.uuid4().hex[:12]}"
    # DynamoDB Local takes any credentials; never let a real key or session near the bench.
    os.environ["AWS_ACCESS_KEY_ID"] = "bench"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "bench"  # noqa: S105 (a dummy, not a secret)
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.setdefault("DYNAMODB_READ_TIMEOUT", BENCH_READ_TIMEOUT)
    # Failures are counted in the table; a log line per failed call would bury the progress.
    os.environ.setdefault("DJANGO_LOG_LEVEL", "ERROR")

    import django

    django.setup()


def failure_types() -> tuple[type[Exception], ...]:
    from botocore.exceptions import BotoCoreError
    from pynamodb.exceptions import PynamoDBException

    from counter.services import CounterUnavailable

    return (CounterUnavailable, PynamoDBException, BotoCoreError)


def ours() -> Increment:
    from counter import services

    def increment() -> None:
        services.view_add()

    return increment


def naive(pk: str) -> Increment:
    """Read the item, add one in Python, write it back: two threads that read the same value
    both write value + 1, and one of the two views is gone."""
    from counter.services.items import TotalItem

    def increment() -> None:
        try:
            item = TotalItem.get(pk, consistent_read=True)
        except TotalItem.DoesNotExist:
            item = TotalItem(pk, count=0)
        item.count = int(item.count) + 1
        item.save()

    return increment


def steady[T](call: Callable[[], T], attempts: int = 5) -> T:
    """Bookkeeping between cells (reset, read-back) retried, so one slow answer from a still
    busy engine does not throw away a run; the measured increments are never retried here."""
    failures = failure_types()
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except failures:
            if attempt == attempts:
                raise
            time.sleep(0.5 * attempt)
    raise AssertionError("unreachable")


def ours_reset() -> None:
    from counter import services
    from counter.services import totals, visitors
    from counter.services.items import TOTAL_KEY, DayItem, TotalItem

    # The total is the closed days' sum plus today's views: both items go, and this process's
    # copy of the sum with them.
    steady(TotalItem(TOTAL_KEY).delete)
    steady(DayItem(f"day#{visitors.today().isoformat()}").delete)
    totals._sums.clear()
    if steady(services.total_get) != 0:
        raise RuntimeError("the counter item could not be reset between cells")


def ours_stored() -> int:
    from counter import services

    return steady(services.total_get)


def naive_stored(pk: str) -> int:
    from counter.services.items import TotalItem

    def read() -> int:
        try:
            return int(TotalItem.get(pk, consistent_read=True).count)
        except TotalItem.DoesNotExist:
            return 0

    return steady(read)


def hammer(cell: Cell, increment: Increment, ops: int) -> None:
    """Let cell.threads threads share `ops` increments, started together; fill in the cell."""
    failures = failure_types()
    threads = cell.threads
    shares = [ops // threads + (1 if index < ops % threads else 0) for index in range(threads)]
    attempted = [0] * threads
    failed = [0] * threads
    crashes: list[BaseException] = []
    lock = threading.Lock()
    stop = threading.Event()
    barrier = threading.Barrier(threads + 1)

    def work(index: int) -> None:
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            return
        for _ in range(shares[index]):
            if stop.is_set():
                return
            attempted[index] += 1
            try:
                increment()
            except failures as error:
                failed[index] += 1
                with lock:
                    cell.errors[type(error).__name__] += 1
            except Exception as error:  # a bug, not a slow engine: stop and report it
                with lock:
                    crashes.append(error)
                stop.set()
                return

    workers = [
        threading.Thread(target=work, args=(index,), name=f"bench-{index}", daemon=True)
        for index in range(threads)
    ]
    for worker in workers:
        worker.start()
    try:
        barrier.wait()
        started = time.perf_counter()
        for worker in workers:
            worker.join()
        cell.seconds = time.perf_counter() - started
    except BaseException:
        # Ctrl-C: let every thread finish its current call, then unwind (the engine stops).
        stop.set()
        barrier.abort()
        for worker in workers:
            worker.join(timeout=15)
        raise
    if crashes:
        crash = crashes[0]
        raise RuntimeError(f"a benchmark thread failed unexpectedly: {crash!r}") from crash
    cell.attempted = sum(attempted)
    cell.failed = sum(failed)


def run_ours(threads: int, ops: int) -> Cell:
    cell = Cell(threads=threads, path=OURS)
    ours_reset()
    hammer(cell, ours(), ops)
    cell.stored = ours_stored()
    return cell


def run_naive(threads: int, ops: int, pk: str) -> Cell:
    cell = Cell(threads=threads, path=NAIVE)
    hammer(cell, naive(pk), ops)
    cell.stored = naive_stored(pk)
    return cell


def describe(cell: Cell) -> str:
    text = (
        f"{cell.threads:>3} threads {cell.path:<17} {cell.attempted} increments in "
        f"{cell.seconds:.2f} s ({cell.rate:.0f}/s): stored {cell.stored}, lost {cell.lost}, "
        f"failed {cell.failed}"
    )
    if cell.errors:
        text += " (" + ", ".join(f"{name} x{n}" for name, n in cell.errors.most_common()) + ")"
    return text


def table(cells: list[Cell]) -> str:
    rates = {(cell.threads, cell.path): cell.rate for cell in cells}
    lines = [
        "| threads | path | attempted | failed | stored | lost | lost % | wall s | incr/s "
        "| ours/naive incr/s |",
        "|---:|:---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for cell in cells:
        ratio = ""
        naive_rate = rates.get((cell.threads, NAIVE))
        if cell.path == OURS and naive_rate:
            ratio = f"{cell.rate / naive_rate:.2f}x"
        share = 100 * cell.lost / cell.acknowledged if cell.acknowledged else 0.0
        lines.append(
            f"| {cell.threads} | {cell.path} | {cell.attempted} | {cell.failed} | {cell.stored} "
            f"| {cell.lost} | {share:.1f} % | {cell.seconds:.2f} | {cell.rate:.0f} | {ratio} |"
        )
    return "\n".join(lines)


def machine() -> str:
    from django.conf import settings

    engine = dynamodb_local.find_jar().parent.name
    return (
        f"Machine: {report.machine_summary()}, DynamoDB Local {engine} "
        f"(in memory). Client: PynamoDB, connect timeout {settings.DYNAMODB_CONNECT_TIMEOUT:g} s, "
        f"read timeout {settings.DYNAMODB_READ_TIMEOUT:g} s, "
        f"{settings.DYNAMODB_MAX_RETRIES} resend of a request not applied. "
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC."
    )


def warm_up(ops: int, threads: int) -> None:
    if ops < 1:
        return
    progress(f"warming up: {ops} untimed increments per path on {threads} threads ...")
    hammer(Cell(threads=threads, path=OURS), ours(), ops)
    hammer(Cell(threads=threads, path=NAIVE), naive("naive#warmup"), ops)


def bench(args: argparse.Namespace) -> list[Cell]:
    from core import dynamodb

    try:
        dynamodb.table_ensure()
    except dynamodb.TableUnavailable as error:
        raise dynamodb_local.EngineError(
            f"Could not create the bench table in DynamoDB Local: {error.__cause__}"
        ) from error
    warm_up(args.warmup, min(4, max(args.threads)))
    cells: list[Cell] = []
    total = 2 * len(args.threads)
    for index, threads in enumerate(args.threads):
        cells.append(run_ours(threads, args.ops))
        progress(f"[{len(cells)}/{total}] {describe(cells[-1])}")
        cells.append(run_naive(threads, args.ops, f"naive#{index}"))
        progress(f"[{len(cells)}/{total}] {describe(cells[-1])}")
    return cells


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    try:
        progress("starting DynamoDB Local (in memory) ...")
        with dynamodb_local.running() as endpoint:
            setup_django(endpoint)
            cells = bench(args)
            header = machine()
    except KeyboardInterrupt:
        progress("interrupted: DynamoDB Local stopped, no results.")
        return 130
    except dynamodb_local.EngineError as error:
        progress(str(error))
        return 1
    progress(f"done in {time.monotonic() - started:.0f} s")
    results = f"{table(cells)}\n\n{header}"
    print(results)
    if args.readme:
        report.section_write(name="counter-contention", body=results)
        progress("bench/README.md: counter-contention section rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
