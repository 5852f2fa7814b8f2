"""scripts/dynamodb_local.py: the engine never writes into the checkout; it works in a directory
of its own (DynamoDB Local may write files into its working directory), and keeps the data of
`make run` in its data directory."""

from pathlib import Path

import boto3
import pytest

from scripts import dynamodb_local

pytestmark = pytest.mark.dynamodb_local

ROOT = Path(__file__).resolve().parent.parent.parent
METADATA = "dynamodb-local-metadata.json"  # what the engine writes with telemetry on
DATA = "shared-local-instance.db"  # the tables of a -sharedDb engine with data on disk


def working_directory(pid: int) -> Path:
    """A process's working directory, as Linux reports it."""
    return Path(f"/proc/{pid}/cwd").resolve()


def create_a_table(port: int) -> None:
    """One request that makes the engine write its tables (and, with telemetry, metadata)."""
    client = boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_table(
        TableName="workdir-test",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def test_the_in_memory_engine_works_in_a_scratch_directory_removed_at_stop() -> None:
    port = dynamodb_local.free_port()
    engine = dynamodb_local.start(port)
    try:
        workdir = working_directory(engine.pid)
        create_a_table(port)
    finally:
        dynamodb_local.stop(engine)

    assert not workdir.is_relative_to(ROOT)
    assert not (ROOT / METADATA).exists()
    assert not workdir.exists()


def test_an_engine_with_data_on_disk_works_in_its_data_directory(tmp_path: Path) -> None:
    port = dynamodb_local.free_port()
    engine = dynamodb_local.start(port, tmp_path / "data")
    try:
        workdir = working_directory(engine.pid)
        create_a_table(port)
    finally:
        dynamodb_local.stop(engine)

    assert workdir == (tmp_path / "data").resolve()
    assert (workdir / DATA).exists()
    assert not (ROOT / METADATA).exists()
