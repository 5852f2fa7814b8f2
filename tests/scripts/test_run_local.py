"""scripts/run_local.py (`make run`): the site is served on DynamoDB Local with data on disk,
and stopping it, by Ctrl-C, a `kill` or a closed terminal, stops the engine and the server too,
leaving both ports free."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from scripts import dynamodb_local, local_server

pytestmark = [pytest.mark.dynamodb_local, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent.parent
STARTED_WITHIN = 90  # seconds: a JVM and Django on a busy two-core machine
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def _post_count(url: str) -> int:
    request = urllib.request.Request(
        f"{url}/api/count", method="POST", data=b"", headers={"User-Agent": BROWSER}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["count"]


@pytest.mark.parametrize(
    "stopping", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["ctrl-c", "kill", "hangup"]
)
def test_stopping_make_run_stops_the_engine_and_the_server(stopping, tmp_path: Path) -> None:
    site_port, engine_port = dynamodb_local.free_port(), dynamodb_local.free_port()
    env = {
        **os.environ,
        "PORT": str(site_port),
        "DYNAMODB_LOCAL_PORT": str(engine_port),
        "DYNAMODB_LOCAL_DATA": str(tmp_path / "data"),
        "DYNAMODB_READ_TIMEOUT": "10",  # a cold engine may be slow to create the table
    }
    url = f"http://127.0.0.1:{site_port}"
    process = subprocess.Popen(
        [sys.executable, "scripts/run_local.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the engine and the server join it
    )
    try:
        local_server.serving_wait(url=f"{url}/robots.txt", process=process, timeout=STARTED_WITHIN)
        assert _post_count(url) == 1
        process.send_signal(stopping)
        assert process.wait(timeout=30) == 0
        deadline = time.monotonic() + 10
        while dynamodb_local.port_in_use(site_port) or dynamodb_local.port_in_use(engine_port):
            assert time.monotonic() < deadline, "the engine or the server outlived make run"
            time.sleep(0.2)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever a failed test left running
        process.wait()
    assert any((tmp_path / "data").iterdir())  # the counts are on disk, for the next run
