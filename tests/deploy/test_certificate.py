"""deploy/certificate.py: one certificate per domain, its DNS record made in Route 53 or printed
for another provider, waited for; moto models ACM's validation (pending, then issued)."""

from collections.abc import Iterator
from types import SimpleNamespace
from unittest import mock

import boto3
import moto.settings
import pytest
from moto import mock_aws

from deploy import certificate
from deploy.inputs import Inputs

DOMAIN = "resume.example.com"


@pytest.fixture
def aws() -> Iterator[SimpleNamespace]:
    # Fake credentials and us-east-1 are the whole suite's (tests/conftest.py).
    with mock_aws(), mock.patch.object(moto.settings, "ACM_VALIDATION_WAIT", 1):
        yield SimpleNamespace(acm=boto3.client("acm"), route53=boto3.client("route53"))


def ensure(aws: SimpleNamespace, *, zone: str = "", lines: list[str]) -> str:
    given = Inputs(
        domain=DOMAIN, alert_email="o@example.com", certificate="request", hosted_zone=zone
    )
    return certificate.ensure(
        acm=aws.acm, route53=aws.route53, inputs=given, echo=lines.append, sleep=0.2
    )


def test_without_a_zone_the_record_is_printed_and_the_issue_waited_for(aws) -> None:
    lines: list[str] = []
    arn = ensure(aws, lines=lines)

    described = aws.acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert described["Status"] == "ISSUED"
    record = described["DomainValidationOptions"][0]["ResourceRecord"]
    printed = "\n".join(lines)
    assert "Add this record at your DNS provider" in printed
    assert f"{record['Name']}  {record['Type']}  {record['Value']}" in printed
    assert lines[-1] == f"The certificate for {DOMAIN} is issued."


def test_with_a_zone_the_record_is_made_there(aws) -> None:
    zone = aws.route53.create_hosted_zone(Name="example.com", CallerReference="t")["HostedZone"]
    zone_id = zone["Id"].split("/")[-1]
    arn = ensure(aws, zone=zone_id, lines=[])

    record = aws.acm.describe_certificate(CertificateArn=arn)["Certificate"][
        "DomainValidationOptions"
    ][0]["ResourceRecord"]
    sets = aws.route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    made = [item for item in sets if item["Type"] == "CNAME"]
    assert [(item["Name"], item["ResourceRecords"][0]["Value"]) for item in made] == [
        (record["Name"], record["Value"])
    ]


def test_a_second_run_finds_the_certificate_and_requests_none(aws) -> None:
    first = ensure(aws, lines=[])
    lines: list[str] = []
    assert ensure(aws, lines=lines) == first
    assert lines == [f"The certificate for {DOMAIN} is issued."]
    assert len(aws.acm.list_certificates()["CertificateSummaryList"]) == 1


def test_a_certificate_given_by_its_arn_is_used_as_it_is(aws) -> None:
    requested = aws.acm.request_certificate(DomainName=DOMAIN, ValidationMethod="DNS")
    given = Inputs(
        domain=DOMAIN,
        alert_email="o@example.com",
        certificate=requested["CertificateArn"],
        hosted_zone="",
    )
    lines: list[str] = []
    arn = certificate.ensure(
        acm=aws.acm, route53=aws.route53, inputs=given, echo=lines.append, sleep=0.2
    )
    assert arn == requested["CertificateArn"]
    assert not any(line.startswith("Requested") for line in lines)
