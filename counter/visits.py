"""Where a counted view came from, reduced to a few labels that the day's figures count
(docs/architecture.md, Data model: "Where views come from"). Nothing here is stored as sent:

- source: the registrable domain of the referring site (`linkedin.com` from
  `https://www.linkedin.com/feed/`), "direct" without a referrer or from the site itself;
- campaign: the tag of the page's address (`?ref=acme` or `utm_source=acme`), "" without one;
- country: the ISO code CloudFront gave the request (`Client.country`), else "unknown";
- device: phone, tablet or desktop, from the User-Agent.

A source or a campaign that is not a host name or a short slug (`[a-z0-9.-]`, at most 64
characters after lower-casing) is "other"; so is a field of the wrong type. A visitor's POST never
fails because of these fields.
"""

import ipaddress
import re
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from core.clients import Client

DIRECT = "direct"
OTHER = "other"
UNKNOWN = "unknown"
PHONE, TABLET, DESKTOP = "phone", "tablet", "desktop"
SLUG = re.compile(r"[a-z0-9.-]{1,64}")
COUNTRY = re.compile(r"[A-Z]{2}")
# The POST body's fields (static/js/counter.js sends both; either may be missing).
REFERRER_FIELD = "referrer"
CAMPAIGN_FIELD = "campaign"
# User-Agent tokens, lower-cased, checked in this order (MDN, "Browser detection using the user
# agent": "Mobi" marks a phone; Android without it, an iPad or a Kindle is a tablet). iPadOS
# Safari asks for desktop pages by default and names itself a Mac: it counts as a desktop.
TABLET_TOKENS = ("ipad", "tablet", "kindle", "silk/", "playbook")
PHONE_TOKENS = ("mobi", "iphone", "ipod", "android", "windows phone", "blackberry")


@dataclass(frozen=True)
class Visit:
    source: str
    campaign: str  # "" when the page's address had no tag
    country: str
    device: str


@cache
def _suffixes(*, punycode: bool) -> Any:
    """The Public Suffix List shipped in the package, parsed on the first POST that names another
    site (never at import or start-up), with its rules' punycode forms only if `punycode`.

    A host that reaches the list is ASCII (`SLUG`), so the rules written in Unicode never match
    it; only their punycode forms can, and those match only a host with a punycode label
    (`xn--`). Making those forms (IDNA-encoding every rule) is most of the parse, so a host
    without such a label is looked up in the list parsed without them, and the full list is
    parsed only if a host with one comes. The answer is the library's own either way:
    tests/counter/test_visits.py compares the two under every rule."""
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(accept_encoded_idn=punycode)


def _slug(value: str) -> str | None:
    value = value.strip().lower()
    return value if SLUG.fullmatch(value) else None


def _host(value: str) -> str | None:
    """The host of a URL or of a bare host name, lower-cased, without port or trailing dot."""
    value = value.strip().lower()
    if "://" in value:
        try:
            value = urlsplit(value).hostname or ""
        except ValueError:
            return None
    value = value.rstrip(".")
    return value if SLUG.fullmatch(value) else None


def registrable_domain(host: str) -> str | None:
    """`linkedin.com` for `www.linkedin.com`, `bbc.co.uk` for `news.bbc.co.uk`; None for an IP
    address, a public suffix itself (`co.uk`) or a single label (`localhost`)."""
    host = host.split(":")[0].rstrip(".").lower()
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None
    if "." not in host:
        return None
    return _suffixes(punycode="xn--" in host).privatesuffix(host)


def source_of(*, referrer: Any, site_host: str) -> str:
    """The referring site's registrable domain; "direct" for none or the site's own."""
    if referrer is None or referrer == "":
        return DIRECT
    if not isinstance(referrer, str):
        return OTHER
    host = _host(referrer)
    if host is None:
        return OTHER
    domain = registrable_domain(host)
    if domain is None:
        return OTHER
    if domain == registrable_domain(site_host) or host == site_host.split(":")[0].lower():
        return DIRECT
    return domain


def campaign_of(*, tag: Any) -> str:
    """The campaign tag as sent, lower-cased, if it is a short slug; "" for none."""
    if tag is None or tag == "":
        return ""
    if not isinstance(tag, str):
        return OTHER
    return _slug(tag) or OTHER


def country_of(*, client: Client) -> str:
    """The two-letter code the edge set, upper-case; "unknown" for anything else."""
    code = client.country.strip().upper()
    return code if COUNTRY.fullmatch(code) else UNKNOWN


def device_of(*, user_agent: str) -> str:
    text = user_agent.lower()
    if any(token in text for token in TABLET_TOKENS):
        return TABLET
    if "android" in text and "mobi" not in text:
        return TABLET
    if any(token in text for token in PHONE_TOKENS):
        return PHONE
    return DESKTOP


def visit_describe(*, body: dict[str, Any], client: Client, site_host: str) -> Visit:
    """The labels of one view: from the POST body (the referrer and the tag the page's script
    read), the client (country, User-Agent) and the host the site was reached at."""
    return Visit(
        source=source_of(referrer=body.get(REFERRER_FIELD), site_host=site_host),
        campaign=campaign_of(tag=body.get(CAMPAIGN_FIELD)),
        country=country_of(client=client),
        device=device_of(user_agent=client.user_agent),
    )
