"""The owners' DynamoDB access: accounts, and the sign-in attempts that pause signing in.

Accounts are items in the site's one table (there is no SQL database); a password is stored
only as Django's hash. Any failure of the engine surfaces as OwnersUnavailable, which the
sign-in form shows as "sign-in is unavailable" and the commands as an error naming the table.

Failed sign-ins are counted per client IP and per (username, client IP) pair, under keyed
hashes of the username and the IP (docs/architecture.md, Data model), so neither a typed
username nor an IP address is stored.

The item classes below are this module's own; everything else uses the functions.
"""

import datetime as dt
import logging
import math
import secrets
import time
import unicodedata
from concurrent.futures import wait
from dataclasses import dataclass
from enum import StrEnum
from functools import partial

from django.conf import settings
from django.utils.crypto import salted_hmac
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

from core.budget import call_submit
from core.dynamodb import TableModel
from core.failures import TableUnavailable, condition_failed, failures_raise
from core.items import item_get, item_update_raw, items_get_raw

logger = logging.getLogger(__name__)

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
    """An owner account: username, Django password hash, active flag, session version, times."""

    username = UnicodeAttribute()
    password = UnicodeAttribute()
    active = BooleanAttribute(default=True)
    # Part of every session's auth hash (owners.models); items made before it existed read 0.
    session_version = NumberAttribute(default=0)
    created = UTCDateTimeAttribute()
    last_login = UTCDateTimeAttribute(null=True)


class AccountIndex(TableModel):
    """The set of usernames, so accounts are listed without a table scan."""

    usernames = UnicodeSetAttribute(default=set)


class AttemptsItem(TableModel):
    """The recent failed sign-ins of one client network, or of one (username, client network)
    pair.

    Each failure is one element "<Unix time> <random id>" of a string set, added with an atomic
    ADD once the sign-in's password was found wrong; nothing is added for a sign-in whose
    password was right or never checked. Elements older than the window are deleted by the next
    failure that reads them.
    """

    attempts = UnicodeSetAttribute(default=set)
    expires = TTLAttribute(null=True)


@dataclass(frozen=True)
class Account:
    username: str
    password_hash: str
    active: bool
    session_version: int
    created: dt.datetime
    last_login: dt.datetime | None


def _account_key(username: str) -> str:
    return f"owner#{username}"


def _account(item: AccountItem) -> Account:
    return Account(
        username=item.username,
        password_hash=item.password,
        active=bool(item.active),
        session_version=int(item.session_version),
        created=item.created,
        last_login=item.last_login,
    )


@failures_raise(OwnersUnavailable)
def account_get(*, username: str) -> Account | None:
    """The account, or None if there is no account of that name."""
    item = item_get(AccountItem, _account_key(username))
    return _account(item) if item is not None else None


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
        if condition_failed(error):
            raise AccountExists(username) from error
        raise
    return _account(item)


@failures_raise(OwnersUnavailable)
def _account_update(username: str, actions: list[Action]) -> Account:
    """One UpdateItem on an existing account; the account as stored after it."""
    item = AccountItem(_account_key(username))
    try:
        item.update(actions=actions, condition=AccountItem.pk.exists())  # reads back ALL_NEW
    except UpdateError as error:
        if condition_failed(error):
            raise AccountNotFound(username) from error
        raise
    return _account(item)


def _sessions_end() -> Action:
    # ADD, not read-and-set: two logouts at once both raise it; neither is lost.
    return AccountItem.session_version.add(1)


def account_set_password(*, username: str, password_hash: str) -> Account:
    """Store a new hash and end every session of the account (the session version rises)."""
    return _account_update(username, [AccountItem.password.set(password_hash), _sessions_end()])


def account_set_active(*, username: str, active: bool) -> Account:
    """Deactivating also ends every session, so reactivating does not revive an old cookie."""
    actions = [AccountItem.active.set(active)]
    return _account_update(username, actions if active else [*actions, _sessions_end()])


def account_end_sessions(*, username: str) -> Account:
    """End every session of the account (at logout): no cookie signed in before is valid."""
    return _account_update(username, [_sessions_end()])


def account_record_login(*, username: str, when: dt.datetime) -> Account:
    return _account_update(username, [AccountItem.last_login.set(when)])


@failures_raise(OwnersUnavailable)
def account_list() -> list[Account]:
    """Every account, sorted by username."""
    index = item_get(AccountIndex, ACCOUNT_INDEX_KEY)
    names = (index.usernames or set()) if index is not None else set()
    if not names:
        return []
    keys = [_account_key(name) for name in names]
    items = AccountItem.batch_get(keys, consistent_read=True)
    return sorted((_account(item) for item in items), key=lambda account: account.username)


# --- Sign-in attempts ---------------------------------------------------------------------------


def _keyed_hash(purpose: str, value: str) -> str:
    """HMAC-SHA-256 of `value` under a key derived from SECRET_KEY and `purpose` (Django's
    salted_hmac). Not daily: a window that spans midnight keeps counting the same client."""
    digest = salted_hmac(f"owners.services.{purpose}", value, algorithm="sha256")
    return digest.hexdigest()[:32]


def _username_normal(username: str) -> str:
    """One form for every spelling of a username: "Alex", "ALEX" and a fullwidth
    "Alex" (NFKC, then case-folded) are one name."""
    return unicodedata.normalize("NFKC", username).casefold()


def _attempt_keys(username: str, network: str) -> tuple[str, str]:
    """The (username, client network) pair's item and the client network's item (`network` is
    Client.network: an IPv4 address, or an IPv6 address's /64). ValueError for an empty network:
    an unknown client is never a key, or every such client's failures would pause the others
    (docs/architecture.md, "The client's IP address")."""
    if not network:
        raise ValueError("an unknown client (no IP) has no network to key sign-in attempts by")
    user = _keyed_hash("login-username", _username_normal(username))
    client = _keyed_hash("login-client-ip", network)
    return f"login-failures#pair#{user}#{client}", f"login-failures#client#{client}"


def _limits() -> tuple[int, int]:
    return settings.LOGIN_MAX_FAILURES, settings.LOGIN_MAX_CLIENT_FAILURES


def _when(entry: str) -> float:
    return float(entry.split(" ", 1)[0])


class Paused(StrEnum):
    """What a sign-in's pause holds back: this username from this client network (the pair's
    failures reached LOGIN_MAX_FAILURES), or every sign-in from the network (its own reached
    LOGIN_MAX_CLIENT_FAILURES)."""

    USERNAME = "username"
    NETWORK = "network"


@dataclass(frozen=True)
class LoginState:
    """What a sign-in reads before its password is checked: the account (None: no account of
    that name) and the pause. `retry_after` > 0: paused, the password is not checked, and
    sign-in opens again in that many seconds; `paused` then says what is paused (the limit that
    holds longest, the network's if both end together)."""

    account: Account | None
    keys: tuple[str, ...]  # the pair's item and the client's
    stale: tuple[frozenset[str], ...]  # the failures of each that are older than the window
    now: float
    retry_after: int
    paused: Paused | None = None


@failures_raise(OwnersUnavailable)
def login_state_get(*, username: str, network: str, now: float | None = None) -> LoginState:
    """Read what a sign-in needs before its password is checked, writing nothing: the account,
    and the failures of the last window of the pair and the client, in one BatchGetItem; with
    LOGIN_MAX_FAILURES of the pair's or LOGIN_MAX_CLIENT_FAILURES of the client's, it is paused.
    What is recorded when, and how the pause ends: docs/architecture.md, Data model, "Sign-in
    attempts"."""
    now = time.time() if now is None else now
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    account_key = _account_key(username)
    keys = _attempt_keys(username, network)
    found = items_get_raw([account_key, *keys])
    opens_at = now
    paused = None
    stale = []
    scopes = (Paused.USERNAME, Paused.NETWORK)  # the order of _attempt_keys and _limits
    for key, limit, scope in zip(keys, _limits(), scopes, strict=True):
        failures = set(found.get(key, {}).get("attempts", {}).get("SS", []))
        old = frozenset(entry for entry in failures if _when(entry) <= now - window)
        recent = sorted((_when(entry) for entry in failures - old), reverse=True)
        stale.append(old)
        if len(recent) >= limit and recent[limit - 1] + window >= opens_at:
            opens_at, paused = recent[limit - 1] + window, scope
    account = found.get(account_key)
    retry_after = math.ceil(opens_at - now)
    return LoginState(
        account=_account(AccountItem.from_raw_data(account)) if account is not None else None,
        keys=keys,
        stale=tuple(stale),
        now=now,
        retry_after=retry_after,
        paused=paused if retry_after > 0 else None,
    )


@failures_raise(OwnersUnavailable)
def login_failure_record(*, state: LoginState) -> None:
    """Count a sign-in whose password was wrong (or whose username has no account) as one
    failure of its pair and of its client: one atomic ADD on each item, sent together, and with
    them the deletion of the failures the read found older than the window. OwnersUnavailable if
    an ADD failed (it may still have been applied); a failed deletion is only logged, as the
    next failure deletes them too."""
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    entry = f"{state.now:.6f} {secrets.token_hex(8)}"
    expires = dt.datetime.fromtimestamp(state.now + 2 * window, dt.UTC)  # housekeeping only
    added = [
        call_submit(partial(_attempts_update, key, AttemptsItem.attempts.add({entry}), expires))
        for key in state.keys
    ]
    dropped = [
        call_submit(partial(_attempts_update, key, AttemptsItem.attempts.delete(set(old))))
        for key, old in zip(state.keys, state.stale, strict=True)
        if old
    ]
    wait([*added, *dropped])
    for future in dropped:
        if future.exception() is not None:
            logger.warning("Old sign-in failures were not deleted: %s", future.exception())
    for future in added:
        future.result()


def _attempts_update(key: str, action: Action, expires: dt.datetime | None = None) -> None:
    actions = [action] if expires is None else [action, AttemptsItem.expires.set(expires)]
    item_update_raw(AttemptsItem, key, actions=actions)
