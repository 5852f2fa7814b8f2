"""deploy/stack.py's `apply` where the identity may not change stacks, as GitHub Actions' role
may not (infra/template.yaml, GitHubDeployRole): a stack that must be made or updated stops the
deploy saying to run `make deploy` as an administrator; any other refusal is raised as it is."""

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from deploy import stack

NAME = "resume-site-prod-infra"
PARAMETERS = {"Stage": "prod", "AlertEmail": "owner@example.com"}


def stubbed() -> tuple[Any, Stubber]:
    client = boto3.client(
        "cloudformation",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return client, Stubber(client)


def described(status: str = "UPDATE_COMPLETE") -> dict[str, Any]:
    return {
        "Stacks": [
            {
                "StackName": NAME,
                "CreationTime": "2026-12-01T00:00:00Z",
                "StackStatus": status,
                "Parameters": [
                    {"ParameterKey": key, "ParameterValue": value}
                    for key, value in PARAMETERS.items()
                ],
            }
        ]
    }


def apply(client: Any) -> bool:
    return stack.apply(
        cloudformation=client, stage="prod", parameters=PARAMETERS, echo=lambda line: None
    )


@pytest.mark.parametrize("code", ["AccessDenied", "AccessDeniedException"])
def test_an_update_the_identity_may_not_make_says_to_deploy_as_an_administrator(
    code: str,
) -> None:
    client, stubber = stubbed()
    stubber.add_response("describe_stacks", described(), {"StackName": NAME})
    stubber.add_response("get_template", {"TemplateBody": "an older template"})
    stubber.add_client_error("update_stack", service_error_code=code, http_status_code=403)
    with stubber, pytest.raises(stack.StackError) as raised:
        apply(client)
    message = raised.value.format_message()
    assert f"The stack {NAME} must be updated" in message
    assert "Run `make deploy STAGE=prod` once as an administrator" in message


def test_a_stack_the_identity_may_not_make_says_the_same() -> None:
    client, stubber = stubbed()
    stubber.add_client_error(
        "describe_stacks", service_error_code="ValidationError", service_message="does not exist"
    )
    stubber.add_client_error("create_stack", service_error_code="AccessDenied")
    with stubber, pytest.raises(stack.StackError, match=f"The stack {NAME} must be made"):
        apply(client)


def test_any_other_refusal_is_raised_as_it_is() -> None:
    client, stubber = stubbed()
    stubber.add_response("describe_stacks", described(), {"StackName": NAME})
    stubber.add_response("get_template", {"TemplateBody": "an older template"})
    stubber.add_client_error("update_stack", service_error_code="Throttling")
    with stubber, pytest.raises(Exception) as raised:
        apply(client)
    assert not isinstance(raised.value, stack.StackError)
    assert "Throttling" in str(raised.value)
