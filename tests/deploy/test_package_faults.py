"""The fault matrix, through the built zip: every fault DynamoDB or the network between can show
(harness/fault_proxy.py) against every path the site serves, in a warm process and, at the same
time, in a fresh one started while the fault is on, with the limits the package ships with.

Each cell checks the answer's status and shape, the handler's time, and, for the fault as a
whole, the stored total against the views the site acknowledged: a POST answered 200 with
`counted: true` is stored, a POST answered 503 is stored at most once, and a fault that never
lets a request reach the engine stores nothing. After the engine recovers, the same warm process
works on its next request.

Handler time: the fault may add at most the request's DynamoDB budget (DYNAMODB_API_BUDGET,
DYNAMODB_ADMIN_BUDGET) to what the same path costs with the engine healthy in a process as warm
(or as fresh); on a loaded machine that healthy cost is noisy, so it is allowed twice over, plus
a fixed slack.
"""

import json
import secrets
import string
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.auth.hashers import make_password
from django.test import override_settings

from harness.fault_proxy import FaultProxy
from harness.lambda_host import API_HOST, LambdaProcess
from tests.conftest import stored_views
from tests.deploy.conftest import stage_table
from tests.deploy.test_package import body_text, rest_event
from tests.owners.conftest import PASSWORD

pytestmark = [pytest.mark.dynamodb_local, pytest.mark.slow]

OWNER = "owner"
# The fresh process's run signs in as a second owner: a sign-out that reaches the engine ends
# every session of its account, and the two runs go at the same time.
FRESH_OWNER = "owner-fresh"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
CSRF_SECRET = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
API_BUDGET, ADMIN_BUDGET = 1.0, 2.0  # the settings' defaults, which the package ships with
SLACK_SECONDS = 0.3
LATE_SHORT = 0.5  # seconds: an answer late by less than the 1 s read timeout
# And by more than any request's whole budget (DYNAMODB_ADMIN_BUDGET, 2 s): a call now waits
# the budget's time left, so 2.0 s late was a coin toss between answered and timed out.
LATE_LONG = 3.0
# Faults whose requests never reach the engine: a failed POST stored nothing.
NOTHING_APPLIED = {"refused", "hung", "throttled", "error500", "malformed"}
FAULTS = ["refused", "hung", "late-short", "late-long", "dropped", "throttled", "error500",
          "malformed"]  # fmt: skip


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Ledger:
    """What the site told visitors: views acknowledged, and POSTs whose count is unknown."""

    acknowledged: int = 0
    ambiguous: int = 0
    sessions: dict[str, str] = field(default_factory=dict)


def invoke(process: LambdaProcess, event: dict[str, Any]) -> Answer:
    answer = process.invoke(event)
    assert "response" in answer, answer.get("raised")
    response = answer["response"]
    headers = {name.lower(): value for name, value in response.get("headers", {}).items()}
    for name, values in response.get("multiValueHeaders", {}).items():
        headers[name.lower()] = "\n".join(values)
    return Answer(response["statusCode"], headers, body_text(response), answer["handler_ms"] / 1000)


def event(method: str, path: str, *, ip: str, session: str | None = None, form=None):
    headers = {"User-Agent": BROWSER}
    cookies = {"sessionid": session} if session else {}
    body = None
    if form is not None:
        cookies["csrftoken"] = CSRF_SECRET
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Origin"] = f"https://{API_HOST}"
        body = urlencode({**form, "csrfmiddlewaretoken": CSRF_SECRET})
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    return rest_event(method, path, source_ip=ip, headers=headers, body=body)


def session_of(answer: Answer) -> str:
    for line in answer.headers.get("set-cookie", "").split("\n"):
        if line.startswith("sessionid="):
            return line.split(";", 1)[0].removeprefix("sessionid=")
    return ""


# --- The paths --------------------------------------------------------------------------------


def post_count(process, *, ip: str, ledger: Ledger, **_) -> Answer:
    answer = invoke(process, event("POST", "/api/count", ip=ip))
    if answer.status == 200 and answer.json()["counted"]:
        ledger.acknowledged += 1
    elif answer.status == 503:
        ledger.ambiguous += 1
    return answer


def get_count(process, *, ip: str, **_) -> Answer:
    return invoke(process, event("GET", "/api/count", ip=ip))


def page(process, *, ip: str, **_) -> Answer:
    return invoke(process, event("GET", "/", ip=ip))


def robots(process, *, ip: str, **_) -> Answer:
    return invoke(process, event("GET", "/robots.txt", ip=ip))


def sign_in(process, *, ip: str, user: str = OWNER, password: str = PASSWORD, **_) -> Answer:
    form = {"username": user, "password": password, "next": "/prod/admin/"}
    return invoke(process, event("POST", "/admin/login/", ip=ip, form=form))


def dashboard(process, *, ip: str, session: str, **_) -> Answer:
    return invoke(process, event("GET", "/admin/", ip=ip, session=session))


def sign_out(process, *, ip: str, session: str, **_) -> Answer:
    return invoke(process, event("POST", "/admin/logout/", ip=ip, session=session, form={}))


PATHS: dict[str, tuple[Callable[..., Answer], float]] = {
    "POST /api/count": (post_count, API_BUDGET),
    "GET /api/count": (get_count, API_BUDGET),
    "GET /": (page, 0.0),
    "GET /robots.txt": (robots, 0.0),
    "sign-in": (sign_in, ADMIN_BUDGET),
    "dashboard": (dashboard, ADMIN_BUDGET),
    "sign-out": (sign_out, ADMIN_BUDGET),
}


SIGNED_IN_PATHS = {"dashboard", "sign-out"}


# --- What each path must answer ---------------------------------------------------------------


def api_unavailable(answer: Answer) -> None:
    assert answer.status == 503, answer.body[:300]
    assert answer.headers["content-type"] == "application/json"
    error = answer.json()["error"]
    assert error["code"] == "counter_unavailable" and error["message"]
    assert int(answer.headers["retry-after"]) > 0
    assert "no-store" in answer.headers["cache-control"]


def count_answered(answer: Answer) -> None:
    assert answer.status == 200, answer.body[:300]
    assert set(answer.json()) == {"count", "counted"}


def sign_in_unavailable(answer: Answer) -> None:
    assert answer.status == 200, answer.body[:300]
    assert "Sign-in is unavailable right now" in answer.body
    assert not session_of(answer)


def signed_in(answer: Answer) -> None:
    assert answer.status == 302 and answer.headers["location"] == "/prod/admin/"
    assert session_of(answer)


def admin_unavailable(answer: Answer) -> None:
    assert answer.status == 503, answer.body[:300]
    assert "your sign-in could not be checked" in answer.body
    assert "no-cache" in answer.headers["cache-control"]


def dashboard_shown(answer: Answer) -> None:
    assert answer.status == 200, answer.body[:300]
    assert 'id="total-views"' in answer.body or "figures are unavailable" in answer.body


def signed_out_here(answer: Answer) -> None:
    assert answer.status == 503, answer.body[:300]
    assert "You are signed out on this browser" in answer.body
    assert session_of(answer) == '""' or session_of(answer) == ""
    assert "sessionid=" in answer.headers.get("set-cookie", "")  # the cookie is deleted


def signed_out(answer: Answer) -> None:
    assert answer.status == 200, answer.body[:300]
    assert "sessionid=" in answer.headers.get("set-cookie", "")


def page_rendered(answer: Answer) -> None:
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/html")


def robots_rendered(answer: Answer) -> None:
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert "Disallow: /admin/" in answer.body


def one_of(*checks: Callable[[Answer], None]) -> Callable[[Answer], None]:
    """Answers that depend on where the budget runs out (late answers): any listed one."""

    def check(answer: Answer) -> None:
        failures = []
        for candidate in checks:
            try:
                candidate(answer)
            except AssertionError as error:
                failures.append(f"{candidate.__name__}: {error}")
            else:
                return
        raise AssertionError("; ".join(failures))

    return check


def expected(fault: str, path: str) -> Callable[[Answer], None]:
    if path == "GET /":
        return page_rendered
    if path == "GET /robots.txt":
        return robots_rendered
    # One late answer fits the budget; a few in a row do not. A warm POST waits on two round
    # trips (docs/architecture.md, "A POST's round trips"), which together take about the
    # budget: counted or refused, depending on a few milliseconds either way.
    if fault == "late-short":
        return {
            "POST /api/count": one_of(count_answered, api_unavailable),
            "GET /api/count": count_answered,
            "sign-in": signed_in,  # one round trip decides it (the sign-in tests below)
            "dashboard": one_of(dashboard_shown, admin_unavailable),
            "sign-out": one_of(signed_out, signed_out_here),
        }[path]
    return {
        "POST /api/count": api_unavailable,
        "GET /api/count": api_unavailable,
        "sign-in": sign_in_unavailable,
        "dashboard": admin_unavailable,
        "sign-out": signed_out_here,
    }[path]


# --- Fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def proxy(dynamodb_endpoint: str) -> Iterator[FaultProxy]:
    running = FaultProxy(dynamodb_endpoint)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def owner_table(stage_config: dict[str, Any], dynamodb_endpoint: str) -> Iterator[str]:
    """The stage's table (tests/deploy/conftest.py) with the owner's account in it."""
    from owners import services

    with stage_table(dynamodb_endpoint=dynamodb_endpoint, stage_config=stage_config) as table:
        with override_settings(
            DYNAMODB_ENDPOINT_URL=dynamodb_endpoint, DYNAMODB_TABLE=table, DYNAMODB_READ_TIMEOUT=30
        ):
            for user in (OWNER, FRESH_OWNER):
                services.account_create(username=user, password_hash=make_password(PASSWORD))
        yield table


@pytest.fixture(scope="module")
def start_process(task_dir, runtime_sdk_dir, lambda_environment, proxy, owner_table):
    started: list[LambdaProcess] = []

    def start() -> LambdaProcess:
        environment = lambda_environment(proxy.url, shipped_budgets=True)
        process = LambdaProcess(task=task_dir, sdk=runtime_sdk_dir, env=environment)
        started.append(process)
        return process

    yield start
    for process in started:
        process.close()


@pytest.fixture(scope="module")
def warm(start_process, proxy) -> LambdaProcess:
    process = start_process()
    for name in PATHS:  # every path once, so the process is warm for all of them
        if name not in SIGNED_IN_PATHS:
            PATHS[name][0](process, ip="192.0.2.250", ledger=Ledger())
    return process


@pytest.fixture(scope="module")
def healthy_seconds(warm) -> dict[str, float]:
    """What each path costs in the warm process with the engine healthy (best of three)."""
    costs = {}
    for name, (path, _) in PATHS.items():
        times = []
        for attempt in range(3):
            ip = f"192.0.2.{240 + attempt}"
            session = session_of(sign_in(warm, ip=ip)) if name in SIGNED_IN_PATHS else ""
            times.append(path(warm, ip=ip, session=session, ledger=Ledger()).seconds)
        costs[name] = min(times)
    return costs


@pytest.fixture(scope="module")
def fresh_healthy_seconds(start_process, warm) -> dict[str, float]:
    """What each path costs in a fresh process with the engine healthy, in the order the
    matrix sends them: the first uses of a process (the DynamoDB client, the crawler list, the
    admin's templates) are part of it."""
    session = session_of(sign_in(warm, ip="192.0.2.239"))
    process = start_process()
    return {
        name: path(process, ip=f"192.0.2.{230 + number}", session=session, ledger=Ledger()).seconds
        for number, (name, (path, _)) in enumerate(PATHS.items())
    }


# --- The matrix -------------------------------------------------------------------------------


def run_paths(process, *, fault: str, base_ip: str, session: str, user: str, healthy) -> Ledger:
    """Every path once under the fault; POST first, so a fresh process meets it cold."""
    ledger = Ledger()
    for number, (name, (path, budget)) in enumerate(PATHS.items()):
        ip = f"{base_ip}.{number + 1}"
        answer = path(process, ip=ip, session=session, user=user, ledger=ledger)
        expected(fault, name)(answer)
        allowed = budget + 2 * healthy[name] + SLACK_SECONDS
        assert answer.seconds <= allowed, (fault, name, answer.seconds, allowed)
    return ledger


@pytest.mark.parametrize("fault", FAULTS)
def test_every_path_keeps_its_promise_under_the_fault(
    fault,
    proxy,
    warm,
    start_process,
    healthy_seconds,
    fresh_healthy_seconds,
    dynamodb_endpoint,
    owner_table,
):
    octet = 10 + FAULTS.index(fault) * 10
    before = stored_views(dynamodb_endpoint, owner_table)
    fault_name = fault.removesuffix("-short").removesuffix("-long")
    proxy.delay = LATE_SHORT if fault == "late-short" else LATE_LONG
    # Each run signs in afresh, with the engine healthy, just before the fault; the fresh
    # process's run and the warm one's then go at the same time, each as its own owner.
    runs = {"fresh": FRESH_OWNER, "warm": OWNER}
    sessions = {
        started: session_of(sign_in(warm, ip=f"203.0.113.{octet + run}", user=user))
        for run, (started, user) in enumerate(runs.items())
    }
    assert all(sessions.values())

    def run_one(run: int, started: str) -> Ledger:
        # The fresh process is started while the fault is on: its first event meets it.
        process = start_process() if started == "fresh" else warm
        return run_paths(
            process,
            fault=fault,
            base_ip=f"198.51.{octet + run}",
            session=sessions[started],
            user=runs[started],
            healthy=fresh_healthy_seconds if started == "fresh" else healthy_seconds,
        )

    proxy.fault = fault_name
    try:
        with ThreadPoolExecutor(max_workers=len(runs)) as pool:
            ledgers = list(pool.map(run_one, range(len(runs)), runs))
    finally:
        proxy.fault = None
    ledger = Ledger(
        acknowledged=sum(one.acknowledged for one in ledgers),
        ambiguous=sum(one.ambiguous for one in ledgers),
    )

    # The same warm process works on its next request.
    recovered = post_count(warm, ip=f"192.0.{octet}.1", ledger=ledger)
    assert recovered.status == 200 and recovered.json()["counted"] is True
    signed = sign_in(warm, ip=f"192.0.{octet}.2")
    signed_in(signed)
    assert dashboard(warm, ip=f"192.0.{octet}.2", session=session_of(signed)).status == 200

    added = stored_views(dynamodb_endpoint, owner_table) - before
    assert ledger.acknowledged <= added <= ledger.acknowledged + ledger.ambiguous
    if fault in NOTHING_APPLIED:
        assert added == ledger.acknowledged


# --- The owner's sign-in under faults -----------------------------------------------------------
#
# A sign-in reads the account and its pause in one request and writes only once its password is
# known to be wrong (docs/architecture.md, Data model, "Sign-in attempts"): while the engine
# answers within the budget the owner signs in, and whatever it does, nothing is counted against
# the owner, so the right password signs in at once when it answers again. Each cell runs in the
# warm process and, at the same time, in a fresh one whose first event meets the fault, each as
# its own owner from one client address (a failure counted there would pause it after five).

SIGN_IN_RUNS = {"fresh": FRESH_OWNER, "warm": OWNER}
SIGN_IN_CELLS = ["late-0.5", "late-1.0", "hung", "stalled"]


def failures_stored(endpoint: str, table: str) -> list[str]:
    """The keys of the sign-in failure items, read straight from the engine."""
    import boto3

    engine = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    items = engine.scan(TableName=table, ConsistentRead=True)["Items"]
    return [item["pk"]["S"] for item in items if item["pk"]["S"].startswith("login-failures#")]


@dataclass
class SignInRun:
    process: LambdaProcess
    user: str
    ip: str


def sign_in_runs(cell: str, warm: LambdaProcess, start_process) -> dict[str, SignInRun]:
    """The warm process and a fresh one, started now (under the fault, if one is on), each with
    its owner and its one client address for the cell."""
    octet = SIGN_IN_CELLS.index(cell)
    return {
        started: SignInRun(
            process=warm if started == "warm" else start_process(),
            user=user,
            ip=f"198.18.{octet}.{number + 1}",
        )
        for number, (started, user) in enumerate(SIGN_IN_RUNS.items())
    }


def together[T](runs: dict[str, SignInRun], call: Callable[[SignInRun], T]) -> dict[str, T]:
    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        return dict(zip(runs, pool.map(call, runs.values()), strict=True))


@pytest.mark.parametrize("late", [LATE_SHORT, 1.0])
def test_the_right_password_signs_in_while_every_answer_comes_late(
    late, proxy, warm, start_process, healthy_seconds, dynamodb_endpoint, owner_table
):
    proxy.delay = late
    proxy.fault = "late"
    try:
        runs = sign_in_runs(f"late-{late}", warm, start_process)
        answers = together(runs, lambda run: sign_in(run.process, ip=run.ip, user=run.user))
    finally:
        proxy.fault = None

    for answer in answers.values():
        signed_in(answer)
    # The read, then the last login's update, which may time out without stopping the sign-in.
    allowed = ADMIN_BUDGET + 2 * healthy_seconds["sign-in"] + SLACK_SECONDS
    assert answers["warm"].seconds <= allowed, (late, answers["warm"].seconds, allowed)
    assert failures_stored(dynamodb_endpoint, owner_table) == []


@pytest.mark.parametrize("fault", ["hung", "stalled"])
def test_after_a_hung_or_stalled_engine_the_right_password_signs_in_at_once(
    fault, proxy, warm, start_process, healthy_seconds, dynamodb_endpoint, owner_table
):
    """Five sign-ins while the engine does not answer (the right password, and wrong ones,
    never checked), then the engine answers again (a stalled one first applies what it held):
    the next sign-in of the same client with the right password gets in."""
    guesses = [PASSWORD, "wrong-guess", PASSWORD, "wrong-guess", PASSWORD]
    proxy.fault = fault
    try:
        runs = sign_in_runs(fault, warm, start_process)
        answers = together(
            runs,
            lambda run: [
                sign_in(run.process, ip=run.ip, user=run.user, password=guess) for guess in guesses
            ],
        )
    finally:
        proxy.fault = None
    assert proxy.wait_released()

    allowed = ADMIN_BUDGET + 2 * healthy_seconds["sign-in"] + SLACK_SECONDS
    for started, attempts in answers.items():
        for answer in attempts:
            sign_in_unavailable(answer)
            if started == "warm":  # the fresh process's first event also starts its client
                assert answer.seconds <= allowed, (fault, answer.seconds, allowed)
    assert failures_stored(dynamodb_endpoint, owner_table) == []
    for run in runs.values():
        signed_in(sign_in(run.process, ip=run.ip, user=run.user))
