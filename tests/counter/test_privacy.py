"""What the table holds after visitors counted, followed the page's links and failed sign-ins:
no IP address, no user agent, no typed username, and no hash that the table alone could
recompute (docs/architecture.md, Visitors' privacy), of where views came from only the referring
site's domain and the campaign tag, as counts, and of the links followed a count per link.
Scanned on the real engine, every attribute of every item."""

import hashlib
import hmac
import json

import boto3
import pytest

pytestmark = pytest.mark.dynamodb_local

TYPED_USERNAME = "typed-privacy-username"
# What the page's script could send at most: a full referring address, path and query included
# (the script itself sends only its host), and a campaign tag.
REFERRER = "https://www.linkedin.com/in/privacy-path/?token=privacy-query"
CAMPAIGN = "acme-privacy"
CLIENTS = [
    ("203.0.113.77", "Mozilla/5.0 (Privacy Test; rv:1) Gecko/20100101 Firefox/140.0"),
    (
        "198.51.100.23",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0) AppleWebKit/605.1.15 PrivacyTestSafari/605.1",
    ),
    ("2001:db8::7", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 PrivacyTestAgent/8.0"),
]


@pytest.fixture
def stored(patient_engine: str, dynamodb_endpoint: str, client) -> list[dict]:
    """Every item of the table after three clients posted views and failed sign-ins (patient
    timeouts: a busy machine's slow answer would be a 503 here, not a privacy finding)."""
    for ip, agent in CLIENTS:
        for _ in range(3):
            response = client.post(
                "/api/count",
                {"referrer": REFERRER, "campaign": CAMPAIGN},
                content_type="application/json",
                REMOTE_ADDR=ip,
                HTTP_USER_AGENT=agent,
            )
            assert response.status_code == 200
        for link in ("email", "profile:github", "pdf"):  # the links the visitor followed
            response = client.post(
                "/api/click",
                {"link": link},
                content_type="application/json",
                REMOTE_ADDR=ip,
                HTTP_USER_AGENT=agent,
            )
            assert response.json() == {"counted": True}
        client.post(
            "/admin/login/",
            {"username": TYPED_USERNAME, "password": "not the password"},
            REMOTE_ADDR=ip,
            HTTP_USER_AGENT=agent,
        )
    engine = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name="us-east-1")
    pages = engine.get_paginator("scan").paginate(TableName=patient_engine, ConsistentRead=True)
    return [item for page in pages for item in page["Items"]]


def test_no_ip_address_user_agent_or_typed_username_is_stored(stored):
    prefixes = {item["pk"]["S"].split("#")[0] for item in stored}
    counters = {"total", "day", "clicks", "visitor", "salt", "rate"}
    assert counters <= prefixes  # every kind of counter item was made
    assert prefixes - counters  # and the failed sign-ins stored theirs
    dump = json.dumps(stored)
    for ip, agent in CLIENTS:
        assert ip not in dump
        assert agent not in dump
        assert agent.split()[-1] not in dump  # nor a distinctive piece of it
    assert "PrivacyTest" not in dump
    assert TYPED_USERNAME not in dump
    assert "privacy-username" not in dump.lower()
    assert "privacy-path" not in dump  # of the referrer, only its site's domain is kept
    assert "privacy-query" not in dump
    assert "www.linkedin.com" not in dump


def test_the_days_figures_hold_counts_of_short_labels_only(stored):
    (day,) = [item for item in stored if item["pk"]["S"].startswith("day#")]
    labels = {name for name in day if ":" in name}
    assert labels == {
        "source:linkedin.com",
        f"campaign:{CAMPAIGN}",
        "country:unknown",
        "device:desktop",
        "device:phone",
    }
    assert set(day) - labels == {"pk", "views", "uniques", "sources", "campaigns"}
    assert day["sources"] == {"SS": ["linkedin.com"]}
    assert day["campaigns"] == {"SS": [CAMPAIGN]}
    assert all(set(day[name]) == {"N"} for name in labels)


def test_the_table_alone_cannot_recompute_a_stored_hash(stored):
    salts = [bytes.fromhex(item["salt"]["S"]) for item in stored if "salt" in item]
    keys = {item["pk"]["S"] for item in stored}
    for salt in salts:
        for ip, agent in CLIENTS:
            for message in (f"{ip}\n{agent}", f"client\n{ip}", ip):
                guess = hmac.new(salt, message.encode(), hashlib.sha256).hexdigest()[:32]
                assert not any(guess in key for key in keys)
                unkeyed = hashlib.sha256(message.encode()).hexdigest()[:32]
                assert not any(unkeyed in key for key in keys)


def test_a_days_clicks_are_one_number_per_link_and_nothing_else(stored):
    (clicks,) = [item for item in stored if item["pk"]["S"].startswith("clicks#")]
    assert clicks == {
        "pk": clicks["pk"],
        "link:email": {"N": "3"},
        "link:profile:github": {"N": "3"},
        "link:pdf": {"N": "3"},
    }
    buckets = [item["pk"]["S"] for item in stored if item["pk"]["S"].startswith("rate#clicks#")]
    assert len(buckets) >= len(CLIENTS)  # the clicks' limits: keyed hashes, as the views'
