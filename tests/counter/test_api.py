"""counter/api.py: which requests are automated, and the checks' single decisions."""

import sys

import pytest
from django.test import RequestFactory

from counter import api

PEOPLE = [
    # Chrome on Windows, Safari on iPhone, Firefox on Linux, Edge, Samsung Internet, an in-app
    # browser with a long User-Agent.
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/442.0.0.38.112;FBBV/552474869;FBDV/iPhone14,5;"
    "FBMD/iPhone;FBSN/iOS;FBSV/17.1.2;FBSS/3;FBID/phone;FBLC/en_GB;FBOP/5;FBRV/554166425]",
    # Safari on a Mac, Firefox and Chrome on Android, Chrome and Firefox on iPhone, Edge on
    # Android, Internet Explorer 11: the browser-shape rule must pass every one.
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Android 15; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko",
]
MACHINES = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; "
    "+http://www.google.com/bot.html) Chrome/131.0.6778.69 Safari/537.36",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "curl/8.5.0",
    "Wget/1.21.4",
    "python-requests/2.32.3",
    "Python-urllib/3.13",
    "Go-http-client/1.1",
    "facebookexternalhit/1.1",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
    "+https://openai.com/gptbot)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) "
    "PhantomJS/2.1.1 Safari/538.1",
    "",
    "   ",
    # Browser engines driven by programs, runtimes and load tools, and agents no browser sends.
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Cypress/13.6.0 "
    "Chrome/118.0.5993.159 Electron/27.1.3 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) my-app/1.0.0 "
    "Chrome/120.0.6099.56 Electron/28.0.0 Safari/537.36",
    "Mozilla/5.0 (linux) AppleWebKit/537.36 (KHTML, like Gecko) jsdom/22.1.0",
    "k6/0.49.0 (https://k6.io/)",
    "Deno/1.40.2",
    "Bun/1.0.25",
    "insomnia/8.6.1",
    "node",
    "Mozilla/5.0",
    "Mozilla/5.0 (compatible)",
    "Mozilla/5.0 (compatible; MyScanner/1.0)",
    "a",
    "-",
    "Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A.230901.001)",
]


def request(**meta: str):
    return RequestFactory().post("/api/count", **meta)


@pytest.mark.parametrize("user_agent", PEOPLE)
def test_browsers_are_people(user_agent):
    assert not api.request_is_automated(request=request(HTTP_USER_AGENT=user_agent))


@pytest.mark.parametrize("user_agent", MACHINES)
def test_crawlers_tools_headless_browsers_and_no_user_agent_are_machines(user_agent):
    assert api.request_is_automated(request=request(HTTP_USER_AGENT=user_agent))


def test_a_headless_chrome_that_hides_in_its_user_agent_tells_in_sec_ch_ua():
    hidden = request(HTTP_USER_AGENT=PEOPLE[0], HTTP_SEC_CH_UA='"HeadlessChrome";v="131"')
    shown = request(
        HTTP_USER_AGENT=PEOPLE[0],
        HTTP_SEC_CH_UA='"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"',
    )
    assert api.request_is_automated(request=hidden)
    assert not api.request_is_automated(request=shown)


@pytest.mark.parametrize(
    "header",
    [
        {"HTTP_SEC_PURPOSE": "prefetch"},
        {"HTTP_SEC_PURPOSE": "prefetch;prerender"},
        {"HTTP_PURPOSE": "prefetch"},
        {"HTTP_X_MOZ": "prefetch"},
        {"HTTP_X_PURPOSE": "preview"},
    ],
)
def test_prefetches_and_previews_are_machines(header):
    assert api.request_is_automated(request=request(HTTP_USER_AGENT=PEOPLE[0], **header))


def test_a_crawler_named_anywhere_in_a_long_user_agent_is_found():
    padding = " ".join(["Chrome/131.0.0.0"] * 40)  # a browser-like run past one window
    for position in range(0, len(padding), 97):
        user_agent = (
            f"Mozilla/5.0 (X11) AppleWebKit/537.36 {padding[:position]} Googlebot/2.1 "
            f"{padding[position:]}"
        )[: api.USER_AGENT_MAX]
        if "Googlebot" not in user_agent:
            continue
        assert len(user_agent) > api.DETECTOR_WINDOW
        assert api.request_is_automated(request=request(HTTP_USER_AGENT=user_agent)), position


def test_a_long_browser_user_agent_without_a_crawler_is_a_person():
    padding = " ".join(["Chrome/131.0.0.0"] * 50)
    user_agent = f"{PEOPLE[0]} {padding}"[: api.USER_AGENT_MAX]
    assert len(user_agent) > 3 * api.DETECTOR_WINDOW
    assert not api.request_is_automated(request=request(HTTP_USER_AGENT=user_agent))


def test_a_user_agent_longer_than_any_browser_sends_is_not_counted():
    user_agent = f"{PEOPLE[0]} {'x' * api.USER_AGENT_MAX}"
    assert api.request_is_automated(request=request(HTTP_USER_AGENT=user_agent))


def test_every_window_is_matched_and_the_windows_overlap_by_half(monkeypatch):
    matched = []

    class Recorder:
        def is_crawler(self, text: str) -> bool:
            matched.append(text)
            return False

    monkeypatch.setattr(api, "_crawler_detector", Recorder)
    user_agent = "Mozilla/5.0 (X11) AppleWebKit/1 " + "".join(f"{n:04d}" for n in range(180))
    assert not api.user_agent_is_listed(user_agent=user_agent)
    assert matched[0] == user_agent[: api.DETECTOR_WINDOW]
    assert matched[-1] == user_agent[-api.DETECTOR_WINDOW :]
    assert all(len(text) == api.DETECTOR_WINDOW for text in matched)
    starts = [user_agent.index(text) for text in matched[:-1]]
    assert starts == list(range(0, len(starts) * api.DETECTOR_STRIDE, api.DETECTOR_STRIDE))


def _crawlerdetect_verdicts(texts):
    from crawlerdetect import CrawlerDetect

    library = CrawlerDetect()
    return [library.is_crawler(text) for text in texts]


def _texts_beside_every_pattern():
    """Every pattern of the list that looks for a text, that text inside a browser's
    User-Agent, at its start and between browser tokens, with its letters' case changed, and
    all but its last letter; and the browser alone."""
    from crawlerdetect.providers.crawlers import data as crawlers

    browser = PEOPLE[0]
    texts = [browser]
    for pattern in crawlers:
        if (plain := api.plain_text(pattern)) is None:
            continue
        text = plain[1]
        texts += [
            f"{text.upper()} {browser}",
            f"{browser[:40]}{text.swapcase()}{browser[40:]}",
            f"{text[:-1]} {browser}",
        ]
    return texts


@pytest.mark.parametrize(
    ("pattern", "plain"),
    [
        ("Googlebot", (False, "Googlebot")),
        ("^Java\\/", (True, "Java/")),
        ("Drupal \\(\\+http:\\/\\/drupal\\.org\\/\\)", (False, "Drupal (+http://drupal.org/)")),
        ("PTST\\/[0-9]+", None),
        ("DebugBear$", None),
        ("Go [\\d\\.]* package http", None),
        ("^Ruby|Ruby\\/[0-9]", None),
        ("centuryb.o.t9", None),
        ("\\d", None),
        ("^", None),
    ],
)
def test_a_pattern_that_only_looks_for_a_text_is_read_as_that_text(pattern, plain):
    assert api.plain_text(pattern) == plain


def test_the_crawler_list_answers_as_crawlerdetect_for_every_pattern():
    texts = _texts_beside_every_pattern()
    crawlers = api.CrawlerList()

    assert [crawlers.is_crawler(text) for text in texts] == _crawlerdetect_verdicts(texts)


def test_the_crawler_list_answers_as_crawlerdetect_for_people_machines_and_odd_text():
    texts = [
        *PEOPLE,
        *MACHINES,
        "   ",
        "Safari/537.36",  # nothing left once the exclusions are removed
        "Mozilla/5.0 (X11) Gecko/20100101 AhrefsBot/7.0",
        "Mozilla/5.0 (X11) Gecko/20100101 Firefox/133.0 java/17",
        "Java/17.0.2",  # a pattern anchored at the start
        "Mozilla/5.0 (X11) Gecko/20100101 Googleb\u03bft/2.1",  # a Greek omicron: not ASCII
        "Mozilla/5.0 (X11) Gecko/20100101 \u017fpider",  # long s, which the library folds to s
        "Mozilla/5.0 (X11) Gecko/20100101 Firefox/133.0 é",
        "a" * 300,
    ]
    crawlers = api.CrawlerList()

    assert [crawlers.is_crawler(text) for text in texts] == _crawlerdetect_verdicts(texts)


def test_no_pattern_of_the_crawler_list_matches_an_empty_text():
    """What lets the plain patterns be looked for apart from the others (api.CrawlerList):
    with one that matches an empty text, crawlerdetect's first match could be that one."""
    import re

    from crawlerdetect.providers.crawlers import data as crawlers

    texts = ["", " ", "a", PEOPLE[0]]
    assert not [
        pattern
        for pattern in crawlers
        for text in texts
        if (match := re.search(pattern, text, re.IGNORECASE)) and not match.group(0)
    ]


def test_the_crawler_list_is_loaded_on_first_use_not_at_import():
    import subprocess

    code = (
        "import sys, django; django.setup(); import counter.views, counter.api;"
        "print('crawlerdetect' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"DJANGO_SETTINGS_MODULE": "resume_site.settings", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "False"
    api.request_is_automated(request=request(HTTP_USER_AGENT=PEOPLE[0]))
    assert "crawlerdetect" in sys.modules


def test_the_own_origin_is_not_needed_in_the_allowed_list(settings):
    settings.COUNTER_ALLOWED_ORIGINS = []
    api.origin_check(request=request(HTTP_ORIGIN="http://testserver"))  # does not raise
    with pytest.raises(api.ApiError) as refused:
        api.origin_check(request=request(HTTP_ORIGIN="https://testserver"))  # another scheme
    assert refused.value.status == 403


def test_an_allowed_origin_is_matched_whatever_its_case(settings):
    settings.COUNTER_ALLOWED_ORIGINS = ["https://partner.example"]
    mixed = request(HTTP_ORIGIN="https://Partner.Example")
    api.origin_check(request=mixed)
    assert api.cors_headers(request=mixed)["Access-Control-Allow-Origin"] == (
        "https://partner.example"
    )
