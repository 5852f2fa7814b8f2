"""resume/links.py: the labels of the resume's links, derived from its data."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from resume import links
from resume.resume import parse_resume

UseResume = Callable[[object], Path]


def test_the_example_resumes_links():
    assert links.link_labels_get() == {
        "email": "E-mail",
        "phone": "Phone",
        "website": "Website",
        "profile:github": "GitHub",
        "profile:linkedin": "LinkedIn",
        "pdf": "PDF, A4",
        "pdf-letter": "PDF, US Letter",
    }


@pytest.mark.parametrize(
    ("network", "label"),
    [
        ("GitHub", "profile:github"),
        ("Stack Overflow", "profile:stack-overflow"),
        ("  X / Twitter ", "profile:x-twitter"),
        ("Ærø", "profile:r"),
        ("—", "profile:other"),
        ("a" * 40, "profile:" + "a" * links.SLUG_MAX),
    ],
)
def test_a_profiles_label_is_its_network_as_a_short_slug(network, label):
    assert links.profile_label(network=network) == label


def test_only_the_links_the_resume_holds_have_labels(example_data: dict[str, Any]):
    for field in ("phone", "url", "profiles"):
        del example_data["basics"][field]
    assert list(links.link_labels_get(resume=parse_resume(example_data))) == [
        "email",
        "pdf",
        "pdf-letter",
    ]


def test_two_profiles_on_one_network_share_a_label(example_data: dict[str, Any]):
    example_data["basics"]["profiles"].append(
        {"network": "github", "url": "https://github.com/another"}
    )
    labels = links.link_labels_get(resume=parse_resume(example_data))
    assert list(labels).count("profile:github") == 1
    assert labels["profile:github"] == "GitHub"  # the first one's name
