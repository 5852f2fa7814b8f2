"""scripts/run_local.py (`make run`): the site is served on DynamoDB Local with data on disk;
"Serving" is said once the site answers; createadmin reaches the engine whatever its port; and
stopping it, by Ctrl-C, a `kill`, a closed terminal (a shell's, or make as the terminal's own
program), a `kill` from a script that started it in the background or (on Linux) a `kill -9`,
stops the engine, the server and the autoreloader's child, leaving both ports free, no process
of it behind, no traceback, and no engine address that trips the next make run or createadmin.

Each stop needs a make run of its own (about five seconds of a JVM and two Djangos starting,
most of it waiting on one another): the stop tests' runs are started two tests ahead
(MakeRuns), so each starts while the tests before it stop theirs, and the start-up's own checks
ride on the make run that follows a `kill -9` of a whole group."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest

from scripts import dynamodb_local

pytestmark = [
    pytest.mark.dynamodb_local,
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table"),
]

ROOT = Path(__file__).resolve().parent.parent.parent
STARTED_WITHIN = 180  # seconds: run_local gives the engine and then the server 90 s each
STOPPED_WITHIN = 30  # seconds: run_local's grace is 5 s for the server and 5 s for the engine
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
PASSWORD = "a long local password 7"


def _post_count(url: str) -> int:
    request = urllib.request.Request(
        f"{url}/api/count", method="POST", data=b"", headers={"User-Agent": BROWSER}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["count"]


def _processes() -> dict[int, tuple[int, str, str]]:
    """Every process: pid -> (parent pid, state, start time)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (command) "
        table[int(entry.name)] = (int(fields[1]), fields[0], fields[19])
    return table


def _tree(root: int) -> dict[int, str]:
    """`root` and its living descendants: pid -> start time (which tells a reused pid)."""
    table = _processes()
    tree = {root: table[root][2]} if root in table else {}
    grown = True
    while grown:
        grown = False
        for pid, (parent, state, started) in table.items():
            if parent in tree and pid not in tree and state != "Z":
                tree[pid] = started
                grown = True
    return tree


def _command(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def _left(tree: dict[int, str]) -> list[str]:
    """The processes of `tree` still running, with their command lines."""
    table = _processes()
    left = []
    for pid, started in tree.items():
        if pid in table and table[pid][2] == started and table[pid][1] != "Z":
            with contextlib.suppress(OSError):
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                left.append(f"{pid}: {command.decode(errors='replace')}")
    return left


def _kill_left(tree: dict[int, str]) -> None:
    """SIGKILL what of `tree` still runs (a failed test's), never a process that took a pid of
    it since."""
    table = _processes()
    for pid, started in tree.items():
        if pid in table and table[pid][2] == started:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _serving_wait(*, log: Path, process: subprocess.Popen) -> None:
    """Wait until make run says it serves the site (the engine and the table ready too)."""
    deadline = time.monotonic() + STARTED_WITHIN
    while "Serving the site on" not in (log.read_text() if log.exists() else ""):
        assert process.poll() is None, log.read_text() if log.exists() else "no output"
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)


_given: set[int] = set()  # the ports handed out: make runs alive at once never share one


def _free_port() -> int:
    port = dynamodb_local.free_port()
    while port in _given:
        port = dynamodb_local.free_port()
    _given.add(port)
    return port


def _environment(tmp_path: Path) -> tuple[dict[str, str], str, int, int]:
    site_port, engine_port = _free_port(), _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DYNAMODB_", "MAKE"))},
        "PORT": str(site_port),
        "DYNAMODB_LOCAL_PORT": str(engine_port),
        "DYNAMODB_LOCAL_DATA": str(tmp_path / "data"),
        # a cold engine on a busy machine may be slow to answer at first
        "DYNAMODB_READ_TIMEOUT": "10",
        "DYNAMODB_API_BUDGET": "10",
    }
    return env, f"http://127.0.0.1:{site_port}", site_port, engine_port


SHAPES = {
    # Ctrl-C: the terminal sends SIGINT to the foreground process group, make's.
    "ctrl-c": "killpg SIGINT",
    # `kill PID` of make in a terminal.
    "kill": "kill SIGTERM",
    # A closed terminal: the shell sends SIGHUP to each job's process group.
    "hangup": "killpg SIGHUP",
    # A script: `make run &` in a non-interactive shell (its background jobs ignore SIGINT),
    # then `kill $!`, the reproduction.
    "script": "bash",
    # `kill -9` of make: run_local, its child, is told (Linux) and stops everything as for a kill.
    "kill-9-make": "kill SIGKILL",
    # (`kill -9` of make's whole group: test_after_a_kill_9_of_its_whole_group_...)
    # Two stops at once, as when make, the terminal's own program, is killed: run_local gets the
    # parent-death SIGTERM and the session's SIGHUP. The second must not interrupt the first's
    # stopping (it once did, with a chained traceback).
    "two-at-once": "run_local SIGTERM SIGHUP",
}
# The shapes run_local has no say in (a SIGKILL): their processes end after make does.
UNHANDLED = {"kill-9-make"}
ONLY_LINUX = "only Linux tells a process its parent died (prctl PR_SET_PDEATHSIG)"


def _gone_wait(tree: dict[int, str]) -> list[str]:
    """What of `tree` is still running once it has ended or STOPPED_WITHIN seconds passed."""
    deadline = time.monotonic() + STOPPED_WITHIN
    while _left(tree) and time.monotonic() < deadline:
        time.sleep(0.2)
    return _left(tree)


@dataclass
class MakeRun:
    """One started make run: how it was started (`kind`), its process (make's, the script's or
    the terminal's), its ports, its folder (the data in `data`) and the log it writes."""

    kind: str
    process: subprocess.Popen
    env: dict[str, str]
    url: str
    site_port: int
    engine_port: int
    folder: Path
    log: Path
    output: IO[str] | None = None

    def close(self, tree: dict[int, str] | None = None) -> None:
        """Kill whatever of it is left (a failed test's: of `tree`, what the test saw of it, or
        what runs under it now), then reap it."""
        tree = tree or _tree(self.process.pid)  # the engine and the server lead groups of their own
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        _kill_left(tree)
        self.process.wait()
        if self.output is not None:
            self.output.close()


def make_run_start(kind: str, folder: Path) -> MakeRun:
    """`make run` in a process group of its own, as in a terminal ("make"); `make run &` from
    a script ("script", stopped by touching <folder>/go); or make as the terminal's own program
    ("terminal", tests/scripts/test_run_local.py's TERMINAL)."""
    env, url, site_port, engine_port = _environment(folder)
    log, output = folder / "run.log", None
    if kind == "script":
        script = 'make run >"$LOG" 2>&1 & M=$!; while [ ! -e "$GO" ]; do sleep 0.1; done; kill $M'
        command = ["bash", "-c", script + "; wait $M"]
        env = {**env, "LOG": str(log), "GO": str(folder / "go")}
    elif kind == "terminal":
        command = [sys.executable, "-c", TERMINAL, str(log), "make", "run"]
    else:
        command, output = ["make", "run"], log.open("w")
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=output or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if output else subprocess.DEVNULL,
        start_new_session=True,  # make leads a process group of its own, as in a terminal
    )
    return MakeRun(kind, process, env, url, site_port, engine_port, folder, log, output)


@dataclass
class MakeRuns:
    """The stop tests' make runs, in the order the tests run (`order`: (name, kind) each):
    taking one starts the next ones, so that they start while this one's test stops it."""

    order: list[tuple[str, str]]
    root: Path
    ahead: int = 2  # runs starting while one is tested: a stop takes about a start's time or less
    started: dict[str, MakeRun] = field(default_factory=dict)

    def _start(self, name: str) -> None:
        if name not in self.started:
            kind = dict(self.order)[name]
            folder = self.root / name.replace(":", "-")
            folder.mkdir()
            self.started[name] = make_run_start(kind, folder)

    def take(self, name: str) -> MakeRun:
        self._start(name)
        names = [each for each, _ in self.order]
        following = names[names.index(name) + 1 :][: self.ahead]
        for each in following:
            self._start(each)
        return self.started.pop(name)

    def close(self) -> None:
        for run in self.started.values():  # started for a test that did not run
            run.close()


@pytest.fixture(scope="module")
def make_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeRuns]:
    linux = sys.platform.startswith("linux")
    shapes = [shape for shape in SHAPES if linux or shape not in UNHANDLED]
    order = [(shape, "script" if shape == "script" else "make") for shape in shapes]
    order += [(f"terminal:{end}", "terminal") for end in TERMINAL_ENDS]
    if linux:
        order.append(("kill-9-all", "make"))  # the first of the stale record's two runs
    runs = MakeRuns(order=order, root=tmp_path_factory.mktemp("make-runs"))
    yield runs
    runs.close()


@pytest.mark.parametrize("shape", SHAPES)
def test_stopping_make_run_leaves_no_process_and_frees_the_ports(
    shape, make_runs: MakeRuns
) -> None:
    if shape in UNHANDLED and not sys.platform.startswith("linux"):
        pytest.skip(ONLY_LINUX)
    run = make_runs.take(shape)
    process, url, log, data = run.process, run.url, run.log, run.folder / "data"
    site_port, engine_port = run.site_port, run.engine_port
    tree: dict[int, str] = {}
    try:
        _serving_wait(log=log, process=process)
        assert _post_count(url) == 1
        tree = _tree(process.pid)
        commands = " ".join(Path(f"/proc/{pid}/cmdline").read_text() for pid in tree)
        assert "DynamoDBLocal.jar" in commands
        served = f"runserver\x00--insecure\x00127.0.0.1:{site_port}"
        assert commands.count(served) == 2  # the autoreloader and the server
        if shape == "script":
            (run.folder / "go").touch()
        else:
            kind, *names = SHAPES[shape].split()
            (run_local,) = [pid for pid in tree if b"run_local.py" in _command(pid)]
            for name in names:
                sent = getattr(signal, name)
                if kind == "killpg":
                    os.killpg(process.pid, sent)
                elif kind == "run_local":
                    os.kill(run_local, sent)
                else:
                    process.send_signal(sent)
        process.wait(timeout=STOPPED_WITHIN)
        # make returns once everything is gone, unless it was killed before that
        assert (_gone_wait(tree) if shape in UNHANDLED else _left(tree)) == []
        assert not dynamodb_local.port_in_use(site_port)
        assert not dynamodb_local.port_in_use(engine_port)
    finally:
        run.close(tree)  # whatever a failed test left running
    text = log.read_text()
    assert "Traceback" not in text and "TimeoutExpired" not in text, text
    assert "ignored due to race condition" not in text, text
    assert any(data.iterdir())  # the counts are on disk, for the next run
    assert "Stopping DynamoDB Local" in text
    assert not (data / "endpoint").exists()  # no stale address for createadmin


# A terminal emulator in miniature: it opens a pseudo-terminal, runs its command as the
# terminal's own program (a session leader whose controlling terminal it is, no shell between)
# and copies what that prints to a log until nothing holds the terminal's other end. Killing it
# closes the terminal: the kernel hangs it up and sends SIGHUP to make alone, which then waits
# for its children for ever.
TERMINAL_ENDS = ["terminal-closed", "kill-9-make"]
TERMINAL = """
import os, pty, sys
with open(sys.argv[1], "ab", buffering=0) as log:
    pid, screen = pty.fork()
    if pid == 0:
        os.execvp(sys.argv[2], sys.argv[2:])
    while True:
        try:
            data = os.read(screen, 4096)
        except OSError:  # EIO: the terminal was hung up
            break
        if not data:
            break
        log.write(data)
    os.waitpid(pid, 0)
"""


@pytest.mark.parametrize("end", TERMINAL_ENDS)
def test_make_run_as_the_terminals_own_program_stops_when_the_terminal_or_make_ends(
    end, make_runs: MakeRuns
) -> None:
    """ "terminal-closed": the terminal's process is killed with SIGKILL, so the terminal closes
    under make: make run notices it lost its terminal and stops everything, make with it.
    "kill-9-make": make, the terminal's own program, killed with SIGKILL: make run gets the
    parent-death SIGTERM and the SIGHUP of the session's end together, and stops once."""
    run = make_runs.take(f"terminal:{end}")
    terminal, url, log = run.process, run.url, run.log
    site_port, engine_port = run.site_port, run.engine_port
    tree: dict[int, str] = {}
    try:
        _serving_wait(log=log, process=terminal)
        assert _post_count(url) == 1
        tree = _tree(terminal.pid)
        (make,) = [pid for pid, (parent, _, _) in _processes().items() if parent == terminal.pid]
        assert Path(f"/proc/{make}/cmdline").read_bytes() == b"make\0run\0"
        os.kill(terminal.pid if end == "terminal-closed" else make, signal.SIGKILL)

        assert _gone_wait(tree) == []  # make, run_local, the engine, the server, its reloader
        assert not dynamodb_local.port_in_use(site_port)
        assert not dynamodb_local.port_in_use(engine_port)
        assert not (run.folder / "data" / "endpoint").exists()
    finally:
        run.close(tree)  # whatever a failed test left running
    text = log.read_text(errors="replace")  # what reached the terminal before it closed
    assert "Traceback" not in text and "ignored" not in text, text


def _settings_endpoint(env: dict[str, str]) -> str:
    script = "from resume_site import settings; print(settings.DYNAMODB_ENDPOINT_URL)"
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_after_a_kill_9_of_its_whole_group_the_stale_record_trips_nothing_and_all_starts_again(
    make_runs: MakeRuns,
) -> None:
    """`kill -9` of make's whole group, run_local with it: the engine and the autoreloader are
    told (Linux) and end, leaving both ports free; nothing stops them gracefully, so nothing is
    said, and nothing can remove the engine's record. The record is then stale (its engine no
    longer runs): the settings ignore it, as createadmin would, and the next make run removes
    it, says so, and records its own engine. That next one (run_local itself, on other ports)
    says each start-up line once and "Serving" once the site answers, counting on the first
    run's data; serves the site's 404 page and the static files; createadmin, given the data
    folder but no endpoint, finds its engine on its odd port; Ctrl-C stops it, status 0, its
    record removed."""
    if not sys.platform.startswith("linux"):
        pytest.skip(ONLY_LINUX)
    run = make_runs.take("kill-9-all")
    first, env, url, log, folder = run.process, run.env, run.url, run.log, run.folder
    record = folder / "data" / "endpoint"
    tree: dict[int, str] = {}
    try:
        _serving_wait(log=log, process=first)
        assert _post_count(url) == 1
        tree = _tree(first.pid)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=STOPPED_WITHIN)
        assert _gone_wait(tree) == []
        assert not dynamodb_local.port_in_use(run.site_port)
        assert not dynamodb_local.port_in_use(run.engine_port)
    finally:
        run.close(tree)
    text = log.read_text()
    assert "Traceback" not in text and "TimeoutExpired" not in text, text
    assert "ignored due to race condition" not in text, text
    stale_address, _ = record.read_text().split()
    assert stale_address == f"http://127.0.0.1:{env['DYNAMODB_LOCAL_PORT']}"
    assert _settings_endpoint(env) == "http://127.0.0.1:8001"  # as with no make run at all

    # The next make run, on other ports this time: the stale record is no other make run.
    env, url, _, engine_port = _environment(folder)
    log = folder / "second.log"
    with log.open("w") as output:
        second = subprocess.Popen(
            [sys.executable, "scripts/run_local.py"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _serving_wait(log=log, process=second)
        assert "left by a make run that was killed" in log.read_text()
        # Once it says so, the site answers and counts: the engine and the table are ready too,
        # with the first run's view on disk.
        assert _post_count(url) == 2
        # A missing page is the site's own 404 page (DEBUG is off unless asked for), and the
        # static files it links are served all the same.
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{url}/no-such-page/", timeout=10)
        assert missing.value.code == 404
        assert "<title>Page not found</title>" in missing.value.read().decode()
        with urllib.request.urlopen(f"{url}/static/css/resume.css", timeout=10) as css:
            assert css.status == 200
        # The record: the engine's address, then its process id (the JVM's).
        address, pid = record.read_text().split()
        assert address == f"http://127.0.0.1:{engine_port}"
        assert "DynamoDBLocal.jar" in Path(f"/proc/{pid}/cmdline").read_text()
        # createadmin, given the data folder but no endpoint, finds the engine on its odd port.
        created = subprocess.run(
            [sys.executable, "manage.py", "createadmin", "alex"],
            cwd=ROOT,
            env={**env, "ADMIN_PASSWORD": PASSWORD},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert created.returncode == 0, created.stderr
        listed = subprocess.run(
            [sys.executable, "manage.py", "createadmin", "--list"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert listed.stdout.startswith("alex\tactive"), listed.stderr
        second.send_signal(signal.SIGINT)
        assert second.wait(timeout=STOPPED_WITHIN) == 0
    finally:
        for pid in _tree(second.pid):  # whatever a failed test left running
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        second.wait()
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    start_up = lines[: next(i for i, line in enumerate(lines) if line.startswith("Serving"))]
    assert len(set(start_up)) == len(start_up), "\n".join(start_up)
    assert sum(line.startswith("Serving the site on") for line in lines) == 1
    assert "Traceback" not in log.read_text()
    assert not record.exists()
