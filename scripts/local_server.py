"""Django's development server in a process of its own, on a free port, for the tests, the
browser tests and `make lighthouse`: started, then waited for until it answers."""

import subprocess
import sys
import time
import urllib.request
from typing import IO

from scripts import dynamodb_local

STARTED_WITHIN = 30.0  # seconds


def serving_wait(*, url: str, process: subprocess.Popen, timeout: float) -> None:
    """Wait until `url` answers 2xx/3xx; RuntimeError if `process` ends or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"the server stopped before serving {url}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not serve {url} in {timeout:g} s") from None
            time.sleep(0.2)


def runserver_start(
    *,
    env: dict[str, str],
    insecure: bool = False,
    output: IO[str] | int = subprocess.DEVNULL,
    probe: str = "/",
    timeout: float = STARTED_WITHIN,
) -> tuple[subprocess.Popen, str]:
    """`manage.py runserver` on a free loopback port with `env` (`--insecure`: static files
    served with DEBUG off, as CloudFront would), once `probe` answers; returns the process and
    the site's URL (no trailing slash). A server that does not start is killed."""
    port = dynamodb_local.free_port()
    flags = ["--insecure"] if insecure else []
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", *flags, "--noreload", f"127.0.0.1:{port}"],
        cwd=dynamodb_local.ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT if output is not subprocess.DEVNULL else subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        serving_wait(url=url + probe, process=server, timeout=timeout)
    except RuntimeError:
        server.kill()
        server.wait()
        raise
    return server, url
