"""The measurements of bench/lambda_cold.py: cold pairs, warm runs, the phases of a cold start
and its import-time profile. Each returns every run's figures; bench/lambda_tables.py quotes
them (median and spread, report.figure).
"""

import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.lambda_setup import BARE, OURS, REFERRED, UNLIMITED, Setup
from bench.report import progress
from harness import lambda_host
from harness.delaying_proxy import DelayingProxy

PHASES = Path(__file__).with_name("cold_phases.py")


# --- Cold -----------------------------------------------------------------------------------


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
        setup.post(container, kind)
        answered = time.perf_counter()
        return Cold(
            init=container.ready - container.started,
            invoke=answered - container.ready,
            rss_mib=container.peak_rss_mib(),
            cpu=container.cpu_seconds(),
        )
    finally:
        container.close()


COLD_KINDS = (OURS, REFERRED, BARE)


def cold_pairs(setup: Setup, pairs: int) -> list[dict[str, Cold]]:
    """An untimed pair, then `pairs` pairs of cold starts of ours and the bare handler side by
    side, each with a third start of ours whose view came from another site; the order turns
    each pair."""
    progress("cold: one untimed pair (page cache, engine) ...")
    for kind in COLD_KINDS:
        cold_run(setup, kind)
    results: list[dict[str, Cold]] = []
    for number in range(pairs):
        turn = number % len(COLD_KINDS)
        order = COLD_KINDS[turn:] + COLD_KINDS[:turn]
        pair = {kind: cold_run(setup, kind) for kind in order}
        results.append(pair)
        bare = pair[BARE].total
        progress(
            f"cold pair {number + 1}/{pairs} ({order[0]} first): ours {pair[OURS].total:.3f} s "
            f"({pair[OURS].total / bare:.2f}x), from another site {pair[REFERRED].total:.3f} s "
            f"({pair[REFERRED].total / bare:.2f}x), bare {bare:.3f} s"
        )
    return results


# --- Warm -----------------------------------------------------------------------------------

# The requests of a warm round, each timed by the handler's own run time (Lambda's Duration).
# A new visitor's view is the common case; the same visitor's next view in the same process
# skips the claim; its view in another process meets the claim the first process holds and
# hands it over (docs/architecture.md, "A POST's round trips").
NEW = "POST /api/count, a new visitor"
RETURNING = "POST /api/count, the visitor again, same process"
HANDOVER = "POST /api/count, the visitor again, another process (handover)"
LIMITS_OFF_NEW = "POST /api/count, a new visitor, limits off"
CLICK = "POST /api/click, the visitor"
BARE_POST = "bare POST"
PAGE = "GET /"
READ = "GET /api/count"
POSTS = (NEW, RETURNING, HANDOVER, LIMITS_OFF_NEW, CLICK)
# The processes of a warm run: ours, a second of ours (where a returning visitor is new to the
# process), ours with the limits off, and the bare handler.
SECOND = "ours, second process"


@dataclass
class WarmRun:
    latency_ms: float
    ms: dict[str, list[float]]  # request -> the handler's ms of each timed round
    rss_mib: dict[str, float]  # process -> its peak RSS after the run

    def p50(self, request: str) -> float:
        return statistics.median(self.ms[request])

    def p99(self, request: str) -> float:
        return statistics.quantiles(self.ms[request], n=100, method="inclusive")[98]


def warm_round(setup: Setup, containers: dict[str, lambda_host.LambdaProcess], loopback: bool):
    """One round of warm requests; returns request -> the handler's ms."""
    visitor = setup.visitor()
    ours = containers[OURS]
    answers = {
        BARE_POST: setup.post(containers[BARE], BARE),
        NEW: setup.post(ours, OURS, visitor),
        LIMITS_OFF_NEW: setup.post(containers[UNLIMITED], UNLIMITED),
        RETURNING: setup.post(ours, OURS, visitor),
        HANDOVER: setup.post(containers[SECOND], OURS, visitor),
        CLICK: setup.click(ours, visitor),
    }
    if loopback:
        answers[PAGE] = setup.get(ours, "/")
        answers[READ] = setup.get(ours, "/api/count")
    return {request: answer["handler_ms"] for request, answer in answers.items()}


def warm_run(setup: Setup, *, events: int, warmup: int, latency_ms: float = 0) -> WarmRun:
    """Fresh warm processes; `warmup` untimed rounds, then `events` timed ones. With
    `latency_ms`, a proxy adds it to every DynamoDB answer (and the GETs are left out)."""
    proxy = None
    env: dict[str, str] = {}
    if latency_ms:
        proxy = DelayingProxy(int(setup.dynamodb.rsplit(":", 1)[1])).start()
        proxy.delay = latency_ms / 1000
        env = {"DYNAMODB_ENDPOINT_URL": proxy.url, "AWS_ENDPOINT_URL_DYNAMODB": proxy.url}
    containers: dict[str, lambda_host.LambdaProcess] = {}
    run = WarmRun(latency_ms=latency_ms, ms=defaultdict(list), rss_mib={})
    try:
        for name, kind in ((OURS, OURS), (SECOND, OURS), (UNLIMITED, UNLIMITED), (BARE, BARE)):
            containers[name] = setup.start(kind, env=env)
        for number in range(warmup + events):
            timed = warm_round(setup, containers, loopback=not latency_ms)
            if number >= warmup:
                for request, ms in timed.items():
                    run.ms[request].append(ms)
        run.rss_mib = {name: container.peak_rss_mib() for name, container in containers.items()}
    finally:
        for container in containers.values():
            container.close()
        if proxy is not None:
            proxy.stop()
    run.ms = dict(run.ms)
    return run


def warm_runs(setup: Setup, *, runs: int, events: int, warmup: int, latency_ms: float = 0):
    results = []
    where = f"{latency_ms:g} ms added to every DynamoDB answer" if latency_ms else "loopback"
    for number in range(runs):
        run = warm_run(setup, events=events, warmup=warmup, latency_ms=latency_ms)
        results.append(run)
        ratio = run.p50(NEW) / run.p50(BARE_POST)
        progress(
            f"warm run {number + 1}/{runs} ({where}): new visitor p50 {run.p50(NEW):.2f} ms, "
            f"bare {run.p50(BARE_POST):.2f} ms, ratio {ratio:.2f}x; handover "
            f"{run.p50(HANDOVER):.2f} ms"
        )
    return results


# --- Where a cold start's time goes ---------------------------------------------------------


@dataclass
class ImportProfile:
    by_package: dict[str, tuple[float, int]]  # top-level package -> (self ms summed, modules)

    @property
    def total_ms(self) -> float:
        return sum(ms for ms, _ in self.by_package.values())


def import_profile(setup: Setup) -> ImportProfile:
    """`python -X importtime` of one cold process up to its first counted answer."""
    with tempfile.TemporaryFile() as log:
        container = setup.start(OURS, flags=("-X", "importtime"), stderr=log)
        try:
            setup.post(container, OURS)
        finally:
            container.close()
        log.seek(0)
        lines = log.read().decode(errors="replace").splitlines()
    by_package: dict[str, list[float]] = defaultdict(list)
    for line in lines:
        match = re.match(r"^import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if match:
            by_package[match.group(2).split(".")[0]].append(int(match.group(1)) / 1000)
    return ImportProfile({name: (sum(ms), len(ms)) for name, ms in by_package.items()})


@dataclass
class Phase:
    name: str
    cpu_ms: list[float]  # one per run
    wall_ms: list[float]
    peak_mib: list[float]


def _phase_marks(setup: Setup, kind: str) -> list[list[Any]]:
    """One instrumented cold start (bench/cold_phases.py): [phase, cpu_s, wall_s, peak_mib]
    at the end of each phase."""
    env = dict(setup.envs[kind])
    env.pop("INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT", None)  # cold_phases.py instantiates
    result = subprocess.run(
        [sys.executable, "-S", str(PHASES), str(setup.tasks[kind]), str(setup.sdk), kind],
        cwd=setup.tasks[kind],
        env=env,
        input=json.dumps(setup.post_event(kind)) + "\n",
        capture_output=True,
        text=True,
        timeout=lambda_host.ANSWER_TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the instrumented {kind} start failed:\n{result.stderr}")
    return json.loads(result.stdout)


def phase_profile(setup: Setup, runs: int) -> dict[str, list[Phase]]:
    """Each phase of a cold start, run by run: its CPU and wall time, and the peak RSS at its
    end; the two kinds alternate which starts first."""
    samples: dict[str, list[list[list[Any]]]] = {OURS: [], BARE: []}
    for number in range(runs):
        for kind in (OURS, BARE) if number % 2 == 0 else (BARE, OURS):
            samples[kind].append(_phase_marks(setup, kind))
    profile: dict[str, list[Phase]] = {}
    for kind, runs_marks in samples.items():
        phases = [Phase(name, [], [], []) for name, *_ in runs_marks[0]]
        for marks in runs_marks:
            for index, (phase, (_, cpu_s, wall_s, peak_mib)) in enumerate(
                zip(phases, marks, strict=True)
            ):
                _, cpu_before, wall_before, _ = marks[index - 1] if index else (0, 0.0, wall_s, 0)
                phase.cpu_ms.append((cpu_s - cpu_before) * 1000)
                phase.wall_ms.append((wall_s - wall_before) * 1000)
                phase.peak_mib.append(peak_mib)
        profile[kind] = phases
    return profile
