"""bench/lambda_cold.py's report: its figures as markdown tables, every time and ratio the
median of its runs with their spread (bench/report.py), every goal judged by that median."""

import json
from dataclasses import dataclass
from typing import Any

from bench import report
from bench.lambda_runs import (
    BARE_POST,
    CLICK,
    HANDOVER,
    LIMITS_OFF_NEW,
    NEW,
    PAGE,
    POSTS,
    READ,
    RETURNING,
    Cold,
    ImportProfile,
    Phase,
    WarmRun,
)
from bench.lambda_setup import BARE, OURS, REFERRED, REFERRER, STAGE

GOALS = {
    "cold": report.Goal(2.0),
    "rss": report.Goal(1.6),
    "warm_post": report.Goal(1.5),  # issue 11's, on loopback
    "warm_post_latency": report.Goal(2.5),  # with latency added (issues 17 and 31)
    "warm_get_ms": report.Goal(2.0, unit="ms", under=True),
    "zip_mib": report.Goal(8.0, unit="MiB"),
}
# Each timed request: its row in the summary (with what it waits on: requests, and round trips
# one after the other, docs/architecture.md, "A POST's round trips") and its column in the runs.
LABELS = {
    NEW: ("POST `/api/count`, a new visitor (3 requests, 2 round trips)", "new visitor"),
    RETURNING: (
        "· the same visitor again, same process (2 requests, 2 round trips)",
        "again, same process",
    ),
    HANDOVER: (
        "· the same visitor again, another process: the claim handed over (4 requests, 3 round "
        "trips)",
        "again, other process",
    ),
    LIMITS_OFF_NEW: (
        "· a new visitor, limits off (2 requests, 2 round trips)",
        "new, limits off",
    ),
    CLICK: ("· POST `/api/click`, the visitor (2 requests, 2 round trips)", "click"),
    BARE_POST: ("", "bare POST"),
    READ: ("· GET `/api/count` (1 request): its ratio to the bare POST", "GET /api/count"),
    PAGE: ("GET `/`", "GET /"),
}
HEADER = [
    report.row("figure", "ours", "bare", "ours / bare", "goal", "met"),
    "|---|---:|---:|---:|---:|:--:|",
]


@dataclass
class Results:
    cold: list[dict[str, Cold]]
    warm: list[WarmRun]
    latency: list[WarmRun]  # empty without latency
    profiles: list[ImportProfile]
    phases: dict[str, list[Phase]]
    size: tuple[int, int, int, int]
    stored: dict[str, int]  # what the table holds, equal to what was answered as counted


def _cold_rows(cold: list[dict[str, Cold]]) -> list[str]:
    def row(label: str, attribute: str, unit: str, digits: int, goal: str = "", kind=OURS) -> str:
        ours, bare = ([getattr(pair[name], attribute) for pair in cold] for name in (kind, BARE))
        ratios = report.ratios(ours, bare)
        met = GOALS[goal].cells(ratios) if goal else ("", "")
        cells = (report.figure(ours, unit, digits), report.figure(bare, unit, digits))
        return report.row(label, *cells, report.figure(ratios, "x"), *met)

    referred = f"the page reached from another site ({REFERRER})"
    return [
        row("cold start: process start → first counted response", "total", "s", 3, "cold"),
        row("· init: process start → `handler` imported", "init", "s", 3),
        row("· first invoke: POST `/api/count` answered", "invoke", "s", 3),
        row("CPU time of the cold process (user + system)", "cpu", "s", 2),
        row("peak RSS of the cold process", "rss_mib", "MiB", 1, "rss"),
        row(f"cold start, {referred}", "total", "s", 3, "cold", kind=REFERRED),
        row(f"peak RSS, {referred}", "rss_mib", "MiB", 1, "rss", kind=REFERRED),
    ]


def _warm_rows(runs: list[WarmRun], goal: report.Goal) -> list[str]:
    """The POSTs of the warm runs: each run's p50, and its ratio to the bare POST's p50."""
    added = runs[0].latency_ms
    where = f"{added:g} ms added to every DynamoDB answer" if added else "loopback"
    bare = [run.p50(BARE_POST) for run in runs]
    rows = [report.row(f"**warm, {where}: the handler's p50**", "", "", "", "", "")]
    for request in POSTS:
        ours = [run.p50(request) for run in runs]
        ratios = report.ratios(ours, bare)
        first = request == NEW
        rows.append(
            report.row(
                LABELS[request][0],
                report.figure(ours, "ms"),
                report.figure(bare, "ms") if first else "",
                report.figure(ratios, "x"),
                *(goal.cells(ratios) if first else ("", "")),
            )
        )
    return rows


def summary_rows(results: Results) -> list[str]:
    warm = results.warm
    page = [run.p50(PAGE) for run in warm]
    read = [run.p50(READ) for run in warm]
    read_ratios = report.ratios(read, [run.p50(BARE_POST) for run in warm])
    rss_ours, rss_bare = ([run.rss_mib[kind] for run in warm] for kind in (OURS, BARE))
    zipped, unzipped, files, pyc = results.size
    zip_goal = GOALS["zip_mib"]
    rows = [*HEADER, *_cold_rows(results.cold), *_warm_rows(warm, GOALS["warm_post"])]
    rows += [
        report.row(
            LABELS[READ][0], report.figure(read, "ms"), "", report.figure(read_ratios, "x"), "", ""
        ),
        report.row(
            LABELS[PAGE][0], report.figure(page, "ms"), "-", "-", *GOALS["warm_get_ms"].cells(page)
        ),
        report.row(
            "peak RSS after the warm rounds",
            report.figure(rss_ours, "MiB", 1),
            report.figure(rss_bare, "MiB", 1),
            report.figure(report.ratios(rss_ours, rss_bare), "x"),
            "",
            "",
        ),
    ]
    if results.latency:
        rows += _warm_rows(results.latency, GOALS["warm_post_latency"])
    return [
        *rows,
        report.row(
            "package: zipped / unzipped",
            f"{zipped / 2**20:.2f} / {unzipped / 2**20:.1f} MiB ({files} files, {pyc} .pyc)",
            "-",
            "-",
            zip_goal.text(),
            report.verdict(zipped / 2**20 <= zip_goal.limit),
        ),
    ]


def pair_rows(cold: list[dict[str, Cold]]) -> list[str]:
    rows = [
        "| pair | first | ours s | from another site s | bare s | ratio | from another site, "
        "ratio | ours init / invoke s | bare init / invoke s |",
        "|---:|:--|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for number, pair in enumerate(cold, start=1):
        ours, referred, bare = pair[OURS], pair[REFERRED], pair[BARE]
        rows.append(
            f"| {number} | {next(iter(pair))} | {ours.total:.3f} | {referred.total:.3f} | "
            f"{bare.total:.3f} | {ours.total / bare.total:.2f}x | "
            f"{referred.total / bare.total:.2f}x | {ours.init:.3f} / {ours.invoke:.3f} | "
            f"{bare.init:.3f} / {bare.invoke:.3f} |"
        )
    return rows


def warm_run_rows(results: Results) -> list[str]:
    """Every warm run: p50 / p99 of each request, in ms."""
    requests = [BARE_POST, *POSTS, READ, PAGE]
    rows = [
        report.row("run", "added ms", *(LABELS[request][1] for request in requests)),
        "|---:|---:|" + "---:|" * len(requests),
    ]
    for runs in (results.warm, results.latency):
        for number, run in enumerate(runs, start=1):
            cells = [
                f"{run.p50(request):.2f} / {run.p99(request):.2f}" if request in run.ms else ""
                for request in requests
            ]
            rows.append(report.row(str(number), f"{run.latency_ms:g}", *cells))
    return rows


def phase_rows(phases: dict[str, list[Phase]]) -> list[str]:
    rows = ["| phase | CPU ms | wall ms | peak RSS after |", "|:--|---:|---:|---:|"]
    for kind in (OURS, BARE):
        for phase in phases[kind]:
            wall = "" if phase.name == "interpreter start" else report.figure(phase.wall_ms, "", 0)
            rows.append(
                report.row(
                    f"{kind}: {phase.name}",
                    report.figure(phase.cpu_ms, "", 0),
                    wall,
                    report.figure(phase.peak_mib, "MiB", 1),
                )
            )
        totals = [sum(values) for values in zip(*(p.cpu_ms for p in phases[kind]), strict=True)]
        rows.append(f"| **{kind}: total** | **{report.figure(totals, '', 0)}** | | |")
    return rows


def profile_rows(profiles: list[ImportProfile], top: int = 12) -> list[str]:
    names = {name for profile in profiles for name in profile.by_package}

    def times(name: str) -> list[float]:
        return [profile.by_package.get(name, (0.0, 0))[0] for profile in profiles]

    ranked = sorted(names, key=lambda name: report.median(times(name)), reverse=True)
    modules = report.median([sum(n for _, n in p.by_package.values()) for p in profiles])
    return [
        "| top-level package | import time (self, summed), ms | modules |",
        "|:--|---:|---:|",
        *(
            report.row(
                f"`{name}`", report.figure(times(name), "", 0), str(_modules(profiles, name))
            )
            for name in ranked[:top]
        ),
        report.row(
            f"all {modules:.0f} modules",
            report.figure([profile.total_ms for profile in profiles], "", 0),
            "",
        ),
    ]


def _modules(profiles: list[ImportProfile], name: str) -> int:
    return max(profile.by_package.get(name, (0.0, 0))[1] for profile in profiles)


def render(
    *, results: Results, run: report.Run, engine: str, config: dict[str, Any], sdk: str
) -> str:
    """The report: the run's conditions, the summary, then the runs behind it."""
    settings_used = (
        f"memory_size {config.get('memory_size')}, aws_environment_variables "
        f"{json.dumps(config.get('aws_environment_variables', {}))}"
    )
    warm, latency = results.warm, results.latency
    return "\n".join(
        [
            f"{run.line(report.machine_summary())} DynamoDB Local {engine} (in memory); the "
            f"runtime's SDK {sdk}. Stage "
            f"`{STAGE}` ({settings_used}). {len(results.cold)} cold pairs; {len(warm)} warm runs "
            f"of {len(warm[0].ms[NEW])} rounds on loopback"
            + (f" and {len(latency)} with {latency[0].latency_ms:g} ms added" if latency else "")
            + "; every figure is the median of its runs (min-max), every goal judged by it. "
            f"Every answer that said counted is stored once: {results.stored.get(OURS, 0)} views "
            f"(ours), {results.stored.get(BARE, 0)} (bare), {results.stored.get('clicks', 0)} "
            "clicks.",
            "",
            *summary_rows(results),
            "",
            "Cold pairs (seconds, from outside the process), each with a third start of ours for a "
            "view from another site; the order turns each pair:",
            "",
            *pair_rows(results.cold),
            "",
            "Warm runs (the handler's ms, p50 / p99 of each run's rounds; fresh processes each "
            "run):",
            "",
            *warm_run_rows(results),
            "",
            f"Where a cold start's time goes: {len(results.phases[OURS][0].cpu_ms)} more cold "
            "starts of each, instrumented to mark the end of each phase (CPU is user + system "
            "time of the process, the steadier figure on a shared machine):",
            "",
            *phase_rows(results.phases),
            "",
            f"Import-time profile of {len(results.profiles)} cold processes up to their first "
            "counted answer (`python -X importtime`, self time summed by top-level package, "
            "largest first):",
            "",
            *profile_rows(results.profiles),
        ]
    )
