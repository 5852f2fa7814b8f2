"""`make run`: DynamoDB Local with on-disk data, the table, and Django's server.

This process supervises the other two. The engine and the server (the autoreloader and the
server it restarts) each run in a session of their own, so they get no signal from the terminal
or from a `kill` of make: whatever stops this process, Ctrl-C (SIGINT), a `kill` (SIGTERM) or a
closed terminal (SIGHUP), it stops them, each with SIGTERM and, after GRACE seconds, SIGKILL,
and returns once they are gone. Its own handlers also replace a SIGINT that a non-interactive
shell set to be ignored for background jobs, so the children do not inherit that. The first
stop is the only one: a second signal (make's death and the terminal's end can send two at
once) does not interrupt the stopping, and nothing it prints can fail it (a closed terminal
fails every write: the rest of the output is dropped).

Some ends send it no signal at all, so it also watches, every WATCH_SECONDS:
- its parent: a SIGKILL of make cannot be forwarded. On Linux each process is also told to take
  a SIGTERM when its parent dies (prctl PR_SET_PDEATHSIG): this one when make dies, the engine
  and the autoreloader when this one dies (the autoreloader's SIGTERM handler, Django's, kills
  the server it runs); elsewhere the watch notices make is gone;
- its terminal: when make is the terminal's own program (no shell between), closing the
  terminal sends SIGHUP to make alone, which then waits for its children for ever. The terminal
  it started with is then no longer its controlling terminal (/dev/tty no longer opens), and it
  stops as for a SIGHUP.

While the engine runs, its address and process id are in `<data folder>/endpoint`, where the
local settings read the address (resume_site/settings.py): `manage.py createadmin` and the other
commands reach this engine whatever DYNAMODB_LOCAL_PORT was. It is removed on every stop this
process sees; a SIGKILL of this process leaves it behind, so a record whose engine no longer
runs is stale: the settings ignore it, and the next make run removes it, saying so.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

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
WATCH_SECONDS = 0.5  # how often it checks that its parent and its terminal are still there
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopping(Exception):
    """Something asked make run to stop: a signal, or its parent or terminal went away."""


def say(message: str) -> None:
    """Print a line. A closed terminal fails every write (EIO; a closed pipe, EPIPE): then this
    and all later output, the children's too, goes to /dev/null, so no stop ends in a traceback
    and the interpreter's last flush has nothing left to fail on."""
    try:
        print(message, flush=True)
    except OSError:
        output_drop()


def output_drop() -> None:
    """Point stdout and stderr at /dev/null, dropping what is still buffered."""
    null = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(null, stream.fileno())
            stream.flush()  # what a failed write left buffered now goes to /dev/null
        except (OSError, ValueError):
            pass
    os.close(null)


def _ignored(signum: int, frame: FrameType | None) -> None:
    """The handler while stopping: a Python no-op rather than SIG_IGN, since a signal that
    arrived just before would then be reported as "ignored due to race condition"."""


def stopping_begins() -> None:
    """From the first stop on, nothing interrupts the stopping: the watch ends, and every stop
    signal is ignored (make's death sends SIGTERM, and with make the terminal's own program, the
    terminal's end a SIGHUP, at the same time)."""
    signal.setitimer(signal.ITIMER_REAL, 0)
    for ignored in (*STOP_SIGNALS, signal.SIGALRM):
        signal.signal(ignored, _ignored)


def _stop(signum: int, frame: FrameType | None) -> None:
    stopping_begins()
    raise Stopping(signal.Signals(signum).name)


def terminal_attached() -> bool:
    """Whether this process has a controlling terminal: /dev/tty opens only then. A terminal
    that was closed (hung up) is no process's any more."""
    try:
        descriptor = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False
    os.close(descriptor)
    return True


def watch_start(*, parent: int, terminal: bool) -> None:
    """Every WATCH_SECONDS (SIGALRM, so its check runs in the main thread, between the
    supervisor's steps or in any wait, like a stop signal's handler): stop once the parent is
    no longer `parent`, or once the controlling terminal it had (`terminal`) is gone."""

    def check(signum: int, frame: FrameType | None) -> None:
        if os.getppid() != parent:
            stopping_begins()
            raise Stopping("its parent (make) ended")
        if terminal and not terminal_attached():
            stopping_begins()
            raise Stopping("the terminal was closed")

    signal.signal(signal.SIGALRM, check)
    signal.setitimer(signal.ITIMER_REAL, WATCH_SECONDS, WATCH_SECONDS)


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


def shown(path: Path) -> Path:
    """`path` as the owner reads it: from the project folder when it is in there."""
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def process_running(pid: int) -> bool:
    """Whether a process `pid` runs: it exists (signal 0 only asks) and, on Linux, has not
    ended unreaped (a zombie, as an engine killed with its supervisor is until init reaps it);
    resume_site/settings.py asks the same of the record."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except PermissionError:
        pass  # it exists, another user's
    except (OSError, OverflowError):
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (macOS): signal 0 said it runs
    return state != "Z"


def endpoint_read() -> tuple[str, int] | None:
    """The engine's address and process id in the record; None without one, or with one that is
    not that (cut short, or an older make run's address alone)."""
    try:
        url, pid = ENDPOINT_RECORD.read_text().split()
        return url, int(pid)
    except (OSError, ValueError):
        return None


def endpoint_record(*, url: str, pid: int) -> None:
    """Record the engine's address and process id, whole or not at all."""
    partial = ENDPOINT_RECORD.with_name(ENDPOINT_RECORD.name + ".partial")
    partial.write_text(f"{url}\n{pid}\n")
    partial.replace(ENDPOINT_RECORD)


def endpoint_other() -> str | None:
    """The address of the engine another make run recorded for this data folder, if it still
    runs and answers. A record whose engine is gone (a SIGKILL of make run's whole group leaves
    it) or does not answer is stale: it is removed, saying so."""
    if not ENDPOINT_RECORD.exists():
        return None
    record = endpoint_read()
    if record is not None and process_running(record[1]) and dynamodb_local.answers(record[0]):
        return record[0]
    ENDPOINT_RECORD.unlink(missing_ok=True)
    stale = shown(ENDPOINT_RECORD)
    say(f"Removed {stale}, left by a make run that was killed: its engine no longer runs.")
    return None


def endpoint_forget(*, url: str, pid: int) -> None:
    """Remove the record this make run wrote (not one a later run wrote)."""
    if endpoint_read() == (url, pid):
        ENDPOINT_RECORD.unlink(missing_ok=True)


def main() -> int:
    """The site and DynamoDB Local until make run stops, then both stopped. (Over 60 lines: one
    try/finally owns everything it starts, so whatever stops it, each started process is
    stopped.)"""
    parent = os.getppid()
    die_with_parent = dynamodb_local.parent_death_signal(signal.SIGTERM)
    if die_with_parent is not None:
        die_with_parent()
        if os.getppid() != parent:  # it died before the call took effect
            return 1
    engine_url = f"http://127.0.0.1:{ENGINE_PORT}"
    env = {**os.environ, "DYNAMODB_ENDPOINT_URL": engine_url}
    python = sys.executable
    manage = str(ROOT / "manage.py")
    site_url = f"http://127.0.0.1:{SITE_PORT}"
    engine = server = None
    # From here on whatever stops make run stops what it started.
    for stopping in STOP_SIGNALS:
        signal.signal(stopping, _stop)
    try:
        watch_start(parent=parent, terminal=terminal_attached())
        if dynamodb_local.port_in_use(SITE_PORT):
            say(f"Port {SITE_PORT} is already in use: stop what uses it, or PORT=8080 make run.")
            return 1
        if dynamodb_local.port_in_use(ENGINE_PORT):
            say(f"Port {ENGINE_PORT} is already in use: run DYNAMODB_LOCAL_PORT=8002 make run.")
            return 1
        other = endpoint_other()
        if other:
            say(f"DynamoDB Local for {DATA_DIR} already runs at {other} (another make run?).")
            return 1
        # The server first: Django starts while the engine's JVM does (the page needs no table).
        say(f"Starting the site on port {SITE_PORT} ...")
        server = subprocess.Popen(
            # --insecure: the static files are served with DEBUG off too (the local default).
            [python, manage, "runserver", "--insecure", f"127.0.0.1:{SITE_PORT}"],
            env=env,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        say(f"Starting DynamoDB Local on port {ENGINE_PORT} (data in {shown(DATA_DIR)}/) ...")
        engine = dynamodb_local.start(
            ENGINE_PORT, DATA_DIR, timeout=STARTED_WITHIN, own_session=True
        )
        endpoint_record(url=engine_url, pid=engine.pid)
        # A patient read timeout for this one call: a cold engine on a busy machine can take
        # seconds to answer its first request, and a timed-out request is never sent again.
        patient = {"DYNAMODB_READ_TIMEOUT": "10", **env}
        subprocess.run([python, manage, "create_table"], env=patient, check=True)
        probe = f"{site_url}/robots.txt"
        local_server.serving_wait(url=probe, process=server, timeout=STARTED_WITHIN)
        say(f"Serving the site on {site_url}/ (Ctrl-C stops everything)")
        return server.wait()
    except dynamodb_local.EngineError as error:
        say(f"{error} (set DYNAMODB_LOCAL_PORT to use another port)")
        return 1
    except subprocess.CalledProcessError as error:
        return error.returncode
    except RuntimeError as error:  # the server did not start
        say(f"Could not serve the site: {error}")
        return 1
    except Stopping as stopping:
        say(f"{stopping}: stopping ...")
        return 0
    finally:
        stopping_begins()
        try:
            if server is not None:
                group_stop(process=server)
        finally:
            if engine is not None:
                say("Stopping DynamoDB Local ...")
                try:
                    dynamodb_local.stop(engine, grace=GRACE)
                finally:
                    endpoint_forget(url=engine_url, pid=engine.pid)


if __name__ == "__main__":
    sys.exit(main())
