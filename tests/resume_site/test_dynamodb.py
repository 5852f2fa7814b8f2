"""resume_site/dynamodb.py: the models' base class, the error translation and table set-up."""

import logging

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import GetError

from counter import services as counter
from owners import services as owners
from resume_site import dynamodb
from tests.conftest import CLOSED_ENDPOINT


class AppUnavailable(dynamodb.TableUnavailable):
    pass


class OtherAppUnavailable(dynamodb.TableUnavailable):
    pass


def test_the_models_read_the_table_from_the_settings_of_the_moment(settings):
    settings.DYNAMODB_TABLE = "first"
    settings.DYNAMODB_READ_TIMEOUT = 0.5
    assert counter.TotalItem.Meta.table_name == owners.AccountItem.Meta.table_name == "first"
    assert owners.AttemptsItem.Meta.read_timeout_seconds == 0.5
    settings.DYNAMODB_TABLE = "second"
    assert counter.DayItem.Meta.table_name == "second"


def test_the_real_endpoint_uses_the_credential_chain_and_a_local_one_signs_with_anything(
    settings, monkeypatch
):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    settings.DYNAMODB_ENDPOINT_URL = ""
    assert counter.TotalItem.Meta.host is None
    assert counter.TotalItem.Meta.aws_access_key_id is None
    settings.DYNAMODB_ENDPOINT_URL = "http://127.0.0.1:8001"
    assert counter.TotalItem.Meta.host == "http://127.0.0.1:8001"
    assert counter.TotalItem.Meta.aws_access_key_id == "local"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-the-environment")
    assert counter.TotalItem.Meta.aws_access_key_id is None  # boto3 reads the environment


def test_a_model_needs_no_binding_before_its_first_call(moto_table):
    class Note(dynamodb.TableModel):  # nothing has ever bound or used this class
        text = UnicodeAttribute()

    Note("note#1", text="first call").save()
    assert Note.get("note#1", consistent_read=True).text == "first call"


def test_changing_a_dynamodb_setting_drops_the_open_connections(moto_table, settings):
    counter.count_increment()  # opens a connection to moto
    settings.DYNAMODB_ENDPOINT_URL = CLOSED_ENDPOINT
    with pytest.raises(counter.CounterUnavailable):
        counter.count_get()  # a kept connection would still have answered from moto


def test_connections_reset_makes_every_model_open_a_new_connection(moto_table):
    counter.count_get()
    owners.account_get(username="alex")
    opened = (counter.TotalItem._connection, owners.AccountItem._connection)
    dynamodb.connections_reset()
    counter.count_get()
    owners.account_get(username="alex")
    assert counter.TotalItem._connection is not opened[0]
    assert owners.AccountItem._connection is not opened[1]


def test_a_pynamodb_failure_becomes_the_apps_exception_and_is_logged(caplog):
    cause = GetError("Failed to get item: timed out")
    with pytest.raises(AppUnavailable) as raised, dynamodb.failures_raise(AppUnavailable):
        raise cause
    assert raised.value.__cause__ is cause
    assert "DynamoDB call failed: Failed to get item" in caplog.text


def test_a_botocore_failure_becomes_the_apps_exception():
    cause = EndpointConnectionError(endpoint_url=CLOSED_ENDPOINT)
    with pytest.raises(AppUnavailable) as raised, dynamodb.failures_raise(AppUnavailable):
        raise cause
    assert raised.value.__cause__ is cause


def test_another_apps_exception_becomes_this_apps_and_its_own_passes_unchanged(caplog):
    caplog.set_level(logging.WARNING)
    other = OtherAppUnavailable()
    with pytest.raises(AppUnavailable) as raised, dynamodb.failures_raise(AppUnavailable):
        raise other
    assert raised.value.__cause__ is other
    own = AppUnavailable("already translated")
    with pytest.raises(AppUnavailable) as raised, dynamodb.failures_raise(AppUnavailable):
        raise own
    assert raised.value is own
    assert caplog.text == ""  # logged once, where the DynamoDB error happened


def test_other_errors_pass_through_untouched():
    with pytest.raises(KeyError), dynamodb.failures_raise(AppUnavailable):
        raise KeyError("a bug, not an outage")


def test_failures_raise_decorates_a_function():
    @dynamodb.failures_raise(AppUnavailable)
    def read() -> None:
        raise GetError("Failed to get item")

    with pytest.raises(AppUnavailable):
        read()
    with pytest.raises(AppUnavailable):
        read()  # each call gets its own context


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
    with pytest.raises(dynamodb.TableUnavailable):
        dynamodb.table_ensure()
