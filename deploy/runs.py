"""What `make deploy` (deploy/live.py) and the operations on a deployed stage
(deploy/operations.py) share: running the Zappa CLI, and waiting for the distribution."""

import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import click

ROOT = Path(__file__).resolve().parent.parent
POLL_SECONDS = 20.0
DISTRIBUTION_PATIENCE_SECONDS = 45 * 60.0
Echo = Callable[[str], None]


class StepFailed(click.ClickException):
    """A step failed; the message says what was done and what to do next."""


class Zappa(Protocol):
    def __call__(self, *, args: Sequence[str]) -> None: ...


def run_zappa(*, args: Sequence[str], environment: Mapping[str, str] | None = None) -> None:
    """`zappa <args>` with this venv's Zappa, from the project root, with `environment` added to
    this process's; StepFailed if it fails."""
    shown = " ".join(["zappa", *args])
    click.echo(f"$ {shown}")
    zappa = Path(sys.executable).parent / "zappa"
    env = {**os.environ, **(environment or {})}
    code = subprocess.run([str(zappa), *args], cwd=ROOT, env=env, check=False).returncode  # noqa: S603
    if code != 0:
        raise StepFailed(f"`{shown}` failed (exit status {code}); its output is above.")


def wait_for_distribution(
    *,
    cloudfront: Any,
    distribution_id: str,
    echo: Echo,
    sleep: float = POLL_SECONDS,
    patience: float = DISTRIBUTION_PATIENCE_SECONDS,
) -> None:
    """Poll until the distribution is Deployed (its configuration is on every edge location),
    with a progress line at each poll."""
    started = time.monotonic()
    while True:
        status = cloudfront.get_distribution(Id=distribution_id)["Distribution"]["Status"]
        waited = time.monotonic() - started
        if status == "Deployed":
            echo(f"  The distribution {distribution_id} is Deployed ({waited:.0f} s).")
            return
        if waited > patience:
            raise StepFailed(
                f"The distribution {distribution_id} is still {status} after {waited:.0f} s."
            )
        echo(
            f"  ... the distribution {distribution_id} is {status} ({waited:.0f} s): CloudFront "
            "takes a few minutes to reach every edge location"
        )
        time.sleep(sleep)
