"""A stand-in for the AWS Lambda Python runtime, started by harness/lambda_host.py in a fresh
process.

    python -S lambda_runtime.py TASK_DIR SDK_DIR

`-S` keeps every site-packages directory (the dev venv's included) off sys.path, so the only
code the process can import is the standard library, the unzipped package in TASK_DIR (Lambda's
/var/task, first on the path as in Lambda) and SDK_DIR, which holds only what the Lambda Python
runtime supplies itself: boto3 and its dependencies (botocore, s3transfer, jmespath, dateutil,
six, urllib3). Like Lambda it imports Zappa's `handler` once, then invokes
`handler.lambda_handler(event, context)` once per event.

Protocol: one JSON event per line on stdin; one JSON line per event on stdout:
{"response": <what the handler returned>} or {"raised": "<traceback>"} if it raised, with
"handler_ms": the handler's run time (what Lambda reports as Duration).
Everything the handler prints goes to stderr. Standard library only.
"""

import json
import os
import sys
import time
import traceback
import uuid
from typing import Any


class LambdaContext:
    """The attributes of Lambda's context object that handlers read."""

    function_name = "resume-site-prod"
    function_version = "$LATEST"
    memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:resume-site-prod"
    log_group_name = "/aws/lambda/resume-site-prod"
    log_stream_name = "2026/01/01/[$LATEST]0123456789abcdef"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def main() -> int:
    task_dir, sdk_dir = sys.argv[1], sys.argv[2]
    sys.path[:] = [task_dir, sdk_dir, *sys.path[1:]]  # drop this script's directory
    os.chdir(task_dir)
    answers = sys.stdout
    sys.stdout = sys.stderr  # the handler prints ("Instancing.."); stdout carries only answers

    import handler  # Lambda's init phase

    answers.write(json.dumps({"ready": sys.version_info[:2] == (3, 13)}) + "\n")
    answers.flush()
    for line in sys.stdin:
        event: Any = json.loads(line)
        context = LambdaContext()
        started = time.perf_counter()
        try:
            answer = {"response": handler.lambda_handler(event, context)}
        except Exception:
            answer = {"raised": traceback.format_exc()}
        answer["handler_ms"] = (time.perf_counter() - started) * 1000
        answers.write(json.dumps(answer) + "\n")
        answers.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
