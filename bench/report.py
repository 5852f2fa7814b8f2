"""What the bench scripts share: the machine they ran on, and their sections of bench/README.md.

Each script owns one section of the README, between two marker comments
(`<!-- bench:NAME:begin -->` and `<!-- bench:NAME:end -->`), and rewrites only that section with
`--readme`; the prose around the sections (method, reading the figures) is written by hand.
"""

import os
import platform
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "bench" / "README.md"


class ReadmeError(Exception):
    """bench/README.md lacks the markers of a section, or has them out of order."""


def markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name}:begin -->", f"<!-- bench:{name}:end -->"


def section_replace(*, text: str, name: str, body: str) -> str:
    """`text` with the section `name` holding `body` (everything else unchanged)."""
    begin, end = markers(name)
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        raise ReadmeError(f"bench/README.md has no section {name!r} (markers {begin} ... {end})")
    return f"{text[: start + len(begin)]}\n{body.strip()}\n{text[stop:]}"


def section_write(*, name: str, body: str, readme: Path = README) -> None:
    """Rewrite one section of bench/README.md."""
    text = readme.read_text(encoding="utf-8")
    readme.write_text(section_replace(text=text, name=name, body=body), encoding="utf-8")


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown CPU"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else platform.processor() or "unknown CPU"


def java_version() -> str:
    java = shutil.which("java")
    if java is None:
        return "unknown"
    result = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "([^"]+)"', result.stderr)
    return match.group(1) if match else "unknown"


def machine_summary() -> str:
    """E.g. `2 CPUs (AMD EPYC 7B13), Linux x86_64, Python 3.13.0, Java 17.0.15`."""
    cpus = os.process_cpu_count() or os.cpu_count() or 0
    return (
        f"{cpus} CPUs ({cpu_model()}), {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}, Java {java_version()}"
    )
