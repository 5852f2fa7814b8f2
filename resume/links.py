"""The links of the resume whose clicks the counter counts, each under a short label derived
from the resume's data (docs/architecture.md, "What visitors did after reading"):

- "email": `basics.email` (always there);
- "phone": `basics.phone`, when there is one;
- "website": `basics.url`, when there is one;
- "profile:<network>": each of `basics.profiles`, its network as a slug ("profile:github",
  "profile:linkedin", "profile:stack-overflow"); two profiles on one network share one label;
- "pdf" and "pdf-letter": the PDF's download links (resume/pdf.py).

The page marks each link with its label (`data-click`, templates/resume/resume.html, through
the template tags here), and the counter accepts only the labels `link_labels_get` gives
(COUNTER_CLICK_LINKS names it: the counter does not import the resume app). So what the table
can hold is bounded by the resume itself, whatever visitors send.
"""

import re

from resume import pdf
from resume.model import Resume
from resume.resume import get_resume

EMAIL = "email"
PHONE = "phone"
WEBSITE = "website"
PROFILE_PREFIX = "profile:"
SLUG_MAX = 32  # characters of a network's slug


def profile_label(*, network: str) -> str:
    """ "profile:github" for "GitHub", "profile:stack-overflow" for "Stack Overflow"; a network
    with no ASCII letter or digit is "profile:other"."""
    slug = re.sub(r"[^a-z0-9]+", "-", network.lower()).strip("-")[:SLUG_MAX].strip("-")
    return f"{PROFILE_PREFIX}{slug or 'other'}"


def link_labels_get(*, resume: Resume | None = None) -> dict[str, str]:
    """The resume's links as label -> the name the owner's dashboard shows, in the page's order
    (the site's resume by default)."""
    basics = (resume or get_resume()).basics
    links = {EMAIL: "E-mail"}
    if basics.phone:
        links[PHONE] = "Phone"
    if basics.url:
        links[WEBSITE] = "Website"
    for profile in basics.profiles:
        links.setdefault(profile_label(network=profile.network), profile.network)
    for paper in pdf.PAPERS:
        links[pdf.pdf_link_label(paper=paper)] = f"PDF, {pdf.PAPER_NAMES[paper]}"
    return links
