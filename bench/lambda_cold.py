"""Cold start, memory and latency of the Lambda package, side by side with the bare handler.

    .venv/bin/python bench/lambda_cold.py [--pairs 7] [--runs 3] [--events 200] [--zip PATH]
                                          [--readme]

The prod zip (built here, or --zip) and bench/baseline/handler.py each run in fresh processes of
the runtime stand-in (harness/lambda_host.py) on DynamoDB Local, fed the same API Gateway events:
cold pairs, warm runs (again with latency added to every DynamoDB answer), a phase profile and
an import-time profile (bench/lambda_runs.py). Every figure is the median of its runs with their
spread, and the report says when it ran, the load, and the command that runs it again
(bench/lambda_tables.py, bench/report.py). The method is in bench/README.md; `--readme` rewrites
this bench's section there. Prints the report as markdown.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import lambda_runs, report  # noqa: E402
from bench.lambda_setup import STAGE, prepared, sizes, stored_totals  # noqa: E402
from bench.lambda_tables import Results, render  # noqa: E402
from bench.report import progress  # noqa: E402
from deploy import stack, stages, static_files  # noqa: E402
from scripts import dynamodb_local  # noqa: E402

PACKAGE = ROOT / "build" / f"resume-site-{STAGE}.zip"
PHASE_RUNS = 5
# DynamoDB Local answers on loopback, so its figures are CPU; DynamoDB answers from a few
# milliseconds away. The warm POSTs are timed again with this much added to every answer.
LATENCY_MS = 5.0


def at_least_runs(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {raw!r}") from None
    if value < report.MIN_RUNS:
        raise argparse.ArgumentTypeError(
            f"at least {report.MIN_RUNS}: a figure is the median of that many runs"
        )
    return value


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pairs",
        type=at_least_runs,
        default=7,
        help="cold pairs of ours and the bare handler, at least 3 (default 7)",
    )
    parser.add_argument(
        "--runs",
        type=at_least_runs,
        default=3,
        help="warm runs each way (loopback, latency added) and import profiles, at least 3 "
        "(default 3)",
    )
    parser.add_argument("--events", type=int, default=200, help="warm rounds a run (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed rounds a run (default 20)")
    parser.add_argument("--zip", type=Path, help="measure this zip instead of building one")
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
        "--sdk-without-bytecode",
        action="store_true",
        help="run the runtime's SDK from source, as an SDK shipped without bytecode would be",
    )
    parser.add_argument(
        "--readme", action="store_true", help="rewrite this bench's section of bench/README.md"
    )
    return parser.parse_args(argv)


def stage_config(aws_env: str | None) -> dict:
    """The function's configuration as a deploy sets it; the stack's values name nothing real."""
    config = stack.as_deployed(
        stages.stage_config(stage=STAGE),
        stage=STAGE,
        account="000000000000",
        environment=static_files.OFFLINE_STAGE,
    )
    if aws_env is not None:
        given = json.loads(aws_env)
        config["aws_environment_variables"] = {**static_files.OFFLINE_STAGE, **given}
    return config


def measure(args: argparse.Namespace, zip_path: Path, config: dict) -> Results:
    """Every measurement, on one engine; then the check that the table holds every view and
    click that was answered as counted, one for one."""
    with prepared(zip_path, config, sdk_bytecode=not args.sdk_without_bytecode) as setup:
        cold = lambda_runs.cold_pairs(setup, args.pairs)
        rounds = {"runs": args.runs, "events": args.events, "warmup": args.warmup}
        progress(f"warm: {args.runs} runs of {args.warmup} untimed and {args.events} rounds ...")
        warm = lambda_runs.warm_runs(setup, **rounds)
        latency = []
        if args.latency_ms > 0:
            progress(f"warm again with {args.latency_ms:g} ms added to every DynamoDB answer ...")
            latency = lambda_runs.warm_runs(setup, **rounds, latency_ms=args.latency_ms)
        progress(f"import-time profile of {args.runs} more cold processes ...")
        profiles = [lambda_runs.import_profile(setup) for _ in range(args.runs)]
        progress(f"phase profile: {PHASE_RUNS} instrumented cold starts of each ...")
        phases = lambda_runs.phase_profile(setup, PHASE_RUNS)
        stored = stored_totals(setup)
        if stored != dict(setup.sent):
            raise RuntimeError(f"stored {stored} differs from what was counted {setup.sent}")
        progress(f"every counted answer is stored once: {stored}")
    return Results(
        cold=cold,
        warm=warm,
        latency=latency,
        profiles=profiles,
        phases=phases,
        size=sizes(zip_path),
        stored=stored,
    )


def package_ready(given: Path | None) -> Path:
    """The zip to measure: `given`, or the prod package built now. Also takes any AWS
    credentials of the environment away: local engines take any, and no real key or profile may
    come near a bench."""
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"})
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
        os.environ.pop(name, None)
    if given is not None:
        return given.resolve()
    # `make package`'s command, without make: `make bench` has installed the venv already, and a
    # bench script run by hand must not install into it.
    progress("building the package: python -m deploy.package ...")
    build = [sys.executable, "-m", "deploy.package", STAGE]
    subprocess.run(build, cwd=ROOT, stdout=sys.stderr, check=True)  # stdout: the report only
    return PACKAGE


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    run = report.run_start("bench/lambda_cold.py", argv)
    started = time.monotonic()
    zip_path = package_ready(args.zip)
    config = stage_config(args.aws_env)
    progress("starting DynamoDB Local (in memory) ...")
    results = measure(args, zip_path, config)
    run.finish()
    engine = dynamodb_local.find_jar().parent.name
    sdk = "from source" if args.sdk_without_bytecode else "compiled to bytecode"
    text = render(results=results, run=run, engine=engine, config=config, sdk=sdk)
    report.section_publish(name="lambda-cold", body=text, readme=args.readme)
    progress(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
