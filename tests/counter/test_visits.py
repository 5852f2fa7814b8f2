"""counter/visits.py: the labels of a view (source, campaign, country, device)."""

import pytest

from core.clients import Client
from counter import visits

SITE = "resume.example.com"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
ANDROID_PHONE = "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 Chrome/131 Mobile"
ANDROID_TABLET = "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 Chrome/131 Safari"
IPAD = "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.mark.parametrize(
    ("referrer", "source"),
    [
        ("https://www.linkedin.com/feed/update/urn:li:activity:1/", "linkedin.com"),
        ("www.linkedin.com", "linkedin.com"),
        ("https://GitHub.com/someone", "github.com"),
        ("https://news.bbc.co.uk/", "bbc.co.uk"),
        ("https://www.google.co.uk/search?q=me", "google.co.uk"),
        ("https://lnkd.in/abc", "lnkd.in"),
        ("https://someone.github.io/", "someone.github.io"),  # a private suffix of its own
        ("", "direct"),
        (None, "direct"),
        (f"https://{SITE}/", "direct"),  # the site itself is no source
        ("https://www.example.com:8443/page", "direct"),  # nor another host of its domain
        ("https://192.168.0.1/", "other"),  # an address is not a site's name
        ("http://localhost:8000/", "other"),
        ("co.uk", "other"),
        ("https://exämple.com/", "other"),  # not [a-z0-9.-]: browsers send punycode
        ("x" * 65 + ".com", "other"),
        ("javascript:alert(1)", "other"),
        (["linkedin.com"], "other"),
        (42, "other"),
        ({"host": "linkedin.com"}, "other"),
    ],
)
def test_the_source_is_the_referring_sites_registrable_domain(referrer, source):
    assert visits.source_of(referrer=referrer, site_host=SITE) == source


@pytest.mark.parametrize(
    ("tag", "campaign"),
    [
        ("acme", "acme"),
        (" ACME-2026.q4 ", "acme-2026.q4"),
        ("", ""),
        (None, ""),
        ("a" * 64, "a" * 64),
        ("a" * 65, "other"),
        ("acme corp", "other"),
        ("acme_corp", "other"),
        ("<script>", "other"),
        (7, "other"),
        (True, "other"),
    ],
)
def test_the_campaign_is_a_short_slug_or_other(tag, campaign):
    assert visits.campaign_of(tag=tag) == campaign


@pytest.mark.parametrize(
    ("country", "code"),
    [("DE", "DE"), ("us", "US"), ("unknown", "unknown"), ("", "unknown"), ("DEU", "unknown")],
)
def test_the_country_is_a_two_letter_code_or_unknown(country, code):
    assert visits.country_of(client=Client(ip="", user_agent="", country=country)) == code


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        (IPHONE, "phone"),
        (ANDROID_PHONE, "phone"),
        (ANDROID_TABLET, "tablet"),
        (IPAD, "tablet"),
        (FIREFOX, "desktop"),
        ("", "desktop"),
    ],
)
def test_the_device_comes_from_the_user_agent(user_agent, device):
    assert visits.device_of(user_agent=user_agent) == device


def test_a_visit_takes_the_body_the_client_and_the_sites_host():
    client = Client(ip="203.0.113.7", user_agent=IPHONE, country="fr")
    visit = visits.visit_describe(
        body={"referrer": "https://www.linkedin.com/", "campaign": "Acme"},
        client=client,
        site_host=SITE,
    )
    assert visit == visits.Visit(
        source="linkedin.com", campaign="acme", country="FR", device="phone"
    )
    assert visits.visit_describe(body={}, client=client, site_host=SITE) == visits.Visit(
        source="direct", campaign="", country="FR", device="phone"
    )
