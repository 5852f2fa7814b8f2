"""`make lighthouse`: Lighthouse's four scores for the resume page, mobile and desktop.

Serves the site as the browser tests do (DEBUG off, DynamoDB Local in memory, a fresh table),
runs the npm package `lighthouse` with the Chromium on PATH (CHROME_PATH) once per form factor,
and writes the scores into bench/README.md between the lighthouse markers. The full JSON reports
go to build/lighthouse/. A measurement, not a test: nothing here fails on a low score.
"""

import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import dynamodb_local, local_server

ROOT = dynamodb_local.ROOT
README = ROOT / "bench" / "README.md"
REPORTS = ROOT / "build" / "lighthouse"
LIGHTHOUSE = ROOT / "node_modules" / "lighthouse" / "cli" / "index.js"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
FORM_FACTORS = {"mobile": [], "desktop": ["--preset=desktop"]}
RUNS = 3  # per form factor; the median of each score is recorded
# Offline machines: without these, Chromium keeps trying to reach Google's services.
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --disable-sync --no-first-run"
)
START, END = "<!-- lighthouse:start -->", "<!-- lighthouse:end -->"


def serve(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "create_table"], env=env, check=True, capture_output=True)
    server, url = local_server.runserver_start(env=env, insecure=True)
    return server, url + "/"


def audit(url: str, form_factor: str, chromium: str, run: int) -> dict[str, int] | None:
    """One Lighthouse run: the category scores out of 100, or None if Lighthouse gave up."""
    REPORTS.mkdir(parents=True, exist_ok=True)
    report = REPORTS / f"{form_factor}-{run}.json"
    result = subprocess.run(
        [
            shutil.which("node") or "node",
            str(LIGHTHOUSE),
            url,
            *FORM_FACTORS[form_factor],
            f"--only-categories={','.join(CATEGORIES)}",
            f"--chrome-flags={CHROME_FLAGS}",
            "--output=json",
            f"--output-path={report}",
            "--quiet",
        ],
        env={**os.environ, "CHROME_PATH": chromium},
        check=False,
    )
    if result.returncode != 0:
        return None
    data = json.loads(report.read_text(encoding="utf-8"))
    return {name: round(data["categories"][name]["score"] * 100) for name in CATEGORIES}


def median_scores(url: str, form_factor: str, chromium: str) -> dict[str, int]:
    """The median of each score over RUNS runs (Lighthouse's advice for its own variance). A run
    Lighthouse abandons (a trace it could not read, on a busy machine) is repeated, up to RUNS
    more times."""
    runs: list[dict[str, int]] = []
    attempts = 0
    while len(runs) < RUNS and attempts < 2 * RUNS:
        attempts += 1
        scores = audit(url, form_factor, chromium, attempts)
        if scores is None:
            print(f"{form_factor}: Lighthouse run {attempts} failed; running it again")
        else:
            runs.append(scores)
    if len(runs) < RUNS:
        raise RuntimeError(f"{form_factor}: only {len(runs)} of {attempts} Lighthouse runs worked")
    return {name: int(statistics.median(run[name] for run in runs)) for name in CATEGORIES}


def section(scores: dict[str, dict[str, int]], chromium: str, load: float) -> str:
    version = json.loads((LIGHTHOUSE.parent.parent / "package.json").read_text())["version"]
    browser = (
        subprocess.run([chromium, "--version"], capture_output=True, text=True, check=False)
        .stdout.split(" built ")[0]
        .strip()
    )  # "Chromium 156.0.8078.79"
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = "\n".join(
        f"| {form} | " + " | ".join(str(score[name]) for name in CATEGORIES) + " |"
        for form, score in scores.items()
    )
    return f"""{START}
## Lighthouse: `make lighthouse` (bench/lighthouse.py)

What it measures: Lighthouse's performance, accessibility, best-practices and SEO scores (out of
100) for the resume page with the mobile defaults (a mid-range phone on a slow 4G link,
simulated) and with `--preset=desktop`; each figure is the median of {RUNS} runs. The site runs
as in the browser tests: Django's server with DEBUG off and static files served by it, DynamoDB
Local in memory, a fresh table. The full reports are in build/lighthouse/ after a run.

Latest run ({when}):

| form factor | performance | accessibility | best practices | SEO |
|:---|---:|---:|---:|---:|
{rows}

Lighthouse {version}, {browser} (headless), {platform.machine()} Linux, {os.cpu_count()} CPUs,
load average {load} when the runs began. Mobile performance simulates a 4x slower CPU from the
main-thread work it observes, so other work on the machine lowers that one figure. Served over
plain HTTP from 127.0.0.1 (Lighthouse counts localhost as secure); in production CloudFront adds
compression and year-long caching of the static files, which the local server does not.
{END}"""


def write(text: str) -> None:
    current = README.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _: text, current)
    else:
        updated = current.rstrip("\n") + "\n\n" + text + "\n"
    README.write_text(updated, encoding="utf-8")


def main() -> int:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("Chromium is not installed: apt-get install chromium")
        return 1
    if not LIGHTHOUSE.exists():
        print("Lighthouse is not installed: run `npm ci` (make lighthouse does it)")
        return 1
    load = round(os.getloadavg()[0], 1)
    with dynamodb_local.running() as endpoint:
        env = {
            **os.environ,
            "DYNAMODB_ENDPOINT_URL": endpoint,
            "DYNAMODB_TABLE": "lighthouse",
            "DJANGO_DEBUG": "false",
            "DYNAMODB_READ_TIMEOUT": "10",  # the page is measured, not DynamoDB Local under load
        }
        env.pop("SITE_URL", None)
        server, url = serve(env)
        try:
            scores = {form: median_scores(url, form, chromium) for form in FORM_FACTORS}
        finally:
            server.terminate()
            server.wait(timeout=10)
    for form, score in scores.items():
        print(form, score)
    write(section(scores, chromium, load))
    print(f"Recorded in {README.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
