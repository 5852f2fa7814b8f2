"""Which links a click may name (docs/architecture.md, "What visitors did after reading").

The labels are the links the site's page holds, and nothing else: the project names a function
that gives them (COUNTER_CLICK_LINKS, resume_site/settings.py: the resume's links), as a
mapping of label -> the name the dashboard shows. The counter does not import the resume app
(tests/test_layout.py); it only calls that function. A click naming anything else is refused
and stores nothing, so a day's clicks hold at most one number per link of the resume.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

LINK_FIELD = "link"  # the POST body's one field: {"link": "email"}


def links_get() -> dict[str, str]:
    """The links a click may name: label -> the name the dashboard shows, in the page's order."""
    provider: Callable[[], dict[str, str]] = import_string(settings.COUNTER_CLICK_LINKS)
    return dict(provider())


def link_of(*, body: dict[str, Any]) -> str | None:
    """The link a click's body names, if it is one of the page's; None otherwise."""
    link = body.get(LINK_FIELD)
    return link if isinstance(link, str) and link in links_get() else None
