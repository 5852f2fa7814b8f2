"""owners/services.py: accounts and failed sign-ins, single calls against moto's DynamoDB."""

import datetime as dt

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
        services.account_list,
    ):
        with pytest.raises(services.OwnersUnavailable):
            call()


# --- Sign-in failures -------------------------------------------------------------------------

NOON = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)


def _fail(subjects: list[str], times: int, now: dt.datetime) -> None:
    for _ in range(times):
        services.login_failure_record(subjects=subjects, now=now)


def test_login_subjects_are_the_username_and_a_hash_of_the_client(moto_table):
    subjects = services.login_subjects(username="Alex", client=ALICE)
    assert subjects[0] == "user#alex"
    assert subjects[1].startswith("client#")
    assert ALICE.ip not in subjects[1]
    assert services.login_subjects(username="alex", client=BOB)[1] != subjects[1]


def test_sign_in_calls_raise_owners_unavailable_when_the_engine_is_unreachable(settings):
    settings.DYNAMODB_ENDPOINT_URL = CLOSED_ENDPOINT
    # login_subjects reaches the table through the counter's daily hash: still owners' error.
    for call in (
        lambda: services.login_subjects(username="alex", client=ALICE),
        lambda: services.login_is_locked(subjects=["user#alex"]),
        lambda: services.login_failure_record(subjects=["user#alex"]),
    ):
        with pytest.raises(services.OwnersUnavailable):
            call()


def test_five_failures_lock_and_four_do_not(moto_table, settings):
    settings.LOGIN_MAX_FAILURES = 5
    subjects = ["user#alex", "client#one"]
    _fail(subjects, 4, NOON)
    assert not services.login_is_locked(subjects=subjects, now=NOON)
    _fail(subjects, 1, NOON)
    assert services.login_is_locked(subjects=subjects, now=NOON)


def test_any_one_locked_subject_locks(moto_table):
    _fail(["client#one"], 5, NOON)  # one client tried five usernames
    assert services.login_is_locked(subjects=["user#kim", "client#one"], now=NOON)
    assert not services.login_is_locked(subjects=["user#kim", "client#two"], now=NOON)


def test_failures_at_the_start_of_a_window_lock_until_the_next_window_ends(moto_table, settings):
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 900
    window = dt.timedelta(seconds=900)
    assert NOON.timestamp() % 900 == 0  # NOON opens a window
    subjects = ["user#alex"]
    _fail(subjects, 5, NOON)
    assert services.login_is_locked(subjects=subjects, now=NOON + window)
    assert services.login_is_locked(subjects=subjects, now=NOON + 2 * window - SECOND)
    assert not services.login_is_locked(subjects=subjects, now=NOON + 2 * window)


def test_failures_at_the_end_of_a_window_lock_only_until_the_next_window_ends(moto_table, settings):
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 900
    window = dt.timedelta(seconds=900)
    subjects = ["user#alex"]
    _fail(subjects, 5, NOON - SECOND)  # the last second of the window before NOON's
    assert services.login_is_locked(subjects=subjects, now=NOON + window - SECOND)
    assert not services.login_is_locked(subjects=subjects, now=NOON + window)


def test_failures_are_atomic_adds_with_an_expiry(table_scan, settings):
    _fail(["user#alex"], 3, NOON)
    (item,) = table_scan()
    assert item["pk"]["S"].startswith("login-failures#user#alex#")
    assert item["failures"]["N"] == "3"
    expected = NOON + dt.timedelta(seconds=3 * settings.LOGIN_FAILURE_WINDOW_SECONDS)
    assert item["expires"]["N"] == str(int(expected.timestamp()))
