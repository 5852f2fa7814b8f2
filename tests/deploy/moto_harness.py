"""A moto server for driving the real `zappa` CLI, patched only where Zappa needs what moto lacks.

moto 5.2 serves every AWS call `zappa deploy/update/status/undeploy` and the deploy's callbacks
make, except three:

1. Lambda `ListFunctionUrlConfigs` (GET /2021-10-31/functions/{name}/urls). `zappa update` calls
   it on every run (Zappa's `delete_lambda_function_url`, to remove a function URL when
   `function_url_enabled` is off); moto has no route for it and answers 404, so the update aborts.
2. CloudFormation deletion of an `AWS::ApiGateway::RestApi`. `zappa undeploy` removes the API by
   deleting Zappa's CloudFormation stack; moto's RestAPI model has no delete hook, so the stack
   reaches DELETE_COMPLETE while the REST API stays behind.

3. Lambda `GetAccountSettings` (GET /2016-08-19/account-settings/), which the `settings` callback
   reads to size the reserved concurrency (deploy/concurrency.py). The answer has AWS's documented
   shape; its quota is moto's own MOTO_LAMBDA_CONCURRENCY_QUOTA (1,000 without it, AWS's
   default), less what the functions reserve, as moto's PutFunctionConcurrency counts it.

All patches are applied only while `running()` is active and are undone afterwards, so other
tests that use moto in the same session see moto unchanged. One more only saves time: the server
looks up the name of each request's host among moto's modules by listing moto's folder and
testing each entry (some 200 `stat` calls a request, a deploy's static files making a thousand
requests); while `running()` is active, the list is read once.

`function_code` reads a function's zip from moto's backend: Lambda's GetFunction answers with a
download URL that moto does not serve, and Zappa deletes its uploaded copy once registered.
"""

import contextlib
import functools
import json
import logging
import os
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import unquote

from moto import backends as moto_backends
from moto.apigateway.models import RestAPI, apigateway_backends
from moto.awslambda import urls as lambda_urls
from moto.awslambda.models import lambda_backends
from moto.awslambda.responses import LambdaResponse
from moto.core import DEFAULT_ACCOUNT_ID
from moto.server import ThreadedMotoServer

# Lambda's REST path for ListFunctionUrlConfigs; moto's own `.../url` route serves the single
# Get/Create/Update/DeleteFunctionUrlConfig calls and is left as it is.
LIST_URL_CONFIGS_PATH = r"{0}/(?P<api_version>[^/]+)/functions/(?P<function_name>[\w_:%-]+)/urls/?$"
ACCOUNT_SETTINGS_PATH = r"{0}/(?P<api_version>[^/]+)/account-settings/?$"
DEFAULT_QUOTA = 1000  # AWS's default concurrent executions per account and region


def _list_function_url_configs(self: LambdaResponse) -> str:
    """ListFunctionUrlConfigs, which moto lacks: the function's URL config, if it has one."""
    path = self.path.split("?", 1)[0].rstrip("/")
    function_name = unquote(path.split("/")[-2])
    function = self.backend.get_function(function_name)
    configs = [function.url_config.to_dict()] if function.url_config else []
    return json.dumps({"FunctionUrlConfigs": configs})


def _get_account_settings(self: LambdaResponse) -> str:
    """GetAccountSettings, which moto lacks, in AWS's documented shape."""
    quota = int(os.environ.get("MOTO_LAMBDA_CONCURRENCY_QUOTA", DEFAULT_QUOTA))
    functions = self.backend.list_functions()
    reserved = sum(int(fn.reserved_concurrency or 0) for fn in functions)
    return json.dumps(
        {
            "AccountLimit": {
                "TotalCodeSize": 80530636800,
                "CodeSizeUnzipped": 262144000,
                "CodeSizeZipped": 52428800,
                "ConcurrentExecutions": quota,
                "UnreservedConcurrentExecutions": quota - reserved,
            },
            "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": len(functions)},
        }
    )


def _delete_rest_api_from_cloudformation_json(
    cls: type[RestAPI],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> None:
    """DeleteStack of an AWS::ApiGateway::RestApi, which moto lacks: delete the REST API.

    moto passes the resource's physical id (the REST API id) as `resource_name`."""
    backend = apigateway_backends[account_id][region_name]
    if resource_name in backend.apis:
        backend.delete_rest_api(resource_name)


@contextlib.contextmanager
def zappa_patches() -> Iterator[None]:
    """Add the two missing pieces to moto for as long as the context is open."""
    added_routes = [
        path
        for path in (LIST_URL_CONFIGS_PATH, ACCOUNT_SETTINGS_PATH)
        if path not in lambda_urls.url_paths
    ]
    for path in added_routes:
        lambda_urls.url_paths[path] = LambdaResponse.dispatch
    added_methods = []
    for name, method in (
        ("list_function_url_configs", _list_function_url_configs),
        ("get_account_settings", _get_account_settings),
    ):
        if name not in vars(LambdaResponse):
            setattr(LambdaResponse, name, method)
            added_methods.append(name)
    original_delete = vars(RestAPI).get("delete_from_cloudformation_json")
    RestAPI.delete_from_cloudformation_json = classmethod(_delete_rest_api_from_cloudformation_json)
    try:
        yield
    finally:
        if original_delete is None:
            del RestAPI.delete_from_cloudformation_json
        else:
            RestAPI.delete_from_cloudformation_json = original_delete
        for name in added_methods:
            delattr(LambdaResponse, name)
        for path in added_routes:
            del lambda_urls.url_paths[path]


@contextlib.contextmanager
def running() -> Iterator[str]:
    """A patched moto server on a free local port; yields its endpoint URL.

    The server runs in this process on moto's global in-memory backends, which other moto
    servers of the test session share: callers delete what they create instead of resetting
    moto, so they never wipe another fixture's state."""
    access_log = logging.getLogger("werkzeug")  # one line per request: hundreds per deploy
    level = access_log.level
    access_log.setLevel(logging.WARNING)
    listed = moto_backends.list_of_moto_modules
    modules = functools.cache(lambda: tuple(listed()))
    with zappa_patches(), mock.patch.object(moto_backends, "list_of_moto_modules", modules):
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        try:
            yield url
        finally:
            server.stop()
            access_log.setLevel(level)


def function_code(*, name: str, region: str) -> bytes:
    """The zip the function's $LATEST runs, as the moto server (in this process) holds it."""
    return lambda_backends[DEFAULT_ACCOUNT_ID][region].get_function(name).code_bytes


def deployed_api(*, apigateway: Any, stage: str) -> str:
    """A REST API named after the stage's function, with one method, deployed to the stage, as
    Zappa leaves it. Returns its id."""
    api_id = apigateway.create_rest_api(name=f"resume-site-{stage}")["id"]
    deploy_api(apigateway=apigateway, api_id=api_id, stage=stage)
    return api_id


def deploy_api(*, apigateway: Any, api_id: str, stage: str) -> None:
    """Give the REST API one method and deploy it to the stage, as Zappa does."""
    root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
    apigateway.put_method(
        restApiId=api_id, resourceId=root, httpMethod="ANY", authorizationType="NONE"
    )
    apigateway.put_integration(
        restApiId=api_id,
        resourceId=root,
        httpMethod="ANY",
        type="MOCK",
        integrationHttpMethod="ANY",
    )
    apigateway.create_deployment(restApiId=api_id, stageName=stage)


def stage_throttling(*, apigateway: Any, api_id: str, stage: str) -> tuple[float, int] | None:
    """The stage's `*/*` rate and burst limits, or None where none is set."""
    settings = apigateway.get_stage(restApiId=api_id, stageName=stage).get("methodSettings") or {}
    default = settings.get("*/*") or {}
    if "throttlingRateLimit" not in default:
        return None
    return default["throttlingRateLimit"], default["throttlingBurstLimit"]


def infra_stack_create(*, cloudformation: Any, cloudfront: Any, stack: str) -> str:
    """What the deploy needs of the stage's infra stack: a distribution (moto's
    CreateDistribution) and a stack named `stack` whose `DistributionId` output names it (moto
    cannot build infra/template.yaml's distribution itself). Returns the distribution's id."""
    distribution_id = _distribution(cloudfront=cloudfront, reference=stack)
    template = {
        "Resources": {"Alarms": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"DistributionId": {"Value": distribution_id}},
    }
    cloudformation.create_stack(StackName=stack, TemplateBody=json.dumps(template))
    return distribution_id


def invalidated_paths(*, cloudfront: Any, distribution_id: str) -> list[list[str]]:
    """The paths of each invalidation of the distribution, oldest first."""
    listed = cloudfront.list_invalidations(DistributionId=distribution_id)["InvalidationList"]
    batches = [
        cloudfront.get_invalidation(DistributionId=distribution_id, Id=item["Id"])["Invalidation"][
            "InvalidationBatch"
        ]
        for item in listed.get("Items", [])
    ]
    return [batch["Paths"]["Items"] for batch in reversed(batches)]


TRUST_LAMBDA = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


class InfraStack:
    """Stands in for CloudFormation creating and updating a stage's infra/template.yaml stack,
    which moto cannot build (its CloudFormation skips CloudFront, alarm and budget resources and
    then fails on the outputs that name them).

    `create_stack`, `update_stack` and `get_template` of an infra stack take the real template
    and parameters, and make in moto what the deploy then uses: the table, the static bucket, the
    Lambda role and the distribution, plus a moto stack of the same name whose parameters (the
    NoEcho OriginSecret too) and outputs are the template's, so DescribeStacks answers as AWS
    would. Every other call goes to moto's CloudFormation unchanged. `applied` keeps each
    create or update's parameters, in order."""

    OUTPUTS = (
        "TableName",
        "StaticBucketName",
        "SiteUrl",
        "StaticDomain",
        "DistributionDomain",
        "DistributionId",
        "LambdaRoleName",
    )

    def __init__(self, *, session: Any, endpoint: str) -> None:
        def client(name: str) -> Any:
            return session.client(name, endpoint_url=endpoint)

        self.cloudformation = client("cloudformation")
        self.cloudfront, self.iam = client("cloudfront"), client("iam")
        self.s3, self.dynamodb = client("s3"), client("dynamodb")
        self.account = client("sts").get_caller_identity()["Account"]
        self.templates: dict[str, str] = {}
        self.distributions: dict[str, str] = {}
        self.applied: list[dict[str, str]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cloudformation, name)

    def get_template(self, *, StackName: str, **kwargs: Any) -> dict[str, Any]:
        if StackName in self.templates:
            return {"TemplateBody": self.templates[StackName]}
        return self.cloudformation.get_template(StackName=StackName, **kwargs)

    def create_stack(self, **kwargs: Any) -> dict[str, Any]:
        return self._apply(kwargs, self.cloudformation.create_stack)

    def update_stack(self, **kwargs: Any) -> dict[str, Any]:
        return self._apply(kwargs, self.cloudformation.update_stack)

    def _apply(self, kwargs: dict[str, Any], call: Any) -> dict[str, Any]:
        parameters = {item["ParameterKey"]: item["ParameterValue"] for item in kwargs["Parameters"]}
        name, stage = kwargs["StackName"], parameters["Stage"]
        outputs = self._resources(name=name, stage=stage, domain=parameters.get("DomainName", ""))
        stand_in = {
            "Parameters": {
                key: {"Type": "String", **({"NoEcho": True} if key == "OriginSecret" else {})}
                for key in parameters
            },
            "Resources": {"Alarms": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {key: {"Value": value} for key, value in outputs.items()},
        }
        answer = call(
            StackName=name,
            TemplateBody=json.dumps(stand_in),
            Parameters=kwargs["Parameters"],
            Tags=kwargs.get("Tags", []),
        )
        self.templates[name] = kwargs["TemplateBody"]
        self.applied.append(parameters)
        return answer

    def _resources(self, *, name: str, stage: str, domain: str) -> dict[str, str]:
        project = "resume-site"
        table, role = f"{project}-{stage}", f"{project}-{stage}-lambda"
        bucket = f"{project}-{stage}-static-{self.account}"
        if table not in self.dynamodb.list_tables()["TableNames"]:
            self.dynamodb.create_table(
                TableName=table,
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        self.s3.create_bucket(Bucket=bucket)
        if not [r for r in self.iam.list_roles()["Roles"] if r["RoleName"] == role]:
            self.iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST_LAMBDA))
        if name not in self.distributions:
            reference = f"{name}-{uuid.uuid4().hex}"  # one stand-in, one distribution
            self.distributions[name] = _distribution(
                cloudfront=self.cloudfront, reference=reference
            )
        described = self.cloudfront.get_distribution(Id=self.distributions[name])["Distribution"]
        host = domain or described["DomainName"]
        return {
            "TableName": table,
            "StaticBucketName": bucket,
            "SiteUrl": f"https://{host}",
            "StaticDomain": host,
            "DistributionDomain": described["DomainName"],
            "DistributionId": described["Id"],
            "LambdaRoleName": role,
        }

    def remove(self) -> None:
        """Delete what the stand-in made (moto's state is shared by the session's servers)."""
        for name in self.templates:
            self.cloudformation.delete_stack(StackName=name)
        for table in self.dynamodb.list_tables()["TableNames"]:
            if table.startswith("resume-site-"):
                self.dynamodb.delete_table(TableName=table)
        for role in self.iam.list_roles()["Roles"]:
            if role["RoleName"].startswith("resume-site-"):
                self.iam.delete_role(RoleName=role["RoleName"])


def _distribution(*, cloudfront: Any, reference: str) -> str:
    return cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": reference,
            "Comment": reference,
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "api",
                        "DomainName": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
                        "CustomOriginConfig": {
                            "HTTPPort": 80,
                            "HTTPSPort": 443,
                            "OriginProtocolPolicy": "https-only",
                        },
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "api",
                "ViewerProtocolPolicy": "redirect-to-https",
                "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
            },
        }
    )["Distribution"]["Id"]


def empty_buckets(*, s3: Any, prefix: str) -> None:
    """Delete every bucket whose name starts with `prefix`, with its objects."""
    for bucket in s3.list_buckets()["Buckets"]:
        if bucket["Name"].startswith(prefix):
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"])
            for item in (item for page in pages for item in page.get("Contents", [])):
                s3.delete_object(Bucket=bucket["Name"], Key=item["Key"])
            s3.delete_bucket(Bucket=bucket["Name"])


def aws_environment(
    *, endpoint: str, home: Path, region: str, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """This process's environment (or `base`) with every AWS setting replaced: fake
    credentials, one region, and all services at the moto server. A developer's own AWS
    profile, config file or credentials can never be used, so nothing can reach a real account."""
    base = dict(os.environ) if base is None else base
    env = {key: value for key, value in base.items() if not key.startswith("AWS_")}
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": region,
            "AWS_CONFIG_FILE": str(home / "aws-config-absent"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials-absent"),
        }
    )
    return env
