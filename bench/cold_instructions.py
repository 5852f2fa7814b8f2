"""Instructions a cold start executes, ours and the bare handler's, counted by valgrind's
callgrind: beside bench/lambda_cold.py's times, a figure the machine's load does not move.

    .venv/bin/python bench/cold_instructions.py [--runs 3] [--zip PATH] [--readme]

Each run starts, under `valgrind --tool=callgrind`, a fresh process of ours for a direct view, one
of ours for a view from another site and one of the bare handler, each as bench/lambda_cold.py
starts them (the unzipped package or bench/baseline/handler.py with the runtime's SDK compiled,
`python -S`, Lambda's environment, DynamoDB Local, the same API Gateway event), and counts what
it executes from its start to its first counted answer: it imports `handler` (Lambda's init),
sends one POST /api/count and ends at once (`os._exit`, so its exit is not counted). Every
figure is the median of the runs with their spread; the ratio is taken run by run.
`PYTHONHASHSEED=0` makes a process's work the same from run to run: the counts of one zip
differ by well under 1%. Times run about 50 times slower under valgrind, so a run takes about a
minute. Needs valgrind (Debian's package); `--readme` rewrites this bench's section of
bench/README.md. The zip is built as bench/lambda_cold.py builds it, unless --zip.
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import report  # noqa: E402
from bench.lambda_cold import at_least_runs, package_ready, stage_config  # noqa: E402
from bench.lambda_setup import BARE, OURS, REFERRED, Setup, counted, prepared  # noqa: E402
from bench.report import progress  # noqa: E402

KINDS = (OURS, REFERRED, BARE)
# What runs in each counted process: Lambda's init, the first invoke, then an exit that is not
# counted. Standard library only, like the runtime stand-in (harness/lambda_runtime.py).
START = """
import json, os, sys
sys.path[:] = [os.environ["BENCH_TASK"], os.environ["BENCH_SDK"], *sys.path[1:]]
os.chdir(os.environ["BENCH_TASK"])
event = json.loads(sys.stdin.readline())
answers, sys.stdout = sys.stdout, sys.stderr
import handler
answers.write(json.dumps({"response": handler.lambda_handler(event, None)}))
answers.flush()
os._exit(0)
"""
COLLECTED = re.compile(r"Collected : (\d+)")


def instructions(setup: Setup, kind: str) -> int:
    """One cold start of `kind` under callgrind: the instructions it executed."""
    env = setup.envs[kind] | {
        "BENCH_TASK": str(setup.tasks[kind]),
        "BENCH_SDK": str(setup.sdk),
        "PYTHONHASHSEED": "0",
    }
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    command += [sys.executable, "-S", "-c", START]
    result = subprocess.run(
        command,
        input=json.dumps(setup.post_event(kind)) + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    match = COLLECTED.search(result.stderr)
    if result.returncode != 0 or match is None:
        raise RuntimeError(f"{kind}'s cold start under callgrind failed: {result.stderr[-2000:]}")
    counted(json.loads(result.stdout))
    return int(match.group(1))


def render(counts: dict[str, list[int]], run: report.Run) -> str:
    millions = {kind: [count / 1e6 for count in values] for kind, values in counts.items()}
    lines = [
        run.line(report.machine_summary()),
        "",
        "| cold start, process start → first counted response | instructions, millions "
        "| ours / bare |",
        "|---|---:|---:|",
    ]
    names = {OURS: "ours", REFERRED: "ours, the page reached from another site", BARE: "bare"}
    for kind in KINDS:
        ratio = (
            "" if kind == BARE else report.figure(report.ratios(counts[kind], counts[BARE]), "x")
        )
        lines.append(report.row(names[kind], report.figure(millions[kind], "", 1), ratio))
    return "\n".join(lines)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=at_least_runs, default=3, help="runs of each, at least 3 (default 3)"
    )
    parser.add_argument("--zip", type=Path, help="measure this zip instead of building one")
    parser.add_argument(
        "--readme", action="store_true", help="rewrite this bench's section of bench/README.md"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if shutil.which("valgrind") is None:
        sys.exit("error: valgrind is not installed (Debian: apt-get install valgrind)")
    run = report.run_start("bench/cold_instructions.py", argv)
    zip_path = package_ready(args.zip)
    counts: dict[str, list[int]] = {kind: [] for kind in KINDS}
    with prepared(zip_path, stage_config(None)) as setup:
        for number in range(args.runs):
            for kind in KINDS:
                counts[kind].append(instructions(setup, kind))
            progress(
                f"run {number + 1}/{args.runs}: "
                + ", ".join(f"{kind} {values[-1] / 1e6:.1f} M" for kind, values in counts.items())
            )
    run.finish()
    text = render(counts, run)
    report.section_publish(name="cold-instructions", body=text, readme=args.readme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
