"""Cold start, memory and latency of the Lambda package, side by side with the bare handler.

    .venv/bin/python bench/lambda_cold.py [--pairs 7] [--events 300] [--zip PATH] [--readme]

The prod zip (`make package`, or --zip) and bench/baseline/handler.py each run in fresh
processes of the runtime stand-in (harness/lambda_host.py) on DynamoDB Local, fed the same API
Gateway events: cold pairs, warm rounds (again with latency added to every DynamoDB answer), a
phase profile and an import-time profile. The method is in bench/README.md; `--readme` rewrites
this bench's section there. Prints the report as markdown.
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
from itertools import count
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import report  # noqa: E402
from deploy import stack, stages, static_files  # noqa: E402
from harness import lambda_host  # noqa: E402
from harness.delaying_proxy import DelayingProxy  # noqa: E402
from scripts import dynamodb_local  # noqa: E402

STAGE = "prod"
PACKAGE = ROOT / "build" / f"resume-site-{STAGE}.zip"
BASELINE = ROOT / "bench" / "baseline" / "handler.py"
PHASES = ROOT / "bench" / "cold_phases.py"
GOALS = {"cold": 2.0, "rss": 1.6, "warm_post": 1.5, "warm_get_ms": 2.0, "zip_mib": 8.0}
OURS, BARE = "ours", "bare"
# Ours with the per-minute limits off: a counted POST waits on one round trip instead of two
# (docs/architecture.md, "A POST's round trips"). Timed in the warm rounds only.
UNLIMITED = "ours, limits off"
LIMITS_OFF = {"COUNTER_VISITOR_LIMIT": "0", "COUNTER_CLIENT_LIMIT": "0"}
PHASE_RUNS = 5
# DynamoDB Local answers on loopback, so its figures are CPU; DynamoDB answers from a few
# milliseconds away. The warm POSTs are timed again with this much added to every answer.
LATENCY_MS = 5.0


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def counted(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer, after checking it is a counted 200 to POST /api/count."""
    response = answer.get("response") or {}
    body = json.loads(response.get("body") or "{}")
    if response.get("statusCode") != 200 or body.get("counted") is False:
        raise RuntimeError(f"POST /api/count was not counted: {answer}")
    return answer


@dataclass
class Setup:
    """The unzipped package and the bare handler, their environments, the runtime's SDK and
    the engine; every event comes from its own source IP (RFC 2544's benchmarking range)."""

    config: dict[str, Any]
    tasks: dict[str, Path]
    sdk: Path
    envs: dict[str, dict[str, str]]
    dynamodb: str
    visitors: Iterator[int] = field(default_factory=lambda: count(1))

    def start(self, kind: str, **options: Any) -> lambda_host.LambdaProcess:
        env = {**self.envs[kind], **options.pop("env", {})}
        options.setdefault("stderr", subprocess.DEVNULL)
        return lambda_host.LambdaProcess(task=self.tasks[kind], sdk=self.sdk, env=env, **options)

    def event(self, method: str, path: str) -> dict[str, Any]:
        number = next(self.visitors)
        return lambda_host.rest_event(
            method,
            path,
            source_ip=f"198.18.{number // 256 % 256}.{number % 256}",
            user_agent=lambda_host.BROWSER_USER_AGENT,
            stage=STAGE,
        )

    def post(self, container: lambda_host.LambdaProcess) -> dict[str, Any]:
        return counted(container.invoke(self.event("POST", "/api/count")))

    def get(self, container: lambda_host.LambdaProcess, path: str) -> dict[str, Any]:
        answer = container.invoke(self.event("GET", path))
        if (answer.get("response") or {}).get("statusCode") != 200:
            raise RuntimeError(f"GET {path} did not answer 200: {answer}")
        return answer


def table_create(*, endpoint: str, name: str, region: str) -> None:
    """The stage's table in DynamoDB Local (key `pk`, on demand), and a warm engine."""
    import boto3

    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=region)
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
        tasks = {OURS: root / "task-ours", BARE: root / "task-bare"}
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(tasks[OURS])
        tasks[BARE].mkdir()
        shutil.copy2(BASELINE, tasks[BARE] / "handler.py")
        table_create(endpoint=dynamodb, name=table, region=config["aws_region"])
        secret_key = secrets.token_urlsafe(64)
        envs = {
            kind: lambda_host.lambda_environment(
                task=task, config=config, secret_key=secret_key, dynamodb_endpoint=dynamodb
            )
            # The handler Lambda calls, and the bare handler's table (Zappa's settings name
            # it for ours).
            | {"_HANDLER": "handler.lambda_handler", "DYNAMODB_TABLE": table}
            for kind, task in tasks.items()
        }
        tasks[UNLIMITED] = tasks[OURS]
        envs[UNLIMITED] = envs[OURS] | LIMITS_OFF
        sdk = lambda_host.runtime_sdk_link(root / "var-runtime")
        yield Setup(config=config, tasks=tasks, sdk=sdk, envs=envs, dynamodb=dynamodb)


# --- Measurements ---------------------------------------------------------------------------


@dataclass
class Cold:
    init: float  # process start -> handler imported, seconds
    invoke: float  # the first POST's answer, seconds
    rss_mib: float
    cpu: float  # user + system CPU of the process up to the first answer, seconds

    @property
    def total(self) -> float:
        return self.init + self.invoke


def cold_run(setup: Setup, kind: str) -> Cold:
    container = setup.start(kind)
    try:
        setup.post(container)
        answered = time.perf_counter()
        return Cold(
            init=container.ready - container.started,
            invoke=answered - container.ready,
            rss_mib=container.peak_rss_mib(),
            cpu=container.cpu_seconds(),
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
            f"cold pair {number + 1}/{pairs} ({order[0]} first): ours {pair[OURS].total:.3f} s, "
            f"bare {pair[BARE].total:.3f} s, ratio {pair[OURS].total / pair[BARE].total:.2f}x"
        )
    return results


@dataclass
class Warm:
    post_ms: dict[str, list[float]]
    page_ms: list[float]
    read_ms: list[float]  # GET /api/count: the framework around one DynamoDB round trip
    rss_mib: dict[str, float]


def warm_rounds(setup: Setup, *, events: int, warmup: int, latency_ms: float = 0) -> Warm:
    """One warm process of each kind; `warmup` untimed rounds, then `events` rounds of a POST
    to each, interleaved, and (on loopback only) GET / and GET /api/count of ours; the
    handler's own ms of each. With `latency_ms`, a proxy adds it to every DynamoDB answer."""
    proxy = None
    env: dict[str, str] = {}
    if latency_ms:
        proxy = DelayingProxy(int(setup.dynamodb.rsplit(":", 1)[1])).start()
        proxy.delay = latency_ms / 1000
        env = {"DYNAMODB_ENDPOINT_URL": proxy.url, "AWS_ENDPOINT_URL_DYNAMODB": proxy.url}
    containers: dict[str, lambda_host.LambdaProcess] = {}
    warm = Warm(post_ms={}, page_ms=[], read_ms=[], rss_mib={})
    try:
        for kind in (OURS, UNLIMITED, BARE):
            containers[kind] = setup.start(kind, env=env)
            warm.post_ms[kind] = []
        for number in range(warmup + events):
            timed = number >= warmup
            for kind, container in containers.items():
                answer = setup.post(container)
                if timed:
                    warm.post_ms[kind].append(answer["handler_ms"])
            if not latency_ms:
                page = setup.get(containers[OURS], "/")
                read = setup.get(containers[OURS], "/api/count")
                if timed:
                    warm.page_ms.append(page["handler_ms"])
                    warm.read_ms.append(read["handler_ms"])
        warm.rss_mib = {kind: container.peak_rss_mib() for kind, container in containers.items()}
    finally:
        for container in containers.values():
            container.close()
        if proxy is not None:
            proxy.stop()
    return warm


@dataclass
class ImportProfile:
    total_ms: float
    by_package: list[tuple[str, float, int]]  # (top-level package, self ms, modules)


def import_profile(setup: Setup) -> ImportProfile:
    """`python -X importtime` of one cold process up to its first counted answer."""
    with tempfile.TemporaryFile() as log:
        container = setup.start(OURS, flags=("-X", "importtime"), stderr=log)
        try:
            setup.post(container)
        finally:
            container.close()
        log.seek(0)
        lines = log.read().decode(errors="replace").splitlines()
    by_package: dict[str, list[float]] = defaultdict(list)
    for line in lines:
        match = re.match(r"^import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if match:
            by_package[match.group(2).split(".")[0]].append(int(match.group(1)) / 1000)
    ranked = sorted(
        ((name, sum(times), len(times)) for name, times in by_package.items()),
        key=lambda row: row[1],
        reverse=True,
    )
    return ImportProfile(total_ms=sum(row[1] for row in ranked), by_package=ranked)


@dataclass
class Phase:
    name: str
    cpu_ms: float
    wall_ms: float
    peak_mib: float


def phase_profile(setup: Setup, runs: int) -> dict[str, list[Phase]]:
    """Median CPU and wall time of each phase of a cold start (bench/cold_phases.py), and the
    peak RSS at its end."""
    samples: dict[str, list[list[Any]]] = {OURS: [], BARE: []}
    for number in range(runs):
        for kind in (OURS, BARE) if number % 2 == 0 else (BARE, OURS):
            env = dict(setup.envs[kind])
            env.pop("INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT", None)  # cold_phases.py instantiates
            result = subprocess.run(
                [sys.executable, "-S", str(PHASES), str(setup.tasks[kind]), str(setup.sdk), kind],
                cwd=setup.tasks[kind],
                env=env,
                input=json.dumps(setup.event("POST", "/api/count")) + "\n",
                capture_output=True,
                text=True,
                timeout=lambda_host.ANSWER_TIMEOUT_SECONDS,
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
            medians = (statistics.median(values) for values in (cpu, wall, peak))
            phases.append(Phase(name, *medians))
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
    table = setup.config["environment_variables"]["DYNAMODB_TABLE"]
    pages = client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    items = [item for page in pages for item in page["Items"]]
    days = [item for item in items if item["pk"]["S"].startswith("day#")]
    (bare,) = [item for item in items if item["pk"]["S"] == "bare-total"]
    return {
        OURS: sum(int(item.get("views", {"N": "0"})["N"]) for item in days),
        BARE: int(bare["count"]["N"]),
    }


# --- The report -----------------------------------------------------------------------------


def p50_p99(values: Sequence[float]) -> tuple[float, float]:
    return statistics.median(values), statistics.quantiles(values, n=100, method="inclusive")[98]


def spread(values: Sequence[float], unit: str, digits: int) -> str:
    med = statistics.median(values)
    return f"{med:.{digits}f} {unit} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def verdict(ok: bool) -> str:
    return "yes" if ok else "**no**"


def row(*cells: str) -> str:
    return f"| {' | '.join(cells)} |"


def summary_rows(
    cold: list[dict[str, Cold]], warm: Warm, latency: tuple[float, Warm] | None, size: tuple
) -> list[str]:
    def column(kind: str, attribute: str) -> list[float]:
        return [getattr(pair[kind], attribute) for pair in cold]

    def cold_row(label: str, attribute: str, unit: str, digits: int, goal: str = "") -> str:
        ratios = [getattr(p[OURS], attribute) / getattr(p[BARE], attribute) for p in cold]
        ratio = statistics.median(ratios)
        ours, bare = (spread(column(kind, attribute), unit, digits) for kind in (OURS, BARE))
        spread_ratio = f"{ratio:.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
        met = (f"≤ {GOALS[goal]:.1f}x", verdict(ratio <= GOALS[goal])) if goal else ("", "")
        return row(label, ours, bare, spread_ratio, *met)

    def post_row(label: str, posts: dict[str, list[float]], kind: str, goal: bool = False) -> str:
        cells = {
            name: "{:.2f} / {:.2f} ms".format(*p50_p99(values)) for name, values in posts.items()
        }
        ratio = statistics.median(posts[kind]) / statistics.median(posts[BARE])
        met = (f"≤ {GOALS['warm_post']:.1f}x", verdict(ratio <= GOALS["warm_post"]))
        bare = cells[BARE] if kind == OURS else ""
        return row(label, cells[kind], bare, f"{ratio:.2f}x (p50)", *(met if goal else ("", "")))

    fastest = (min(column(OURS, "total")), min(column(BARE, "total")))
    events = len(warm.page_ms)
    (page_p50, page_p99), (read_p50, read_p99) = p50_p99(warm.page_ms), p50_p99(warm.read_ms)
    zipped, unzipped, files, pyc = size
    rows = [
        row("figure", "ours", "bare", "ours / bare", "goal", "met"),
        "|---|---:|---:|---:|---:|:--:|",
        cold_row("cold start: process start → first counted response", "total", "s", 3, "cold"),
        row(
            f"· the fastest of the {len(cold)} runs of each (least disturbed by other work)",
            *(f"{seconds:.3f} s" for seconds in fastest),
            f"{fastest[0] / fastest[1]:.2f}x",
            "",
            "",
        ),
        cold_row("· init: process start → `handler` imported", "init", "s", 3),
        cold_row("· first invoke: POST `/api/count` answered", "invoke", "s", 3),
        cold_row("CPU time of the cold process (user + system)", "cpu", "s", 2),
        cold_row("peak RSS of the cold process", "rss_mib", "MiB", 1, "rss"),
        post_row(
            f"warm POST `/api/count`, handler p50 / p99 of {events}", warm.post_ms, OURS, True
        ),
        post_row("· the same with the limits off (one round trip)", warm.post_ms, UNLIMITED),
    ]
    if latency is not None:
        added, posts = latency[0], latency[1].post_ms
        label = (
            f"· with {added:g} ms added to every DynamoDB answer, p50 / p99 of {len(posts[OURS])}"
        )
        rows += [post_row(label, posts, OURS), post_row("· · and the limits off", posts, UNLIMITED)]
    read_ratio = read_p50 / statistics.median(warm.post_ms[BARE])
    page_goal, zip_goal, rss = GOALS["warm_get_ms"], GOALS["zip_mib"], warm.rss_mib
    return [
        *rows,
        f"| · warm GET `/api/count` (one read), handler p50 / p99 | {read_p50:.2f} / "
        f"{read_p99:.2f} ms | | {read_ratio:.2f}x (p50) | | |",
        f"| warm GET `/`, handler p50 / p99 of {events} | {page_p50:.2f} / {page_p99:.2f} ms "
        f"| - | - | p50 < {page_goal:.0f} ms | {verdict(page_p50 < page_goal)} |",
        f"| peak RSS after the warm events | {rss[OURS]:.1f} MiB | {rss[BARE]:.1f} MiB "
        f"| {rss[OURS] / rss[BARE]:.2f}x | | |",
        f"| package: zipped / unzipped | {zipped / 2**20:.2f} / {unzipped / 2**20:.1f} MiB "
        f"({files} files, {pyc} .pyc) | - | - | zip ≤ {zip_goal:.0f} MiB "
        f"| {verdict(zipped <= zip_goal * 2**20)} |",
    ]


def detail_rows(
    cold: list[dict[str, Cold]], phases: dict[str, list[Phase]], profile: ImportProfile
) -> tuple:
    """The cold pairs, the phases of a cold start, and the import-time profile, as tables."""
    pairs = [
        "| pair | order | ours s | bare s | ratio | ours init / invoke s | bare init / invoke s |",
        "|---:|:--|---:|---:|---:|---:|---:|",
    ]
    for number, pair in enumerate(cold, start=1):
        ours, bare = pair[OURS], pair[BARE]
        order = "ours, bare" if number % 2 == 1 else "bare, ours"
        pairs.append(
            f"| {number} | {order} | {ours.total:.3f} | {bare.total:.3f} | "
            f"{ours.total / bare.total:.2f}x | {ours.init:.3f} / {ours.invoke:.3f} | "
            f"{bare.init:.3f} / {bare.invoke:.3f} |"
        )
    phase_rows = ["| phase | CPU ms | wall ms | peak RSS after |", "|:--|---:|---:|---:|"]
    for kind in (OURS, BARE):
        for phase in phases[kind]:
            wall = "" if phase.name == "interpreter start" else f"{phase.wall_ms:.0f}"
            phase_rows.append(
                f"| {kind}: {phase.name} | {phase.cpu_ms:.0f} | {wall} | {phase.peak_mib:.1f} MiB |"
            )
        total = sum(phase.cpu_ms for phase in phases[kind])
        phase_rows.append(f"| **{kind}: total** | **{total:.0f}** | | |")
    modules = sum(entry[2] for entry in profile.by_package)
    profile_rows = [
        "| top-level package | import time (self, summed) | modules |",
        "|:--|---:|---:|",
        *(f"| `{name}` | {ms:.0f} ms | {n} |" for name, ms, n in profile.by_package[:12]),
        f"| all {modules} modules | {profile.total_ms:.0f} ms | |",
    ]
    return pairs, phase_rows, profile_rows


def render(
    *,
    cold: list[dict[str, Cold]],
    warm: Warm,
    latency: tuple[float, Warm] | None,
    profile: ImportProfile,
    phases: dict[str, list[Phase]],
    size: tuple[int, int, int, int],
    stage: dict[str, Any],
    checked: str,
) -> str:
    pairs, phase_rows, profile_rows = detail_rows(cold, phases, profile)
    settings_used = (
        f"memory_size {stage.get('memory_size')}, aws_environment_variables "
        f"{json.dumps(stage.get('aws_environment_variables', {}))}"
    )
    return "\n".join(
        [
            f"Latest run: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {len(cold)} cold pairs, "
            f"{len(warm.page_ms)} warm rounds. Machine: {report.machine_summary()}, DynamoDB "
            f"Local {dynamodb_local.find_jar().parent.name} (in memory). Stage `{STAGE}` "
            f"({settings_used}). {checked}",
            "",
            *summary_rows(cold, warm, latency, size),
            "",
            "Cold pairs (seconds, from outside the process):",
            "",
            *pairs,
            "",
            f"Where a cold start's time goes: {PHASE_RUNS} more cold starts of each, instrumented "
            "to mark the end of each phase (medians; CPU is user + system time of the process, "
            "the steadier figure on a shared machine):",
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
        "either way, and a zip whose zappa_settings.py names a REMOTE_ENV cannot be measured)",
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
    if args.zip is None:
        progress("building the package: make package ...")
        make = [shutil.which("make") or "make", "--no-print-directory", "package"]
        subprocess.run(make, cwd=ROOT, stdout=sys.stderr, check=True)  # stdout: the report only
    zip_path = args.zip.resolve() if args.zip else PACKAGE
    # The function's configuration as a deploy sets it; the stack's values name nothing real.
    config = stack.as_deployed(
        stages.stage_config(stage=STAGE),
        stage=STAGE,
        account="000000000000",
        environment=static_files.OFFLINE_STAGE,
    )
    if args.aws_env is not None:
        given = json.loads(args.aws_env)
        config["aws_environment_variables"] = {**static_files.OFFLINE_STAGE, **given}
    progress("starting DynamoDB Local (in memory) ...")
    with prepared(zip_path, config) as setup:
        cold = cold_pairs(setup, args.pairs)
        rounds = {"events": args.events, "warmup": args.warmup}
        progress(f"warm: {args.warmup} untimed rounds, then {args.events} rounds, interleaved ...")
        warm = warm_rounds(setup, **rounds)
        latency = None
        if args.latency_ms > 0:
            progress(f"warm POSTs with {args.latency_ms:g} ms added to every DynamoDB answer ...")
            latency = (args.latency_ms, warm_rounds(setup, **rounds, latency_ms=args.latency_ms))
        progress("import-time profile of one more cold process ...")
        profile = import_profile(setup)
        progress(f"phase profile: {PHASE_RUNS} instrumented cold starts of each ...")
        phases = phase_profile(setup, PHASE_RUNS)
        # Every POST above was answered as counted; the engine must agree, one for one: the
        # untimed pair, the pairs, the warm rounds (ours twice: limits on and off), the phase
        # profile, ours once more for the import profile, and each kind again with latency.
        per_kind = args.warmup + args.events
        posts = {BARE: 1 + args.pairs + per_kind + PHASE_RUNS}
        posts[OURS] = posts[BARE] + 1 + per_kind
        if latency is not None:
            posts[BARE] += per_kind
            posts[OURS] += 2 * per_kind
        stored = stored_totals(setup)
        if stored != posts:
            raise RuntimeError(f"stored totals {stored} differ from the POSTs sent {posts}")
        text = render(
            cold=cold,
            warm=warm,
            latency=latency,
            profile=profile,
            phases=phases,
            size=sizes(zip_path),
            stage=setup.config,
            checked=f"Every POST was counted once: {posts[OURS]} (ours) and {posts[BARE]} (bare).",
        )
    print(text)
    if args.readme:
        report.section_write(name="lambda-cold", body=text)
        progress("bench/README.md: lambda-cold section rewritten")
    progress(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
