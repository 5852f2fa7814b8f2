"""infra/template.yaml's GitHubDeployRole grants exactly what a routine `make deploy` calls.

A routine deploy is the one GitHub Actions runs on a push (.github/workflows/deploy.yml): an
administrator's first `make deploy` made the stack, the certificate and the deploy bucket, and
this run updates the function. Here `make deploy` (deploy/live.py) runs against a moto server
from an empty account with the real Zappa CLI: the first deploys of tests/deploy/test_live.py,
made once a session for both modules (`first_deploys` there); then the stage's secrets object
changes (a new SECRET_KEY), so the next run really runs `zappa update`, and that run is
recorded: in its test process through botocore, and in the processes it starts (the Zappa CLI,
the collectstatic child of its callback) through tests/infra/aws_calls/sitecustomize.py, which
PYTHONPATH makes them import. Each recorded call is mapped to the IAM actions it needs and the
resource it touches: the role's actions must equal those actions, and each call must be allowed
by a statement naming its action on a resource that matches what it touched.
"""

import fnmatch
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import botocore.session
import pytest
from cfnlint.decode import cfn_yaml

from deploy import stack
from tests.deploy.test_live import REGION, STAGE, first_deploys
from tests.infra.test_role_drift import TEMPLATE

PROJECT = "resume-site"
# S3's operations are authorized as these actions (S3's "Actions, resources, and condition
# keys"): a HEAD needs what its GET needs, each part of an upload what PutObject needs.
S3_ACTIONS = {
    "HeadBucket": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "HeadObject": "s3:GetObject",
    "GetObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "DeleteObject": "s3:DeleteObject",
}
# Needs no permission: AWS answers every identity who it is.
UNAUTHORIZED = {("sts", "GetCallerIdentity")}
# Lambda's actions that name no resource (IAM allows them only on "*").
ACCOUNT_LEVEL = {"lambda:GetAccountSettings"}
# A TemplateURL is read by CloudFormation with the caller's credentials.
S3_URL = re.compile(r"^https://s3\.amazonaws\.com/(?P<bucket>[^/]+)/(?P<key>.+)$")


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Account:
    """What the recorded calls' resources are named from."""

    id: str
    stacks: Mapping[str, str]  # stack name -> its ARN (StackId)


def apigateway_path(call: Call) -> tuple[str, str]:
    """API Gateway's IAM action (the HTTP method) and the path the request names."""
    operation = botocore.session.get_session().get_service_model("apigateway")
    model = operation.operation_model(call.operation)
    path = model.http["requestUri"]
    for name, member in model.input_shape.members.items():
        if member.serialization.get("location") == "uri":
            path = path.replace("{" + member.serialization["name"] + "}", call.params[name])
    return f"apigateway:{model.http['method']}", path


def lambda_arn(name: str, account: Account) -> str:
    if name.startswith("arn:"):
        return name
    return f"arn:aws:lambda:{REGION}:{account.id}:function:{name}"


def permissions(call: Call, account: Account) -> set[tuple[str, str]]:
    """The (IAM action, resource ARN) pairs one recorded call needs."""
    if (call.service, call.operation) in UNAUTHORIZED:
        return set()
    params = call.params
    if call.service == "s3":
        resource = f"arn:aws:s3:::{params['Bucket']}"
        if "Key" in params:
            resource += f"/{params['Key']}"
        return {(S3_ACTIONS[call.operation], resource)}
    if call.service == "apigateway":
        action, path = apigateway_path(call)
        return {(action, f"arn:aws:apigateway:{REGION}::{path}")}
    action = f"{call.service}:{call.operation}"
    if call.service == "lambda":
        if action in ACCOUNT_LEVEL:
            return {(action, "*")}
        name = params.get("FunctionName") or params["Resource"]
        resource = lambda_arn(name, account)
        if call.operation == "GetAlias":
            resource += f":{params['Name']}"
        pairs = {(action, resource)}
        if "Role" in params:  # giving the function a role is passing it
            pairs.add(("iam:PassRole", params["Role"]))
        return pairs
    if call.service == "cloudformation":
        pairs = {(action, account.stacks[params["StackName"]])}
        if "TemplateURL" in params:
            url = S3_URL.match(params["TemplateURL"])
            assert url, params["TemplateURL"]
            pairs.add(("s3:GetObject", f"arn:aws:s3:::{url['bucket']}/{url['key']}"))
        return pairs
    if call.service == "cloudfront":
        distribution = params.get("DistributionId") or params["Id"]
        return {(action, f"arn:aws:cloudfront::{account.id}:distribution/{distribution}")}
    if call.service == "iam":
        return {(action, f"arn:aws:iam::{account.id}:role/{params['RoleName']}")}
    if call.service == "acm":
        return {(action, params["CertificateArn"])}
    raise AssertionError(f"no IAM mapping for {call.service} {call.operation}: add one")


@dataclass
class Routine:
    calls: list[Call]
    account: Account
    zappa_runs: list[list[str]]
    report: Any
    lines: list[str]
    values: dict[str, str]  # the template's names, as this account resolves them
    zappa_template_before: Any
    zappa_template_after: Any


@pytest.fixture(scope="module")
def routine(tmp_path_factory: pytest.TempPathFactory) -> Routine:
    """The first `make deploy` (an administrator's, with GitHubRepository), then a routine one
    recorded: with the certificate named by its ARN, as the workflow's variables name it
    (tests/deploy/test_live.py, first_deploys)."""
    made = first_deploys(tmp_path_factory).routine
    after, stacks = made.after, made.stacks
    (certificate,) = made.first["certificates"]
    owner = Account(id=made.first["deploy_bucket"].rsplit("-", 1)[-1], stacks=stacks)
    values = {
        "AWS::Partition": "aws",
        "AWS::Region": REGION,
        "AWS::AccountId": owner.id,
        "AWS::StackId": stacks[stack.stack_name(stage=STAGE)],
        "ProjectName": PROJECT,
        "Stage": STAGE,
        "ApiId": after["api_id"],
        "Distribution": after["outputs"]["DistributionId"],
        "CertificateArn": certificate["CertificateArn"],
        "StaticBucket.Arn": f"arn:aws:s3:::{after['outputs']['StaticBucketName']}",
        "LambdaRole.Arn": f"arn:aws:iam::{owner.id}:role/{PROJECT}-{STAGE}-lambda",
    }
    return Routine(
        calls=[Call(**call) for call in made.calls],
        account=owner,
        zappa_runs=made.zappa_runs,
        report=made.report,
        lines=made.lines,
        values=values,
        zappa_template_before=made.zappa_template_before,
        zappa_template_after=made.zappa_template_after,
    )


def template() -> dict[str, Any]:
    return cfn_yaml.load(str(TEMPLATE))


def role() -> dict[str, Any]:
    return template()["Resources"]["GitHubDeployRole"]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# The conditions as they stand for a stage with a repository, a made provider, an API and a
# certificate: every statement of the role present.
CONDITIONS = {"HasApi": True, "HasCertificate": True, "MakesGitHubProvider": True}


def resolve(node: Any, values: Mapping[str, str]) -> Any:
    """A template value with its intrinsic functions resolved; None for AWS::NoValue."""
    if isinstance(node, list):
        return [item for item in (resolve(item, values) for item in node) if item is not None]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"}:
        return None if node["Ref"] == "AWS::NoValue" else values[node["Ref"]]
    if set(node) == {"Fn::GetAtt"}:
        return values[".".join(node["Fn::GetAtt"])]
    if set(node) == {"Fn::Sub"}:
        return re.sub(r"\$\{([^}]+)\}", lambda name: values[name[1]], node["Fn::Sub"])
    if set(node) == {"Fn::If"}:
        condition, when, otherwise = node["Fn::If"]
        return resolve(when if CONDITIONS[condition] else otherwise, values)
    return {key: resolve(value, values) for key, value in node.items()}


def statements(values: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The role's policy statements, all of them: resolved with `values`, else as the template
    has them (a statement made only on a condition, the one it makes)."""
    (policy,) = role()["Properties"]["Policies"]
    found = policy["PolicyDocument"]["Statement"]
    if values is not None:
        return resolve(found, values)
    return [item["Fn::If"][1] if "Fn::If" in item else item for item in found]


def granted_actions() -> set[str]:
    anything = defaultdict(lambda: "x")  # the actions do not depend on the names
    return {action for statement in statements(anything) for action in as_list(statement["Action"])}


@pytest.mark.slow
def test_the_routine_deploy_updates_the_function_and_passes_its_checks(
    routine: Routine,
) -> None:
    assert routine.zappa_runs == [["update", STAGE]]
    assert routine.report.failed == []
    assert any("is up to date" in line for line in routine.lines)  # the stack is not changed


@pytest.mark.slow
def test_the_role_grants_exactly_the_actions_a_routine_deploy_calls(routine: Routine) -> None:
    called = {action for call in routine.calls for action, _ in permissions(call, routine.account)}
    assert called == granted_actions(), sorted(called)


@pytest.mark.slow
def test_each_call_is_allowed_on_the_resource_it_touches(routine: Routine) -> None:
    resolved = statements(routine.values)
    refused = sorted(
        {
            (action, resource)
            for call in routine.calls
            for action, resource in permissions(call, routine.account)
            if not any(
                action in as_list(statement["Action"])
                and any(
                    fnmatch.fnmatchcase(resource, pattern)
                    for pattern in as_list(statement["Resource"])
                )
                for statement in resolved
            )
        }
    )
    assert refused == []


@pytest.mark.slow
def test_the_routine_deploy_changes_no_stack_and_reapplies_zappas_template_as_it_was(
    routine: Routine,
) -> None:
    """Only Zappa's stack gets UpdateStack, with the template it has: on AWS the answer is "No
    updates are to be performed", so the role needs no permission on the API's resources."""
    changed = {
        call.params["StackName"]
        for call in routine.calls
        if call.service == "cloudformation" and not call.operation.startswith(("Describe", "Get"))
    }
    assert changed == {stack.zappa_stack_name(stage=STAGE)}
    assert routine.zappa_template_after == routine.zappa_template_before


def test_only_the_repositorys_stage_environment_may_assume_the_role() -> None:
    (trust,) = role()["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Effect"] == "Allow"
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Principal"] == {
        "Federated": {
            "Fn::If": [
                "MakesGitHubProvider",
                {"Ref": "GitHubOidcProvider"},
                {"Ref": "GitHubOidcProviderArn"},
            ]
        }
    }
    assert trust["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": {
                "Fn::Sub": "repo:${GitHubRepository}:environment:${Stage}"
            },
        }
    }


def test_the_provider_is_githubs_for_sts_and_made_only_where_the_account_has_none() -> None:
    resources = template()["Resources"]
    provider = resources["GitHubOidcProvider"]
    assert provider["Condition"] == "MakesGitHubProvider"
    assert provider["Properties"]["Url"] == "https://token.actions.githubusercontent.com"
    assert provider["Properties"]["ClientIdList"] == ["sts.amazonaws.com"]
    assert role()["Condition"] == "HasGitHub"
    conditions = template()["Conditions"]
    no_repository = {"Fn::Equals": [{"Ref": "GitHubRepository"}, ""]}
    assert conditions["HasGitHub"] == {"Fn::Not": [no_repository]}
    assert {"Fn::Equals": [{"Ref": "GitHubOidcProviderArn"}, ""]} in conditions[
        "MakesGitHubProvider"
    ]["Fn::And"]
    assert template()["Parameters"]["GitHubRepository"]["Default"] == ""
    assert template()["Outputs"]["GitHubDeployRoleArn"]["Value"] == {
        "Fn::GetAtt": ["GitHubDeployRole", "Arn"]
    }


def test_nothing_is_granted_account_wide_but_the_quota_read() -> None:
    for statement in statements():
        assert statement["Effect"] == "Allow"
        if statement.get("Resource") == "*":
            assert as_list(statement["Action"]) == sorted(ACCOUNT_LEVEL)
        for action in as_list(statement["Action"]):
            assert "*" not in action


def test_the_infra_stack_is_only_read_and_the_role_is_only_passed_to_lambda() -> None:
    by_sid = {statement["Sid"]: statement for statement in statements()}
    assert by_sid["ReadInfraStack"]["Resource"] == {"Ref": "AWS::StackId"}
    assert set(by_sid["ReadInfraStack"]["Action"]) == {
        "cloudformation:DescribeStacks",
        "cloudformation:GetTemplate",
    }
    assert by_sid["PassFunctionRole"]["Resource"] == {"Fn::GetAtt": ["LambdaRole", "Arn"]}
    assert by_sid["PassFunctionRole"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}
    }
    # The secrets object is read, never written: uploads are named after the function.
    assert by_sid["SecretsObject"]["Action"] == "s3:GetObject"
    assert by_sid["ZappaUploads"]["Resource"]["Fn::Sub"].endswith(
        "-deploys-${AWS::AccountId}/${ProjectName}-${Stage}-*"
    )
