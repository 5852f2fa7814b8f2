"""What bench/lambda_cold.py runs on: the unzipped package and the bare handler side by side, the
runtime's SDK, DynamoDB Local with the stage's table, and the events sent to them.

`prepared()` sets it all up in a scratch folder; `Setup` starts processes (harness/lambda_host.py)
and sends them events, checking every answer and counting what it sent, so the bench can check
the table holds exactly that (`stored_totals`).
"""

import compileall
import importlib
import json
import secrets
import shutil
import subprocess
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

from harness import lambda_host
from scripts import dynamodb_local

ROOT = Path(__file__).resolve().parent.parent
STAGE = "prod"
BASELINE = ROOT / "bench" / "baseline" / "handler.py"
OURS, BARE = "ours", "bare"
# Ours with the per-minute limits off: a counted POST waits on one round trip fewer
# (docs/architecture.md, "A POST's round trips"). Timed in the warm rounds only.
UNLIMITED = "ours, limits off"
LIMITS_OFF = {"COUNTER_VISITOR_LIMIT": "0", "COUNTER_CLIENT_LIMIT": "0"}
# Ours, sent a view whose page was reached from another site: the first such view of a process
# reads the Public Suffix List to name the site (counter/visits.py). Timed in the cold runs only.
REFERRED = "ours, from another site"
REFERRER = "www.linkedin.com"
CLICK_LINK = "email"  # a link every resume has (templates/resume/resume.html, data-click)


def counted(answer: dict[str, Any], what: str = "POST /api/count") -> dict[str, Any]:
    """The answer, after checking it is a 200 that counted what was sent."""
    response = answer.get("response") or {}
    body = json.loads(response.get("body") or "{}")
    if response.get("statusCode") != 200 or body.get("counted") is False:
        raise RuntimeError(f"{what} was not counted: {answer}")
    return answer


@dataclass
class Setup:
    """The unzipped package and the bare handler, their environments, the runtime's SDK and
    the engine. Each visitor comes from its own source IP (RFC 2544's benchmarking range);
    `sent` counts the counted views and clicks sent, by whose they were."""

    config: dict[str, Any]
    tasks: dict[str, Path]
    sdk: Path
    envs: dict[str, dict[str, str]]
    dynamodb: str
    visitors: Iterator[int] = field(default_factory=lambda: count(1))
    sent: Counter[str] = field(default_factory=Counter)

    def start(self, kind: str, **options: Any) -> lambda_host.LambdaProcess:
        env = {**self.envs[kind], **options.pop("env", {})}
        options.setdefault("stderr", subprocess.DEVNULL)
        return lambda_host.LambdaProcess(task=self.tasks[kind], sdk=self.sdk, env=env, **options)

    def visitor(self) -> str:
        """A new visitor's source IP."""
        number = next(self.visitors)
        return f"198.18.{number // 256 % 256}.{number % 256}"

    def event(self, method: str, path: str, *, source_ip: str | None = None, **options: Any):
        return lambda_host.rest_event(
            method,
            path,
            source_ip=source_ip or self.visitor(),
            user_agent=lambda_host.BROWSER_USER_AGENT,
            stage=STAGE,
            **options,
        )

    def post_event(self, kind: str, source_ip: str | None = None) -> dict[str, Any]:
        """A view's POST for a process of `kind`, with the body the page's script sends
        (static/js/counter.js: the referring site's host, the campaign tag), counted in `sent`
        as sent (the phase profile's processes are not started by this class)."""
        self.sent[BARE if kind == BARE else OURS] += 1
        referrer = REFERRER if kind == REFERRED else ""
        return self.event(
            "POST",
            "/api/count",
            source_ip=source_ip,
            headers={"Content-Type": "application/json"},
            body=json.dumps({"referrer": referrer, "campaign": ""}),
        )

    def post(
        self, container: lambda_host.LambdaProcess, kind: str, source_ip: str | None = None
    ) -> dict[str, Any]:
        """A view of the visitor at `source_ip` (a new one if None), which must be counted."""
        return counted(container.invoke(self.post_event(kind, source_ip)))

    def click(self, container: lambda_host.LambdaProcess, source_ip: str) -> dict[str, Any]:
        """A click on the page's e-mail link, which must be counted."""
        self.sent["clicks"] += 1
        event = self.event(
            "POST",
            "/api/click",
            source_ip=source_ip,
            headers={"Content-Type": "application/json"},
            body=json.dumps({"link": CLICK_LINK}),
        )
        return counted(container.invoke(event), "POST /api/click")

    def get(self, container: lambda_host.LambdaProcess, path: str) -> dict[str, Any]:
        answer = container.invoke(self.event("GET", path))
        if (answer.get("response") or {}).get("statusCode") != 200:
            raise RuntimeError(f"GET {path} did not answer 200: {answer}")
        return answer


def table_create(*, endpoint: str, name: str, region: str) -> None:
    """The stage's table in DynamoDB Local (key `pk`, on demand), and a warm engine."""
    import boto3

    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=region)
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=name)
    for number in range(200):  # the JVM compiles its hot paths before anything is timed
        client.update_item(
            TableName=name,
            Key={"pk": {"S": f"warmup#{number % 10}"}},
            UpdateExpression="ADD #c :one",
            ExpressionAttributeNames={"#c": "count"},
            ExpressionAttributeValues={":one": {"N": "1"}},
        )


def sdk_copied(target: Path, *, compiled: bool = True) -> Path:
    """`target`, holding a copy of the runtime's SDK (what harness/lambda_host.py links), with
    its bytecode compiled unless `compiled` is False. The bench's processes write no bytecode
    (Lambda's file system is read-only), so an SDK without it is compiled from source at every
    start, by ours and the bare handler alike; whether this venv's copy has it depends on what
    ran in the venv before (the test suite writes it). Copied, every run starts from the same
    SDK."""
    target.mkdir()
    for name in lambda_host.RUNTIME_SDK:
        source = Path(importlib.import_module(name).__file__)
        if source.name == "__init__.py":
            shutil.copytree(
                source.parent,
                target / source.parent.name,
                ignore=shutil.ignore_patterns("__pycache__"),
            )
        else:
            shutil.copy2(source, target / source.name)
    if compiled and not compileall.compile_dir(target, quiet=1):
        raise RuntimeError(f"the runtime's SDK in {target} did not compile")
    return target


@contextmanager
def prepared(
    zip_path: Path, config: dict[str, Any], *, sdk_bytecode: bool = True
) -> Iterator[Setup]:
    table = config["environment_variables"]["DYNAMODB_TABLE"]
    with (
        tempfile.TemporaryDirectory(prefix="lambda-bench-") as scratch,
        dynamodb_local.running() as dynamodb,
    ):
        root = Path(scratch)
        sdk = sdk_copied(root / "var-runtime", compiled=sdk_bytecode)
        tasks = {OURS: root / "task-ours", BARE: root / "task-bare"}
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(tasks[OURS])
        tasks[BARE].mkdir()
        shutil.copy2(BASELINE, tasks[BARE] / "handler.py")
        table_create(endpoint=dynamodb, name=table, region=config["aws_region"])
        secret_key = secrets.token_urlsafe(64)
        envs = {
            kind: lambda_host.lambda_environment(
                task=task, config=config, secret_key=secret_key, dynamodb_endpoint=dynamodb
            )
            # The handler Lambda calls, and the bare handler's table (Zappa's settings name
            # it for ours).
            | {"_HANDLER": "handler.lambda_handler", "DYNAMODB_TABLE": table}
            for kind, task in tasks.items()
        }
        tasks[UNLIMITED] = tasks[REFERRED] = tasks[OURS]
        envs[UNLIMITED] = envs[OURS] | LIMITS_OFF
        envs[REFERRED] = envs[OURS]
        yield Setup(config=config, tasks=tasks, sdk=sdk, envs=envs, dynamodb=dynamodb)


def sizes(zip_path: Path) -> tuple[int, int, int, int]:
    """Zipped bytes, unzipped bytes, number of files, number of .pyc files."""
    with zipfile.ZipFile(zip_path) as archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
    pyc = sum(1 for info in infos if info.filename.endswith(".pyc"))
    return zip_path.stat().st_size, sum(info.file_size for info in infos), len(infos), pyc


def stored_totals(setup: Setup) -> dict[str, int]:
    """What the table holds, as `Setup.sent` counts it: ours views are on the days' items (the
    total is their sum), the bare handler's in its own running total, the clicks on the
    e-mail link on the days' clicks items."""
    import boto3

    client = boto3.client(
        "dynamodb", endpoint_url=setup.dynamodb, region_name=setup.config["aws_region"]
    )
    table = setup.config["environment_variables"]["DYNAMODB_TABLE"]
    pages = client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    items = [item for page in pages for item in page["Items"]]

    def summed(prefix: str, attribute: str) -> int:
        return sum(
            int(item.get(attribute, {"N": "0"})["N"])
            for item in items
            if item["pk"]["S"].startswith(prefix)
        )

    stored = {
        OURS: summed("day#", "views"),
        BARE: summed("bare-total", "count"),
        "clicks": summed("clicks#", f"link:{CLICK_LINK}"),
    }
    return {name: number for name, number in stored.items() if number or setup.sent[name]}
