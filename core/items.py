"""The item calls every service shares where PynamoDB's models fall short: a read that answers
None for a missing item, a batch read of items as stored (attributes whose names are data, a
label or a visitor's count, which no model declares), and an UpdateItem that answers the same
way."""

from typing import Any

from pynamodb.connection.base import BOTOCORE_EXCEPTIONS
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from core.dynamodb import TableModel
from core.failures import TableUnavailable

BATCH_KEYS = 100  # BatchGetItem's limit
BATCH_ROUNDS = 5  # sends of the keys DynamoDB left unprocessed before giving up


def item_get[M: TableModel](model: type[M], key: str) -> M | None:
    """The item of `key` (strongly consistent), or None if there is none."""
    try:
        return model.get(key, consistent_read=True)
    except model.DoesNotExist:
        return None


def items_get_raw(keys: list[str]) -> dict[str, dict[str, Any]]:
    """The stored items of `keys` by key, as DynamoDB returns them (every attribute, declared or
    not), strongly consistent; missing keys are absent. BatchGetItem in groups of 100, sending
    again what it left unprocessed; TableUnavailable if some keys stay unprocessed."""
    table = TableModel._get_connection()
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(keys), BATCH_KEYS):
        pending = keys[start : start + BATCH_KEYS]
        for _ in range(BATCH_ROUNDS):
            if not pending:
                break
            answer = table.batch_get_item([{"pk": key} for key in pending], consistent_read=True)
            for item in answer.get("Responses", {}).get(table.table_name, []):
                found[item["pk"]["S"]] = item
            left = answer.get("UnprocessedKeys", {}).get(table.table_name, {}).get("Keys", [])
            pending = [key["pk"]["S"] for key in left]
        if pending:
            raise TableUnavailable()
    return found


def item_update_raw(
    model: type[TableModel],
    key: str,
    *,
    actions: list[Action],
    condition: Condition | None = None,
    return_values: str | None = None,
    return_values_on_condition_failure: str | None = None,
) -> dict[str, Any]:
    """One UpdateItem answered as DynamoDB returns it (`Attributes` in DynamoDB's JSON, any
    attribute, declared or not), for updates of attributes whose names are data (a label, a
    visitor's count); a failure raises UpdateError as `Model.update` does."""
    table = model._get_connection()
    request = table.get_operation_kwargs(
        key,
        actions=actions,
        condition=condition,
        return_values=return_values,
        return_values_on_condition_failure=return_values_on_condition_failure,
    )
    try:
        return table.connection.dispatch("UpdateItem", request)
    except BOTOCORE_EXCEPTIONS as error:
        raise UpdateError(f"Failed to update item: {error}", error) from error
