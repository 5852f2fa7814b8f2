"""Who a visitor is, without storing it: the day's hashing key and the keyed hashes made with it.

Each UTC day has a random salt, stored in the table (it expires two days later). The day's key is
HMAC-SHA-256(SECRET_KEY, salt): the table alone (salt, no secret) or the secret alone (no salt)
cannot recompute a hash, so neither can be brute-forced over the IPv4 space to find a visitor;
and once the salt has expired nobody can (docs/architecture.md, Data model). A process keeps
today's salt in memory, so a warm request needs no round trip for it.
"""

import datetime as dt
import hashlib
import hmac
import secrets

from django.conf import settings

from core.clients import Client
from core.failures import failures_raise
from counter.services.items import DAY_ITEM_LIFETIME, CounterUnavailable, DailySalt, day_start

DIGEST_LENGTH = 32  # hex digits kept: 128 bits, far past any collision a counter could meet

_salts: dict[dt.date, bytes] = {}  # this process's copy: today's salt only


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _day_salt(day: dt.date) -> bytes:
    """The day's random salt: made by whichever request needs it first, read by the others.

    One UpdateItem whose `if_not_exists` keeps a salt already there and returns the stored one,
    so two processes racing at midnight agree on it in one round trip each.
    """
    cached = _salts.get(day)
    if cached is not None:
        return cached
    item = DailySalt(f"salt#{day.isoformat()}")
    item.update(
        actions=[
            DailySalt.salt.set(DailySalt.salt | secrets.token_hex(32)),
            DailySalt.expires.set(DailySalt.expires | (day_start(day) + DAY_ITEM_LIFETIME)),
        ]
    )
    _salts.clear()  # keep only the latest day's salt in memory
    _salts[day] = bytes.fromhex(item.salt)
    return _salts[day]


def day_key(day: dt.date) -> bytes:
    """The day's hashing key: HMAC(SECRET_KEY, the day's stored salt); never stored."""
    return hmac.new(settings.SECRET_KEY.encode(), _day_salt(day), hashlib.sha256).digest()


def _digest(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()[:DIGEST_LENGTH]


def _keyable(network: str) -> str:
    """`network`, unless it is empty: an unknown client (Client.known) is never a key, or all
    unknown clients would share one visitor and one limit (docs/architecture.md, "The client's
    IP address"). Checked before the day's key, whose salt may be written."""
    if not network:
        raise ValueError("an unknown client (no IP) has no network to key a hash by")
    return network


def visitor_hash(*, visitor: Client, key: bytes) -> str:
    """A keyed hash of (client network, user agent): the network is the IPv4 address, or the
    IPv6 address's /64 (Client.network), so one host rotating through its /64 is one visitor.
    ValueError for an unknown client."""
    return _digest(key, f"{_keyable(visitor.network)}\n{visitor.user_agent}")


@failures_raise(CounterUnavailable)
def visitor_digest(*, visitor: Client, day: dt.date | None = None) -> str:
    """The visitor's keyed hash of the day (today by default), as the counter stores it (the
    day's marker, the visitor's limit bucket). ValueError for an unknown client."""
    _keyable(visitor.network)
    return visitor_hash(visitor=visitor, key=day_key(day or today()))


@failures_raise(CounterUnavailable)
def client_digest(*, network: str, day: dt.date | None = None) -> str:
    """The client network's keyed hash of the day (today by default; `network` is
    Client.network): what the per-client limit is keyed by, so the table never holds the IP.
    ValueError for an empty network (an unknown client)."""
    message = f"client\n{_keyable(network)}"
    return _digest(day_key(day or today()), message)
