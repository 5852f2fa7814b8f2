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
import math
import secrets
import time
import unicodedata
from dataclasses import dataclass

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

from core.dynamodb import (
    TableModel,
    TableUnavailable,
    condition_failed,
    failures_raise,
    item_get,
)

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
    """The recent sign-in attempts of one client IP, or of one (username, client IP) pair.

    Each attempt is one element "<Unix time> <random id>" of a string set, added with an atomic
    ADD when the attempt starts; it is deleted again when the attempt succeeds or is refused,
    so what stays are the failures. Elements older than the window are deleted as they are seen.
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


@dataclass(frozen=True)
class LoginAttempt:
    """A started sign-in attempt. `retry_after` > 0: refused (and already withdrawn); sign-in
    from this client opens again in that many seconds, unless a pending attempt succeeds."""

    keys: tuple[str, ...]
    entry: str
    stale: tuple[frozenset[str], ...]
    retry_after: int


@failures_raise(OwnersUnavailable)
def login_attempt_start(*, username: str, network: str, now: float | None = None) -> LoginAttempt:
    """Start a sign-in attempt: add it to the pair's and the client's items (one atomic ADD
    each, which returns the item), then count the failures of the last window in each; a
    refused attempt is withdrawn, and one the engine failed after the ADD stays counted as a
    failure. Why in this order, and how the pause ends: docs/architecture.md, Data model,
    "Sign-in attempts". ValueError, before anything is written, for an empty `network`."""
    now = time.time() if now is None else now
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    entry = f"{now:.6f} {secrets.token_hex(8)}"
    expires = dt.datetime.fromtimestamp(now + 2 * window, dt.UTC)  # housekeeping only
    keys = _attempt_keys(username, network)
    opens_at = now
    stale = []
    for key, limit in zip(keys, _limits(), strict=True):
        item = AttemptsItem(key)
        item.update(actions=[AttemptsItem.attempts.add({entry}), AttemptsItem.expires.set(expires)])
        others = set(item.attempts) - {entry}
        old = frozenset(other for other in others if _when(other) <= now - window)
        recent = sorted((_when(other) for other in others - old), reverse=True)
        stale.append(old)
        if len(recent) >= limit:
            opens_at = max(opens_at, recent[limit - 1] + window)
    attempt = LoginAttempt(
        keys=keys, entry=entry, stale=tuple(stale), retry_after=math.ceil(opens_at - now)
    )
    if attempt.retry_after > 0:
        login_attempt_finish(attempt=attempt, failed=False)
    return attempt


@failures_raise(OwnersUnavailable)
def login_attempt_finish(*, attempt: LoginAttempt, failed: bool) -> None:
    """A failed attempt stays counted; any other is withdrawn. Old elements seen go too."""
    for key, old in zip(attempt.keys, attempt.stale, strict=True):
        drop = set(old) if failed else {*old, attempt.entry}
        if drop:
            AttemptsItem(key).update(actions=[AttemptsItem.attempts.delete(drop)])
