"""resume/links.py: the labels of the resume's links, derived from its data, and the page
marking each link with its label (data-click), no more and no fewer."""

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from resume import links
from resume.parse import parse_resume
from resume.resume import get_resume

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


def _page_labels(html: str) -> list[str]:
    return re.findall(r'<a [^>]*data-click="([^"]+)"', html)


def test_the_page_marks_each_of_its_links_with_its_label(client):
    labels = _page_labels(client.get("/").content.decode())
    assert sorted(labels) == sorted(links.link_labels_get(resume=get_resume()))


def test_the_page_marks_another_resumes_links_too(
    client, use_resume: UseResume, example_data: dict[str, Any]
):
    basics = example_data["basics"]
    del basics["phone"]
    basics["profiles"] = [
        {"network": "Stack Overflow", "url": "https://stackoverflow.com/users/1"},
        {"network": "Mastodon", "url": "https://mastodon.example/@alex"},
    ]
    use_resume(example_data)
    labels = _page_labels(client.get("/").content.decode())
    assert sorted(labels) == sorted(links.link_labels_get())
    assert "profile:stack-overflow" in labels and "phone" not in labels


def test_the_script_is_told_where_to_report_and_only_listens(client):
    from django.templatetags.static import static

    html = client.get("/").content.decode()
    assert f'<script src="{static("js/clicks.js")}" data-click-url="/api/click" defer>' in html
    script = (Path(__file__).resolve().parents[2] / "static" / "js" / "clicks.js").read_text()
    assert "preventDefault" not in script
    assert "passive: true" in script
