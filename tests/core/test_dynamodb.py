"""core/dynamodb.py: the models' base class, their one shared connection and its hooks, and
table set-up."""

import threading

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from pynamodb.attributes import UnicodeAttribute

from core import dynamodb
from core.failures import MalformedAnswer, TableUnavailable
from counter import services as counter
from counter.services import items as counter_items
from harness.fault_proxy import FaultProxy
from owners import services as owners
from tests.conftest import CLOSED_ENDPOINT


def test_the_models_read_the_table_from_the_settings_of_the_moment(settings):
    settings.DYNAMODB_TABLE = "first"
    settings.DYNAMODB_READ_TIMEOUT = 0.5
    assert counter_items.TotalItem.Meta.table_name == owners.AccountItem.Meta.table_name == "first"
    assert owners.AttemptsItem.Meta.read_timeout_seconds == 0.5
    settings.DYNAMODB_TABLE = "second"
    assert counter_items.DayItem.Meta.table_name == "second"


def test_the_real_endpoint_uses_the_credential_chain_and_a_local_one_signs_with_anything(
    settings, monkeypatch
):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    settings.DYNAMODB_ENDPOINT_URL = ""
    assert counter_items.TotalItem.Meta.host is None
    assert counter_items.TotalItem.Meta.aws_access_key_id is None
    settings.DYNAMODB_ENDPOINT_URL = "http://127.0.0.1:8001"
    assert counter_items.TotalItem.Meta.host == "http://127.0.0.1:8001"
    assert counter_items.TotalItem.Meta.aws_access_key_id == "local"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-the-environment")
    assert counter_items.TotalItem.Meta.aws_access_key_id is None  # boto3 reads the environment


def test_a_model_needs_no_binding_before_its_first_call(moto_table):
    class Note(dynamodb.TableModel):  # nothing has ever bound or used this class
        text = UnicodeAttribute()

    Note("note#1", text="first call").save()
    assert Note.get("note#1", consistent_read=True).text == "first call"


def test_changing_a_dynamodb_setting_drops_the_open_connections(moto_table, settings):
    assert counter.total_get() == 0  # opens a connection to moto
    settings.DYNAMODB_ENDPOINT_URL = CLOSED_ENDPOINT
    with pytest.raises(counter.CounterUnavailable):
        counter.total_get()  # a kept connection would still have answered from moto


def test_every_model_shares_one_connection_and_reset_opens_a_new_one(moto_table):
    counter.total_get()
    owners.account_get(username="alex")
    opened = counter_items.TotalItem._get_connection()
    assert owners.AccountItem._get_connection() is opened
    assert counter_items.RateBucket._get_connection() is opened
    dynamodb.connections_reset()
    counter.total_get()
    assert counter_items.TotalItem._get_connection() is not opened
    assert owners.AccountItem._get_connection() is counter_items.TotalItem._get_connection()


def test_the_sdk_makes_one_attempt_and_the_resend_hook_decides(moto_table):
    client = dynamodb.TableModel._get_connection().connection.client
    assert client.meta.config.retries["total_max_attempts"] == 1
    emitted = client.meta.events.emit(
        "needs-retry.dynamodb.UpdateItem",
        attempts=1,
        response=None,
        caught_exception=EndpointConnectionError(endpoint_url=CLOSED_ENDPOINT),
        operation=None,
        request_dict={"context": {}},
        endpoint=None,
    )
    assert any(isinstance(delay, float) for _, delay in emitted)


def test_a_fresh_processs_first_calls_from_many_threads_all_meet_the_hooks(settings):
    """A view's first calls start on several threads at once; each must get the hooked client,
    so a malformed answer is a failure on every one of them, never PynamoDB's KeyError."""
    proxy = FaultProxy(CLOSED_ENDPOINT)
    proxy.fault = "malformed"
    settings.DYNAMODB_ENDPOINT_URL = proxy.url
    settings.DYNAMODB_CONNECT_TIMEOUT = 10.0  # eight connections at once to a small test server
    start = threading.Barrier(8)
    raised: list[BaseException] = []

    def first_call() -> None:
        start.wait()
        try:
            counter_items.DailySalt("salt#x").update(
                actions=[counter_items.DailySalt.salt.set("a")]
            )
        except BaseException as error:  # sorted below
            raised.append(error)

    try:
        for _ in range(10):  # a fresh connection each round: the race is at its first use
            dynamodb.connections_reset()
            threads = [threading.Thread(target=first_call) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        proxy.stop()
    assert len(raised) == 80
    crashes = [e for e in raised if not isinstance(getattr(e, "cause", None), MalformedAnswer)]
    assert crashes == []


def _ttl(table: str) -> dict[str, str]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    return client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]


def test_table_ensure_creates_the_table_once_with_ttl(settings):
    from moto import mock_aws

    with mock_aws():
        settings.DYNAMODB_ENDPOINT_URL = ""
        settings.DYNAMODB_TABLE = "made-here"
        assert dynamodb.table_ensure() is True
        assert dynamodb.table_ensure() is False
        assert _ttl("made-here") == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}


def test_table_ensure_switches_ttl_back_on(moto_table):
    boto3.client("dynamodb", region_name="us-east-1").update_time_to_live(
        TableName=moto_table,
        TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires"},
    )
    assert dynamodb.table_ensure() is False
    assert _ttl(moto_table)["TimeToLiveStatus"] == "ENABLED"


def test_table_ensure_raises_table_unavailable_when_unreachable():
    with pytest.raises(TableUnavailable):
        dynamodb.table_ensure()


def test_table_location_names_the_endpoint_or_the_region(settings):
    settings.DYNAMODB_ENDPOINT_URL = "http://127.0.0.1:8001"
    assert dynamodb.table_location() == "http://127.0.0.1:8001"
    settings.DYNAMODB_ENDPOINT_URL = ""
    settings.AWS_REGION = "eu-west-1"
    assert dynamodb.table_location() == "AWS region eu-west-1"
