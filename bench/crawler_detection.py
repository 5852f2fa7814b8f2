"""What telling crawlers from people costs: importing crawlerdetect, compiling, matching.

The check is counter/api.py's (docs/architecture.md, "Only people's views count").

    .venv/bin/python bench/crawler_detection.py [--repeat 5]

Import and compile are timed in fresh processes (the cost a Lambda container pays once, on its
first POST); matching is timed in this process, best of `--repeat`, with crawlerdetect's own
per-User-Agent cache cleared before each call so every match is a real one. Crafted text is what
an attacker controls: long runs of letters, which the list's generic pattern scans from every
position. Prints a Markdown table for bench/README.md.
"""

import argparse
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
GOOGLEBOT = (
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
    "+http://www.google.com/bot.html)"
)

COLD = """
import time
started = time.perf_counter()
import crawlerdetect
from crawlerdetect.crawlerdetect import get_compiled_crawler_regex, get_compiled_exclusions_regex
imported = time.perf_counter()
get_compiled_crawler_regex(); get_compiled_exclusions_regex()
compiled = time.perf_counter()
print((imported - started) * 1000, (compiled - imported) * 1000)
"""
# The site's list (counter.api.CrawlerList) made and used once in a fresh process: what its
# first POST pays, import of crawlerdetect's lists included.
COLD_SITE = """
import sys, time
sys.path.insert(0, sys.argv[1])
from counter import api
started = time.perf_counter()
api.CrawlerList().is_crawler("Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/133.0")
print((time.perf_counter() - started) * 1000)
"""


def cold_costs(repeat: int) -> tuple[float, float]:
    """Best import and compile times (ms) over `repeat` fresh processes, which write no bytecode
    (`-B`, as on Lambda's read-only file system) and read what the venv holds (the package ships
    its own .pyc)."""
    imports, compiles = [], []
    for _ in range(repeat):
        result = subprocess.run(
            [sys.executable, "-B", "-c", COLD],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"},
        )
        imported, compiled = (float(part) for part in result.stdout.split())
        imports.append(imported)
        compiles.append(compiled)
    return min(imports), min(compiles)


def cold_site_cost(repeat: int) -> float:
    """Best ms of the site's list's first use over `repeat` fresh processes, as cold_costs."""
    costs = []
    for _ in range(repeat):
        result = subprocess.run(
            [sys.executable, "-B", "-c", COLD_SITE, str(ROOT)],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"},
        )
        costs.append(float(result.stdout))
    return min(costs)


def match_ms(detector, text: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        detector._cached_check.cache_clear()
        started = time.perf_counter()
        detector.is_crawler(text)
        best = min(best, time.perf_counter() - started)
    return best * 1000


def whole_ms(detector, text: str, repeat: int) -> float:
    """The site's own check (counter.api.user_agent_is_listed: every window of the text, each
    matched by counter.api.CrawlerList, whose cache is cleared before each call)."""
    from counter import api

    best = float("inf")
    for _ in range(repeat):
        detector.is_crawler.cache_clear()
        started = time.perf_counter()
        api.user_agent_is_listed(user_agent=text)
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from crawlerdetect import CrawlerDetect

    from counter import api  # reads no setting, needs no django.setup()

    imported, compiled = cold_costs(args.repeat)
    detector = CrawlerDetect()
    detector.is_crawler("warm-up")
    cases = [
        ("a browser (Chrome, 111 chars)", BROWSER),
        ("Googlebot smartphone (199 chars)", GOOGLEBOT),
        ("curl", "curl/8.5.0"),
    ]
    for length in (64, 128, api.DETECTOR_WINDOW, 512, 1024):
        cases.append((f"crafted, {length} letters", "a" * length))
    # Letters that differ from window to window (crawlerdetect caches each text it has seen).
    letters = "".join(random.Random(7).choice("acegikmqsuwy") for _ in range(api.USER_AGENT_MAX))
    prefix = "Mozilla/5.0 (X11) AppleWebKit/537.36 "
    whole = [
        (
            f"the site's check, crafted browser-shaped {length} chars",
            (prefix + letters)[:length],
        )
        for length in (api.DETECTOR_WINDOW, 512, api.USER_AGENT_MAX)
    ]
    cases.append(("crafted, 1024 varied letters", letters))

    site = cold_site_cost(args.repeat)
    print(
        f"Cold (fresh process): crawlerdetect's import {imported:.1f} ms, its "
        f"compile {compiled:.1f} ms; the site's list (counter.api.CrawlerList) made and used "
        f"once, import included, {site:.1f} ms"
    )
    print()
    print(f"| User-Agent | ms to match (best of {args.repeat}) |")
    print("|:---|---:|")
    for name, text in cases:
        print(f"| {name} | {match_ms(detector, text, args.repeat):.2f} |")
    site_detector = api._crawler_detector()
    for name, text in whole:
        print(f"| {name} | {whole_ms(site_detector, text, args.repeat):.2f} |")
    print()
    print(
        f"Python {platform.python_version()}, {platform.machine()}, crawlerdetect "
        f"{__import__('crawlerdetect').__version__}; the site matches the whole User-Agent in "
        f"windows of {api.DETECTOR_WINDOW} characters overlapping by half, and never counts one "
        f"longer than {api.USER_AGENT_MAX}."
    )


if __name__ == "__main__":
    main()
