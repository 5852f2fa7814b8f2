"""The only code that talks to DynamoDB.

Every change to a count is one atomic DynamoDB operation (rule 1): an ADD update or a
transaction, never read-add-write. Any failure of the engine surfaces as CounterUnavailable,
which the views turn into a 503 (rule 3).
"""

import datetime as dt
import hashlib
import hmac
import logging
import random
import secrets
import uuid
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError
from django.conf import settings
from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, PynamoDBException, TransactWriteError, UpdateError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from counter.models import (
    AccountIndex,
    AccountItem,
    DailySalt,
    DayItem,
    FailureItem,
    TotalItem,
    VisitorMarker,
    ensure_bound,
)

logger = logging.getLogger(__name__)

TOTAL_KEY = "total"
MARKER_LIFETIME = dt.timedelta(days=2)


class CounterUnavailable(Exception):
    """DynamoDB could not be reached or refused the request; nothing was half-written."""


@dataclass(frozen=True)
class Visitor:
    """What the request tells about a visitor. Never stored: only its daily keyed hash is."""

    ip: str
    user_agent: str


@dataclass(frozen=True)
class DayStats:
    day: dt.date
    views: int
    uniques: int


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _total_keys() -> list[str]:
    shards = settings.COUNTER_SHARDS
    if shards == 1:
        return [TOTAL_KEY]
    return [f"{TOTAL_KEY}#{shard}" for shard in range(shards)]


def _unavailable(error: Exception) -> CounterUnavailable:
    logger.warning("DynamoDB call failed: %s", error)
    return CounterUnavailable("the visitor counter is unavailable right now")


def _transaction() -> Connection:
    return DayItem._get_connection().connection


def count_get() -> int:
    """Total page views, without counting one (0 before the first view)."""
    ensure_bound()
    keys = _total_keys()
    try:
        if len(keys) == 1:
            try:
                return int(TotalItem.get(keys[0], consistent_read=True).count)
            except TotalItem.DoesNotExist:
                return 0
        return sum(int(item.count) for item in TotalItem.batch_get(keys, consistent_read=True))
    except (PynamoDBException, BotoCoreError) as error:
        raise _unavailable(error) from error


def count_increment(*, visitor: Visitor | None = None, today: dt.date | None = None) -> int:
    """Count one page view with an atomic ADD and return the total after it.

    With a visitor, the day's views and (once per visitor and day) unique visitors are counted
    too; that bookkeeping failing is logged and does not lose the view already counted.
    """
    ensure_bound()
    keys = _total_keys()
    try:
        item = TotalItem(random.choice(keys))  # noqa: S311 (spreads writes, not a secret)
        item.update(actions=[TotalItem.count.add(1)])
        total = int(item.count) if len(keys) == 1 else count_get()
    except (PynamoDBException, BotoCoreError) as error:
        raise _unavailable(error) from error
    if visitor is not None:
        try:
            day_record_view(visitor=visitor, day=today or _today())
        except CounterUnavailable:
            logger.warning("The view was counted in the total but not in the day's figures.")
    return total


def _daily_salt(day: dt.date) -> bytes:
    """The day's random salt, made by whichever request needs it first (put-if-absent)."""
    ensure_bound()  # a sign-in can be a process's first DynamoDB call
    cached = _salts.get(day)
    if cached is not None:
        return cached
    key = f"salt#{day.isoformat()}"
    expires = dt.datetime.combine(day, dt.time(), dt.UTC) + MARKER_LIFETIME
    candidate = DailySalt(key, salt=secrets.token_hex(32), expires=expires)
    try:
        try:
            candidate.save(condition=DailySalt.pk.does_not_exist())
            salt = candidate.salt
        except PutError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            salt = DailySalt.get(key, consistent_read=True).salt
    except (PynamoDBException, BotoCoreError) as error:
        raise _unavailable(error) from error
    _salts.clear()  # keep only today's salt in memory
    _salts[day] = bytes.fromhex(salt)
    return _salts[day]


_salts: dict[dt.date, bytes] = {}


def visitor_hash(*, visitor: Visitor, salt: bytes) -> str:
    """A keyed hash of (IP, user agent); with a daily salt it cannot link days (rule 6)."""
    message = f"{visitor.ip}\n{visitor.user_agent}".encode()
    return hmac.new(salt, message, hashlib.sha256).hexdigest()[:32]


def day_record_view(*, visitor: Visitor, day: dt.date) -> bool:
    """Count a view in the day's figures; return True if it was the visitor's first that day.

    The marker and the unique-visitor ADD are one transaction with a does-not-exist condition,
    so a visitor counts once a day and a retried request (same token) never counts twice.
    """
    ensure_bound()
    day_key = f"day#{day.isoformat()}"
    try:
        digest = visitor_hash(visitor=visitor, salt=_daily_salt(day))
        marker = VisitorMarker(
            f"visitor#{day.isoformat()}#{digest}",
            expires=dt.datetime.combine(day, dt.time(), dt.UTC) + MARKER_LIFETIME,
        )
        try:
            with TransactWrite(
                connection=_transaction(), client_request_token=str(uuid.uuid4())
            ) as tx:
                tx.save(marker, condition=VisitorMarker.pk.does_not_exist())
                tx.update(DayItem(day_key), actions=[DayItem.views.add(1), DayItem.uniques.add(1)])
            return True
        except TransactWriteError as error:
            reasons = error.cancellation_reasons
            if not reasons or reasons[0] is None or reasons[0].code != "ConditionalCheckFailed":
                raise
        DayItem(day_key).update(actions=[DayItem.views.add(1)])
        return False
    except (PynamoDBException, BotoCoreError) as error:
        raise _unavailable(error) from error


def days_stats(*, days: int = 30, today: dt.date | None = None) -> list[DayStats]:
    """Views and unique visitors of the last `days` days, oldest first, zeros for quiet days."""
    ensure_bound()
    last = today or _today()
    wanted = [last - dt.timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    try:
        found = {
            item.pk: item
            for item in DayItem.batch_get(
                [f"day#{d.isoformat()}" for d in wanted], consistent_read=True
            )
        }
    except (PynamoDBException, BotoCoreError) as error:
        raise _unavailable(error) from error
    stats = []
    for day in wanted:
        item = found.get(f"day#{day.isoformat()}")
        views, uniques = (int(item.views), int(item.uniques)) if item else (0, 0)
        stats.append(DayStats(day=day, views=views, uniques=uniques))
    return stats


@dataclass(frozen=True)
class Account:
    username: str
    password_hash: str
    active: bool
    created: dt.datetime
    last_login: dt.datetime | None


class AccountExists(Exception):
    pass


class AccountNotFound(Exception):
    pass


ACCOUNT_INDEX_KEY = "owners"


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


def account_get(*, username: str) -> Account | None:
    ensure_bound()
    try:
        return _account(AccountItem.get(_account_key(username), consistent_read=True))
    except AccountItem.DoesNotExist:
        return None
    except (PynamoDBException, BotoCoreError) as error:
        raise _unavailable(error) from error


def account_create(*, username: str, password_hash: str) -> Account:
    """Create an account; the item and its place in the index are written in one transaction."""
    ensure_bound()
    item = AccountItem(
        _account_key(username),
        username=username,
        password=password_hash,
        active=True,
        created=dt.datetime.now(dt.UTC),
    )
    try:
        with TransactWrite(connection=_transaction()) as tx:
            tx.save(item, condition=AccountItem.pk.does_not_exist())
            tx.update(
                AccountIndex(ACCOUNT_INDEX_KEY), actions=[AccountIndex.usernames.add({username})]
            )
    except TransactWriteError as error:
        reasons = error.cancellation_reasons
        if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
            raise AccountExists(username) from error
        raise _unavailable(error) from error
    except (PynamoDBException, BotoCoreError) as error:
        raise _unavailable(error) from error
    return _account(item)


def _account_update(username: str, actions: list) -> None:
    ensure_bound()
    try:
        AccountItem(_account_key(username)).update(
            actions=actions, condition=AccountItem.pk.exists()
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise AccountNotFound(username) from error
        raise _unavailable(error) from error
    except (PynamoDBException, BotoCoreError) as error:
        raise _unavailable(error) from error


def account_set_password(*, username: str, password_hash: str) -> None:
    """Store a new hash; sessions signed with the old one stop being valid (session auth hash)."""
    _account_update(username, [AccountItem.password.set(password_hash)])


def account_set_active(*, username: str, active: bool) -> None:
    _account_update(username, [AccountItem.active.set(active)])


def account_record_login(*, username: str, when: dt.datetime) -> None:
    _account_update(username, [AccountItem.last_login.set(when)])


def account_list() -> list[Account]:
    """Every account, sorted by username."""
    ensure_bound()
    try:
        try:
            names = AccountIndex.get(ACCOUNT_INDEX_KEY, consistent_read=True).usernames or set()
        except AccountIndex.DoesNotExist:
            return []
        keys = [_account_key(name) for name in names]
        items = list(AccountItem.batch_get(keys, consistent_read=True))
    except (PynamoDBException, BotoCoreError) as error:
        raise _unavailable(error) from error
    return sorted((_account(item) for item in items), key=lambda account: account.username)


def _failure_keys(subjects: list[str], now: dt.datetime) -> tuple[list[str], list[str]]:
    """Keys of the current and the previous window for each subject."""
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    current = int(now.timestamp()) // window
    return (
        [f"login-failures#{subject}#{current}" for subject in subjects],
        [f"login-failures#{subject}#{current - 1}" for subject in subjects],
    )


def login_subjects(*, username: str, client: Visitor) -> list[str]:
    """What failed sign-ins are counted against: the username, and the client's keyed hash."""
    salt = _daily_salt(_today())
    return [f"user#{username.lower()}", f"client#{visitor_hash(visitor=client, salt=salt)}"]


def login_is_locked(*, subjects: list[str], now: dt.datetime | None = None) -> bool:
    """True if any subject has failed LOGIN_MAX_FAILURES times in the last one or two windows.

    The windows are fixed and counted together, so a pause lasts between one and two windows.
    """
    ensure_bound()
    current, previous = _failure_keys(subjects, now or dt.datetime.now(dt.UTC))
    try:
        found = {item.pk: int(item.failures) for item in FailureItem.batch_get(current + previous)}
    except (PynamoDBException, BotoCoreError) as error:
        raise _unavailable(error) from error
    return any(
        found.get(now_key, 0) + found.get(before_key, 0) >= settings.LOGIN_MAX_FAILURES
        for now_key, before_key in zip(current, previous, strict=True)
    )


def login_failure_record(*, subjects: list[str], now: dt.datetime | None = None) -> None:
    """Count one failed sign-in against each subject with an atomic ADD; items expire."""
    ensure_bound()
    now = now or dt.datetime.now(dt.UTC)
    expires = now + dt.timedelta(seconds=3 * settings.LOGIN_FAILURE_WINDOW_SECONDS)
    current, _ = _failure_keys(subjects, now)
    try:
        for key in current:
            FailureItem(key).update(
                actions=[FailureItem.failures.add(1), FailureItem.expires.set(expires)]
            )
    except (PynamoDBException, BotoCoreError) as error:
        raise _unavailable(error) from error


def table_ensure(*, wait: bool = True) -> bool:
    """Create the table if missing (on-demand, TTL on `expires`); return True if it was made.

    On an existing table it only switches TTL on if it is off, so it is safe to run again.
    """
    ensure_bound()
    model: type[Model] = VisitorMarker  # the model with the TTL attribute
    try:
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=wait)  # also enables TTL
            return True
        client = model._get_connection().connection.client
        ttl = client.describe_time_to_live(TableName=settings.DYNAMODB_TABLE)
        if ttl["TimeToLiveDescription"]["TimeToLiveStatus"] in {"DISABLED", "DISABLING"}:
            model.update_ttl(ignore_update_ttl_errors=False)
    except (PynamoDBException, BotoCoreError) as error:
        raise _unavailable(error) from error
    return False
