"""The site's certificate: ACM in us-east-1 (the only region whose certificates CloudFront
takes), requested once per domain, validated by a DNS record made in Route 53 or printed for
another provider, and waited for with a progress line."""

import hashlib
import time
from collections.abc import Callable
from typing import Any

import click

from deploy.inputs import Inputs

REGION = "us-east-1"
PROGRESS_SECONDS = 30.0


class CertificateError(click.ClickException):
    """The certificate cannot be had; the message says what to do."""


def _validation_record(*, acm: Any, arn: str, sleep: float) -> dict[str, str]:
    for _ in range(30):  # ACM adds the record a few seconds after the request
        (option,) = acm.describe_certificate(CertificateArn=arn)["Certificate"][
            "DomainValidationOptions"
        ][:1]
        if option.get("ResourceRecord"):
            return option["ResourceRecord"]
        time.sleep(sleep)
    raise CertificateError(f"ACM gave no DNS validation record for {arn}: run `make deploy` again.")


def _validation_record_put(
    *, route53: Any, inputs: Inputs, record: dict[str, str], echo: Callable[[str], None]
) -> None:
    """The certificate's DNS validation record: made in the hosted zone when there is one,
    printed for the owner's DNS provider otherwise."""
    if inputs.hosted_zone:
        route53.change_resource_record_sets(
            HostedZoneId=inputs.hosted_zone,
            ChangeBatch={
                "Changes": [
                    {
                        "Action": "UPSERT",
                        "ResourceRecordSet": {
                            "Name": record["Name"],
                            "Type": record["Type"],
                            "TTL": 300,
                            "ResourceRecords": [{"Value": record["Value"]}],
                        },
                    }
                ]
            },
        )
        echo(f"Made the validation record {record['Name']} in the zone {inputs.hosted_zone}.")
    else:
        echo(
            "Add this record at your DNS provider; the deploy waits for it (Ctrl-C is safe: the "
            f"next `make deploy` carries on):\n  {record['Name']}  {record['Type']}  "
            f"{record['Value']}"
        )


def ensure(
    *, acm: Any, route53: Any, inputs: Inputs, echo: Callable[[str], None], sleep: float = 10.0
) -> str:
    """An issued certificate for the domain: the one given, or the one requested earlier for it,
    or a new request; its DNS record made in Route 53 (with a zone) or printed; waited for."""
    if inputs.certificate != "request":
        arn = inputs.certificate
    else:
        listed = acm.list_certificates(CertificateStatuses=["ISSUED", "PENDING_VALIDATION"])
        found = [
            item["CertificateArn"]
            for item in listed["CertificateSummaryList"]
            if item["DomainName"] == inputs.domain
        ]
        if found:
            arn = found[0]
        else:
            token = hashlib.sha256(inputs.domain.encode()).hexdigest()[:32]
            arn = acm.request_certificate(
                DomainName=inputs.domain, ValidationMethod="DNS", IdempotencyToken=token
            )["CertificateArn"]
            echo(f"Requested a certificate for {inputs.domain}: {arn}")
    status = acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"]
    if status == "ISSUED":
        echo(f"The certificate for {inputs.domain} is issued.")
        return arn
    if status != "PENDING_VALIDATION":
        raise CertificateError(f"The certificate {arn} is {status}: request a new one.")
    record = _validation_record(acm=acm, arn=arn, sleep=sleep)
    _validation_record_put(route53=route53, inputs=inputs, record=record, echo=echo)
    started, said = time.monotonic(), 0.0
    while status == "PENDING_VALIDATION":
        time.sleep(sleep)
        status = acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"]
        waited = time.monotonic() - started
        if waited - said >= PROGRESS_SECONDS:
            said = waited
            echo(f"  ... waiting for the certificate to be issued ({waited:.0f} s)")
    if status != "ISSUED":
        raise CertificateError(f"The certificate {arn} is {status}, not issued: request a new one.")
    echo(f"The certificate for {inputs.domain} is issued.")
    return arn
