"""What the browser tests share: the Chromium to drive, the watched page, axe-core, screenshots.

Screenshots, PDFs and the test server's log land in build/browser/ (git-ignored), so a failed
run can be looked at. A screenshot is taken of what failed, not of every page a passing test
sees: a failed test's open pages as they were when it failed (tests/browser/conftest.py,
open_page), and any admin page with a problem as it was found. Chromium spends about a third of
a second of CPU on a full-page screenshot: the 33 a passing run used to take cost it about 10 s
of the two modules' 56 (one run each way, measured with process accounting, 2026-12-06).
"""

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts import dynamodb_local

ROOT = dynamodb_local.ROOT
ARTIFACTS = ROOT / "build" / "browser"  # screenshots, PDFs and the server's log
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
OWNER = "owner"
OWNER_PASSWORD = "quiet-harbour-lantern-4817"
# The machine has no internet: without these, Chromium keeps trying to reach Google's services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# Reported to Python from the page, so violations on a page that navigates away are kept.
WATCH_CSP = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile || document.location.href}:${event.lineNumber}`);
});
"""


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass(frozen=True)
class Site:
    url: str
    env: dict[str, str]

    def manage(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        """Run manage.py against the served site's table."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
        return result


@dataclass
class Watched:
    """What went wrong while a page was open: console errors, page errors, CSP violations."""

    page: Any
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    documents: list[Any] = field(default_factory=list)  # every HTML response, in order

    @property
    def problems(self) -> list[str]:
        return [*self.console_errors, *self.page_errors, *self.csp_violations]


def axe_violations(page: Any) -> list[str]:
    """axe-core's violations on the page as it is now, one line each (empty when clean).

    The script goes in through the DevTools protocol, which the page's CSP does not govern."""
    if not AXE_SCRIPT.exists():
        raise RuntimeError("axe-core is not installed: run `npm ci` (make test does it)")
    page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + json.dumps([node["target"] for node in violation["nodes"]])
        for violation in result["violations"]
    ]


def screenshot(page: Any, name: str) -> Path:
    """The whole page as it is now, in build/browser/<name>.png (`name` made safe as a file's)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name).strip('-')}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
