"""deploy/inputs.py: `make deploy`'s inputs come from the environment, else deploy.<stage>.env,
else a terminal's answers (saved there); elsewhere what is missing is named before anything
changes, and a wrong value is refused naming it."""

import subprocess
import sys
from pathlib import Path

import pytest

from deploy import inputs, live

ROOT = Path(__file__).resolve().parent.parent.parent
COMPLETE = {
    "RESUME_SITE_DOMAIN": "resume.example.com",
    "RESUME_SITE_ALERT_EMAIL": "owner@example.com",
}


@pytest.fixture(autouse=True)
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """deploy.<stage>.env lives in a scratch project root, never the checkout's."""
    monkeypatch.setattr(inputs, "ROOT", tmp_path)
    return tmp_path


def read(environ: dict[str, str], ask=None, lines: list[str] | None = None) -> inputs.Inputs:
    return inputs.read_inputs(
        stage="prod", environ=environ, ask=ask, echo=(lines if lines is not None else []).append
    )


def test_the_environment_alone_is_enough_with_the_defaults() -> None:
    assert read(COMPLETE) == inputs.Inputs(
        domain="resume.example.com",
        alert_email="owner@example.com",
        certificate="request",
        hosted_zone="",
    )


def test_no_domain_serves_the_site_at_the_distributions_own_name() -> None:
    got = read({**COMPLETE, "RESUME_SITE_DOMAIN": "none"})
    assert (got.domain, got.certificate) == ("", "")


def test_the_file_gives_what_the_environment_does_not(project: Path) -> None:
    (project / "deploy.prod.env").write_text(
        "# made by make deploy\nRESUME_SITE_DOMAIN=resume.example.com\n"
        "RESUME_SITE_ALERT_EMAIL=file@example.com\nRESUME_SITE_HOSTED_ZONE=Z0123456789ABC\n"
    )
    got = read({"RESUME_SITE_ALERT_EMAIL": "env@example.com"})
    assert (got.alert_email, got.hosted_zone) == ("env@example.com", "Z0123456789ABC")


def test_without_a_terminal_what_is_missing_is_named_and_nothing_is_written(
    project: Path,
) -> None:
    with pytest.raises(inputs.InputError) as raised:
        read({"RESUME_SITE_ALERT_EMAIL": "owner@example.com"})
    message = raised.value.format_message()
    assert message.startswith("Nothing was changed: set these in the environment or in ")
    assert "RESUME_SITE_DOMAIN" in message
    assert "RESUME_SITE_ALERT_EMAIL" not in message
    assert not (project / "deploy.prod.env").exists()


def test_in_a_terminal_the_missing_ones_are_asked_and_saved_for_the_next_run(
    project: Path,
) -> None:
    asked: list[str] = []

    def ask(name: str, help_text: str) -> str:
        asked.append(name)
        return {"RESUME_SITE_DOMAIN": "Resume.Example.com"}[name]

    lines: list[str] = []
    got = read({"RESUME_SITE_ALERT_EMAIL": "owner@example.com"}, ask=ask, lines=lines)

    assert asked == ["RESUME_SITE_DOMAIN"]
    assert got.domain == "resume.example.com"
    saved = (project / "deploy.prod.env").read_text()
    assert "RESUME_SITE_DOMAIN=Resume.Example.com\n" in saved
    assert read({}) == got  # the next run needs nothing more
    assert lines == ["Saved the answers to deploy.prod.env (untracked) for the next run."]


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("RESUME_SITE_DOMAIN", "not a domain", "RESUME_SITE_DOMAIN 'not a domain' is not"),
        ("RESUME_SITE_ALERT_EMAIL", "owner", "RESUME_SITE_ALERT_EMAIL is not an e-mail"),
        ("RESUME_SITE_CERTIFICATE", "arn:aws:acm:eu-west-1:1:certificate/x", "must be 'request'"),
        ("RESUME_SITE_HOSTED_ZONE", "example.com", "is not a Route 53 zone id"),
    ],
)
def test_a_wrong_value_is_refused_naming_it(name: str, value: str, named: str) -> None:
    with pytest.raises(inputs.InputError) as raised:
        read({**COMPLETE, name: value})
    message = raised.value.format_message()
    assert message.startswith("Nothing was changed. Fix:")
    assert named in message


def test_a_zone_without_a_domain_is_refused() -> None:
    with pytest.raises(inputs.InputError, match="RESUME_SITE_HOSTED_ZONE needs"):
        read({**COMPLETE, "RESUME_SITE_DOMAIN": "none", "RESUME_SITE_HOSTED_ZONE": "Z0123456789"})


def test_make_deploy_without_a_terminal_names_the_missing_inputs_before_any_aws_call(
    tmp_path: Path,
) -> None:
    """`python -m deploy.live prod` as CI runs it: no terminal, no inputs. AWS points at a
    closed port, so any call would fail otherwise than with the inputs' message."""
    if (ROOT / "deploy.prod.env").exists():
        pytest.skip("this checkout holds an owner's deploy.prod.env, which gives the inputs")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    result = subprocess.run(
        [sys.executable, "-m", "deploy.live", "prod"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "Nothing was changed: set these in the environment or in deploy.prod.env" in (
        result.stderr
    )
    assert "RESUME_SITE_DOMAIN" in result.stderr
    assert "RESUME_SITE_ALERT_EMAIL" in result.stderr
    assert result.stdout == ""


def test_the_github_repository_and_provider_are_optional_and_never_asked(project: Path) -> None:
    asked: list[str] = []

    def ask(name: str, help_text: str) -> str:
        asked.append(name)
        return "resume.example.com"

    got = read({"RESUME_SITE_ALERT_EMAIL": "owner@example.com"}, ask=ask)
    assert asked == ["RESUME_SITE_DOMAIN"]
    assert (got.github_repository, got.github_oidc_provider) == (None, None)
    assert "GITHUB" not in (project / "deploy.prod.env").read_text()  # unset stays unset


def test_an_unset_github_input_is_no_parameter_so_the_stack_keeps_its_value() -> None:
    """`make deploy` gives the stack's own value for a parameter no input gives (deploy/live.py,
    KEPT_PARAMETERS): an administrator's run without the variables keeps the workflow's role."""
    got = read(COMPLETE)
    assert not {"GitHubRepository", "GitHubOidcProviderArn"} & set(got.parameters())
    run = live.Run(stage="prod", inputs=got, account=None, echo=print, sleep=0)
    run.kept = {"GitHubRepository": "octo/resume", "GitHubOidcProviderArn": ""}
    assert run.parameters(api_id="")["GitHubRepository"] == "octo/resume"
    run.inputs = read({**COMPLETE, "RESUME_SITE_GITHUB_REPOSITORY": "none"})
    assert run.parameters(api_id="")["GitHubRepository"] == ""  # 'none' removes the role


def test_the_github_repository_and_an_existing_provider_become_the_stacks_parameters() -> None:
    provider = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    got = read(
        {
            **COMPLETE,
            "RESUME_SITE_GITHUB_REPOSITORY": "Octo-Owner/resume.site_2",
            "RESUME_SITE_GITHUB_OIDC_PROVIDER": provider,
        }
    )
    assert got.parameters()["GitHubRepository"] == "Octo-Owner/resume.site_2"
    assert got.parameters()["GitHubOidcProviderArn"] == provider
    made = read({**COMPLETE, "RESUME_SITE_GITHUB_REPOSITORY": "octo/resume"})
    assert "GitHubOidcProviderArn" not in made.parameters()  # the stack's, or made by it
    made = read(
        {
            **COMPLETE,
            "RESUME_SITE_GITHUB_REPOSITORY": "octo/resume",
            "RESUME_SITE_GITHUB_OIDC_PROVIDER": "none",
        }
    )
    assert made.parameters()["GitHubOidcProviderArn"] == ""


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"RESUME_SITE_GITHUB_REPOSITORY": "octo"}, "RESUME_SITE_GITHUB_REPOSITORY 'octo' is not"),
        ({"RESUME_SITE_GITHUB_REPOSITORY": "-octo/resume"}, "is not owner/name"),
        ({"RESUME_SITE_GITHUB_REPOSITORY": "octo/re sume"}, "is not owner/name"),
        (
            {"RESUME_SITE_GITHUB_OIDC_PROVIDER": "arn:aws:iam::123456789012:oidc-provider/x"},
            "RESUME_SITE_GITHUB_OIDC_PROVIDER must be 'none' or the ARN",
        ),
        (
            {
                "RESUME_SITE_GITHUB_REPOSITORY": "none",
                "RESUME_SITE_GITHUB_OIDC_PROVIDER": "arn:aws:iam::123456789012:oidc-provider/"
                "token.actions.githubusercontent.com",
            },
            "RESUME_SITE_GITHUB_OIDC_PROVIDER needs RESUME_SITE_GITHUB_REPOSITORY",
        ),
    ],
)
def test_a_wrong_github_input_is_refused_naming_it(values: dict[str, str], named: str) -> None:
    with pytest.raises(inputs.InputError) as raised:
        read({**COMPLETE, **values})
    assert named in raised.value.format_message()
