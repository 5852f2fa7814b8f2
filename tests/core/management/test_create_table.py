"""core/management/commands/create_table.py"""

import re

import boto3
import pytest
from django.core.management import CommandError, call_command

from tests.conftest import CLOSED_ENDPOINT


def test_creates_the_table_then_reports_it_exists(settings, capsys):
    from moto import mock_aws

    with mock_aws():
        settings.DYNAMODB_ENDPOINT_URL = ""
        settings.DYNAMODB_TABLE = "made-by-command"
        call_command("create_table")
        assert "made-by-command created" in capsys.readouterr().out
        call_command("create_table")
        assert "made-by-command already exists" in capsys.readouterr().out
        table = boto3.client("dynamodb", region_name="us-east-1").describe_table(
            TableName="made-by-command"
        )["Table"]
        assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_unreachable_engine_is_a_clear_error(settings):
    # The autouse fixture points DynamoDB at the closed endpoint.
    with pytest.raises(
        CommandError, match=f"Could not reach DynamoDB at {re.escape(CLOSED_ENDPOINT)}"
    ):
        call_command("create_table")
