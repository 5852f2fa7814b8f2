"""counter/services/visitors.py: the day's key and the keyed hashes, against moto."""

import datetime as dt
import hashlib
import hmac

import pytest

from core.clients import Client
from counter import services
from counter.services import visitors
from tests.conftest import ALICE, BOB, CLOSED_ENDPOINT, DAY


def _salt_items(table_scan) -> list[dict]:
    return [item for item in table_scan() if item["pk"]["S"].startswith("salt#")]


def test_the_day_key_is_an_hmac_of_the_stored_salt_under_the_secret_key(table_scan, settings):
    key = visitors.day_key(DAY)
    (salt_item,) = _salt_items(table_scan)
    salt = bytes.fromhex(salt_item["salt"]["S"])
    assert len(salt) == 32
    assert key == hmac.new(settings.SECRET_KEY.encode(), salt, hashlib.sha256).digest()


def test_the_secret_key_changes_every_hash(moto_table, settings):
    digest = visitors.visitor_digest(visitor=ALICE, day=DAY)
    settings.SECRET_KEY = "another-secret-key-of-the-same-site-" + "x" * 20
    assert visitors.visitor_digest(visitor=ALICE, day=DAY) != digest


def test_the_table_alone_cannot_recompute_a_visitor_hash(table_scan):
    digest = visitors.visitor_digest(visitor=ALICE, day=DAY)
    (salt_item,) = _salt_items(table_scan)
    salt = bytes.fromhex(salt_item["salt"]["S"])
    keyed_with_salt_only = visitors.visitor_hash(visitor=ALICE, key=salt)
    assert digest != keyed_with_salt_only


def test_each_day_has_its_own_salt_and_it_expires(table_scan):
    first = visitors.visitor_digest(visitor=ALICE, day=DAY)
    second = visitors.visitor_digest(visitor=ALICE, day=DAY + dt.timedelta(days=1))
    assert first != second
    salts = _salt_items(table_scan)
    assert len({item["salt"]["S"] for item in salts}) == 2
    expiry = {item["pk"]["S"]: int(item["expires"]["N"]) for item in salts}
    midnight = dt.datetime.combine(DAY, dt.time(), dt.UTC)
    assert expiry[f"salt#{DAY.isoformat()}"] == int((midnight + dt.timedelta(days=2)).timestamp())


def test_a_salt_another_process_stored_first_is_kept(moto_table, settings):
    import boto3

    salt = bytes(range(32))
    boto3.client("dynamodb", region_name="us-east-1").put_item(
        TableName=moto_table,
        Item={"pk": {"S": f"salt#{DAY.isoformat()}"}, "salt": {"S": salt.hex()}},
    )
    expected = hmac.new(settings.SECRET_KEY.encode(), salt, hashlib.sha256).digest()
    assert visitors.day_key(DAY) == expected


def test_a_process_without_the_salt_in_memory_reads_the_stored_one(table_scan):
    digest = visitors.visitor_digest(visitor=ALICE, day=DAY)
    visitors._salts.clear()  # another process (or a cold start) has no cached salt
    assert visitors.visitor_digest(visitor=ALICE, day=DAY) == digest
    assert len(_salt_items(table_scan)) == 1


def test_a_warm_process_hashes_without_calling_dynamodb(moto_table, settings):
    digest = visitors.visitor_digest(visitor=ALICE, day=DAY)
    settings.DYNAMODB_ENDPOINT_URL = CLOSED_ENDPOINT
    assert visitors.visitor_digest(visitor=ALICE, day=DAY) == digest
    assert visitors.client_digest(network=ALICE.network, day=DAY)


def test_hashes_tell_visitors_and_clients_apart(moto_table):
    alice = visitors.visitor_digest(visitor=ALICE, day=DAY)
    assert alice != visitors.visitor_digest(visitor=BOB, day=DAY)
    same_ip_other_browser = ALICE.__class__(ip=ALICE.ip, user_agent="Another browser")
    assert alice != visitors.visitor_digest(visitor=same_ip_other_browser, day=DAY)
    client = visitors.client_digest(network=ALICE.network, day=DAY)
    assert client == visitors.client_digest(network=same_ip_other_browser.network, day=DAY)
    assert client != visitors.client_digest(network=BOB.network, day=DAY)
    assert len(alice) == len(client) == visitors.DIGEST_LENGTH


def test_an_unknown_client_is_never_hashed_and_no_salt_is_written(table_scan):
    """An empty network would make every unknown client one visitor and one client."""
    unknown = Client(ip="", user_agent=ALICE.user_agent)
    with pytest.raises(ValueError, match="unknown client"):
        visitors.visitor_digest(visitor=unknown, day=DAY)
    with pytest.raises(ValueError, match="unknown client"):
        visitors.client_digest(network=unknown.network, day=DAY)
    with pytest.raises(ValueError, match="unknown client"):
        visitors.visitor_hash(visitor=unknown, key=b"k" * 32)
    assert table_scan() == []


def test_an_unreachable_engine_raises_counter_unavailable():
    with pytest.raises(services.CounterUnavailable):
        visitors.visitor_digest(visitor=ALICE)
    with pytest.raises(services.CounterUnavailable):
        visitors.client_digest(network=ALICE.network)
