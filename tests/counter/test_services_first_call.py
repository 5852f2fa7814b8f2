"""counter/services.py: each service works as the first DynamoDB call of a fresh process."""

import os
import subprocess
import sys

from scripts import dynamodb_local

SIGN_IN_CHECK = """
from counter import services
client = services.Visitor(ip="203.0.113.9", user_agent="test")
subjects = services.login_subjects(username="owner", client=client)
print(services.login_is_locked(subjects=subjects))
"""


def test_a_sign_in_check_can_be_the_first_call(dynamodb_endpoint, ddb_table):
    env = {**os.environ, "DYNAMODB_ENDPOINT_URL": dynamodb_endpoint, "DYNAMODB_TABLE": ddb_table}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", SIGN_IN_CHECK],
        cwd=dynamodb_local.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
