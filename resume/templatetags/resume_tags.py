"""Small presentation helpers for the resume templates."""

import json
from typing import Any
from urllib.parse import urlsplit

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from resume import links, pdf
from resume.model import PartialDate

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


# Inside <script>, "</script>" or "<!--" in a value would end or change the element: escape the
# characters that can start them, as django.utils.html.json_script does.
_JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.filter
def json_ld(data: dict[str, Any]) -> SafeString:
    """``data`` as a JSON-LD block: ``<script type="application/ld+json">...</script>``.

    A data block is not run, so the Content-Security-Policy needs no nonce for it.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return format_html(
        '<script type="application/ld+json">{}</script>',
        mark_safe(text.translate(_JSON_SCRIPT_ESCAPES)),  # noqa: S308 - escaped just above
    )


@register.filter
def profile_label(network: str) -> str:
    """A profile link's click label: ``GitHub`` -> ``profile:github`` (resume/links.py)."""
    return links.profile_label(network=network)


@register.filter
def pdf_link_label(paper: str) -> str:
    """A PDF download link's click label: ``A4`` -> ``pdf``, ``Letter`` -> ``pdf-letter``."""
    return pdf.pdf_link_label(paper=paper)


@register.filter
def pdf_download_name(name: str, paper: str) -> str:
    """The file name the paper's download gets: ``Alex-Rivera-Resume.pdf`` (resume/pdf.py)."""
    return pdf.pdf_download_name(name=name, paper=paper)
