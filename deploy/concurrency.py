"""The function's reserved concurrency, sized to what the account allows.

AWS keeps at least MIN_UNRESERVED of an account's concurrency unreserved and refuses a
reservation that would leave less; a new account's quota is often 10, so the stage's
`lambda_concurrency` cannot always be had. docs/deploy.md, "Reserved concurrency", says why the
deploy then goes on without a reservation rather than failing half-way.
"""

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

MIN_UNRESERVED = 100  # AWS's minimum of UnreservedConcurrentExecutions
QUOTA_CODE = "L-B99A9384"  # Service Quotas: AWS Lambda, "Concurrent executions"


@dataclass(frozen=True)
class Reservation:
    """What to reserve (None: no reservation) and what to tell the owner."""

    value: int | None
    message: str
    room: int  # what the account could still reserve, this function's own reservation included


def current_reservation(*, lambda_client: Any, function: str) -> int:
    """The function's reserved concurrency now; 0 where it has none or does not exist."""
    try:
        answer = lambda_client.get_function_concurrency(FunctionName=function)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return 0
        raise
    return int(answer.get("ReservedConcurrentExecutions") or 0)


def sized(*, lambda_client: Any, function: str, wanted: int) -> Reservation:
    """`wanted`, or as much of it as the account's quota leaves room for, or no reservation."""
    limits = lambda_client.get_account_settings()["AccountLimit"]
    quota = int(limits["ConcurrentExecutions"])
    unreserved = int(limits["UnreservedConcurrentExecutions"])
    room = unreserved + current_reservation(lambda_client=lambda_client, function=function)
    room -= MIN_UNRESERVED
    needed = wanted + MIN_UNRESERVED
    ask = (
        f"ask AWS for a Lambda concurrent-executions quota of at least {needed} (Service "
        f"Quotas, code {QUOTA_CODE}), then deploy again"
    )
    if room >= wanted:
        return Reservation(wanted, f"Reserved concurrency: {wanted}.", room)
    if room >= 1:
        return Reservation(
            room,
            f"Reserved concurrency: {room}, not the stage's {wanted}: the account's quota is "
            f"{quota} and AWS keeps {MIN_UNRESERVED} unreserved; to reserve {wanted}, {ask}.",
            room,
        )
    return Reservation(
        None,
        f"WARNING: no reserved concurrency: this account's quota is {quota}, and AWS keeps "
        f"{MIN_UNRESERVED} unreserved, so nothing can be reserved. The stage throttle and the "
        f"kill switch still cap the bill, but a flood can use the account's whole concurrency; "
        f"{ask}.",
        room,
    )
