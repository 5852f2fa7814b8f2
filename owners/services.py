"""The owners' DynamoDB access: accounts, and the failed sign-ins that pause signing in.

Accounts are items in the site's one table (there is no SQL database); a password is stored
only as Django's hash. Any failure of the engine surfaces as OwnersUnavailable, which the
sign-in form shows as "sign-in is unavailable" and the commands as an error naming the table.

Failed sign-ins are counted per client by the counter's daily visitor hash
(`counter.services.visitor_digest`), so no IP address or user agent is stored here either.
That is the only use of the counter: owners depends on counter, never the other way round.

The item classes below are this module's own; everything else uses the functions.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from counter.services import visitor_digest
from resume_site.clients import Client
from resume_site.dynamodb import TableModel, TableUnavailable, failures_raise

ACCOUNT_INDEX_KEY = "owners"


class OwnersUnavailable(TableUnavailable):
    """The owner accounts or the sign-in records could not be read or written."""

    def __init__(self, message: str = "owner accounts are unavailable right now") -> None:
        super().__init__(message)


class AccountExists(Exception):
    pass


class AccountNotFound(Exception):
    pass


class AccountItem(TableModel):
    """An owner account: username, Django password hash, active flag, times."""

    username = UnicodeAttribute()
    password = UnicodeAttribute()
    active = BooleanAttribute(default=True)
    created = UTCDateTimeAttribute()
    last_login = UTCDateTimeAttribute(null=True)


class AccountIndex(TableModel):
    """The set of usernames, so accounts are listed without a table scan."""

    usernames = UnicodeSetAttribute(default=set)


class FailureItem(TableModel):
    """Failed sign-ins of one username or client in one time window; it expires."""

    failures = NumberAttribute(default=0)
    expires = TTLAttribute(null=True)


@dataclass(frozen=True)
class Account:
    username: str
    password_hash: str
    active: bool
    created: dt.datetime
    last_login: dt.datetime | None


def _account_key(username: str) -> str:
    return f"owner#{username}"


def _account(item: AccountItem) -> Account:
    return Account(
        username=item.username,
        password_hash=item.password,
        active=bool(item.active),
        created=item.created,
        last_login=item.last_login,
    )


@failures_raise(OwnersUnavailable)
def account_get(*, username: str) -> Account | None:
    """The account, or None if there is no account of that name."""
    try:
        return _account(AccountItem.get(_account_key(username), consistent_read=True))
    except AccountItem.DoesNotExist:
        return None


@failures_raise(OwnersUnavailable)
def account_create(*, username: str, password_hash: str) -> Account:
    """Create an account; the item and its place in the index are written in one transaction."""
    item = AccountItem(
        _account_key(username),
        username=username,
        password=password_hash,
        active=True,
        created=dt.datetime.now(dt.UTC),
    )
    try:
        with TransactWrite(connection=AccountItem._get_connection().connection) as tx:
            tx.save(item, condition=AccountItem.pk.does_not_exist())
            tx.update(
                AccountIndex(ACCOUNT_INDEX_KEY), actions=[AccountIndex.usernames.add({username})]
            )
    except TransactWriteError as error:
        reasons = error.cancellation_reasons
        if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
            raise AccountExists(username) from error
        raise
    return _account(item)


@failures_raise(OwnersUnavailable)
def _account_update(username: str, actions: list[Action]) -> None:
    try:
        AccountItem(_account_key(username)).update(
            actions=actions, condition=AccountItem.pk.exists()
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise AccountNotFound(username) from error
        raise


def account_set_password(*, username: str, password_hash: str) -> None:
    """Store a new hash; sessions signed with the old one stop being valid (session auth hash)."""
    _account_update(username, [AccountItem.password.set(password_hash)])


def account_set_active(*, username: str, active: bool) -> None:
    _account_update(username, [AccountItem.active.set(active)])


def account_record_login(*, username: str, when: dt.datetime) -> None:
    _account_update(username, [AccountItem.last_login.set(when)])


@failures_raise(OwnersUnavailable)
def account_list() -> list[Account]:
    """Every account, sorted by username."""
    try:
        names = AccountIndex.get(ACCOUNT_INDEX_KEY, consistent_read=True).usernames or set()
    except AccountIndex.DoesNotExist:
        return []
    keys = [_account_key(name) for name in names]
    items = AccountItem.batch_get(keys, consistent_read=True)
    return sorted((_account(item) for item in items), key=lambda account: account.username)


def _failure_keys(subjects: list[str], now: dt.datetime) -> tuple[list[str], list[str]]:
    """Keys of the current and the previous window for each subject."""
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    current = int(now.timestamp()) // window
    return (
        [f"login-failures#{subject}#{current}" for subject in subjects],
        [f"login-failures#{subject}#{current - 1}" for subject in subjects],
    )


@failures_raise(OwnersUnavailable)
def login_subjects(*, username: str, client: Client) -> list[str]:
    """What failed sign-ins are counted against: the username, and the client's daily hash."""
    return [f"user#{username.lower()}", f"client#{visitor_digest(visitor=client)}"]


@failures_raise(OwnersUnavailable)
def login_is_locked(*, subjects: list[str], now: dt.datetime | None = None) -> bool:
    """True if any subject has failed LOGIN_MAX_FAILURES times in the last one or two windows.

    The windows are fixed and counted together, so a pause lasts between one and two windows.
    """
    current, previous = _failure_keys(subjects, now or dt.datetime.now(dt.UTC))
    found = {item.pk: int(item.failures) for item in FailureItem.batch_get(current + previous)}
    return any(
        found.get(now_key, 0) + found.get(before_key, 0) >= settings.LOGIN_MAX_FAILURES
        for now_key, before_key in zip(current, previous, strict=True)
    )


@failures_raise(OwnersUnavailable)
def login_failure_record(*, subjects: list[str], now: dt.datetime | None = None) -> None:
    """Count one failed sign-in against each subject with an atomic ADD; items expire."""
    now = now or dt.datetime.now(dt.UTC)
    expires = now + dt.timedelta(seconds=3 * settings.LOGIN_FAILURE_WINDOW_SECONDS)
    current, _ = _failure_keys(subjects, now)
    for key in current:
        FailureItem(key).update(
            actions=[FailureItem.failures.add(1), FailureItem.expires.set(expires)]
        )
