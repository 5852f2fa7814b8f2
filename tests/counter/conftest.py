"""Fixtures of the counter's tests: patient timeouts, a delaying proxy, the stored total."""

from collections.abc import Callable, Iterator

import pytest

from tests.counter.delaying_proxy import DelayingProxy


@pytest.fixture
def patient_engine(ddb_table: str, settings) -> str:
    """DynamoDB Local with long timeouts: for proofs of exact counts under load, where a busy
    machine may answer slower than the site's one-second timeout, and a request that timed out
    would (rightly) fail instead of being sent again. Yields the table's name."""
    settings.DYNAMODB_CONNECT_TIMEOUT = 10.0
    settings.DYNAMODB_READ_TIMEOUT = 30.0
    return ddb_table


@pytest.fixture
def proxy(ddb_table: str, dynamodb_endpoint: str, settings) -> Iterator[DelayingProxy]:
    """The site's DynamoDB calls go through a DelayingProxy to DynamoDB Local (a fresh table)."""
    port = int(dynamodb_endpoint.rsplit(":", 1)[1])
    running = DelayingProxy(port).start()
    settings.DYNAMODB_ENDPOINT_URL = running.url
    yield running
    running.stop()


@pytest.fixture
def engine_total(ddb_table: str, dynamodb_endpoint: str) -> Callable[[], int]:
    """Reads the stored total straight from DynamoDB Local, past any proxy or setting."""
    import boto3

    engine = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name="us-east-1")

    def read() -> int:
        item = engine.get_item(TableName=ddb_table, Key={"pk": {"S": "total"}}, ConsistentRead=True)
        return int(item["Item"]["count"]["N"]) if "Item" in item else 0

    return read
