"""owners/management/commands/createadmin.py"""

import io

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command

from owners import services
from tests.conftest import CLOSED_ENDPOINT
from tests.owners.conftest import PASSWORD


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def answers(monkeypatch):
    """Feeds getpass the given answers in turn, as a person at a terminal would type them."""
    queue: list[str] = []
    prompts: list[str] = []

    def getpass(prompt: str = "Password: ") -> str:
        prompts.append(prompt)
        return queue.pop(0)

    monkeypatch.setattr("getpass.getpass", getpass)
    return queue, prompts


def _run(*args: str, stdin: io.StringIO | None = None) -> str:
    out = io.StringIO()
    call_command("createadmin", *args, stdin=stdin or io.StringIO(), stdout=out)
    return out.getvalue()


def test_in_a_terminal_the_password_is_asked_twice(moto_table, fast_passwords, answers):
    queue, prompts = answers
    queue.extend([PASSWORD, PASSWORD])
    assert "Account alex created" in _run("alex", stdin=FakeTTY())
    assert prompts == ["Password: ", "Password (again): "]
    assert check_password(PASSWORD, services.account_get(username="alex").password_hash)


def test_two_different_answers_change_nothing(moto_table, fast_passwords, answers):
    answers[0].extend([PASSWORD, PASSWORD + "x"])
    with pytest.raises(CommandError, match="The two passwords differ"):
        _run("alex", stdin=FakeTTY())
    assert services.account_get(username="alex") is None


def test_without_a_terminal_the_password_comes_from_the_environment(
    moto_table, fast_passwords, monkeypatch
):
    monkeypatch.setenv("ADMIN_PASSWORD", PASSWORD)
    _run("alex")
    assert check_password(PASSWORD, services.account_get(username="alex").password_hash)


def test_without_a_terminal_or_the_variable_it_says_what_to_set(moto_table, monkeypatch):
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="set the ADMIN_PASSWORD environment variable"):
        _run("alex")


def test_the_help_names_the_variable_and_there_is_no_password_argument(capsys):
    with pytest.raises(SystemExit):
        call_command("createadmin", "--help")
    text = capsys.readouterr().out
    assert "ADMIN_PASSWORD" in text
    assert "--password" not in text


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1!", "too short"),
        ("password1234", "too common"),
        ("938475610293847", "entirely numeric"),
        ("alexrivera12", "too similar to the username"),
    ],
)
def test_weak_passwords_are_refused_with_the_validators_message(
    moto_table, monkeypatch, password, message
):
    monkeypatch.setenv("ADMIN_PASSWORD", password)
    with pytest.raises(CommandError, match=f"Password refused: .*{message}"):
        _run("alexrivera")
    assert services.account_get(username="alexrivera") is None


def test_a_duplicate_username_is_refused(moto_table, fast_passwords, monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", PASSWORD)
    _run("alex")
    first = services.account_get(username="alex").password_hash
    monkeypatch.setenv("ADMIN_PASSWORD", PASSWORD + "-other")
    with pytest.raises(CommandError, match="already exists; use --change-password"):
        _run("alex")
    assert services.account_get(username="alex").password_hash == first


def test_change_password_replaces_the_stored_hash(moto_table, fast_passwords, monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", PASSWORD)
    _run("alex")
    monkeypatch.setenv("ADMIN_PASSWORD", "new-" + PASSWORD)
    assert "Password of alex changed" in _run("alex", "--change-password")
    account = services.account_get(username="alex")
    assert check_password("new-" + PASSWORD, account.password_hash)
    assert account.session_version == 1  # every session signed in before has ended


def test_deactivate_and_activate_show_in_the_list(moto_table, fast_passwords, monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", PASSWORD)
    assert "No accounts yet" in _run("--list")
    _run("sam")
    _run("alex")
    assert "alex can no longer sign in; its sessions have ended" in _run("alex", "--deactivate")
    assert services.account_get(username="alex").session_version == 1
    lines = _run("--list").splitlines()
    assert lines == [
        "alex\tinactive\tlast login: never",
        "sam\tactive\tlast login: never",
    ]
    _run("alex", "--activate")
    assert services.account_get(username="alex").active


def test_unknown_accounts_and_missing_names_are_clear_errors(moto_table):
    with pytest.raises(CommandError, match="There is no account kim"):
        _run("kim", "--deactivate")
    with pytest.raises(CommandError, match="Name the account"):
        _run("--deactivate")


def test_actions_are_mutually_exclusive(moto_table):
    with pytest.raises(CommandError, match="not allowed with argument"):
        _run("alex", "--deactivate", "--activate")


def test_an_unreachable_table_is_named(monkeypatch, fast_passwords, settings):
    monkeypatch.setenv("ADMIN_PASSWORD", PASSWORD)
    with pytest.raises(CommandError, match=f"Could not reach table {settings.DYNAMODB_TABLE}"):
        _run("alex")


def test_an_unreachable_local_engine_says_how_to_start_it(monkeypatch, fast_passwords, settings):
    monkeypatch.setenv("ADMIN_PASSWORD", PASSWORD)
    settings.DYNAMODB_ENDPOINT_URL = CLOSED_ENDPOINT
    with pytest.raises(CommandError, match=r"Start it with `make run`") as raised:
        _run("alex")
    assert CLOSED_ENDPOINT in str(raised.value)
    settings.PRODUCTION = True  # no make run to point to
    with pytest.raises(CommandError) as raised:
        _run("alex")
    assert "make run" not in str(raised.value)
