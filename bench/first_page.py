"""A fresh clone to the first page: how long `make run` takes, from nothing installed.

Clones this repository's committed HEAD into a scratch folder, runs `make run` there on free
ports, and times, from make's start, the first answer of the page (`/`) and the "Serving the
site on" line (the engine and the table ready too); then stops it with SIGINT (Ctrl-C) and
removes the clone. Each run prints its times and the load average before and after; the last
line gives the medians. The package caches (pip's, uv's, npm's) are whatever the machine holds:
run it once first to warm them.

    .venv/bin/python bench/first_page.py [--runs 3]
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import dynamodb_local  # noqa: E402

WITHIN = 600.0  # seconds a run may take before it counts as failed


def _load() -> str:
    return " ".join(f"{figure:.1f}" for figure in os.getloadavg())


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def one_run(folder: Path) -> tuple[float, float]:
    """Seconds from `make run` to the page's first answer, and to "Serving the site on"."""
    clone = folder / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)  # noqa: S607
    site_port, engine_port = dynamodb_local.free_port(), dynamodb_local.free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DYNAMODB_", "MAKE"))},
        "PORT": str(site_port),
        "DYNAMODB_LOCAL_PORT": str(engine_port),
    }
    env.pop("VIRTUAL_ENV", None)
    log = folder / "run.log"
    page = serving = None
    with log.open("w") as output:
        started = time.monotonic()
        make = subprocess.Popen(
            ["make", "run"],  # noqa: S607
            cwd=clone,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            while serving is None:
                if make.poll() is not None or time.monotonic() - started > WITHIN:
                    raise RuntimeError(f"make run did not serve the site:\n{log.read_text()}")
                if page is None and _answers(f"http://127.0.0.1:{site_port}/"):
                    page = time.monotonic() - started
                if "Serving the site on" in log.read_text():
                    serving = time.monotonic() - started
                time.sleep(0.1)
        finally:
            if make.poll() is None:
                os.killpg(make.pid, signal.SIGINT)
            try:
                make.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(make.pid, signal.SIGKILL)
                make.wait()
    return page if page is not None else serving, serving


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    pages, servings = [], []
    for run in range(1, args.runs + 1):
        before = _load()
        folder = Path(tempfile.mkdtemp(prefix="first-page-"))
        try:
            page, serving = one_run(folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        pages.append(page)
        servings.append(serving)
        print(
            f"run {run}: first page {page:.1f} s, serving {serving:.1f} s "
            f"(load average {before} before, {_load()} after)",
            flush=True,
        )
    print(
        f"median of {args.runs}: first page {statistics.median(pages):.1f} s, "
        f"serving {statistics.median(servings):.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
