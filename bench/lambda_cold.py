"""Cold start, memory and latency of the Lambda package, side by side with the bare handler.

    .venv/bin/python bench/lambda_cold.py [--pairs 7] [--events 300] [--zip PATH] [--readme]

Measured as a new user would meet the site: the prod package that `make package` builds,
unzipped, run by the Lambda runtime stand-in of the package tests (tests/deploy/lambda_runtime.py)
in a fresh `python -S` process whose path holds only the package and the runtime's boto3, with
PYTHONDONTWRITEBYTECODE=1 (Lambda's /var/task is read-only, so nothing compiled at run time is
kept), the environment Lambda would give the function (the stage's `aws_environment_variables`
and the SECRET_KEY the deploy adds to them from the stage's `secret_env`), and DynamoDB Local. The
yardstick is bench/baseline/handler.py, the bare boto3 counter, run the same way on the same
engine with the same API Gateway (REST, v1) events.

- Cold: a fresh process per run, timed from outside: process start -> `handler` imported (init)
  -> the answer to one POST /api/count (first invoke). Peak RSS (VmHWM) and CPU time are read
  from /proc right after that answer. One untimed pair first, then `--pairs` pairs in
  alternating order (ours first, then bare first); medians, min-max spread, and the median of the
  per-pair ratios.
- Warm: one process of each, `--warmup` untimed rounds, then `--events` rounds of POST
  /api/count (ours, bare), GET / and GET /api/count (ours), interleaved; the handler's own run
  time (Lambda's Duration) as p50/p99. GET /api/count is one DynamoDB read, so set beside the
  bare POST (one write) it shows what the framework adds around a single round trip.
- Sizes of the zip and of what it unzips to; an import-time profile (`python -X importtime`) of
  one more cold process, summed by top-level package.

Prints the report as markdown; `--readme` also rewrites this bench's section of bench/README.md.
"""

import argparse
import datetime as dt
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import report  # noqa: E402
from deploy import stages  # noqa: E402
from scripts import dynamodb_local  # noqa: E402
from tests.counter.delaying_proxy import DelayingProxy  # noqa: E402
from tests.deploy import lambda_host  # noqa: E402
from tests.deploy.lambda_host import ANSWER_TIMEOUT_SECONDS  # noqa: E402

STAGE = "prod"
PACKAGE = ROOT / "build" / f"resume-site-{STAGE}.zip"
BASELINE = ROOT / "bench" / "baseline" / "handler.py"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
GOALS = {"cold": 2.0, "rss": 1.6, "warm_post": 1.5, "warm_get_ms": 2.0, "zip_mib": 8.0}
OURS, BARE = "ours", "bare"
# Ours again with the per-minute limits off (COUNTER_VISITOR_LIMIT and COUNTER_CLIENT_LIMIT 0):
# a counted POST then waits on one DynamoDB round trip instead of two (docs/architecture.md,
# "A POST's round trips"). Timed in the warm rounds only.
UNLIMITED = "ours, limits off"
LIMITS_OFF = {"COUNTER_VISITOR_LIMIT": "0", "COUNTER_CLIENT_LIMIT": "0"}
PHASE_RUNS = 5
# DynamoDB Local answers on loopback in well under a millisecond of network time, so its figures
# are CPU (botocore's and the engine's, sharing the machine's cores), and requests sent at once
# barely overlap. DynamoDB answers from the network, a few milliseconds away, and serves
# requests in parallel: the warm POSTs are timed again with this much added to every answer by
# a proxy, for ours and the bare handler alike.
LATENCY_MS = 5.0


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- Events ---------------------------------------------------------------------------------


def rest_event(method: str, path: str, *, number: int) -> dict[str, Any]:
    """An API Gateway REST (payload v1) proxy event from visitor `number`: each event comes from
    its own source IP (RFC 2544's benchmarking range), as the visits of a resume site do."""
    return lambda_host.rest_event(
        method,
        path,
        source_ip=f"198.18.{number // 256 % 256}.{number % 256}",
        user_agent=USER_AGENT,
        stage=STAGE,
    )


# --- One Lambda container -------------------------------------------------------------------


class Container(lambda_host.LambdaProcess):
    """One fresh runtime process answering events with `handler.lambda_handler`, whose memory
    and CPU time are read from /proc; with `importtime`, its `-X importtime` log goes there."""

    def __init__(self, *, task: Path, sdk: Path, env: dict[str, str], importtime: Path | None):
        self.log = importtime.open("wb") if importtime else None
        super().__init__(
            task=task,
            sdk=sdk,
            env=env,
            flags=("-X", "importtime") if importtime else (),
            stderr=self.log or subprocess.DEVNULL,
        )

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        answer = super().invoke(event)
        if "response" not in answer:
            raise RuntimeError(f"the handler raised:\n{answer.get('raised')}")
        return answer

    def peak_rss_mib(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
        if match is None:
            raise RuntimeError("no VmHWM in /proc/PID/status (Linux only)")
        return int(match.group(1)) / 1024

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
        return (utime + stime) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        super().close()
        if self.log is not None:
            self.log.close()


def counted(answer: dict[str, Any]) -> int:
    """The total in a counter response; fails loudly if the POST was not a counted 200."""
    response = answer["response"]
    if response.get("statusCode") != 200:
        raise RuntimeError(f"POST /api/count answered {response.get('statusCode')}: {response}")
    body = json.loads(response["body"])
    if body.get("counted") is False:
        raise RuntimeError(f"POST /api/count did not count the view: {body}")
    return int(body["count"])


# --- The set-up: package, baseline, SDK, engine ---------------------------------------------


@dataclass
class Setup:
    zip_path: Path
    config: dict[str, Any]
    tasks: dict[str, Path]
    sdk: Path
    envs: dict[str, dict[str, str]]
    table: str
    dynamodb: str
    visitors: Iterator[int] = field(default_factory=lambda: iter(range(1, 10**9)))

    def start(self, kind: str, *, importtime: Path | None = None) -> Container:
        return Container(
            task=self.tasks[kind], sdk=self.sdk, env=self.envs[kind], importtime=importtime
        )

    def post(self, container: Container) -> dict[str, Any]:
        return container.invoke(rest_event("POST", "/api/count", number=next(self.visitors)))

    def get(self, container: Container, path: str) -> dict[str, Any]:
        answer = container.invoke(rest_event("GET", path, number=next(self.visitors)))
        if answer["response"].get("statusCode") != 200:
            raise RuntimeError(f"GET {path} answered {answer['response'].get('statusCode')}")
        return answer


def stage_config() -> dict[str, Any]:
    """The stage as Zappa deploys it: merged over the base stage it extends."""
    return stages.stage_config(stage=STAGE)


def build_package() -> Path:
    progress("building the package: make package ...")
    make = shutil.which("make") or "make"
    # The build's progress goes to stderr with the bench's own: stdout carries only the report.
    subprocess.run(
        [make, "--no-print-directory", "package"], cwd=ROOT, stdout=sys.stderr, check=True
    )
    return PACKAGE


def unzip(zip_path: Path, target: Path) -> Path:
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(target)
    return target


def lambda_environment(
    *, task: Path, config: dict[str, Any], dynamodb: str, secret_key: str, handler: str
) -> dict[str, str]:
    """What Lambda puts in the function's environment (lambda_host.lambda_environment), with
    the handler Lambda would be configured to call."""
    env = lambda_host.lambda_environment(
        task=task, config=config, secret_key=secret_key, dynamodb_endpoint=dynamodb, stage=STAGE
    )
    return {
        **env,
        "_HANDLER": handler,
        # The bare handler's table, which Zappa's stage sets through zappa_settings.py for ours.
        "DYNAMODB_TABLE": config["environment_variables"]["DYNAMODB_TABLE"],
    }


def table_create(*, endpoint: str, name: str, region: str) -> None:
    """The stage's table in DynamoDB Local (key `pk`, on demand), and a warm engine."""
    import boto3

    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",  # noqa: S106 (DynamoDB Local takes any key)
    )
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=name)
    for number in range(200):  # the JVM compiles its hot paths before anything is timed
        client.update_item(
            TableName=name,
            Key={"pk": {"S": f"warmup#{number % 10}"}},
            UpdateExpression="ADD #c :one",
            ExpressionAttributeNames={"#c": "count"},
            ExpressionAttributeValues={":one": {"N": "1"}},
        )


@contextmanager
def prepared(zip_path: Path, config: dict[str, Any]) -> Iterator[Setup]:
    table = config["environment_variables"]["DYNAMODB_TABLE"]
    with (
        tempfile.TemporaryDirectory(prefix="lambda-bench-") as scratch,
        dynamodb_local.running() as dynamodb,
    ):
        root = Path(scratch)
        tasks = {OURS: unzip(zip_path, root / "task-ours"), BARE: root / "task-bare"}
        tasks[BARE].mkdir()
        shutil.copy2(BASELINE, tasks[BARE] / "handler.py")
        table_create(endpoint=dynamodb, name=table, region=config["aws_region"])
        secret_key = secrets.token_urlsafe(64)
        envs = {
            kind: lambda_environment(
                task=task,
                config=config,
                dynamodb=dynamodb,
                secret_key=secret_key,
                handler="handler.lambda_handler",
            )
            for kind, task in tasks.items()
        }
        tasks[UNLIMITED] = tasks[OURS]
        envs[UNLIMITED] = {**envs[OURS], **LIMITS_OFF}
        yield Setup(
            config=config,
            zip_path=zip_path,
            tasks=tasks,
            sdk=lambda_host.runtime_sdk_link(root / "var-runtime"),
            envs=envs,
            table=table,
            dynamodb=dynamodb,
        )


# --- Measurements ---------------------------------------------------------------------------


@dataclass
class Cold:
    init: float  # process start -> handler imported, seconds
    invoke: float  # the first POST's answer, seconds
    rss_mib: float
    cpu: float  # user + system CPU of the process up to the first answer, seconds
    handler_ms: float  # the first invoke as the handler saw it

    @property
    def total(self) -> float:
        return self.init + self.invoke


def cold_run(setup: Setup, kind: str) -> Cold:
    container = setup.start(kind)
    try:
        answer = setup.post(container)
        answered = time.perf_counter()
        counted(answer)
        return Cold(
            init=container.ready - container.started,
            invoke=answered - container.ready,
            rss_mib=container.peak_rss_mib(),
            cpu=container.cpu_seconds(),
            handler_ms=answer["handler_ms"],
        )
    finally:
        container.close()


def cold_pairs(setup: Setup, pairs: int) -> list[dict[str, Cold]]:
    progress("cold: one untimed pair (page cache, engine) ...")
    cold_run(setup, OURS)
    cold_run(setup, BARE)
    results: list[dict[str, Cold]] = []
    for number in range(pairs):
        order = (OURS, BARE) if number % 2 == 0 else (BARE, OURS)
        pair = {kind: cold_run(setup, kind) for kind in order}
        results.append(pair)
        progress(
            f"cold pair {number + 1}/{pairs} ({order[0]} first): ours "
            f"{pair[OURS].total:.3f} s, bare {pair[BARE].total:.3f} s, "
            f"ratio {pair[OURS].total / pair[BARE].total:.2f}x"
        )
    return results


@dataclass
class Warm:
    post_ms: dict[str, list[float]]
    page_ms: list[float]
    read_ms: list[float]  # GET /api/count: the framework around one DynamoDB round trip
    rss_mib: dict[str, float]


def warm_run(setup: Setup, *, events: int, warmup: int) -> Warm:
    progress(f"warm: {warmup} untimed rounds, then {events} rounds, interleaved ...")
    containers = {kind: setup.start(kind) for kind in (OURS, UNLIMITED, BARE)}
    post_ms: dict[str, list[float]] = {kind: [] for kind in containers}
    page_ms: list[float] = []
    read_ms: list[float] = []
    try:
        for number in range(warmup + events):
            timed = number >= warmup
            for kind in containers:
                answer = setup.post(containers[kind])
                counted(answer)
                if timed:
                    post_ms[kind].append(answer["handler_ms"])
            page = setup.get(containers[OURS], "/")
            read = setup.get(containers[OURS], "/api/count")
            if timed:
                page_ms.append(page["handler_ms"])
                read_ms.append(read["handler_ms"])
        rss = {kind: container.peak_rss_mib() for kind, container in containers.items()}
    finally:
        for container in containers.values():
            container.close()
    return Warm(post_ms=post_ms, page_ms=page_ms, read_ms=read_ms, rss_mib=rss)


def latency_run(
    setup: Setup, *, events: int, warmup: int, latency_ms: float
) -> dict[str, list[float]]:
    """Warm POSTs of ours (limits on and off) and the bare handler, interleaved, with
    `latency_ms` added to every DynamoDB answer by a proxy; handler ms of each timed POST."""
    progress(f"warm POSTs with {latency_ms:g} ms added to every DynamoDB answer ...")
    proxy = DelayingProxy(int(setup.dynamodb.rsplit(":", 1)[1])).start()
    proxy.delay = latency_ms / 1000
    through = {"DYNAMODB_ENDPOINT_URL": proxy.url, "AWS_ENDPOINT_URL_DYNAMODB": proxy.url}
    containers: dict[str, Container] = {}
    try:
        for kind in (OURS, UNLIMITED, BARE):
            env = {**setup.envs[kind], **through}
            containers[kind] = Container(
                task=setup.tasks[kind], sdk=setup.sdk, env=env, importtime=None
            )
        post_ms: dict[str, list[float]] = {kind: [] for kind in containers}
        for number in range(warmup + events):
            for kind, container in containers.items():
                answer = setup.post(container)
                counted(answer)
                if number >= warmup:
                    post_ms[kind].append(answer["handler_ms"])
    finally:
        for container in containers.values():
            container.close()
        proxy.stop()
    return post_ms


@dataclass
class ImportProfile:
    total_ms: float
    by_package: list[tuple[str, float, int]]  # (top-level package, self ms, modules)


def import_profile(setup: Setup, scratch: Path) -> ImportProfile:
    """`python -X importtime` of one cold process up to its first counted answer."""
    log = scratch / "importtime.log"
    container = setup.start(OURS, importtime=log)
    try:
        counted(setup.post(container))
    finally:
        container.close()
    by_package: dict[str, list[float]] = defaultdict(list)
    pattern = re.compile(r"^import time:\s+(\d+) \|\s+\d+ \|(\s*)(\S+)")
    for line in log.read_text(errors="replace").splitlines():
        match = pattern.match(line)
        if match:
            by_package[match.group(3).split(".")[0]].append(int(match.group(1)) / 1000)
    ranked = sorted(
        ((name, sum(times), len(times)) for name, times in by_package.items()),
        key=lambda row: row[1],
        reverse=True,
    )
    return ImportProfile(total_ms=sum(row[1] for row in ranked), by_package=ranked)


# A cold start split into phases, in a separately instrumented process (the timed runs above are
# not instrumented). Run as `python -S -c PHASES TASK_DIR SDK_DIR KIND` with one POST event on
# stdin; prints [[phase, cpu_s, wall_s, peak_rss_mib], ...] marking the end of each phase. Ours
# imports Zappa's handler module without instantiating it, then instantiates it with marks
# around the import of the app module (Django's WSGI module, then its set-up, then the
# warm-up), in the order of a real start.
PHASES = r"""
import importlib, json, os, re, sys, time, types
sys.path[:] = [sys.argv[1], sys.argv[2], *sys.path[1:]]
os.chdir(sys.argv[1])
answers, sys.stdout = sys.stdout, sys.stderr
marks = []
def mark(name):
    status = open("/proc/self/status").read()
    peak = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024
    marks.append((name, time.process_time(), time.perf_counter(), peak))
mark("interpreter start")
import boto3
mark("import boto3 (the runtime's SDK)")
if sys.argv[3] == "ours":
    import handler
    mark("Zappa's handler module (werkzeug, asyncio, tarfile)")
    def import_app(name):
        if name != "resume_site.wsgi":
            return importlib.import_module(name)
        import django.core.wsgi
        mark("Django's WSGI handler module")
        get_application = django.core.wsgi.get_wsgi_application
        def timed_application():
            application = get_application()
            mark("Django set-up: settings, apps, middleware")
            return application
        django.core.wsgi.get_wsgi_application = timed_application
        module = importlib.import_module(name)
        mark("warm-up: URL resolver, views, page (resume_site/warmup.py)")
        return module
    handler.importlib = types.SimpleNamespace(import_module=import_app)
    handler.global_handler = handler.LambdaHandler()
else:
    import handler
    mark("the handler module: one boto3 client")
event = json.loads(sys.stdin.readline())
response = handler.lambda_handler(event, None)
assert response["statusCode"] == 200, response
mark("first POST /api/count (client, requests)")
answers.write(json.dumps(marks))
"""


@dataclass
class Phase:
    name: str
    cpu_ms: float
    wall_ms: float
    peak_mib: float


def phase_profile(setup: Setup, runs: int) -> dict[str, list[Phase]]:
    """Median CPU and wall time of each phase of a cold start, and the peak RSS at its end."""
    samples: dict[str, list[list[Any]]] = {OURS: [], BARE: []}
    for number in range(runs):
        for kind in (OURS, BARE) if number % 2 == 0 else (BARE, OURS):
            env = dict(setup.envs[kind])
            env.pop("INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT", None)  # instantiated by PHASES
            event = rest_event("POST", "/api/count", number=next(setup.visitors))
            result = subprocess.run(
                [sys.executable, "-S", "-c", PHASES, str(setup.tasks[kind]), str(setup.sdk), kind],
                cwd=setup.tasks[kind],
                env=env,
                input=json.dumps(event) + "\n",
                capture_output=True,
                text=True,
                timeout=ANSWER_TIMEOUT_SECONDS,
                check=False,
            )
            if result.returncode != 0:
                raise RuntimeError(f"the instrumented {kind} start failed:\n{result.stderr}")
            samples[kind].append(json.loads(result.stdout))
    profile: dict[str, list[Phase]] = {}
    for kind, runs_marks in samples.items():
        phases = []
        for index, (name, *_rest) in enumerate(runs_marks[0]):
            cpu, wall, peak = [], [], []
            for marks in runs_marks:
                _, cpu_s, wall_s, peak_mib = marks[index]
                before = marks[index - 1] if index else (name, 0.0, wall_s, 0.0)
                cpu.append((cpu_s - before[1]) * 1000)
                wall.append((wall_s - before[2]) * 1000)
                peak.append(peak_mib)
            phases.append(
                Phase(
                    name=name,
                    cpu_ms=statistics.median(cpu),
                    wall_ms=statistics.median(wall),
                    peak_mib=statistics.median(peak),
                )
            )
        profile[kind] = phases
    return profile


def sizes(zip_path: Path) -> tuple[int, int, int, int]:
    """Zipped bytes, unzipped bytes, number of files, number of .pyc files."""
    with zipfile.ZipFile(zip_path) as archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
    pyc = sum(1 for info in infos if info.filename.endswith(".pyc"))
    return zip_path.stat().st_size, sum(info.file_size for info in infos), len(infos), pyc


def stored_totals(setup: Setup) -> dict[str, int]:
    """The views the table holds: ours are on the days' items (the total is their sum), the
    bare handler's in its own running total."""
    import boto3

    client = boto3.client(
        "dynamodb", endpoint_url=setup.dynamodb, region_name=setup.config["aws_region"]
    )
    pages = client.get_paginator("scan").paginate(TableName=setup.table, ConsistentRead=True)
    items = [item for page in pages for item in page["Items"]]
    days = [item for item in items if item["pk"]["S"].startswith("day#")]
    (bare,) = [item for item in items if item["pk"]["S"] == "bare-total"]
    return {
        OURS: sum(int(item.get("views", {"N": "0"})["N"]) for item in days),
        BARE: int(bare["count"]["N"]),
    }


# --- The report -----------------------------------------------------------------------------


def quantile(values: Sequence[float], q: int) -> float:
    """The q-th percentile (1..99) of `values`."""
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def spread(values: Sequence[float], unit: str, digits: int) -> str:
    med = statistics.median(values)
    return f"{med:.{digits}f} {unit} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def verdict(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _latency_rows(latency: tuple[float, dict[str, list[float]]] | None) -> list[str]:
    """The warm POST rows of the run with network latency added (none if it was skipped)."""
    if latency is None:
        return []
    added, post_ms = latency
    p50 = {kind: statistics.median(values) for kind, values in post_ms.items()}
    p99 = {kind: quantile(values, 99) for kind, values in post_ms.items()}
    return [
        f"| · with {added:g} ms added to every DynamoDB answer, p50 / p99 of "
        f"{len(post_ms[OURS])} | {p50[OURS]:.2f} / {p99[OURS]:.2f} ms "
        f"| {p50[BARE]:.2f} / {p99[BARE]:.2f} ms | {p50[OURS] / p50[BARE]:.2f}x (p50) | | |",
        f"| · · and the limits off | {p50[UNLIMITED]:.2f} / {p99[UNLIMITED]:.2f} ms | "
        f"| {p50[UNLIMITED] / p50[BARE]:.2f}x (p50) | | |",
    ]


def render(
    *,
    cold: list[dict[str, Cold]],
    warm: Warm,
    profile: ImportProfile,
    phases: dict[str, list[Phase]],
    size: tuple[int, int, int, int],
    stage: dict[str, Any],
    checked: str,
    latency: tuple[float, dict[str, list[float]]] | None = None,
) -> str:
    def column(kind: str, attribute: str) -> list[float]:
        return [getattr(pair[kind], attribute) for pair in cold]

    def ratios(attribute: str) -> list[float]:
        return [getattr(p[OURS], attribute) / getattr(p[BARE], attribute) for p in cold]

    def ratio_cell(attribute: str) -> str:
        values = ratios(attribute)
        return f"{statistics.median(values):.2f}x ({min(values):.2f}-{max(values):.2f})"

    cold_ratio = statistics.median(ratios("total"))
    rss_ratio = statistics.median(ratios("rss_mib"))
    post_p50 = {kind: statistics.median(values) for kind, values in warm.post_ms.items()}
    post_p99 = {kind: quantile(values, 99) for kind, values in warm.post_ms.items()}
    post_ratio = post_p50[OURS] / post_p50[BARE]
    page_p50, page_p99 = statistics.median(warm.page_ms), quantile(warm.page_ms, 99)
    read_p50, read_p99 = statistics.median(warm.read_ms), quantile(warm.read_ms, 99)
    zipped, unzipped, files, pyc = size
    events = len(warm.page_ms)
    rows = [
        "| figure | ours | bare | ours / bare | goal | met |",
        "|---|---:|---:|---:|---:|:--:|",
        "| cold start: process start → first counted response "
        f"| {spread(column(OURS, 'total'), 's', 3)} | {spread(column(BARE, 'total'), 's', 3)} "
        f"| {ratio_cell('total')} "
        f"| ≤ {GOALS['cold']:.1f}x | {verdict(cold_ratio <= GOALS['cold'])} |",
        f"| · the fastest of the {len(cold)} runs of each (least disturbed by other work) "
        f"| {min(column(OURS, 'total')):.3f} s | {min(column(BARE, 'total')):.3f} s "
        f"| {min(column(OURS, 'total')) / min(column(BARE, 'total')):.2f}x | | |",
        f"| · init: process start → `handler` imported | {spread(column(OURS, 'init'), 's', 3)} "
        f"| {spread(column(BARE, 'init'), 's', 3)} | {ratio_cell('init')} | | |",
        f"| · first invoke: POST `/api/count` answered | {spread(column(OURS, 'invoke'), 's', 3)} "
        f"| {spread(column(BARE, 'invoke'), 's', 3)} | {ratio_cell('invoke')} | | |",
        f"| CPU time of the cold process (user + system) | {spread(column(OURS, 'cpu'), 's', 2)} "
        f"| {spread(column(BARE, 'cpu'), 's', 2)} | {ratio_cell('cpu')} | | |",
        f"| peak RSS of the cold process | {spread(column(OURS, 'rss_mib'), 'MiB', 1)} "
        f"| {spread(column(BARE, 'rss_mib'), 'MiB', 1)} | {ratio_cell('rss_mib')} "
        f"| ≤ {GOALS['rss']:.1f}x | {verdict(rss_ratio <= GOALS['rss'])} |",
        f"| warm POST `/api/count`, handler p50 / p99 of {events} | {post_p50[OURS]:.2f} / "
        f"{post_p99[OURS]:.2f} ms | {post_p50[BARE]:.2f} / {post_p99[BARE]:.2f} ms "
        f"| {post_ratio:.2f}x (p50) | ≤ {GOALS['warm_post']:.1f}x "
        f"| {verdict(post_ratio <= GOALS['warm_post'])} |",
        f"| · the same with the limits off (one round trip) | {post_p50[UNLIMITED]:.2f} / "
        f"{post_p99[UNLIMITED]:.2f} ms | | {post_p50[UNLIMITED] / post_p50[BARE]:.2f}x (p50) "
        "| | |",
        *_latency_rows(latency),
        f"| · warm GET `/api/count` (one read), handler p50 / p99 | {read_p50:.2f} / "
        f"{read_p99:.2f} ms | | {read_p50 / post_p50[BARE]:.2f}x (p50) | | |",
        f"| warm GET `/`, handler p50 / p99 of {events} | {page_p50:.2f} / {page_p99:.2f} ms "
        f"| - | - | p50 < {GOALS['warm_get_ms']:.0f} ms "
        f"| {verdict(page_p50 < GOALS['warm_get_ms'])} |",
        f"| peak RSS after the warm events | {warm.rss_mib[OURS]:.1f} MiB "
        f"| {warm.rss_mib[BARE]:.1f} MiB | {warm.rss_mib[OURS] / warm.rss_mib[BARE]:.2f}x | | |",
        f"| package: zipped / unzipped | {zipped / 2**20:.2f} / {unzipped / 2**20:.1f} MiB "
        f"({files} files, {pyc} .pyc) | - | - | zip ≤ {GOALS['zip_mib']:.0f} MiB "
        f"| {verdict(zipped <= GOALS['zip_mib'] * 2**20)} |",
    ]
    pair_rows = [
        "| pair | order | ours s | bare s | ratio | ours init / invoke s | bare init / invoke s |",
        "|---:|:--|---:|---:|---:|---:|---:|",
    ]
    for number, pair in enumerate(cold, start=1):
        order = "ours, bare" if number % 2 == 1 else "bare, ours"
        pair_rows.append(
            f"| {number} | {order} | {pair[OURS].total:.3f} | {pair[BARE].total:.3f} "
            f"| {pair[OURS].total / pair[BARE].total:.2f}x "
            f"| {pair[OURS].init:.3f} / {pair[OURS].invoke:.3f} "
            f"| {pair[BARE].init:.3f} / {pair[BARE].invoke:.3f} |"
        )
    top = profile.by_package[:12]
    phase_rows = [
        "| phase | CPU ms | wall ms | peak RSS after |",
        "|:--|---:|---:|---:|",
    ]
    for kind in (OURS, BARE):
        for phase in phases[kind]:
            wall = "" if phase.name == "interpreter start" else f"{phase.wall_ms:.0f}"
            phase_rows.append(
                f"| {kind}: {phase.name} | {phase.cpu_ms:.0f} | {wall} | {phase.peak_mib:.1f} MiB |"
            )
        total = sum(phase.cpu_ms for phase in phases[kind])
        phase_rows.append(f"| **{kind}: total** | **{total:.0f}** | | |")
    profile_rows = [
        "| top-level package | import time (self, summed) | modules |",
        "|:--|---:|---:|",
        *(f"| `{name}` | {ms:.0f} ms | {count} |" for name, ms, count in top),
        f"| all {sum(row[2] for row in profile.by_package)} modules | "
        f"{profile.total_ms:.0f} ms | |",
    ]
    engine = dynamodb_local.find_jar().parent.name
    settings_used = (
        f"memory_size {stage.get('memory_size')}, aws_environment_variables "
        f"{json.dumps(stage.get('aws_environment_variables', {}))}"
    )
    return "\n".join(
        [
            f"Latest run: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {len(cold)} cold pairs, "
            f"{events} warm rounds. Machine: {report.machine_summary()}, DynamoDB Local {engine} "
            f"(in memory). Stage `{STAGE}` ({settings_used}). {checked}",
            "",
            *rows,
            "",
            "Cold pairs (seconds, from outside the process):",
            "",
            *pair_rows,
            "",
            f"Where a cold start's time goes: {PHASE_RUNS} more cold starts of "
            "each, instrumented to mark the end of each phase (medians; CPU is user + system "
            "time of the process, the steadier figure on a shared machine):",
            "",
            *phase_rows,
            "",
            "Import-time profile of one cold process up to its first counted answer "
            "(`python -X importtime`, self time summed by top-level package, largest first):",
            "",
            *profile_rows,
        ]
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=7, help="cold pairs (default 7)")
    parser.add_argument("--events", type=int, default=300, help="warm rounds (default 300)")
    parser.add_argument("--warmup", type=int, default=30, help="untimed warm rounds (default 30)")
    parser.add_argument("--zip", type=Path, help="measure this zip instead of `make package`'s")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=LATENCY_MS,
        help=f"time the warm POSTs again with this much added to every DynamoDB answer "
        f"(default {LATENCY_MS:g}; 0 skips)",
    )
    parser.add_argument(
        "--aws-env",
        metavar="JSON",
        help="the function's aws_environment_variables instead of the stage's (to measure an "
        "older zip under the settings it was deployed with, e.g. '{}'; SECRET_KEY is added "
        "either way, and a zip whose zappa_settings.py names a REMOTE_ENV cannot be measured: "
        "no S3 is served)",
    )
    parser.add_argument(
        "--readme", action="store_true", help="rewrite this bench's section of bench/README.md"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    # Local engines take any credentials; never let a real key or profile near the bench.
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"})
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
        os.environ.pop(name, None)
    zip_path = args.zip.resolve() if args.zip else build_package()
    progress("starting DynamoDB Local (in memory) ...")
    config = stage_config()
    if args.aws_env is not None:
        config["aws_environment_variables"] = json.loads(args.aws_env)
    with prepared(zip_path, config) as setup:
        cold = cold_pairs(setup, args.pairs)
        warm = warm_run(setup, events=args.events, warmup=args.warmup)
        latency = None
        if args.latency_ms > 0:
            latency = (
                args.latency_ms,
                latency_run(
                    setup, events=args.events, warmup=args.warmup, latency_ms=args.latency_ms
                ),
            )
        progress("import-time profile of one more cold process ...")
        with tempfile.TemporaryDirectory(prefix="lambda-bench-") as scratch:
            profile = import_profile(setup, Path(scratch))
        progress(f"phase profile: {PHASE_RUNS} instrumented cold starts of each ...")
        phases = phase_profile(setup, PHASE_RUNS)
        # Every POST above was answered as counted; the engine must agree, one for one.
        # (the untimed pair, the pairs, the warm rounds, the phase profile, and ours once more
        # for the import profile)
        posts = {BARE: 1 + args.pairs + args.warmup + args.events + PHASE_RUNS}
        posts[OURS] = posts[BARE] + 1 + args.warmup + args.events  # and the limits-off ones
        if latency is not None:  # each kind once more per round
            posts[BARE] += args.warmup + args.events
            posts[OURS] += 2 * (args.warmup + args.events)
        stored = stored_totals(setup)
        if stored != posts:
            raise RuntimeError(f"stored totals {stored} differ from the POSTs sent {posts}")
        checked = f"Every POST was counted once: {posts[OURS]} (ours) and {posts[BARE]} (bare)."
        text = render(
            cold=cold,
            warm=warm,
            profile=profile,
            phases=phases,
            size=sizes(zip_path),
            stage=setup.config,
            checked=checked,
            latency=latency,
        )
    print(text)
    if args.readme:
        report.section_write(name="lambda-cold", body=text)
        progress("bench/README.md: lambda-cold section rewritten")
    progress(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
