"""owners/forms.py: the sign-in form's pause after failures, on moto's DynamoDB."""

import pytest
from django.test import RequestFactory

from core.clients import Client
from owners import services
from owners.forms import NO_CLIENT, OwnerLoginForm
from tests.conftest import ALICE, BOB, CLOSED_ENDPOINT
from tests.owners.conftest import PASSWORD


def _form(username: str, password: str, client: Client = ALICE) -> OwnerLoginForm:
    request = RequestFactory().post(
        "/admin/login/", REMOTE_ADDR=client.ip, HTTP_USER_AGENT=client.user_agent
    )
    return OwnerLoginForm(request, data={"username": username, "password": password})


def _codes(form: OwnerLoginForm) -> list[str]:
    return [error.code for error in form.non_field_errors().as_data()]


@pytest.fixture
def limits(settings) -> None:
    settings.LOGIN_MAX_FAILURES = 5
    settings.LOGIN_MAX_CLIENT_FAILURES = 20
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 900


def test_the_right_password_signs_in_the_owner(alex):
    form = _form(alex, PASSWORD)
    assert form.is_valid()
    assert form.get_user().username == alex


def test_a_wrong_password_counts_one_failure_for_the_pair_and_the_client(alex, table_scan):
    form = _form(alex, "wrong-guess")
    assert not form.is_valid()
    assert _codes(form) == ["invalid_login"]
    items = [item for item in table_scan() if item["pk"]["S"].startswith("login-failures#")]
    assert sorted(item["pk"]["S"].split("#")[1] for item in items) == ["client", "pair"]
    assert [len(item["attempts"]["SS"]) for item in items] == [1, 1]


def _failure_items(table_scan) -> list[dict]:
    return [item for item in table_scan() if item["pk"]["S"].startswith("login-failures#")]


def test_a_successful_sign_in_writes_no_attempt_at_all(alex, table_scan, limits):
    for _ in range(25):  # past both limits: a right password is never a failure
        assert _form(alex, PASSWORD).is_valid()
    assert _failure_items(table_scan) == []


def _operations_of(form: OwnerLoginForm) -> list[str]:
    """The DynamoDB operations the form's validation sends, in order."""
    from core.dynamodb import TableModel

    sent: list[str] = []

    def record(request, **_) -> None:
        sent.append(request.headers["X-Amz-Target"].decode().rsplit(".", 1)[1])

    events = TableModel._get_connection().connection.client.meta.events
    events.register("before-send.dynamodb", record, unique_id="test-operations")
    try:
        form.is_valid()
    finally:
        events.unregister("before-send.dynamodb", unique_id="test-operations")
    return sent


def test_a_sign_in_writes_only_once_its_password_is_known_to_be_wrong(alex, settings):
    settings.LOGIN_MAX_FAILURES = 1
    assert _operations_of(_form(alex, PASSWORD)) == ["BatchGetItem"]
    assert _operations_of(_form(alex, "wrong-guess")) == ["BatchGetItem", *["UpdateItem"] * 2]
    assert _operations_of(_form(alex, PASSWORD)) == ["BatchGetItem"]  # paused, unchecked


def test_a_username_over_150_characters_is_a_form_error_that_reaches_no_table(alex, table_scan):
    form = _form("a" * 10_000, PASSWORD)
    assert _operations_of(form) == []
    assert "at most 150 characters" in str(form.errors["username"])
    assert _codes(form) == []  # neither "unavailable" nor a wrong password
    assert _failure_items(table_scan) == []
    assert _form("a" * 150, PASSWORD).errors.get("username") is None  # 150 is allowed


def test_sign_ins_the_engine_failed_before_the_check_count_nothing(alex, settings, table_scan):
    settings.DYNAMODB_ENDPOINT_URL = CLOSED_ENDPOINT
    for password in (PASSWORD, "wrong-guess") * 10:  # past both limits
        assert _codes(_form(alex, password)) == ["unavailable"]
    settings.DYNAMODB_ENDPOINT_URL = ""  # the engine is back (moto)
    assert _failure_items(table_scan) == []
    assert _form(alex, PASSWORD).is_valid()  # at once


def test_a_wrong_password_whose_failure_cannot_be_stored_is_still_a_wrong_password(
    alex, monkeypatch, caplog
):
    def unavailable(**kwargs):
        raise services.OwnersUnavailable()

    monkeypatch.setattr(services, "login_failure_record", unavailable)
    assert _codes(_form(alex, "wrong-guess")) == ["invalid_login"]
    assert "may not have been counted" in caplog.text
    assert _form(alex, PASSWORD).is_valid()  # nothing counted: the right password still works


def test_an_inactive_accounts_right_password_is_refused_but_not_counted(alex, table_scan):
    services.account_set_active(username=alex, active=False)
    assert _codes(_form(alex, PASSWORD)) == ["invalid_login"]
    assert _failure_items(table_scan) == []
    assert _codes(_form(alex, "wrong-guess")) == ["invalid_login"]
    assert len(_failure_items(table_scan)) == 2  # a wrong one is: the pair's and the client's


def test_past_the_limit_the_right_password_is_refused_with_the_true_wait(alex, limits):
    for _ in range(5):
        assert _codes(_form(alex, "wrong-guess")) == ["invalid_login"]
    form = _form(alex, PASSWORD)
    assert not form.is_valid()
    assert _codes(form) == ["locked"]
    # The first failure, seconds ago, leaves the 15-minute window in just under 15 minutes.
    assert "try again in 15 minutes" in str(form.non_field_errors())
    assert "for this username from your network address" in str(form.non_field_errors())
    assert "Signing in as this username from it is paused" in str(form.non_field_errors())


def test_a_paused_network_is_said_to_be_paused_for_every_username(alex, limits):
    for number in range(20):  # four failures each for five names: no pair reaches five
        assert _codes(_form(f"name-{number // 4}", "wrong-guess")) == ["invalid_login"]
    form = _form(alex, PASSWORD)
    assert _codes(form) == ["locked_network"]
    message = str(form.non_field_errors())
    assert "Signing in from it is paused for every username; try again in 15 minutes" in message
    assert _form(alex, PASSWORD, client=BOB).is_valid()


def test_a_short_remaining_wait_is_said_in_one_minute(alex, settings):
    settings.LOGIN_MAX_FAILURES = 1
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 60
    assert not _form(alex, "wrong-guess").is_valid()
    form = _form(alex, PASSWORD)
    assert not form.is_valid()
    assert "try again in 1 minute." in str(form.non_field_errors())


def test_a_new_user_agent_from_the_same_ip_is_still_paused(alex, limits):
    for _ in range(5):
        assert not _form(alex, "wrong-guess").is_valid()
    rotated = Client(ip=ALICE.ip, user_agent="Mozilla/5.0 (Rotated)")
    assert _codes(_form(alex, PASSWORD, client=rotated)) == ["locked"]


def test_the_owner_signs_in_from_another_ip_while_an_attacker_is_paused(alex, limits):
    for _ in range(5):
        assert not _form(alex, "wrong-guess").is_valid()
    assert _codes(_form(alex, PASSWORD)) == ["locked"]
    form = _form(alex, PASSWORD, client=BOB)
    assert form.is_valid()
    assert form.get_user().username == alex


def test_an_unknown_username_counts_like_a_wrong_password(alex, settings):
    settings.LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        assert _codes(_form("nobody", "guess")) == ["invalid_login"]
    assert _codes(_form("NOBODY", "guess")) == ["locked"]  # one name, however it is spelled
    assert _form(alex, PASSWORD).is_valid()


EDGE_SECRET = "s" * 40


@pytest.mark.parametrize(
    "unknown",
    [
        {"REMOTE_ADDR": ""},  # no address at all
        {"HTTP_X_ORIGIN_VERIFY": EDGE_SECRET},  # through the distribution, no viewer address
    ],
)
def test_a_sender_the_site_cannot_tell_is_refused_before_the_password_or_any_write(
    alex, settings, table_scan, monkeypatch, unknown
):
    settings.EDGE_ORIGIN_SECRETS = [EDGE_SECRET]
    checked = []
    monkeypatch.setattr(services, "account_get", lambda **kwargs: checked.append(kwargs))
    before = table_scan()
    request = RequestFactory().post("/admin/login/", **{"REMOTE_ADDR": "127.0.0.1", **unknown})

    for password in (PASSWORD, "wrong-guess"):
        form = OwnerLoginForm(request, data={"username": alex, "password": password})
        assert not form.is_valid()
        assert _codes(form) == [NO_CLIENT]
        assert "the site cannot tell where this request came from" in str(form.non_field_errors())
    assert checked == []
    assert table_scan() == before  # no attempt started, so no failure under any key


def test_an_unreachable_table_refuses_sign_in_as_unavailable(alex, settings):
    settings.DYNAMODB_ENDPOINT_URL = CLOSED_ENDPOINT
    form = _form(alex, PASSWORD)
    assert not form.is_valid()
    assert _codes(form) == ["unavailable"]


def test_an_engine_failure_while_storing_an_upgraded_hash_is_unavailable(
    alex, monkeypatch, settings, table_scan
):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]  # the right password's hash is upgraded as it signs in

    def unavailable(**kwargs):
        raise services.OwnersUnavailable()

    monkeypatch.setattr(services, "account_set_password", unavailable)
    form = _form(alex, PASSWORD)
    assert not form.is_valid()
    assert _codes(form) == ["unavailable"]
    assert _failure_items(table_scan) == []
