"""A moto server for driving the real `zappa` CLI, patched only where Zappa needs what moto lacks.

moto 5.2 serves every AWS call `zappa deploy/update/status/undeploy` makes, except two:

1. Lambda `ListFunctionUrlConfigs` (GET /2021-10-31/functions/{name}/urls). `zappa update` calls
   it on every run (Zappa's `delete_lambda_function_url`, to remove a function URL when
   `function_url_enabled` is off); moto has no route for it and answers 404, so the update aborts.
2. CloudFormation deletion of an `AWS::ApiGateway::RestApi`. `zappa undeploy` removes the API by
   deleting Zappa's CloudFormation stack; moto's RestAPI model has no delete hook, so the stack
   reaches DELETE_COMPLETE while the REST API stays behind.

Both patches are applied only while `running()` is active and are undone afterwards, so other
tests that use moto in the same session see moto unchanged.

`function_code` reads a function's zip from moto's backend: Lambda's GetFunction answers with a
download URL that moto does not serve, and Zappa deletes its uploaded copy once registered.
"""

import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from moto.apigateway.models import RestAPI, apigateway_backends
from moto.awslambda import urls as lambda_urls
from moto.awslambda.models import lambda_backends
from moto.awslambda.responses import LambdaResponse
from moto.core import DEFAULT_ACCOUNT_ID
from moto.server import ThreadedMotoServer

# Lambda's REST path for ListFunctionUrlConfigs; moto's own `.../url` route serves the single
# Get/Create/Update/DeleteFunctionUrlConfig calls and is left as it is.
LIST_URL_CONFIGS_PATH = r"{0}/(?P<api_version>[^/]+)/functions/(?P<function_name>[\w_:%-]+)/urls/?$"


def _list_function_url_configs(self: LambdaResponse) -> str:
    """ListFunctionUrlConfigs, which moto lacks: the function's URL config, if it has one."""
    path = self.path.split("?", 1)[0].rstrip("/")
    function_name = unquote(path.split("/")[-2])
    function = self.backend.get_function(function_name)
    configs = [function.url_config.to_dict()] if function.url_config else []
    return json.dumps({"FunctionUrlConfigs": configs})


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
    added_route = LIST_URL_CONFIGS_PATH not in lambda_urls.url_paths
    if added_route:
        lambda_urls.url_paths[LIST_URL_CONFIGS_PATH] = LambdaResponse.dispatch
    had_list = "list_function_url_configs" in vars(LambdaResponse)
    if not had_list:
        LambdaResponse.list_function_url_configs = _list_function_url_configs
    original_delete = vars(RestAPI).get("delete_from_cloudformation_json")
    RestAPI.delete_from_cloudformation_json = classmethod(_delete_rest_api_from_cloudformation_json)
    try:
        yield
    finally:
        if original_delete is None:
            del RestAPI.delete_from_cloudformation_json
        else:
            RestAPI.delete_from_cloudformation_json = original_delete
        if not had_list:
            del LambdaResponse.list_function_url_configs
        if added_route:
            del lambda_urls.url_paths[LIST_URL_CONFIGS_PATH]


@contextlib.contextmanager
def running() -> Iterator[str]:
    """A patched moto server on a free local port; yields its endpoint URL.

    The server runs in this process on moto's global in-memory backends, which other moto
    servers of the test session share: callers delete what they create instead of resetting
    moto, so they never wipe another fixture's state."""
    access_log = logging.getLogger("werkzeug")  # one line per request: hundreds per deploy
    level = access_log.level
    access_log.setLevel(logging.WARNING)
    with zappa_patches():
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
    return api_id


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
    distribution = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": stack,
            "Comment": stack,
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
    )["Distribution"]
    template = {
        "Resources": {"Alarms": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"DistributionId": {"Value": distribution["Id"]}},
    }
    cloudformation.create_stack(StackName=stack, TemplateBody=json.dumps(template))
    return distribution["Id"]


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
