"""Small presentation helpers for the resume templates."""

from urllib.parse import urlsplit

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from resume_site.resume import PartialDate

register = template.Library()

EN_DASH = "\N{EN DASH}"


@register.filter
def display_url(url: str) -> str:
    """A URL as people write it: no scheme, no ``www.``, no trailing slash.

    ``https://www.linkedin.com/in/alex/`` -> ``linkedin.com/in/alex``
    """
    parts = urlsplit(url)
    host = parts.netloc.removeprefix("www.")
    return (host + parts.path).rstrip("/") or url


@register.simple_tag
def date_range(start: PartialDate, end: PartialDate | None, ongoing: str = "Present") -> SafeString:
    """A date range such as ``Mar 2021 - Present``, each date in a ``<time>`` element.

    An en dash separates the dates; ``ongoing`` stands in for a missing end date.
    """
    start_html = format_html('<time datetime="{}">{}</time>', start.iso, start.label)
    if end is None:
        return format_html("{} {} {}", start_html, EN_DASH, ongoing)
    end_html = format_html('<time datetime="{}">{}</time>', end.iso, end.label)
    return format_html("{} {} {}", start_html, EN_DASH, end_html)
