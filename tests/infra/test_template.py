"""infra/template.yaml: cfn-lint clean, and the properties the deploy relies on are there."""

from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file
from cfnlint.decode import cfn_yaml

TEMPLATE = Path(__file__).resolve().parent.parent.parent / "infra" / "template.yaml"
LINT = ManualArgs(include_checks=["I"], regions=["us-east-1"])


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return cfn_yaml.load(str(TEMPLATE))


def resource(template: dict[str, Any], name: str) -> dict[str, Any]:
    return template["Resources"][name]["Properties"]


def test_cfn_lint_is_clean_including_informational_checks() -> None:
    assert [str(match) for match in lint_file(TEMPLATE, config=LINT)] == []


def test_cfn_lint_would_catch_a_broken_template(tmp_path: Path) -> None:
    broken = tmp_path / "template.yaml"
    broken.write_text(
        TEMPLATE.read_text().replace("BillingMode: PAY_PER_REQUEST", "BillingMode: FREE")
    )

    assert any("FREE" in str(match) for match in lint_file(broken, config=LINT))


def test_table_is_on_demand_recoverable_protected_encrypted_with_ttl(template) -> None:
    table = resource(template, "Table")

    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": True,
        "RecoveryPeriodInDays": 1,  # a salt stays restorable one day past its deletion
    }
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires", "Enabled": True}
    assert table["DeletionProtectionEnabled"] is True
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert template["Resources"]["Table"]["DeletionPolicy"] == "Retain"


def test_static_bucket_is_private_and_encrypted(template) -> None:
    bucket = resource(template, "StaticBucket")

    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_only_the_distribution_may_read_the_bucket(template) -> None:
    statements = resource(template, "StaticBucketPolicy")["PolicyDocument"]["Statement"]
    allows = [statement for statement in statements if statement["Effect"] == "Allow"]

    (allow,) = allows
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    source = allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert source.endswith(":distribution/${StaticDistribution}")


def test_distribution_uses_oac_https_and_a_year_of_cache_for_static(template) -> None:
    config = resource(template, "StaticDistribution")["DistributionConfig"]
    (origin,) = config["Origins"]
    (static,) = config["CacheBehaviors"]
    policy = resource(template, "StaticCachePolicy")["CachePolicyConfig"]

    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["StaticOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert static["PathPattern"] == "static/*"
    assert static["CachePolicyId"] == {"Ref": "StaticCachePolicy"}
    assert policy["DefaultTTL"] == policy["MaxTTL"] == 31536000
    for behavior in (static, config["DefaultCacheBehavior"]):
        assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    oac = resource(template, "StaticOriginAccessControl")["OriginAccessControlConfig"]
    assert (oac["SigningBehavior"], oac["OriginAccessControlOriginType"]) == ("always", "s3")


def test_role_is_named_for_zappa_and_trusts_only_lambda(template) -> None:
    role = resource(template, "LambdaRole")
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]

    assert role["RoleName"] == {"Fn::Sub": "${ProjectName}-${Stage}-lambda"}
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert "ManagedPolicyArns" not in role


def test_role_grants_nothing_beyond_the_table_and_its_logs(template) -> None:
    """No S3 read either: SECRET_KEY reaches the function in its environment, set at deploy
    time, so the role never reads the secret object."""
    (policy,) = resource(template, "LambdaRole")["Policies"]
    statements = policy["PolicyDocument"]["Statement"]

    assert {s["Sid"]: s["Resource"] for s in statements} == {
        "CounterTable": {"Fn::GetAtt": ["Table", "Arn"]},
        "OwnLogs": {"Fn::GetAtt": ["LogGroup", "Arn"]},
    }
    logs = next(s for s in statements if s["Sid"] == "OwnLogs")
    assert logs["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        assert not any("*" in action for action in actions)
        assert not any(action.startswith(("s3:", "kms:")) for action in actions)


def test_the_stack_takes_no_secret_location(template) -> None:
    assert not {"SecretsBucket", "SecretsKey"} & set(template["Parameters"])


def test_log_group_is_the_functions(template) -> None:
    group = resource(template, "LogGroup")

    assert group["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${ProjectName}-${Stage}"}


def test_outputs_name_what_zappa_settings_needs(template) -> None:
    assert set(template["Outputs"]) >= {
        "TableName",
        "StaticBucketName",
        "StaticDomain",
        "DistributionDomain",
        "LambdaRoleArn",
        "LambdaRoleName",
    }
