"""The counter's limits in the built package: events sent to Zappa's handler from the unzipped
zip in a fresh process, on DynamoDB Local (tests/deploy/conftest.py), with the limits the
package ships with (5 views a minute per visitor, 60 per client IP). Who the visitor and the
client are depends on the way the request came, so those tests run straight through API Gateway
and through the site's CloudFront distribution (the `site` fixture); the burst, whose rule is
the limits' own (tests/counter/services/test_limits.py), runs once, through the distribution."""

import json

import pytest

from harness.lambda_host import Site
from tests.deploy.conftest import minutes_of_burst, through_the_distribution, visitor_attempts

pytestmark = pytest.mark.dynamodb_local

VISITOR_LIMIT = 5
REFUSE_FACTOR = 10  # refused (429) past ten times the limit (counter/services/limits.py)
# A burst in at most two minutes holds more than ten times the limit in one of them: each
# check of the burst then holds whether or not it straddled a minute (its 102 requests take a
# second or two, under ten at a load average of 8 on 2 cores: never a whole minute).
BURST = 2 * REFUSE_FACTOR * VISITOR_LIMIT + 2


def browser(name: str) -> str:
    """A browser's User-Agent, told apart by `name` (one visitor per name and address)."""
    return f"Mozilla/5.0 (X11; Linux x86_64; {name}) Gecko/20100101 Firefox/133.0"


def _total(site: Site) -> int:
    event = site.event("GET", "/api/count", source_ip="192.0.2.1", user_agent=browser("Reader"))
    return json.loads(site.respond(event)["body"])["count"]


def _post(site: Site, *, ip: str, user_agent: str) -> dict:
    """POST /api/count from a client at `ip`."""
    return site.respond(site.event("POST", "/api/count", source_ip=ip, user_agent=user_agent))


@through_the_distribution
def test_a_burst_from_one_visitor_adds_the_limit_a_minute_then_is_refused(
    site, buckets_read
) -> None:
    """Each minute the burst fell in counts the visitor's first five views, answers the next
    45 uncounted, and refuses (429, Retry-After) the rest, writing nothing for them."""
    before, buckets = _total(site), buckets_read()
    answers = [_post(site, ip="192.0.2.10", user_agent=browser("Burst")) for _ in range(BURST)]
    kept = [visitor_attempts(minute) for minute in minutes_of_burst(buckets, buckets_read())]

    assert 1 <= len(kept) <= 2  # one client, one bucket a minute
    assert max(kept) == REFUSE_FACTOR * VISITOR_LIMIT  # past that, refused and not written
    refused = [answer for answer in answers if answer["statusCode"] == 429]
    assert len(refused) == BURST - sum(kept)
    assert 1 <= int(refused[0]["headers"]["Retry-After"]) <= 60
    assert json.loads(refused[0]["body"])["error"]["code"] == "too_many_views"
    bodies = [json.loads(answer["body"]) for answer in answers if answer["statusCode"] == 200]
    assert len(bodies) == sum(kept)
    added = _total(site) - before
    assert sum(body["counted"] for body in bodies) == added
    assert added == sum(min(VISITOR_LIMIT, attempts) for attempts in kept)


def test_another_visitor_on_the_same_ip_still_counts(site) -> None:
    for _ in range(VISITOR_LIMIT + 1):
        _post(site, ip="192.0.2.20", user_agent=browser("Busy"))
    answer = _post(site, ip="192.0.2.20", user_agent=browser("Quiet"))
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["counted"] is True


def test_another_ip_behind_the_same_edge_server_has_its_own_limit(site) -> None:
    """Through the distribution every request comes from a few edge addresses: the limits are
    per viewer, so one flooding viewer leaves the others counted."""
    for _ in range(VISITOR_LIMIT * 10 + 5):
        _post(site, ip="192.0.2.40", user_agent=browser("Flood"))
    answer = _post(site, ip="192.0.2.41", user_agent=browser("Flood"))
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["counted"] is True


def _today(stage_config, dynamodb_endpoint):
    """Today's figures as the owner's dashboard reads them, from the package's table."""
    from django.test import override_settings

    from counter import services

    table = stage_config["environment_variables"]["DYNAMODB_TABLE"]
    with override_settings(DYNAMODB_ENDPOINT_URL=dynamodb_endpoint, DYNAMODB_TABLE=table):
        return services.days_get(days=1)[0]


def test_a_views_source_campaign_device_and_country(site, stage_config, dynamodb_endpoint) -> None:
    """The page script's body: the referrer reduced to its site's domain, the tag kept, the
    device from the User-Agent. The country is CloudFront-Viewer-Country only through the
    distribution (which sets it itself); sent straight to API Gateway it is the client's own
    header and is not believed."""
    before = _today(stage_config, dynamodb_endpoint)
    phone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
    )
    body = json.dumps({"referrer": "https://www.linkedin.com/in/someone/", "campaign": "ACME"})
    event = site.event(
        "POST",
        "/api/count",
        source_ip="192.0.2.30",
        user_agent=phone,
        headers={"Content-Type": "application/json", "CloudFront-Viewer-Country": "NZ"},
        body=body,
    )
    answer = site.respond(event)
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["counted"] is True
    after = _today(stage_config, dynamodb_endpoint)
    assert after.views == before.views + 1
    assert after.sources.get("linkedin.com", 0) == before.sources.get("linkedin.com", 0) + 1
    assert after.campaigns.get("acme", 0) == before.campaigns.get("acme", 0) + 1
    assert after.devices.get("phone", 0) == before.devices.get("phone", 0) + 1
    believed = site.via == "cloudfront"
    assert after.countries.get("NZ", 0) == before.countries.get("NZ", 0) + believed
