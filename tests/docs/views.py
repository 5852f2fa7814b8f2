"""What a view and a click cost in DynamoDB requests, round trips and write units, measured by
running the counter's services on DynamoDB Local: the figures of docs/architecture.md, "A
POST's round trips", and of docs/deploy.md's cost table (tests/test_docs.py writes them).

Each case sets its table and the process's memory up with the proxy passing answers at once,
then measures one view (or click) with each answer held `HOLD` seconds, so that requests sent
together are all out before the first answer and the recorder can tell them from requests sent
one after another. A row whose case names an addition ("+ ...") is the difference between two
measured views.
"""

import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import boto3

from core.clients import Client
from core.dynamodb import TableModel
from counter import services
from counter.services import counting, days, totals, uniques, visitors
from counter.visits import Visit
from tests.conftest import ALICE, BOB, DAY
from tests.counter.conftest import RoundTrips, minute_start

# Long enough that requests sent together (on threads started at once) leave before the first
# answer even at a load average of 8 on 2 cores (a thread waits tens of milliseconds for a core
# there), short enough that the cases' 37 round trips cost about 5.5 s of one worker's wall time
# (and no CPU). The counter's own round-trip tests hold answers 0.2 s for the same reason.
HOLD = 0.15
WRITES = frozenset({"UpdateItem", "PutItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})
KB = 1024
COMMON = "a new visitor under the limits (the common case)"
SETTLED = "a visitor this process settled today already"


def item_size(item: dict) -> int:
    """An item's size as DynamoDB bills it: each attribute's name and value, in bytes."""

    def value_size(value: dict) -> int:
        ((kind, data),) = value.items()
        if kind in ("S", "B"):
            return len(data.encode() if isinstance(data, str) else data)
        if kind == "N":  # about one byte per two digits, plus one
            return len(data.lstrip("-").replace(".", "")) // 2 + 1
        if kind in ("BOOL", "NULL"):
            return 1
        if kind in ("SS", "NS", "BS"):
            return sum(value_size({kind[0]: member}) for member in data)
        if kind == "L":
            return 3 + sum(1 + value_size(member) for member in data)
        assert kind == "M", f"an attribute type the size does not know: {kind}"
        return 3 + item_size(data) + len(data)

    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


class Costs(RoundTrips):
    """The round trips of RoundTrips, and the write units each write was billed. DynamoDB Local
    reports the units of a write it applied (PynamoDB asks for them); a write its condition
    refused is billed too, by the item's size (a unit per KB begun), which the engine does not
    report: its item is read (straight from the engine, not counted) to bill it."""

    def __init__(self, engine, table: str) -> None:
        super().__init__()
        self.units = 0.0
        self._engine = engine
        self._table = table

    def called(self, params, context, **_) -> None:
        context["docs-key"] = params.get("Key")

    def billed(self, parsed, model, context, **_) -> None:
        if model.name not in WRITES:
            return
        capacity = parsed.get("ConsumedCapacity")
        if capacity is None:
            code = parsed.get("Error", {}).get("Code")
            assert code == "ConditionalCheckFailedException", f"{model.name} reports no units"
            key = context["docs-key"]
            item = self._engine.get_item(TableName=self._table, Key=key, ConsistentRead=True)
            self.units += max(1, -(-item_size(item.get("Item", key)) // KB))
        else:
            for each in capacity if isinstance(capacity, list) else [capacity]:
                self.units += each["CapacityUnits"]

    def clear(self) -> None:
        super().clear()
        self.units = 0.0


@dataclass(frozen=True)
class Cost:
    requests: int
    round_trips: int
    write_units: float
    added: bool = False  # what a case adds to another's, not a view's whole cost

    def __sub__(self, other: "Cost") -> "Cost":
        return Cost(
            self.requests - other.requests,
            self.round_trips - other.round_trips,
            self.write_units - other.write_units,
            added=True,
        )


class Bench:
    """The services on a fresh table of DynamoDB Local, through the suite's delaying proxy."""

    def __init__(self, proxy, settings, monkeypatch, endpoint: str, table: str) -> None:
        self.proxy, self.settings, self.monkeypatch = proxy, settings, monkeypatch
        self.endpoint, self.table = endpoint, table
        self.engine = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
        self.costs = Costs(self.engine, table)
        settings.DYNAMODB_READ_TIMEOUT = 30.0
        events = TableModel._get_connection().connection.client.meta.events
        events.register("before-send.dynamodb", self.costs.sent)
        events.register("needs-retry.dynamodb", self.costs.answered)
        events.register("provide-client-params.dynamodb", self.costs.called)
        events.register("after-call.dynamodb", self.costs.billed)
        # The limits' minute stands still: a case's views never straddle two minutes' buckets.
        now = minute_start() + 20
        monkeypatch.setattr(counting, "_now", lambda: now)
        proxy.delay = 0

    @contextmanager
    def measured(self) -> Iterator[list[Cost]]:
        """What the block's calls cost, appended to the yielded list when it ends."""
        self.costs.clear()
        self.proxy.delay = HOLD
        result: list[Cost] = []
        try:
            yield result
        finally:
            self.proxy.delay = 0
        result.append(
            Cost(self.costs.requests(), self.costs.sequential(), round(self.costs.units, 1))
        )

    def measure(self, call: Callable[[], object]) -> Cost:
        with self.measured() as cost:
            call()
        return cost[0]

    def write(self, key: str, update: str, **values: int | bool | str | frozenset) -> None:
        """Another process's write, straight to the engine (none of the measured requests):
        `update` names each attribute `#name` and each value `:name`."""
        names = {f"#{name}": name for name in re.findall(r"#(\w+)", update)}
        typed = {
            f":{name}": {"BOOL": value}
            if isinstance(value, bool)
            else {"SS": sorted(value)}
            if isinstance(value, frozenset)
            else {"S": value}
            if isinstance(value, str)
            else {"N": str(value)}
            for name, value in values.items()
        }
        self.engine.update_item(
            TableName=self.table,
            Key={"pk": {"S": key}},
            UpdateExpression=update,
            ExpressionAttributeNames=names,
            **({"ExpressionAttributeValues": typed} if typed else {}),
        )

    def new_process(self) -> None:
        for memory in (visitors._salts, totals._sums, counting._seen):
            memory.clear()
        days._full.clear()

    def marker(self, visitor: Client) -> str:
        return f"visitor#{DAY.isoformat()}#{services.visitor_digest(visitor=visitor)}"


def _visitor(name: str) -> Client:
    return Client(ip="192.0.2.10", user_agent=f"Mozilla/5.0 ({name})")


def view(visitor: Client, visit: Visit | None = None) -> Callable[[], object]:
    return lambda: services.view_count(visitor=visitor, visit=visit)


def measure_all(bench: Bench) -> dict[str, Cost]:
    """Every case of docs/architecture.md's table, by the first cell of its row."""
    rows: dict[str, Cost] = {}
    services.view_count(visitor=BOB)  # the day's salt and the closed days' sum in memory
    common = rows[COMMON] = bench.measure(view(ALICE))
    rows[SETTLED] = bench.measure(view(ALICE))
    counting._seen.clear()  # a process that did not count ALICE: the marker shows BOB's claim...
    rows[
        "a returning visitor whose marker shows a claim and no deferral (its first counted view in "
        "a process that has not seen it, once per visitor and day; or views racing the holder, "
        "each)"
    ] = bench.measure(view(ALICE))
    counting._seen.clear()  # ... and, once deferred to, the visitor settled
    rows["a returning visitor this process has not settled, its marker settled"] = bench.measure(
        view(ALICE)
    )

    carol = _visitor("Carol")
    uniques.day_visitor_claim(digest=services.visitor_digest(visitor=carol), day=DAY)  # elsewhere
    view_write = days.day_view_add

    def write_after_a_release(**kwargs):  # that view gives its claim up while this one is out
        bench.write(bench.marker(carol), "SET #released = :t REMOVE #claim", t=True)
        return view_write(**kwargs)

    bench.monkeypatch.setattr(days, "day_view_add", write_after_a_release)
    rows["... and the holder gave its claim up before the deferral (a race)"] = bench.measure(
        view(carol)
    )
    bench.monkeypatch.setattr(days, "day_view_add", view_write)

    first = bench.settings.COUNTER_VISITOR_LIMIT, bench.settings.COUNTER_CLIENT_LIMIT
    bench.settings.COUNTER_VISITOR_LIMIT = bench.settings.COUNTER_CLIENT_LIMIT = 0
    dave = _visitor("Dave")
    rows["the limits off (`0`), a new visitor"] = bench.measure(view(dave))
    rows["the limits off, a visitor settled already"] = bench.measure(view(dave))
    bench.settings.COUNTER_VISITOR_LIMIT, bench.settings.COUNTER_CLIENT_LIMIT = first

    bench.settings.COUNTER_CLIENT_LIMIT = 1  # ALICE's client has had its view this minute
    rows["over a limit, or refused, a visitor this process settled"] = bench.measure(view(ALICE))
    office = Client(ip=ALICE.ip, user_agent="Mozilla/5.0 (Office)")
    rows["over a limit, or refused, a new visitor"] = bench.measure(view(office))
    evan = Client(ip=ALICE.ip, user_agent="Mozilla/5.0 (Evan)")
    release_send = uniques.day_visitor_release

    def release_deferred_to(**kwargs):  # meanwhile evan's view elsewhere deferred to its claim
        bench.write(f"day#{DAY.isoformat()}", "ADD #views :one", one=1)
        bench.write(bench.marker(evan), "SET #deferred = :t", t=True)
        return release_send(**kwargs)

    bench.monkeypatch.setattr(uniques, "day_visitor_release", release_deferred_to)
    rows["... a new visitor's claim that a counted view deferred to (a race)"] = bench.measure(
        view(evan)
    )
    bench.monkeypatch.setattr(uniques, "day_visitor_release", release_send)
    bench.settings.COUNTER_CLIENT_LIMIT = first[1]

    bench.new_process()
    cold = bench.measure(view(_visitor("Fay")))
    rows["a process's first view of the day (no salt or sum in memory)"] = cold - common
    # The day before: its views open, the total through the day before it (another process's).
    yesterday, before = DAY - dt.timedelta(days=1), DAY - dt.timedelta(days=2)
    bench.write(f"day#{yesterday.isoformat()}", "ADD #views :n", n=5)
    bench.write("total", "SET #before = :b, #through = :t", b=0, t=before.isoformat())
    bench.new_process()
    totals._sums.clear()
    opening = bench.measure(view(_visitor("Gus")))
    rows["the first view of the day anywhere"] = opening - cold

    gus = _visitor("Gus")
    bench.settings.COUNTER_VISITOR_LIMIT = bench.settings.COUNTER_CLIENT_LIMIT = 0
    full = frozenset(f"site{number}.example" for number in range(days.SOURCES_LIMIT))
    bench.write(f"day#{DAY.isoformat()}", f"ADD #{days.SOURCES_SET} :full", full=full)
    named = bench.measure(view(gus, _visit("site0.example")))
    full = bench.measure(view(gus, _visit("new.example")))
    rows["a new source or tag on a day that has 50 (once per process and day)"] = full - named
    bench.settings.COUNTER_VISITOR_LIMIT, bench.settings.COUNTER_CLIENT_LIMIT = first

    hana = _visitor("Hana")
    services.click_count(visitor=hana, link="email")  # the clicks' item exists
    rows["a click (`POST /api/click`)"] = bench.measure(
        lambda: services.click_count(visitor=hana, link="pdf")
    )
    return rows


def _visit(source: str) -> Visit:
    return Visit(source=source, campaign="", country="DE", device="phone")
