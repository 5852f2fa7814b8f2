"""The two ways bench/counter_contention.py adds a view, and the threads that share them.

`ours()` is what the site does (`days.day_view_add()`, the update a counted view sends: one
DynamoDB ADD of the day's item per view); `naive()` is the classic Cloud Resume Challenge code
(get the item, add 1 in Python, save it back). `hammer()` lets N threads share a number of
increments along one path and records what was attempted, what failed and how long it took; the
reset and read-back around it are retried (`steady`), the increments never are.
"""

import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

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
    def lost_share(self) -> float:
        """Lost increments, in percent of the acknowledged ones."""
        return 100 * self.lost / self.acknowledged if self.acknowledged else 0.0

    @property
    def rate(self) -> float:
        return self.acknowledged / self.seconds if self.seconds else 0.0


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
    from counter.services import days, visitors

    def increment() -> None:
        days.day_view_add(day=visitors.today())

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


def naive_reset(pk: str) -> None:
    from counter.services.items import TotalItem

    steady(TotalItem(pk).delete)


def naive_stored(pk: str) -> int:
    from counter.services.items import TotalItem

    def read() -> int:
        try:
            return int(TotalItem.get(pk, consistent_read=True).count)
        except TotalItem.DoesNotExist:
            return 0

    return steady(read)


class _Threads:
    """`threads` threads sharing `ops` increments, started together by a barrier."""

    def __init__(self, cell: Cell, increment: Increment, ops: int) -> None:
        self.cell, self.increment = cell, increment
        count = cell.threads
        self.shares = [ops // count + (1 if index < ops % count else 0) for index in range(count)]
        self.attempted = [0] * count
        self.failed = [0] * count
        self.crashes: list[BaseException] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.barrier = threading.Barrier(count + 1)
        self.failures = failure_types()

    def work(self, index: int) -> None:
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError:
            return
        for _ in range(self.shares[index]):
            if self.stop.is_set():
                return
            self.attempted[index] += 1
            try:
                self.increment()
            except self.failures as error:
                self.failed[index] += 1
                with self.lock:
                    self.cell.errors[type(error).__name__] += 1
            except Exception as error:  # a bug, not a slow engine: stop and report it
                with self.lock:
                    self.crashes.append(error)
                self.stop.set()
                return


def hammer(cell: Cell, increment: Increment, ops: int) -> None:
    """Let cell.threads threads share `ops` increments, started together; fill in the cell."""
    shared = _Threads(cell, increment, ops)
    workers = [
        threading.Thread(target=shared.work, args=(index,), name=f"bench-{index}", daemon=True)
        for index in range(cell.threads)
    ]
    for worker in workers:
        worker.start()
    try:
        shared.barrier.wait()
        started = time.perf_counter()
        for worker in workers:
            worker.join()
        cell.seconds = time.perf_counter() - started
    except BaseException:
        # Ctrl-C: let every thread finish its current call, then unwind (the engine stops).
        shared.stop.set()
        shared.barrier.abort()
        for worker in workers:
            worker.join(timeout=15)
        raise
    if shared.crashes:
        crash = shared.crashes[0]
        raise RuntimeError(f"a benchmark thread failed unexpectedly: {crash!r}") from crash
    cell.attempted = sum(shared.attempted)
    cell.failed = sum(shared.failed)


def run_ours(threads: int, ops: int) -> Cell:
    cell = Cell(threads=threads, path=OURS)
    ours_reset()
    hammer(cell, ours(), ops)
    cell.stored = ours_stored()
    return cell


def run_naive(threads: int, ops: int, pk: str) -> Cell:
    cell = Cell(threads=threads, path=NAIVE)
    naive_reset(pk)
    hammer(cell, naive(pk), ops)
    cell.stored = naive_stored(pk)
    return cell
