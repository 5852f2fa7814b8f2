"""What `make deploy` asks of its owner: the domain, the alert e-mail, the certificate and the
Route 53 zone; from the environment, else the untracked file deploy.<stage>.env, else asked in a
terminal (and saved there). Elsewhere (CI) what is missing is named before anything changes.
Optional, never asked: the GitHub repository whose workflow may deploy the stage, and an OIDC
provider the account already has for it (docs/deploy.md, "Deploy on push")."""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
# The inputs: each from the environment, else from the untracked file deploy.<stage>.env.
INPUTS = {
    "RESUME_SITE_DOMAIN": "the site's domain, like resume.example.com, or 'none' for the "
    "distribution's own cloudfront.net name",
    "RESUME_SITE_ALERT_EMAIL": "where alarms and the budget's alerts go",
    "RESUME_SITE_CERTIFICATE": "an ACM certificate ARN in us-east-1 for the domain, or 'request' "
    "to have one requested (the default)",
    "RESUME_SITE_HOSTED_ZONE": "the domain's Route 53 hosted zone id, or 'none' if its DNS is "
    "elsewhere (the default)",
    "RESUME_SITE_GITHUB_REPOSITORY": "owner/name of the GitHub repository whose Deploy workflow "
    "may deploy this stage (the stack makes its role), or 'none' for no such role; unset, the "
    "stack keeps what it has",
    "RESUME_SITE_GITHUB_OIDC_PROVIDER": "the ARN of the account's GitHub OIDC provider if it has "
    "one already (an account holds one), or 'none' for the stack to make it; unset, the stack "
    "keeps what it has",
}
# Never asked, and unset means "as the stack has it": a later `make deploy` run without them
# (an administrator's, from another checkout) keeps the workflow's role.
KEPT = ("RESUME_SITE_GITHUB_REPOSITORY", "RESUME_SITE_GITHUB_OIDC_PROVIDER")
REQUIRED = ("RESUME_SITE_DOMAIN", "RESUME_SITE_ALERT_EMAIL")
DEFAULTS = {
    "RESUME_SITE_CERTIFICATE": "request",
    "RESUME_SITE_HOSTED_ZONE": "none",
}
DOMAIN = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CERTIFICATE = re.compile(r"^arn:aws[a-zA-Z-]*:acm:us-east-1:\d{12}:certificate/.+$")
ZONE = re.compile(r"^Z[A-Z0-9]{1,31}$")
# GitHub's owner/name: the owner's letters, digits and hyphens, the name's also . and _.
REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
OIDC_PROVIDER = re.compile(
    r"^arn:aws[a-zA-Z-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$"
)


class InputError(click.ClickException):
    """An input is missing or wrong; nothing was changed."""


@dataclass(frozen=True)
class Inputs:
    domain: str  # "" for none
    alert_email: str
    certificate: str  # an ARN, "request", or "" without a domain
    hosted_zone: str  # "" for none
    github_repository: str | None = None  # owner/name, "" for none, None: as the stack has it
    github_oidc_provider: str | None = None  # an ARN, "" to make one, None: as the stack has it

    def parameters(self) -> dict[str, str]:
        """The stack's parameters these inputs give; those left None are not given."""
        given = {
            "DomainName": self.domain,
            "CertificateArn": self.certificate,
            "HostedZoneId": self.hosted_zone,
            "AlertEmail": self.alert_email,
            "GitHubRepository": self.github_repository,
            "GitHubOidcProviderArn": self.github_oidc_provider,
        }
        return {name: value for name, value in given.items() if value is not None}


def inputs_file(*, stage: str) -> Path:
    return ROOT / f"deploy.{stage}.env"


def _read_file(path: Path) -> dict[str, str]:
    values = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            name, separator, value = line.partition("=")
            if separator and not line.lstrip().startswith("#"):
                values[name.strip()] = value.strip()
    return values


def _validated(values: Mapping[str, str]) -> Inputs:
    """The inputs, or InputError naming each wrong one."""
    domain = values["RESUME_SITE_DOMAIN"].lower()
    domain = "" if domain == "none" else domain
    certificate = values["RESUME_SITE_CERTIFICATE"]
    zone = values["RESUME_SITE_HOSTED_ZONE"]
    zone = "" if zone.lower() == "none" else zone
    repository, provider = (
        None if not values[name] else "" if values[name].lower() == "none" else values[name]
        for name in KEPT
    )
    problems = []
    if domain and not DOMAIN.match(domain):
        problems.append(f"RESUME_SITE_DOMAIN {domain!r} is not a domain name (or 'none')")
    if not EMAIL.match(values["RESUME_SITE_ALERT_EMAIL"]):
        problems.append("RESUME_SITE_ALERT_EMAIL is not an e-mail address")
    if certificate != "request" and not CERTIFICATE.match(certificate):
        problems.append("RESUME_SITE_CERTIFICATE must be 'request' or a us-east-1 ACM ARN")
    if zone and not ZONE.match(zone):
        problems.append(f"RESUME_SITE_HOSTED_ZONE {zone!r} is not a Route 53 zone id (or 'none')")
    if zone and not domain:
        problems.append("RESUME_SITE_HOSTED_ZONE needs RESUME_SITE_DOMAIN")
    if repository and not REPOSITORY.match(repository):
        problems.append(f"RESUME_SITE_GITHUB_REPOSITORY {repository!r} is not owner/name")
    if provider and not OIDC_PROVIDER.match(provider):
        problems.append(
            "RESUME_SITE_GITHUB_OIDC_PROVIDER must be 'none' or the ARN of an IAM OIDC provider "
            "for token.actions.githubusercontent.com"
        )
    if provider and repository == "":
        problems.append("RESUME_SITE_GITHUB_OIDC_PROVIDER needs RESUME_SITE_GITHUB_REPOSITORY")
    if problems:
        raise InputError("Nothing was changed. Fix:\n" + "\n".join(f"  - {p}" for p in problems))
    return Inputs(
        domain=domain,
        alert_email=values["RESUME_SITE_ALERT_EMAIL"],
        certificate=certificate if domain else "",
        hosted_zone=zone,
        github_repository=repository,
        github_oidc_provider=provider,
    )


def read_inputs(
    *,
    stage: str,
    environ: Mapping[str, str],
    ask: Callable[[str, str], str] | None,
    echo: Callable[[str], None],
) -> Inputs:
    """From the environment, else deploy.<stage>.env; in a terminal (`ask`) what is missing is
    asked for and saved to that file; elsewhere InputError names it, before anything changes."""
    path = inputs_file(stage=stage)
    saved = _read_file(path)
    values = {name: environ.get(name) or saved.get(name, "") for name in INPUTS}
    missing = [name for name in REQUIRED if not values[name]]
    if missing and ask is None:
        listed = "\n".join(f"  {name}: {INPUTS[name]}" for name in missing)
        raise InputError(
            f"Nothing was changed: set these in the environment or in {path.name}:\n{listed}"
        )
    for name in missing:
        values[name] = ask(name, INPUTS[name]).strip()
    for name, default in DEFAULTS.items():
        values[name] = values[name] or default
    inputs = _validated(values)
    if missing:
        kept = {**saved, **{name: values[name] for name in INPUTS if values[name]}}
        path.write_text("".join(f"{k}={v}\n" for k, v in kept.items()), encoding="utf-8")
        echo(f"Saved the answers to {path.name} (untracked) for the next run.")
    return inputs
