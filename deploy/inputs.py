"""What `make deploy` asks of its owner: the domain, the alert e-mail, the certificate and the
Route 53 zone; from the environment, else the untracked file deploy.<stage>.env, else asked in a
terminal (and saved there). Elsewhere (CI) what is missing is named before anything changes."""

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
}
REQUIRED = ("RESUME_SITE_DOMAIN", "RESUME_SITE_ALERT_EMAIL")
DEFAULTS = {"RESUME_SITE_CERTIFICATE": "request", "RESUME_SITE_HOSTED_ZONE": "none"}
DOMAIN = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CERTIFICATE = re.compile(r"^arn:aws[a-zA-Z-]*:acm:us-east-1:\d{12}:certificate/.+$")
ZONE = re.compile(r"^Z[A-Z0-9]{1,31}$")


class InputError(click.ClickException):
    """An input is missing or wrong; nothing was changed."""


@dataclass(frozen=True)
class Inputs:
    domain: str  # "" for none
    alert_email: str
    certificate: str  # an ARN, "request", or "" without a domain
    hosted_zone: str  # "" for none

    def parameters(self) -> dict[str, str]:
        return {
            "DomainName": self.domain,
            "CertificateArn": self.certificate,
            "HostedZoneId": self.hosted_zone,
            "AlertEmail": self.alert_email,
        }


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
    if problems:
        raise InputError("Nothing was changed. Fix:\n" + "\n".join(f"  - {p}" for p in problems))
    return Inputs(
        domain=domain,
        alert_email=values["RESUME_SITE_ALERT_EMAIL"],
        certificate=certificate if domain else "",
        hosted_zone=zone,
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
        kept = {**saved, **{name: values[name] for name in INPUTS}}
        path.write_text("".join(f"{k}={v}\n" for k, v in kept.items()), encoding="utf-8")
        echo(f"Saved the answers to {path.name} (untracked) for the next run.")
    return inputs
