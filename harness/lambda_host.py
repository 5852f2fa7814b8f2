"""A Lambda host for the built zip: API Gateway events to its handler in a fresh process.

The package tests (tests/deploy) and bench/lambda_cold.py drive the zip with it; it runs
harness/lambda_runtime.py, the runtime stand-in, with only the runtime's SDK beside the unzipped
package. Development only (harness/ never ships). Standard library only.
"""

import importlib
import json
import os
import re
import select
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

RUNTIME = Path(__file__).with_name("lambda_runtime.py")
# What the Lambda Python runtime ships besides the standard library (boto3 and its dependencies);
# zappa_settings.json excludes these from the package, so the runtime's copy must be supplied.
RUNTIME_SDK = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
ANSWER_TIMEOUT_SECONDS = 60
API_HOST = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
# An edge server's address: API Gateway's source IP for every request the distribution sends.
EDGE_IP = "64.252.122.7"
BROWSER_USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def runtime_sdk_link(target: Path) -> Path:
    """`target`, made to hold only the runtime's SDK modules, linked from this venv: the whole
    venv on the path would hide anything missing from the package."""
    target.mkdir(exist_ok=True)
    for name in RUNTIME_SDK:
        source = Path(importlib.import_module(name).__file__)
        source = source.parent if source.name == "__init__.py" else source
        (target / source.name).symlink_to(source)
    return target


def lambda_environment(
    *,
    task: Path,
    config: dict[str, Any],
    secret_key: str,
    dynamodb_endpoint: str,
    stage: str = "prod",
) -> dict[str, str]:
    """The environment Lambda gives the function of `stage`, whose settings are `config` (its
    `aws_environment_variables` and the SECRET_KEY the deploy adds to them,
    deploy/secret_env.py), plus DynamoDB Local's endpoint: nothing else of this machine's
    environment leaks in. Like Lambda's read-only /var/task, the process writes no bytecode."""
    region = config["aws_region"]
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LAMBDA_TASK_ROOT": str(task),
        "AWS_LAMBDA_FUNCTION_NAME": f"{config['project_name']}-{stage}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config["memory_size"]),
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        **config.get("aws_environment_variables", {}),
        "SECRET_KEY": secret_key,
        # Not Lambda's: the table is on DynamoDB Local (the site's setting, and boto3's for a
        # bare handler).
        "DYNAMODB_ENDPOINT_URL": dynamodb_endpoint,
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
    }


def rest_event(
    method: str,
    path: str,
    *,
    source_ip: str,
    user_agent: str,
    proto: str = "https",
    forwarded_for: str | None = None,
    headers: dict[str, str | None] | None = None,
    body: str | None = None,
    query: dict[str, str] | None = None,
    stage: str = "prod",
) -> dict[str, Any]:
    """An API Gateway REST API (payload v1) proxy-integration event, as API Gateway sends it
    from a client at `source_ip`. `forwarded_for` is what the client itself sent in
    X-Forwarded-For (API Gateway appends the address it saw); a header given as None is left
    out. (Over 60 lines: most of it is the event's literal shape, field by field as API Gateway
    sends it.)"""
    chain = f"{forwarded_for}, {source_ip}" if forwarded_for else source_ip
    all_headers = {
        "Accept": "application/json" if path.startswith("/api/") else "text/html",
        "Host": API_HOST,
        "User-Agent": user_agent,
        "X-Forwarded-For": chain,
        "X-Forwarded-Port": "443" if proto == "https" else "80",
        "X-Forwarded-Proto": proto,
        **(headers or {}),
    }
    all_headers = {name: value for name, value in all_headers.items() if value is not None}
    now = time.time()
    resource = "/" if path == "/" else "/{proxy+}"
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": (
            {name: [value] for name, value in query.items()} if query else None
        ),
        "pathParameters": None if path == "/" else {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourceId": "abc123",
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": "Xyz=",
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "path": f"/{stage}{path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": API_HOST.split(".")[0],
            "requestTimeEpoch": int(now * 1000),
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": source_ip, "userAgent": all_headers.get("User-Agent", "")},
            "domainName": API_HOST,
            "apiId": API_HOST.split(".")[0],
        },
        "body": body,
        "isBase64Encoded": False,
    }


def edge_event(
    method: str,
    path: str,
    *,
    viewer_ip: str,
    user_agent: str,
    secret: str,
    country: str = "NL",
    forwarded_for: str | None = None,
    headers: dict[str, str | None] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """A REST (v1) event as API Gateway receives it from the site's CloudFront distribution
    (infra/template.yaml) for a viewer at `viewer_ip`: API Gateway's source IP is an edge
    server's, the Host is API Gateway's own, CloudFront adds the origin secret header, the
    viewer's `ip:port` and country, and appends the viewer to whatever X-Forwarded-For the viewer
    sent (API Gateway then appends the edge). `options` as rest_event."""
    chain = f"{forwarded_for}, {viewer_ip}" if forwarded_for else viewer_ip
    port = 51234
    viewer_address = f"{viewer_ip}:{port}"
    edge_headers = {
        "X-Origin-Verify": secret,
        "CloudFront-Viewer-Address": viewer_address,
        "CloudFront-Viewer-Country": country,
        "Via": "2.0 0123456789abcdef0123456789abcdef.cloudfront.net (CloudFront)",
        "X-Amz-Cf-Id": uuid.uuid4().hex,
        **(headers or {}),
    }
    return rest_event(
        method,
        path,
        source_ip=EDGE_IP,
        user_agent=user_agent,
        forwarded_for=chain,
        headers=edge_headers,
        **options,
    )


class LambdaProcess:
    """One Lambda container: a fresh `python -S` process running the runtime stand-in on the
    unzipped package (`task`), with only the runtime's SDK (`sdk`) beside it. Started, it has
    imported `handler` (Lambda's init); `invoke` answers one event at a time."""

    def __init__(
        self,
        *,
        task: Path,
        sdk: Path,
        env: dict[str, str],
        flags: Sequence[str] = (),
        stderr: IO[bytes] | int | None = None,
    ) -> None:
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-S", *flags, str(RUNTIME), str(task), str(sdk)],
            cwd=task,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        try:
            ready = self._answer()
            if ready != {"ready": True}:
                raise RuntimeError(f"the runtime did not start on Python 3.13: {ready}")
        except BaseException:
            self.close()
            raise
        self.ready = time.perf_counter()

    def _answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], ANSWER_TIMEOUT_SECONDS)
        line = self.process.stdout.readline() if ready else b""
        if not line:
            raise RuntimeError(f"the Lambda process did not answer (exit {self.process.poll()})")
        return json.loads(line)

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        """The handler's answer to one event: {"response": ...} or {"raised": traceback}, with
        "handler_ms"."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(event).encode() + b"\n")
        self.process.stdin.flush()
        return self._answer()

    def alive(self) -> bool:
        return self.process.poll() is None

    def peak_rss_mib(self) -> float:
        """The process's peak resident memory so far (VmHWM; Linux only)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
        if match is None:
            raise RuntimeError("no VmHWM in /proc/PID/status (Linux only)")
        return int(match.group(1)) / 1024

    def cpu_seconds(self) -> float:
        """The process's user + system CPU time so far (Linux only)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
        return (utime + stime) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Site:
    """The package's function as one way of reaching it sees it: straight from API Gateway
    ("api-gateway": no origin secret set, the client is API Gateway's source IP), or through the
    site's CloudFront distribution ("cloudfront": EDGE_ORIGIN_SECRET set, every event from an
    edge server carrying the secret and the viewer's address). The tests of a rule take a Site
    and run once each way; `event` builds the event for a client at `source_ip` either way."""

    def __init__(
        self, *, process: "LambdaProcess", via: str, secret: str, site_url: str, stage: str
    ) -> None:
        self.process = process
        self.via = via
        self.secret = secret
        self.site_url = site_url
        # What the function names in its URLs: the stage through API Gateway, nothing through
        # the distribution (core/edge.py).
        self.prefix = "" if via == "cloudfront" else f"/{stage}"
        # The origin a browser sends from the site's own page: the address it read it at.
        self.page_origin = site_url if via == "cloudfront" else f"https://{API_HOST}"

    def event(
        self,
        method: str,
        path: str,
        *,
        source_ip: str,
        user_agent: str | None = None,
        headers: dict[str, str | None] | None = None,
        forwarded_for: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """The event from a client at `source_ip`; its User-Agent is `user_agent`, or the
        headers' (None there leaves it out), or a browser's."""
        if user_agent is None:
            user_agent = (headers or {}).get("User-Agent", BROWSER_USER_AGENT)
        if self.via == "cloudfront":
            return edge_event(
                method,
                path,
                viewer_ip=source_ip,
                user_agent=user_agent,
                secret=self.secret,
                forwarded_for=forwarded_for,
                headers=headers,
                **options,
            )
        return rest_event(
            method,
            path,
            source_ip=source_ip,
            user_agent=user_agent,
            forwarded_for=forwarded_for,
            headers=headers,
            **options,
        )

    def respond(self, event: dict[str, Any]) -> dict[str, Any]:
        """The handler's response; raises if the handler raised instead."""
        answer = self.process.invoke(event)
        if "response" not in answer:
            raise AssertionError(answer.get("raised"))
        return answer["response"]
