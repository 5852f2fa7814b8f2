"""How many views a visitor or a client may add a minute (docs/architecture.md, Data model:
Limits).

Both limits are one conditional UpdateItem on the client's bucket of the current minute:
`ADD attempts 1` for the client and `ADD visitor:<hash> 1` for the visitor within it, unless
either already holds ten times its limit. DynamoDB applies the ADDs of concurrent requests one
after another, so each attempt gets its own numbers: the first `limit` of the minute are under
the limit, the next nine times the limit are over it (not counted), and past that the condition
fails and nothing is written (refused). Never a read followed by a write, which concurrent
requests would both pass. A visitor is always within one client (its network), so one item holds
both, and a view pays one request for its limits, not two.

Clicks on the page's links have buckets of their own (`scope` "clicks": `rate#clicks#client#...`),
with the same limits: a visitor's clicks never use up its views' minute, nor its views its
clicks' (docs/architecture.md, "What visitors did after reading").
"""

import datetime as dt
import enum

from django.conf import settings
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path

from core.clients import Client
from core.failures import condition_failed, failures_raise
from core.items import item_update_raw
from counter.services import visitors
from counter.services.items import CounterUnavailable, RateBucket

REFUSE_FACTOR = 10  # refused (HTTP 429) only past ten times the limit
BUCKET_LIFETIME = dt.timedelta(minutes=5)  # kept a few minutes past its minute, then TTL
VISITOR_PREFIX = "visitor:"  # a visitor's attempts within its client's bucket


class Standing(enum.Enum):
    UNDER = "under"  # may be counted
    OVER = "over"  # over the limit: not counted, answered normally
    REFUSED = "refused"  # past ten times the limit: answered 429


def _below(path: Path, ceiling: int) -> Condition:
    return path.does_not_exist() | (path < ceiling)


@failures_raise(CounterUnavailable)
def limit_check(
    *, subject: str, limit: int, minute: int, visitor: str = "", visitor_limit: int = 0
) -> Standing:
    """Count one attempt of `subject` (like `client#<hash>`) in `minute` (Unix time // 60), and
    with `visitor` (its hash) one of that visitor within it, whose limit is `visitor_limit`.

    One UpdateItem: the bucket's `attempts` (and the visitor's count) after this attempt tell
    both standings; past ten times either limit nothing is written and the attempt is refused.
    """
    attempts = Path(["attempts"])
    actions = [attempts.add(1), Path(["expires"]).set(_expires(minute))]
    condition = _below(attempts, REFUSE_FACTOR * limit)
    visitor_path = Path([f"{VISITOR_PREFIX}{visitor}"])
    if visitor:
        actions.append(visitor_path.add(1))
        condition &= _below(visitor_path, REFUSE_FACTOR * visitor_limit)
    try:
        answer = item_update_raw(
            RateBucket,
            f"rate#{subject}#{minute}",
            actions=actions,
            condition=condition,
            return_values="UPDATED_NEW",
        )
    except UpdateError as error:
        if condition_failed(error):
            return Standing.REFUSED
        raise
    stored = answer.get("Attributes", {})
    under = int(stored["attempts"]["N"]) <= limit
    if visitor:
        under = under and int(stored[f"{VISITOR_PREFIX}{visitor}"]["N"]) <= visitor_limit
    return Standing.UNDER if under else Standing.OVER


def limits_check(
    *, visitor: Client, digest: str, day: dt.date, minute: int, scope: str = ""
) -> Standing:
    """Both limits of `visitor` (its hash of the day: `digest`) in one request: the client's
    bucket of the minute, with the visitor's count in it; only the visitor's own bucket when the
    client limit is off; none with both off. `scope` keeps another kind of request apart
    ("clicks": buckets of their own, the same limits)."""
    client_limit, visitor_limit = settings.COUNTER_CLIENT_LIMIT, settings.COUNTER_VISITOR_LIMIT
    prefix = f"{scope}#" if scope else ""
    if client_limit:
        client = visitors.client_digest(network=visitor.network, day=day)
        return limit_check(
            subject=f"{prefix}client#{client}",
            limit=client_limit,
            minute=minute,
            visitor=digest if visitor_limit else "",
            visitor_limit=visitor_limit,
        )
    if visitor_limit:
        return limit_check(subject=f"{prefix}visitor#{digest}", limit=visitor_limit, minute=minute)
    return Standing.UNDER


def _expires(minute: int) -> int:
    """The bucket's TTL, in Unix seconds: a few minutes past the end of its minute."""
    end = dt.datetime.fromtimestamp((minute + 1) * 60, dt.UTC) + BUCKET_LIFETIME
    return int(end.timestamp())
