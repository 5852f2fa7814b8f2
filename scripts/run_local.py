"""`make run`: DynamoDB Local with on-disk data, the table, and Django's server.

This process supervises the other two. The engine and the server (the autoreloader and the
server it restarts) each run in a session of their own, so they get no signal from the terminal
or from a `kill` of make: whatever stops this process, Ctrl-C (SIGINT), a `kill` (SIGTERM) or a
closed terminal (SIGHUP), it stops them, each with SIGTERM and, after GRACE seconds, SIGKILL,
and returns once they are gone. Its own handlers also replace a SIGINT that a non-interactive
shell set to be ignored for background jobs, so the children do not inherit that.

A SIGKILL cannot be handled, so on Linux each process is also told to take a SIGTERM when its
parent dies (prctl PR_SET_PDEATHSIG): this one when make dies, so a `kill -9` of make stops
everything as a `kill` does; the engine and the autoreloader when this one dies, and the
autoreloader's SIGTERM handler (Django's) kills the server it runs. (macOS has no such call.)

While the engine runs, its address is written to `<data folder>/endpoint`, where the local
settings read it (resume_site/settings.py): `manage.py createadmin` and the other commands reach
this engine whatever DYNAMODB_LOCAL_PORT was.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import dynamodb_local, local_server

SITE_PORT = int(os.environ.get("PORT", "8000"))
ENGINE_PORT = int(os.environ.get("DYNAMODB_LOCAL_PORT", "8001"))
ROOT = dynamodb_local.ROOT
DATA_DIR = (ROOT / os.environ.get("DYNAMODB_LOCAL_DATA", ".dynamodb")).resolve()
ENDPOINT_RECORD = DATA_DIR / "endpoint"  # read by resume_site/settings.py; same name there
GRACE = 5.0  # seconds a stopping process has before it is killed
# Seconds the engine and then the server have to answer: a JVM and Django on a busy two-core
# machine, with margin.
STARTED_WITHIN = 90.0


class Stopping(Exception):
    """A signal asked make run to stop."""


def _stop(signum: int, frame: object) -> None:
    raise Stopping(signal.Signals(signum).name)


def group_stop(*, process: subprocess.Popen, grace: float = GRACE) -> None:
    """SIGTERM to the process group `process` leads, SIGKILL to it after `grace` seconds if any
    member is left; returns once none is."""
    group = process.pid
    for sent in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(group, sent)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            process.poll()  # reaps the leader, so a dead group is no longer found
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            continue
        break
    process.wait()


def endpoint_recorded(*, url: str) -> str | None:
    """The engine address another make run recorded for this data folder, if it answers."""
    try:
        recorded = ENDPOINT_RECORD.read_text().strip()
    except OSError:
        return None
    if recorded and recorded != url and dynamodb_local.answers(recorded):
        return recorded
    return None


def endpoint_forget(*, url: str) -> None:
    """Remove the engine address this make run recorded (not one a later run wrote)."""
    try:
        if ENDPOINT_RECORD.read_text().strip() == url:
            ENDPOINT_RECORD.unlink()
    except OSError:
        pass


def main() -> int:
    parent = os.getppid()
    die_with_parent = dynamodb_local.parent_death_signal(signal.SIGTERM)
    if die_with_parent is not None:
        die_with_parent()
        if os.getppid() != parent:  # it died before the call took effect
            return 1
    if dynamodb_local.port_in_use(SITE_PORT):
        print(f"Port {SITE_PORT} is already in use: stop what uses it, or run PORT=8080 make run.")
        return 1
    engine_url = f"http://127.0.0.1:{ENGINE_PORT}"
    if dynamodb_local.port_in_use(ENGINE_PORT):
        print(f"Port {ENGINE_PORT} is already in use: run DYNAMODB_LOCAL_PORT=8002 make run.")
        return 1
    other = endpoint_recorded(url=engine_url)
    if other:
        print(f"DynamoDB Local for {DATA_DIR} already runs at {other} (another make run?).")
        return 1
    env = {**os.environ, "DYNAMODB_ENDPOINT_URL": engine_url}
    python = sys.executable
    manage = str(ROOT / "manage.py")
    site_url = f"http://127.0.0.1:{SITE_PORT}"
    shown = DATA_DIR.relative_to(ROOT) if DATA_DIR.is_relative_to(ROOT) else DATA_DIR
    engine = server = None
    # From here on whatever stops make run stops what it started (nothing was, before).
    for stopping in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(stopping, _stop)
    try:
        # The server first: Django starts while the engine's JVM does (the page needs no table).
        print(f"Starting the site on port {SITE_PORT} ...", flush=True)
        server = subprocess.Popen(
            # --insecure: the static files are served with DEBUG off too (the local default).
            [python, manage, "runserver", "--insecure", f"127.0.0.1:{SITE_PORT}"],
            env=env,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        print(f"Starting DynamoDB Local on port {ENGINE_PORT} (data in {shown}/) ...", flush=True)
        engine = dynamodb_local.start(
            ENGINE_PORT, DATA_DIR, timeout=STARTED_WITHIN, own_session=True
        )
        ENDPOINT_RECORD.write_text(engine_url + "\n")
        # A patient read timeout for this one call: a cold engine on a busy machine can take
        # seconds to answer its first request, and a timed-out request is never sent again.
        patient = {"DYNAMODB_READ_TIMEOUT": "10", **env}
        subprocess.run([python, manage, "create_table"], env=patient, check=True)
        probe = f"{site_url}/robots.txt"
        local_server.serving_wait(url=probe, process=server, timeout=STARTED_WITHIN)
        print(f"Serving the site on {site_url}/ (Ctrl-C stops everything)", flush=True)
        return server.wait()
    except dynamodb_local.EngineError as error:
        print(f"{error} (set DYNAMODB_LOCAL_PORT to use another port)")
        return 1
    except subprocess.CalledProcessError as error:
        return error.returncode
    except RuntimeError as error:  # the server did not start
        print(f"Could not serve the site: {error}")
        return 1
    except Stopping as stopping:
        print(f"{stopping}: stopping ...", flush=True)
        return 0
    finally:
        # Nothing may interrupt the stopping itself: a second Ctrl-C is ignored meanwhile.
        for stopping in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(stopping, signal.SIG_IGN)
        if server is not None:
            group_stop(process=server)
        if engine is not None:
            print("Stopping DynamoDB Local ...", flush=True)
            dynamodb_local.stop(engine, grace=GRACE)
            endpoint_forget(url=engine_url)


if __name__ == "__main__":
    sys.exit(main())
