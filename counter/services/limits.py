"""How many views a visitor or a client may add a minute (docs/architecture.md, Data model:
Limits).

Each check is one conditional UpdateItem on the subject's bucket of the current minute:
`ADD attempts 1` unless the bucket already holds ten times the limit. DynamoDB applies the ADDs
of concurrent requests one after another, so each attempt gets its own number: the first
`limit` of the minute are under the limit, the next nine times the limit are over it (not
counted), and past that the condition fails and nothing is written (refused). Never a read
followed by a write, which concurrent requests would both pass.
"""

import datetime as dt
import enum

from pynamodb.exceptions import UpdateError

from counter.services.items import CounterUnavailable, RateBucket
from resume_site.dynamodb import condition_failed, failures_raise

REFUSE_FACTOR = 10  # refused (HTTP 429) only past ten times the limit
BUCKET_LIFETIME = dt.timedelta(minutes=5)  # kept a few minutes past its minute, then TTL


class Standing(enum.Enum):
    UNDER = "under"  # may be counted
    OVER = "over"  # over the limit: not counted, answered normally
    REFUSED = "refused"  # past ten times the limit: answered 429


@failures_raise(CounterUnavailable)
def limit_check(*, subject: str, limit: int, minute: int) -> Standing:
    """Count one attempt of `subject` (like `visitor#<hash>`) in `minute` (Unix time // 60)."""
    bucket = RateBucket(f"rate#{subject}#{minute}")
    expires = dt.datetime.fromtimestamp((minute + 1) * 60, dt.UTC) + BUCKET_LIFETIME
    try:
        bucket.update(
            actions=[RateBucket.attempts.add(1), RateBucket.expires.set(expires)],
            condition=RateBucket.attempts.does_not_exist()
            | (RateBucket.attempts < REFUSE_FACTOR * limit),
        )
    except UpdateError as error:
        if condition_failed(error):
            return Standing.REFUSED
        raise
    return Standing.UNDER if bucket.attempts <= limit else Standing.OVER
