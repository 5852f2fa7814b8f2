"""Records every AWS call a Python process makes, for tests/infra/test_deploy_role_drift.py.

With this folder on PYTHONPATH and RESUME_SITE_RECORD_AWS_CALLS naming a folder, Python imports
this module at start-up (the `site` module's sitecustomize) in every process that `make deploy`
starts: the Zappa CLI and the collectstatic child of its `settings` callback. Each call any
botocore client of the process makes (paginators' and waiters' pages included) is then appended
to <folder>/<pid>.jsonl as {"service", "operation", "params"}, before it is sent. Without the
variable it does nothing. The test installs the same recorder in its own process.
"""

import json
import os
from collections.abc import Callable
from typing import Any

FOLDER = "RESUME_SITE_RECORD_AWS_CALLS"


def recording(original: Callable[..., Any], folder: str) -> Callable[..., Any]:
    """`BaseClient._make_api_call`, recording each call into `folder` first."""

    def _make_api_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        call = {
            "service": client.meta.service_model.service_name,
            "operation": operation_name,
            "params": api_params,
        }
        line = json.dumps(call, default=lambda value: f"<{type(value).__name__}>")
        with open(os.path.join(folder, f"{os.getpid()}.jsonl"), "a", encoding="utf-8") as file:
            file.write(line + "\n")
        return original(client, operation_name, api_params)

    return _make_api_call


def child_environment(folder: str) -> dict[str, str]:
    """What makes the processes started with it record their calls into `folder`: FOLDER, and
    this module's folder first on PYTHONPATH."""
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))
    return {FOLDER: folder, "PYTHONPATH": path}


def recorded(folder: str) -> list[dict[str, Any]]:
    """Every call recorded into `folder`, a process's file after another (in name order)."""
    names = sorted(name for name in os.listdir(folder) if name.endswith(".jsonl"))
    calls = []
    for name in names:
        with open(os.path.join(folder, name), encoding="utf-8") as file:
            calls += [json.loads(line) for line in file.read().splitlines()]
    return calls


if os.environ.get(FOLDER):
    try:
        from botocore.client import BaseClient
    except ImportError:  # a Python without botocore makes no AWS call to record
        pass
    else:
        BaseClient._make_api_call = recording(BaseClient._make_api_call, os.environ[FOLDER])
