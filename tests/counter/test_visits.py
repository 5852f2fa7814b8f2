"""counter/visits.py: the labels of a view (source, campaign, country, device)."""

from pathlib import Path

import pytest
from publicsuffixlist import PSLFILE, PublicSuffixList

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


def _hosts_under_every_rule() -> list[str]:
    """A host at, one label under and two labels under every rule of the shipped list, in the
    ASCII form a referrer's host has (punycode for the rules written in Unicode)."""
    hosts = []
    for line in Path(PSLFILE).read_text(encoding="utf-8").splitlines():
        rule = line.strip().split(" ")[0].lower()
        if not rule or rule.startswith("//"):
            continue
        rule = rule.lstrip("!").replace("*", "wild")
        ascii_rule = rule.encode("idna").decode("ascii")
        hosts += [ascii_rule, f"b.{ascii_rule}", f"a.b.{ascii_rule}"]
    return hosts


def test_the_registrable_domain_is_the_librarys_for_a_host_under_every_rule():
    """The list is parsed without its punycode forms unless the host has a punycode label
    (counter/visits.py, `_suffixes`): the answer is what the library's full list gives."""
    library = PublicSuffixList()
    hosts = _hosts_under_every_rule()
    assert len(hosts) > 20_000
    assert sum("xn--" in host for host in hosts) > 1_000  # the Unicode rules are covered too
    for host in hosts:
        assert visits.registrable_domain(host) == library.privatesuffix(host), host


def test_only_a_host_with_a_punycode_label_parses_the_list_with_its_punycode_forms():
    visits._suffixes.cache_clear()
    assert visits.source_of(referrer="https://www.linkedin.com/", site_host=SITE) == "linkedin.com"
    assert visits._suffixes.cache_info().currsize == 1
    # Under the rule 公司.cn (xn--55qx5d.cn): without its punycode form, the list would take
    # xn--55qx5d.cn for the site's own name.
    referrer = "https://www.example.xn--55qx5d.cn/"
    assert visits.source_of(referrer=referrer, site_host=SITE) == "example.xn--55qx5d.cn"
    assert visits._suffixes.cache_info().currsize == 2


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
