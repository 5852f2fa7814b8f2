"""infra/template.yaml's Lambda role grants exactly the DynamoDB actions the runtime services
call, on the table's ARN only: every runtime service function runs against moto while a hook on
botocore records each DynamoDB request, and the recorded set must equal the role's (the clicks
on the page's links included: they need nothing the views do not)."""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.model import OperationModel
from cfnlint.decode import cfn_yaml

from core.clients import Client
from core.dynamodb import connections_reset
from counter import services as counter
from owners import services as owners
from tests.counter.conftest import view_add

TEMPLATE = Path(__file__).resolve().parent.parent.parent / "infra" / "template.yaml"
# Transactions have no IAM action of their own: each item is authorized as the operation it is.
TRANSACT_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def iam_actions(operation: str, params: dict[str, Any]) -> set[tuple[str, str]]:
    """The (IAM action, table name) pairs one DynamoDB request needs."""
    if operation in {"TransactWriteItems", "TransactGetItems"}:
        pairs = set()
        for item in params["TransactItems"]:
            ((kind, body),) = item.items()
            pairs.add((f"dynamodb:{TRANSACT_ITEM_ACTIONS[kind]}", body["TableName"]))
        return pairs
    if operation in {"BatchGetItem", "BatchWriteItem"}:
        return {(f"dynamodb:{operation}", table) for table in params["RequestItems"]}
    return {(f"dynamodb:{operation}", params["TableName"])}


@pytest.fixture
def recorded(moto_table: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[set[tuple[str, str]]]:
    """Every DynamoDB request made from now on, as (IAM action, table) pairs.

    Each botocore client created from here on gets a `provide-client-params.dynamodb` hook, and
    the models' connections are dropped so PynamoDB opens new clients (with the hook)."""
    calls: set[tuple[str, str]] = set()
    create_client = botocore.session.Session.create_client

    def record(params: dict[str, Any], model: OperationModel, **_: Any) -> None:
        calls.update(iam_actions(model.name, params))

    def create_hooked_client(session: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
        client = create_client(session, *args, **kwargs)
        client.meta.events.register("provide-client-params.dynamodb", record)
        return client

    monkeypatch.setattr(botocore.session.Session, "create_client", create_hooked_client)
    connections_reset()
    yield calls
    connections_reset()


def exercise_runtime_services(settings) -> None:
    """Every runtime path of counter/services/ and owners/services.py: each function, each
    branch that calls DynamoDB differently (first and repeat visits, a salt another request made
    first, a day that closes the last one, a click within and over its limits, duplicate and
    missing accounts). table_ensure is deploy-time and left out."""
    day = dt.date(2026, 11, 23)
    visitor = Client(ip="203.0.113.7", user_agent="drift-test")

    counter.total_get()  # no item yet
    counter.view_count(visitor=visitor)  # first visit: salt, limits, total, day, transaction
    counter.view_count(visitor=visitor)  # repeat: the transaction's condition fails
    settings.COUNTER_VISITOR_LIMIT = 1
    counter.view_count(visitor=visitor)  # over the limit: the total is read
    settings.COUNTER_VISITOR_LIMIT = 5
    view_add(visitor=visitor, day=day)  # another day's salt
    counter.days_get(days=3, today=day)
    counter.click_count(visitor=visitor, link="email")  # the clicks' limits, the day's clicks
    settings.COUNTER_VISITOR_LIMIT = 1
    counter.click_count(visitor=visitor, link="pdf")  # over the limit: nothing more
    settings.COUNTER_VISITOR_LIMIT = 5

    # Days later: the process's first view closes the last day and sums the quiet ones between.
    view_add(day=dt.datetime.now(dt.UTC).date() + dt.timedelta(days=3))

    owners.account_list()  # no index item yet
    owners.account_create(username="owner", password_hash="hash-1")
    with pytest.raises(owners.AccountExists):
        owners.account_create(username="owner", password_hash="hash-2")
    owners.account_get(username="owner")
    owners.account_get(username="nobody")
    owners.account_set_password(username="owner", password_hash="hash-3")
    owners.account_set_active(username="owner", active=False)
    owners.account_record_login(username="owner", when=dt.datetime.now(dt.UTC))
    with pytest.raises(owners.AccountNotFound):
        owners.account_set_active(username="nobody", active=True)
    owners.account_list()

    owners.account_end_sessions(username="owner")
    settings.LOGIN_MAX_FAILURES = 1
    failed = owners.login_state_get(username="owner", network=visitor.network)
    owners.login_failure_record(state=failed)  # a wrong password
    owners.login_state_get(username="owner", network=visitor.network)  # paused
    later = dt.datetime.now(dt.UTC).timestamp() + 2 * settings.LOGIN_FAILURE_WINDOW_SECONDS
    stale = owners.login_state_get(username="owner", network=visitor.network, now=later)
    owners.login_failure_record(state=stale)  # drops the failure outside the window


def role_statements() -> list[dict[str, Any]]:
    template = cfn_yaml.load(str(TEMPLATE))
    role = template["Resources"]["LambdaRole"]["Properties"]
    (policy,) = role["Policies"]
    return policy["PolicyDocument"]["Statement"]


def dynamodb_statements() -> list[dict[str, Any]]:
    return [
        statement
        for statement in role_statements()
        if "Action" in statement
        and any(action.startswith("dynamodb:") for action in as_list(statement["Action"]))
    ]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_role_grants_exactly_the_dynamodb_actions_the_services_call(recorded, settings) -> None:
    exercise_runtime_services(settings)

    called = {action for action, _ in recorded}
    granted = {
        action for statement in dynamodb_statements() for action in as_list(statement["Action"])
    }
    assert called == granted, sorted(called)


def test_the_services_touch_only_the_configured_table(recorded, settings, moto_table) -> None:
    exercise_runtime_services(settings)

    assert {table for _, table in recorded} == {moto_table}


def test_dynamodb_actions_are_scoped_to_the_table_arn_only() -> None:
    statements = dynamodb_statements()

    assert statements
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert statement["Resource"] == {"Fn::GetAtt": ["Table", "Arn"]}
        assert "Condition" not in statement
