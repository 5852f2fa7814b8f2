"""infra/template.yaml: cfn-lint clean, and the properties the deploy relies on are there."""

import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file
from cfnlint.decode import cfn_yaml

from core import clients

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
    assert source.endswith(":distribution/${Distribution}")


# --- The one distribution -------------------------------------------------------------------
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
ALL_METHODS = {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}


def distribution(template) -> dict[str, Any]:
    return resource(template, "Distribution")["DistributionConfig"]


def when_api(value: Any) -> Any:
    """The branch a `!If [HasApi, then, else]` takes once the API exists."""
    condition, then, _ = value["Fn::If"]
    assert condition == "HasApi"
    return then


def behaviors(template) -> dict[str, dict[str, Any]]:
    """Each cache behaviour with the API deployed, by path pattern ("*" for the default)."""
    config = distribution(template)
    found = {}
    for behavior in config["CacheBehaviors"]:
        behavior = when_api(behavior) if "Fn::If" in behavior else behavior
        found[behavior["PathPattern"]] = behavior
    found["*"] = when_api(config["DefaultCacheBehavior"])
    return found


def test_there_is_one_distribution_for_the_whole_site(template) -> None:
    kinds = [item["Type"] for item in template["Resources"].values()]

    assert kinds.count("AWS::CloudFront::Distribution") == 1
    assert "StaticDistribution" not in template["Resources"]


def test_each_behaviour_has_its_path_origin_and_cache_policy(template) -> None:
    found = behaviors(template)

    assert set(found) == {"static/*", "resume*.pdf", "api/*", "admin/*", "*"}
    assert found["static/*"]["TargetOriginId"] == "static-bucket"
    assert found["static/*"]["CachePolicyId"] == {"Ref": "StaticCachePolicy"}
    # The resume's PDFs (deploy/pdf.py): from the bucket, cached as the objects say.
    assert found["resume*.pdf"]["TargetOriginId"] == "static-bucket"
    assert found["resume*.pdf"]["CachePolicyId"] == {"Ref": "PageCachePolicy"}
    assert found["*"]["TargetOriginId"] == "api-gateway"
    assert found["*"]["CachePolicyId"] == {"Ref": "PageCachePolicy"}
    for path in ("api/*", "admin/*"):
        assert found[path]["TargetOriginId"] == "api-gateway"
        assert found[path]["CachePolicyId"] == CACHING_DISABLED
        assert found[path]["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST
        assert set(found[path]["AllowedMethods"]) == ALL_METHODS
    for path in ("static/*", "resume*.pdf", "*"):
        assert set(found[path]["AllowedMethods"]) == {"GET", "HEAD"}
        assert "OriginRequestPolicyId" not in found[path]  # nothing of the viewer forwarded


def test_https_only_http2_and_3_compressed_ipv6(template) -> None:
    config = distribution(template)

    assert config["HttpVersion"] == "http2and3"
    assert config["IPV6Enabled"] is True
    for behavior in behaviors(template).values():
        assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
        assert behavior["Compress"] is True
    with_domain, without = config["ViewerCertificate"]["Fn::If"][1:]
    assert with_domain["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert with_domain["SslSupportMethod"] == "sni-only"
    assert with_domain["AcmCertificateArn"] == {"Ref": "CertificateArn"}
    assert without == {"CloudFrontDefaultCertificate": True}
    assert config["Aliases"]["Fn::If"][1] == [{"Ref": "DomainName"}]


def test_the_page_policy_keeps_nothing_of_the_request_and_follows_the_origins_max_age(
    template,
) -> None:
    policy = resource(template, "PageCachePolicy")["CachePolicyConfig"]
    key = policy["ParametersInCacheKeyAndForwardedToOrigin"]

    assert policy["MaxTTL"] == 86400  # the function's s-maxage (a day)
    assert policy["MinTTL"] == 0
    assert key["CookiesConfig"] == {"CookieBehavior": "none"}
    assert key["HeadersConfig"] == {"HeaderBehavior": "none"}
    assert key["QueryStringsConfig"] == {"QueryStringBehavior": "none"}
    static = resource(template, "StaticCachePolicy")["CachePolicyConfig"]
    assert static["DefaultTTL"] == static["MaxTTL"] == 31536000


def test_the_api_origin_is_the_stage_over_https_with_the_origin_secret(template) -> None:
    origins = distribution(template)["Origins"]
    bucket = origins[0]
    api = when_api(origins[1])

    assert bucket["OriginAccessControlId"] == {"Fn::GetAtt": ["StaticOriginAccessControl", "Id"]}
    assert bucket["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert api["Id"] == "api-gateway"
    assert api["DomainName"] == {"Fn::Sub": "${ApiId}.execute-api.${AWS::Region}.amazonaws.com"}
    assert api["OriginPath"] == {"Fn::Sub": "/${Stage}"}
    assert api["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert api["OriginCustomHeaders"] == [
        {"HeaderName": "X-Origin-Verify", "HeaderValue": {"Ref": "OriginSecret"}}
    ]
    oac = resource(template, "StaticOriginAccessControl")["OriginAccessControlConfig"]
    assert (oac["SigningBehavior"], oac["OriginAccessControlOriginType"]) == ("always", "s3")


def test_the_origin_header_is_the_one_the_site_checks(template) -> None:
    from core.edge import ORIGIN_HEADER

    api = when_api(distribution(template)["Origins"][1])
    assert api["OriginCustomHeaders"][0]["HeaderName"] == ORIGIN_HEADER


def test_the_origin_secret_is_a_no_echo_parameter_without_a_default(template) -> None:
    secret = template["Parameters"]["OriginSecret"]

    assert secret["NoEcho"] is True
    assert "Default" not in secret
    assert secret["MinLength"] >= 32


def test_failed_answers_are_not_kept_at_the_edge(template) -> None:
    errors = distribution(template)["CustomErrorResponses"]

    assert {error["ErrorCode"]: error["ErrorCachingMinTTL"] for error in errors} == {
        500: 0,
        502: 0,
        503: 0,
        504: 0,
    }


def test_before_the_first_deploy_the_distribution_serves_only_the_bucket(template) -> None:
    config = distribution(template)
    _, _, before = config["DefaultCacheBehavior"]["Fn::If"]

    assert before["TargetOriginId"] == "static-bucket"
    assert config["Origins"][1]["Fn::If"][2] == {"Ref": "AWS::NoValue"}


def test_the_domain_gets_alias_a_and_aaaa_records_in_its_zone(template) -> None:
    records = {
        name: item
        for name, item in template["Resources"].items()
        if item["Type"] == "AWS::Route53::RecordSet"
    }

    assert {item["Properties"]["Type"] for item in records.values()} == {"A", "AAAA"}
    for item in records.values():
        assert item["Condition"] == "HasZone"
        alias = item["Properties"]["AliasTarget"]
        assert alias["DNSName"] == {"Fn::GetAtt": ["Distribution", "DomainName"]}
        assert alias["HostedZoneId"] == "Z2FDTNDATAQYW2"
        assert item["Properties"]["Name"] == {"Ref": "DomainName"}


def test_outputs_give_site_url_and_static_domain_from_the_domain(template) -> None:
    outputs = template["Outputs"]

    assert outputs["SiteUrl"]["Value"]["Fn::If"][1] == {"Fn::Sub": "https://${DomainName}"}
    assert outputs["StaticDomain"]["Value"]["Fn::If"][1] == {"Ref": "DomainName"}
    assert outputs["DistributionId"]["Value"] == {"Ref": "Distribution"}


# --- Guards ---------------------------------------------------------------------------------
def alarms(template) -> dict[str, dict[str, Any]]:
    return {
        name: item["Properties"]
        for name, item in template["Resources"].items()
        if item["Type"] == "AWS::CloudWatch::Alarm"
    }


def test_alarms_watch_errors_throttles_5xx_table_throttling_the_viewer_and_requests(
    template,
) -> None:
    found = alarms(template)
    watched = set()
    for alarm in found.values():
        if "MetricName" in alarm:
            watched.add((json.dumps(alarm["Namespace"]), alarm["MetricName"]))
        for metric in alarm.get("Metrics", []):
            if "MetricStat" in metric:
                stat = metric["MetricStat"]["Metric"]
                watched.add((json.dumps(stat["Namespace"]), stat["MetricName"]))

    assert watched == {
        ('"AWS/Lambda"', "Errors"),
        ('"AWS/Lambda"', "Duration"),
        ('"AWS/Lambda"', "Throttles"),
        ('"AWS/ApiGateway"', "5XXError"),
        ('"AWS/ApiGateway"', "Count"),
        ('"AWS/DynamoDB"', "ReadThrottleEvents"),
        ('"AWS/DynamoDB"', "WriteThrottleEvents"),
        ('"AWS/DynamoDB"', "ConsumedWriteCapacityUnits"),
        ('{"Fn::Sub": "${ProjectName}/${Stage}"}', "ViewerAddressMissing"),
    }
    for name, alarm in found.items():
        kill_switch = [{"Ref": "KillSwitchTopic"}] if name.startswith("ApiRequests") else []
        assert alarm["AlarmActions"] == [*kill_switch, {"Ref": "AlertTopic"}]
        assert alarm["TreatMissingData"] == "notBreaching"


def test_the_viewer_address_alarm_counts_the_functions_own_log_marker(template) -> None:
    """core/clients.py logs the marker once per process when the distribution stops forwarding
    CloudFront-Viewer-Address; the metric filter turns those lines into the alarm's metric."""
    metric = resource(template, "ViewerAddressMissingMetric")
    assert metric["LogGroupName"] == {"Ref": "LogGroup"}
    assert metric["FilterPattern"] == clients.VIEWER_MISSING_MARKER
    (transformation,) = metric["MetricTransformations"]
    alarm = resource(template, "ViewerAddressMissingAlarm")
    assert transformation["MetricName"] == alarm["MetricName"] == "ViewerAddressMissing"
    assert transformation["MetricNamespace"] == alarm["Namespace"]


def test_alarm_topics_are_not_encrypted_with_the_key_cloudwatch_cannot_use(template) -> None:
    """CloudWatch alarms cannot publish to a topic under SNS's AWS managed key."""
    for name in ("AlertTopic", "KillSwitchTopic"):
        assert "KmsMasterKeyId" not in resource(template, name)


def test_alerts_are_emailed_to_the_address_parameter(template) -> None:
    topic = resource(template, "AlertTopic")

    assert topic["Subscription"] == [{"Protocol": "email", "Endpoint": {"Ref": "AlertEmail"}}]
    assert "Default" not in template["Parameters"]["AlertEmail"]


def test_the_budget_alerts_at_80_and_100_percent_of_the_monthly_amount(template) -> None:
    budget = resource(template, "CostBudget")

    assert budget["Budget"]["BudgetLimit"] == {"Amount": {"Ref": "MonthlyBudgetUsd"}, "Unit": "USD"}
    assert budget["Budget"]["TimeUnit"] == "MONTHLY"
    thresholds = set()
    for entry in budget["NotificationsWithSubscribers"]:
        assert entry["Subscribers"] == [
            {"SubscriptionType": "EMAIL", "Address": {"Ref": "AlertEmail"}}
        ]
        assert entry["Notification"]["ThresholdType"] == "PERCENTAGE"
        thresholds.add(entry["Notification"]["Threshold"])
    assert thresholds == {80, 100}


def test_waf_is_off_by_default_priced_and_has_the_three_rules(template) -> None:
    parameter = template["Parameters"]["EnableWaf"]
    acl = template["Resources"]["WebAcl"]
    rules = {rule["Name"]: rule["Statement"] for rule in acl["Properties"]["Rules"]}

    assert parameter["Default"] == "false"
    assert "USD a month" in parameter["Description"]
    assert acl["Condition"] == "HasWaf"
    assert acl["Properties"]["Scope"] == "CLOUDFRONT"
    assert rules["ip-reputation"]["ManagedRuleGroupStatement"]["Name"] == (
        "AWSManagedRulesAmazonIpReputationList"
    )
    assert rules["known-bad-inputs"]["ManagedRuleGroupStatement"]["Name"] == (
        "AWSManagedRulesKnownBadInputsRuleSet"
    )
    assert rules["rate-per-ip"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    assert distribution(template)["WebACLId"]["Fn::If"][:2] == [
        "HasWaf",
        {"Fn::GetAtt": ["WebAcl", "Arn"]},
    ]


# --- The deploying identity's invalidation right --------------------------------------------
def test_the_deployer_may_invalidate_this_distribution_and_read_this_stack_only(template) -> None:
    statements = resource(template, "DeployInvalidatePolicy")["PolicyDocument"]["Statement"]

    assert {s["Sid"]: (s["Action"], s["Resource"]) for s in statements} == {
        "ReadInfraStack": ("cloudformation:DescribeStacks", {"Ref": "AWS::StackId"}),
        "InvalidateDistribution": (
            "cloudfront:CreateInvalidation",
            {
                "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}"
                ":distribution/${Distribution}"
            },
        ),
    }
    assert all(s["Effect"] == "Allow" and "Condition" not in s for s in statements)


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
        "SiteUrl",
        "DistributionDomain",
        "DistributionId",
        "DeployInvalidatePolicyArn",
        "LambdaRoleArn",
        "LambdaRoleName",
    }
