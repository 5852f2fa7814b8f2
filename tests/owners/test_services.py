"""owners/services.py: accounts and sign-in attempts; single calls against moto's DynamoDB,
attempts running at once against DynamoDB Local."""

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from owners import services
from tests.conftest import ALICE, BOB, CLOSED_ENDPOINT


def test_a_created_account_reads_back_the_same(moto_table):
    made = services.account_create(username="alex", password_hash="md5$salt$hash")
    assert made.active
    assert services.account_get(username="alex") == made
    assert services.account_get(username="nobody") is None


def test_account_create_refuses_a_duplicate_and_keeps_the_first(moto_table):
    services.account_create(username="alex", password_hash="first")
    with pytest.raises(services.AccountExists):
        services.account_create(username="alex", password_hash="second")
    assert services.account_get(username="alex").password_hash == "first"


def test_account_updates_need_an_existing_account(moto_table):
    for update in (
        lambda: services.account_set_password(username="ghost", password_hash="x"),
        lambda: services.account_set_active(username="ghost", active=False),
        lambda: services.account_record_login(username="ghost", when=dt.datetime.now(dt.UTC)),
        lambda: services.account_end_sessions(username="ghost"),
    ):
        with pytest.raises(services.AccountNotFound):
            update()
    assert services.account_get(username="ghost") is None  # no half-made item either


def test_account_updates_change_only_their_attribute(moto_table):
    services.account_create(username="alex", password_hash="old")
    when = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)
    services.account_set_password(username="alex", password_hash="new")
    services.account_set_active(username="alex", active=False)
    services.account_record_login(username="alex", when=when)
    account = services.account_get(username="alex")
    assert (account.password_hash, account.active, account.last_login) == ("new", False, when)


def test_account_list_is_sorted_and_empty_at_first(moto_table):
    assert services.account_list() == []
    for name in ("sam", "alex", "kim"):
        services.account_create(username=name, password_hash="h")
    assert [account.username for account in services.account_list()] == ["alex", "kim", "sam"]


def test_account_calls_raise_owners_unavailable_when_the_engine_is_unreachable(settings):
    settings.DYNAMODB_ENDPOINT_URL = CLOSED_ENDPOINT
    for call in (
        lambda: services.account_get(username="alex"),
        lambda: services.account_create(username="alex", password_hash="h"),
        lambda: services.account_set_active(username="alex", active=False),
        lambda: services.account_end_sessions(username="alex"),
        services.account_list,
    ):
        with pytest.raises(services.OwnersUnavailable):
            call()


# --- Session versions ------------------------------------------------------------------------


def test_an_account_item_from_before_session_versions_reads_version_0(moto_table):
    boto3.client("dynamodb", region_name="us-east-1").put_item(
        TableName=moto_table,
        Item={
            "pk": {"S": "owner#old"},
            "username": {"S": "old"},
            "password": {"S": "h"},
            "active": {"BOOL": True},
            "created": {"S": "2026-01-02T03:04:05.000000+0000"},
        },
    )
    assert services.account_get(username="old").session_version == 0
    assert services.account_end_sessions(username="old").session_version == 1


def test_ending_sessions_adds_one_to_the_version_and_returns_the_account(moto_table):
    services.account_create(username="alex", password_hash="h")
    assert services.account_get(username="alex").session_version == 0
    ended = services.account_end_sessions(username="alex")
    assert ended.session_version == 1
    assert ended == services.account_get(username="alex")
    assert services.account_end_sessions(username="alex").session_version == 2


def test_a_password_change_or_deactivation_ends_sessions_and_reactivation_does_not(moto_table):
    services.account_create(username="alex", password_hash="old")
    changed = services.account_set_password(username="alex", password_hash="new")
    assert (changed.password_hash, changed.session_version) == ("new", 1)
    assert services.account_set_active(username="alex", active=False).session_version == 2
    assert services.account_set_active(username="alex", active=True).session_version == 2


@pytest.mark.dynamodb_local
def test_logouts_at_once_each_raise_the_version(ddb_table, settings):
    settings.DYNAMODB_READ_TIMEOUT = 10.0  # a loaded machine must not turn a wait into a failure
    services.account_create(username="alex", password_hash="h")
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: services.account_end_sessions(username="alex"), range(16)))
    assert services.account_get(username="alex").session_version == 16


# --- Sign-in attempts ---------------------------------------------------------------------------

T0 = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC).timestamp()
WINDOW = 900
OTHER_IP = "192.0.2.99"


@pytest.fixture
def limits(settings) -> None:
    settings.LOGIN_MAX_FAILURES = 5
    settings.LOGIN_MAX_CLIENT_FAILURES = 20
    settings.LOGIN_FAILURE_WINDOW_SECONDS = WINDOW


def _fail(username: str, ip: str, *, at: float) -> None:
    """A sign-in at `at` whose password was wrong."""
    state = services.login_state_get(username=username, network=ip, now=at)
    assert state.retry_after == 0
    services.login_failure_record(state=state)


def _retry_after(username: str, ip: str, *, at: float) -> int:
    """The pause a sign-in at `at` meets (a right password, or a paused one, records nothing)."""
    return services.login_state_get(username=username, network=ip, now=at).retry_after


def _paused(username: str, ip: str, *, at: float) -> services.Paused | None:
    return services.login_state_get(username=username, network=ip, now=at).paused


def test_five_failures_of_a_pair_pause_it_and_four_do_not(moto_table, limits):
    for second in range(4):
        _fail("alex", ALICE.ip, at=T0 + second)
    assert _retry_after("alex", ALICE.ip, at=T0 + 10) == 0
    assert _paused("alex", ALICE.ip, at=T0 + 10) is None
    _fail("alex", ALICE.ip, at=T0 + 20)
    assert _retry_after("alex", ALICE.ip, at=T0 + 30) > 0
    assert _paused("alex", ALICE.ip, at=T0 + 30) is services.Paused.USERNAME
    assert _paused("sam", ALICE.ip, at=T0 + 30) is None


def test_a_paused_pair_does_not_stop_the_same_username_from_another_ip(moto_table, limits):
    for second in range(5):
        _fail("alex", ALICE.ip, at=T0 + second)
    assert _retry_after("alex", ALICE.ip, at=T0 + 10) > 0
    assert _retry_after("alex", BOB.ip, at=T0 + 10) == 0


def test_failures_over_many_usernames_pause_the_client_ip_for_every_name(moto_table, limits):
    for number in range(20):  # four per name: no pair reaches five
        _fail(f"name-{number // 4}", ALICE.ip, at=T0 + number)
    assert _retry_after("alex", ALICE.ip, at=T0 + 30) > 0
    assert _paused("alex", ALICE.ip, at=T0 + 30) is services.Paused.NETWORK
    assert _retry_after("alex", BOB.ip, at=T0 + 30) == 0


def test_the_pause_named_is_the_one_that_holds_longer(moto_table, limits):
    """Both limits reached: a sign-in is told of the pause that ends last; other usernames of
    the network, of the network's pause."""
    for number in range(15):  # fifteen failures of other names, three each
        _fail(f"name-{number // 3}", ALICE.ip, at=T0 + number)
    for second in range(5):  # alex's five, later: the pair's pause ends after the network's
        _fail("alex", ALICE.ip, at=T0 + 100 + second)
    assert _paused("alex", ALICE.ip, at=T0 + 200) is services.Paused.USERNAME
    assert _paused("sam", ALICE.ip, at=T0 + 200) is services.Paused.NETWORK
    assert _paused("alex", ALICE.ip, at=T0 + WINDOW + 50) is services.Paused.USERNAME
    assert _paused("sam", ALICE.ip, at=T0 + WINDOW + 50) is None


def test_two_pauses_that_end_together_are_named_the_networks(moto_table, limits):
    for second in range(5):
        _fail("alex", ALICE.ip, at=T0 + second)
    for number in range(15):
        _fail(f"name-{number // 3}", ALICE.ip, at=T0 + 10 + number)
    assert _paused("alex", ALICE.ip, at=T0 + 100) is services.Paused.NETWORK


def test_the_pause_lasts_until_the_fifth_last_failure_is_one_window_old(moto_table, limits):
    for second in (0, 100, 200, 300, 400):
        _fail("alex", ALICE.ip, at=T0 + second)
    assert _retry_after("alex", ALICE.ip, at=T0 + 401) == WINDOW - 401
    assert _retry_after("alex", ALICE.ip, at=T0 + WINDOW - 0.5) == 1
    assert _retry_after("alex", ALICE.ip, at=T0 + WINDOW) == 0


def test_the_window_slides_across_midnight(moto_table, limits):
    midnight = dt.datetime(2026, 11, 24, tzinfo=dt.UTC).timestamp()
    for second in (-240, -180, -120, -60):
        _fail("alex", ALICE.ip, at=midnight + second)
    _fail("alex", ALICE.ip, at=midnight + 60)
    assert _retry_after("alex", ALICE.ip, at=midnight + 120) == WINDOW - 240 - 120


def test_refused_attempts_neither_count_nor_lengthen_the_pause(moto_table, limits, table_scan):
    for second in range(5):
        _fail("alex", ALICE.ip, at=T0 + second)
    for second in range(10, 600, 20):
        assert _retry_after("alex", ALICE.ip, at=T0 + second) == WINDOW - second
    pair = [item for item in table_scan() if item["pk"]["S"].startswith("login-failures#pair#")]
    assert len(pair[0]["attempts"]["SS"]) == 5
    assert _retry_after("alex", ALICE.ip, at=T0 + WINDOW) == 0


def test_successful_attempts_are_not_counted(moto_table, limits):
    for second in range(10):
        assert _retry_after("alex", ALICE.ip, at=T0 + second) == 0


def test_reading_a_sign_in_writes_nothing(moto_table, limits, table_scan, fast_passwords):
    services.account_create(username="alex", password_hash="h")
    for second in range(10):  # more than either limit: a sign-in not yet checked is no failure
        state = services.login_state_get(username="alex", network=ALICE.network, now=T0 + second)
        assert (state.account.username, state.retry_after) == ("alex", 0)
    assert not [item for item in table_scan() if item["pk"]["S"].startswith("login-failures#")]


def test_a_sign_in_reads_the_account_and_both_pauses_in_one_request(moto_table, limits):
    from core.dynamodb import TableModel

    services.account_create(username="alex", password_hash="h")
    _fail("alex", ALICE.ip, at=T0)
    sent = []
    events = TableModel._get_connection().connection.client.meta.events
    events.register("before-send.dynamodb", lambda request, **_: sent.append(request))
    state = services.login_state_get(username="alex", network=ALICE.network, now=T0 + 1)
    assert [request.headers["X-Amz-Target"] for request in sent] == [
        b"DynamoDB_20120810.BatchGetItem"
    ]
    assert state.account == services.account_get(username="alex")
    assert state.retry_after == 0
    assert services.login_state_get(username="kim", network=ALICE.network).account is None


def test_a_failure_is_counted_once_in_the_pair_and_once_in_the_client(
    moto_table, limits, table_scan
):
    _fail("alex", ALICE.ip, at=T0)
    items = {item["pk"]["S"].split("#")[1]: item for item in table_scan()}
    assert sorted(items) == ["client", "pair"]
    assert [len(item["attempts"]["SS"]) for item in items.values()] == [1, 1]
    assert all(int(item["expires"]["N"]) == int(T0) + 2 * WINDOW for item in items.values())


def test_failures_older_than_the_window_are_dropped_from_the_items(moto_table, limits, table_scan):
    for second in range(3):
        _fail("alex", ALICE.ip, at=T0 + second)
    _fail("alex", ALICE.ip, at=T0 + WINDOW + 10)
    for item in table_scan():
        if item["pk"]["S"].startswith("login-failures#"):
            assert [entry.split()[0] for entry in item["attempts"]["SS"]] == [
                f"{T0 + WINDOW + 10:.6f}"
            ]


def test_the_table_holds_no_typed_username_or_ip(moto_table, limits, table_scan):
    _fail("Alex.Owner", ALICE.ip, at=T0)
    _fail("Alex.Owner", "2001:db8::7", at=T0)
    stored = repr(table_scan()).lower()
    assert "alex" not in stored
    assert ALICE.ip not in stored
    assert "2001:db8" not in stored


def test_usernames_are_keyed_hashes_of_one_normal_form(settings):
    settings.SECRET_KEY = "k" * 50
    pair, client = services._attempt_keys("Alex", ALICE.ip)
    assert services._attempt_keys("ALEX", ALICE.ip) == (pair, client)
    assert services._attempt_keys("\uff21lex", ALICE.ip) == (pair, client)  # fullwidth A
    assert pair.startswith("login-failures#pair#") and pair.endswith(client.rsplit("#", 1)[1])
    assert services._attempt_keys("Alex", BOB.ip)[0] != pair
    settings.SECRET_KEY = "m" * 50  # another secret: unrelated keys
    assert not set(services._attempt_keys("Alex", ALICE.ip)) & {pair, client}


def test_an_unknown_client_starts_no_attempt_and_writes_nothing(moto_table, limits, table_scan):
    """An empty network would be one client for every unknown sender: each one's failures
    would pause all of them, the owner included."""
    with pytest.raises(ValueError, match="unknown client"):
        services.login_state_get(username="alex", network="", now=T0)
    with pytest.raises(ValueError, match="unknown client"):
        services._attempt_keys("alex", "")
    assert table_scan() == []


def test_the_pause_is_counted_in_the_configured_window(moto_table, settings):
    settings.LOGIN_MAX_FAILURES = 2
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 60
    _fail("alex", ALICE.ip, at=T0)
    _fail("alex", ALICE.ip, at=T0 + 30)
    assert _retry_after("alex", ALICE.ip, at=T0 + 31) == 29
    assert _retry_after("alex", ALICE.ip, at=T0 + 60) == 0


def test_attempt_calls_raise_owners_unavailable_when_the_engine_is_unreachable(settings):
    settings.DYNAMODB_ENDPOINT_URL = CLOSED_ENDPOINT
    state = services.LoginState(
        account=None, keys=("login-failures#client#x",), stale=(frozenset(),), now=T0, retry_after=0
    )
    for call in (
        lambda: services.login_state_get(username="alex", network=ALICE.network),
        lambda: services.login_failure_record(state=state),
    ):
        with pytest.raises(services.OwnersUnavailable):
            call()


@pytest.mark.dynamodb_local
def test_wrong_passwords_arriving_together_are_each_counted(ddb_table, limits, settings):
    """Sign-ins of one pair at the same moment each read no failure, so each is checked; the
    failures of the wrong ones are atomic ADDs, so none is lost, and the pause then applies
    (docs/architecture.md, "Sign-in attempts", says what this costs under concurrency)."""
    settings.DYNAMODB_READ_TIMEOUT = 10.0  # a loaded machine must not turn a wait into a retry
    threads = 16
    barrier = threading.Barrier(threads)

    def attempt(_: int) -> bool:
        barrier.wait()
        state = services.login_state_get(username="alex", network=ALICE.network)
        if state.retry_after:
            return False
        services.login_failure_record(state=state)  # each guess was wrong
        return True

    with ThreadPoolExecutor(max_workers=threads) as pool:
        checked = sum(pool.map(attempt, range(threads)))
    engine = boto3.client(
        "dynamodb", endpoint_url=settings.DYNAMODB_ENDPOINT_URL, region_name="us-east-1"
    )
    pair, client = services._attempt_keys("alex", ALICE.network)
    for key in (pair, client):
        item = engine.get_item(TableName=ddb_table, Key={"pk": {"S": key}}, ConsistentRead=True)
        assert len(item["Item"]["attempts"]["SS"]) == checked
    assert checked >= 1
    assert services.login_state_get(username="alex", network=ALICE.network).retry_after > 0
