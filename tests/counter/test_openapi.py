"""counter/openapi.json against the running API: schemathesis generates requests from the
document (valid and invalid bodies, undocumented methods) and sends them to the site served by
Django on DynamoDB Local; every answer must be documented (status, content type, headers, body
schema) and none may be a 5xx. The example count is bounded so the run stays short."""

import subprocess
import sys

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from counter.views import OPENAPI_DOCUMENT
from tests.counter.conftest import BROWSER

pytestmark = pytest.mark.dynamodb_local

# schemathesis.toml's format, given here so no file in the checkout changes the run. A valid
# request can still be refused with a documented status: a body the schema allows (any JSON
# object) may be over the 1 KiB limit (413), and a visitor may be over the per-minute limits
# (429), and a click may name a link this resume does not hold (400); everything else valid
# must be a 2xx.
CONFIG = """
[generation]
max-examples = 25

[cache]
enabled = false

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "413", "429"]

# A click's label may have the documented shape and still name no link of this resume (400).
[[operations]]
include-operation-id = "clickReport"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "413", "429"]
"""


# Loaded from the repository's file, which the site serves unchanged at /api/openapi.json
# (tests/counter/test_views.py). Schemathesis's fixture-based loader cannot run under pytest 9.
schema = schemathesis.openapi.from_path(
    OPENAPI_DOCUMENT, config=schemathesis.Config.from_str(CONFIG)
)


@schema.parametrize()
@settings(
    derandomize=True,  # the same examples on every run: a failure is reproducible, never flaky
    database=None,  # no example database: derandomized runs need none
    deadline=None,  # speed is measured in bench/, never asserted
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_answer_is_documented_and_none_is_a_server_error(case, module_live_site):
    # A browser's User-Agent, so POSTs take the counting path rather than the crawler one.
    # One server for every operation's examples (tests/conftest.py, module_live_site).
    case.call_and_validate(base_url=module_live_site, headers={"User-Agent": BROWSER}, timeout=10)


def test_each_operation_is_a_test_of_its_own(request: pytest.FixtureRequest):
    # pytest-xdist runs tests by node id: operations under one id ran as one. The node ids
    # this run collected, when it selected every operation (as `make test` does); else
    # collected afresh, so the check holds whichever tests this run selected.
    expected = len(list(schema.get_all_operations()))
    collected = [item.nodeid for item in request.session.items]
    operations = [nodeid for nodeid in collected if "none_is_a_server_error[" in nodeid]
    if len(operations) < expected:
        collected = subprocess.run(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:xdist", __file__],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        operations = [line for line in collected if "none_is_a_server_error[" in line]
    assert len(set(operations)) == len(operations) == expected == 7
